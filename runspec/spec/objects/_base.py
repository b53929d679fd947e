"""
The spec base, as one import: the object base, class generation, conversion and loading.

Each lives in its own module (``_object``, ``_classes``, ``_convert``, ``_load``); this one re-exports
what the generated ``_objects.py``, ``_library.py`` and the rest of runspec import from here.
"""

from __future__ import annotations

from runspec.spec.objects._classes import SpecMeta, set_extra, spec_field
from runspec.spec.objects._convert import REGISTRY, bad_type, converter, jpath, plain_json, wire_of
from runspec.spec.objects._load import BAD, LoadContext, json_kind, load_body, load_value
from runspec.spec.objects._object import SpecObject

__all__ = [
    "REGISTRY",
    "LoadContext",
    "SpecMeta",
    "SpecObject",
    "bad_type",
    "converter",
    "jpath",
    "json_kind",
    "load_body",
    "load_value",
    "plain_json",
    "set_extra",
    "spec_field",
    "wire_of",
]

# The names runspec used before the split, kept for the modules that import them.
_BAD = BAD
_json_kind = json_kind
_set_extra = set_extra
