"""
Reading values out of a body, whichever form it has.

A body is either plain JSON (dicts, lists, strings, numbers) or a ``RunSpec`` made of spec objects,
tuples and frozen maps. ``runspec.spec.task_types.fields_of`` gives the fields of either kind of object
as one mapping, so everything after it reads both alike without serialising anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from runspec._text import cut, oneline
from runspec.spec.task_types import fields_of

__all__ = ["dig", "inputs", "is_list"]


def is_list(value: Any) -> bool:
    """Whether ``value`` is a JSON array: a list, or the tuple a spec object holds."""
    cls = type(value)
    return cls is tuple or cls is list or (isinstance(value, Sequence) and not isinstance(value, str | bytes))


_EMPTY: Final[Mapping[str, Any]] = {}


def dig(obj: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    """The object at ``obj[k1][k2]...``; an empty mapping when any step is missing or not an object."""
    for key in keys:
        found = fields_of(obj.get(key), None)
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
