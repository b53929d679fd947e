"""
Reading values out of a body, whichever form it has.

A body is either plain JSON (dicts, lists, strings, numbers) or a ``RunSpec`` made of spec objects
(whose set fields are their ``vars()``), tuples and frozen maps. :func:`fields_of`
gives the fields of either kind of object as one mapping, so everything after it reads both alike
without serialising anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from runspec.spec._text import cut, oneline

__all__ = ["dig", "fields_of", "inputs", "is_list"]

_NOT_AN_OBJECT: Final = 0
_MAPPING: Final = 1
_SPEC_OBJECT: Final = 2
# What each type met so far is; types are few, so each is looked at once.
_KINDS: dict[type, int] = {dict: _MAPPING, str: _NOT_AN_OBJECT, tuple: _NOT_AN_OBJECT, list: _NOT_AN_OBJECT}


def _kind_of(cls: type) -> int:
    if issubclass(cls, Mapping):
        return _MAPPING
    # A spec object: a frozen value whose set fields are its instance dict, with `extra` beside it.
    if callable(getattr(cls, "to_dict", None)) and hasattr(cls, "extra") and hasattr(cls, "replace"):
        return _SPEC_OBJECT
    return _NOT_AN_OBJECT


def fields_of(value: Any) -> Mapping[str, Any] | None:
    """
    The fields of a JSON object or a spec object (those that are set); None for anything else.

    A spec object's ``extra`` fields (newer than runspec) are left out: a RunSpec's tasks each have
    a type runspec knows, and nothing else drawn can be new.
    """
    cls = type(value)
    if cls is dict:
        return value  # type: ignore[no-any-return]
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _KINDS[cls] = _kind_of(cls)
    if kind == _SPEC_OBJECT:
        found: Mapping[str, Any] = vars(value)
        return found
    return value if kind == _MAPPING else None


def is_list(value: Any) -> bool:
    """Whether ``value`` is a JSON array: a list, or the tuple a spec object holds."""
    cls = type(value)
    return cls is tuple or cls is list or (isinstance(value, Sequence) and not isinstance(value, str | bytes))


_EMPTY: Final[Mapping[str, Any]] = {}


def dig(obj: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    """The object at ``obj[k1][k2]...``; an empty mapping when any step is missing or not an object."""
    for key in keys:
        found = fields_of(obj.get(key))
        if found is None:
            return _EMPTY
        obj = found
    return obj


def inputs(text: str, width: int) -> str:
    """Describe for_each inputs: the JSON array itself when short, else how many items it has."""
    text = oneline(text)
    if len(text) <= width:
        return text
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        items = None
    if isinstance(items, list):
        return f"{len(items)} inputs"
    return cut(text, width)
