"""
The shipped schema of the runs/submit body: every object type, its fields, wire types, enums and
required flags (``schema.json``, generated as Python data into ``_schema_data.py``), read into small
descriptors the spec classes and checks use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "CASE_INSENSITIVE_ENUMS",
    "TEXT_MAPS",
    "Desc",
    "FieldInfo",
    "FoldedEnum",
    "closest",
    "field_info",
    "parse_type",
    "schema",
    "schema_fields",
]

# A type descriptor is a tuple: ("string",), ("integer",), ("number",), ("boolean",), ("any",),
# ("array", inner), ("map", inner) or ("object", "TypeName"); and ("text",), a string the service also
# takes as a JSON number or boolean (see ``TEXT_MAPS``).
Desc = tuple[Any, ...]

_SCHEMA: dict[str, dict[str, dict[str, Any]]] | None = None


def schema() -> dict[str, dict[str, dict[str, Any]]]:
    """The whole shipped schema: type name -> field name -> {type, required, enum, ...}."""
    global _SCHEMA
    if _SCHEMA is None:
        from runspec.spec.schema._schema_data import SCHEMA  # generated from schema.json: nothing reads it at run time

        _SCHEMA = SCHEMA
    return _SCHEMA


_SCALARS = {"string", "integer", "number", "boolean", "any"}


def parse_type(text: str) -> Desc:
    """Parse a wire type such as ``array<map<string,string>>`` into a descriptor."""
    text = text.strip()
    if text in _SCALARS:
        return (text,)
    if text.startswith("array<") and text.endswith(">"):
        return ("array", parse_type(text[6:-1]))
    if text.startswith("map<string,") and text.endswith(">"):
        return ("map", parse_type(text[11:-1]))
    if text in schema() or text == "Library":
        return ("object", text)
    raise ValueError(f"unknown wire type {text!r}")


class FieldInfo:
    """One field of a schema type: its wire name, type descriptor, required flag, enum and rejection."""

    __slots__ = ("desc", "enum", "name", "rejected", "required")

    def __init__(
        self,
        name: str,
        desc: Desc,
        required: bool = False,
        enum: frozenset[str] | None = None,
        rejected: str | None = None,
    ) -> None:
        self.name = name
        self.desc = desc
        self.required = required
        self.enum = enum
        self.rejected = rejected

    @property
    def wire_type(self) -> str:
        return describe(self.desc)


def describe(desc: Desc) -> str:
    """Say a descriptor in words for messages: ``list of str``, ``NewCluster object``."""
    kind = desc[0]
    if kind == "array":
        return f"list of {describe(desc[1])}"
    if kind == "map":
        return f"mapping of str to {describe(desc[1])}"
    if kind == "object":
        return f"{desc[1]} object"
    return {
        "string": "str",
        "integer": "int",
        "number": "number",
        "boolean": "bool",
        "any": "JSON value",
        "text": "str",
    }[kind]


class FoldedEnum(frozenset[str]):
    """
    The values of an enum the service reads without regard to case (``git_provider``: ``github`` is
    ``gitHub``). A value matches when it matches one of them case-insensitively, and stays as written.
    """

    _folded: frozenset[str]

    def __new__(cls, values: Iterable[str]) -> FoldedEnum:
        self = super().__new__(cls, values)
        self._folded = frozenset(v.lower() for v in self)
        return self

    def __contains__(self, value: object) -> bool:
        return frozenset.__contains__(self, value) or (isinstance(value, str) and value.lower() in self._folded)

    def issuperset(self, values: Iterable[object]) -> bool:
        return all(v in self for v in values)


#: (type, field) of the enums the service matches case-insensitively.
CASE_INSENSITIVE_ENUMS = frozenset({("GitSource", "git_provider")})

#: (type, field) of the maps of strings whose values the service also takes as JSON numbers and booleans,
#: reading each as its text: Spark reads every setting as text, and Databricks' own description of
#: spark_conf gives ``{"spark.speculation": true, "spark.streaming.ui.retainedBatches": 5}``.
TEXT_MAPS = frozenset({("ClusterSpec", "spark_conf")})


def field_info(
    type_name: str, name: str, desc: Desc, required: bool, enum: Iterable[str] | None, rejected: str | None
) -> FieldInfo:
    """
    One field of a schema type, from its entry in the schema or in a class's field table (``_table``, which
    tools/gen_spec.py writes from the same schema): the enum the service reads without regard to case, and
    the maps whose values it also takes as numbers, are marked here.
    """
    values: frozenset[str] | None = None
    if enum:
        values = FoldedEnum(enum) if (type_name, name) in CASE_INSENSITIVE_ENUMS else frozenset(enum)
    if (type_name, name) in TEXT_MAPS:
        desc = ("map", ("text",))
    return FieldInfo(name=name, desc=desc, required=required, enum=values, rejected=rejected)


_FIELD_CACHE: dict[str, dict[str, FieldInfo]] = {}


def schema_fields(type_name: str) -> dict[str, FieldInfo]:
    """The fields of a schema type, by wire name, in schema order."""
    cached = _FIELD_CACHE.get(type_name)
    if cached is not None:
        return cached
    out: dict[str, FieldInfo] = {}
    for name, spec in schema()[type_name].items():
        out[name] = field_info(
            type_name,
            name,
            parse_type(spec["type"]),
            bool(spec.get("required")),
            spec.get("enum"),
            spec.get("rejected"),
        )
    _FIELD_CACHE[type_name] = out
    return out


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``name`` (for "did you mean ...?" messages), or None."""
    import difflib  # only for a message about a mistake: it costs import time

    pool = list(candidates)
    found = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if found:
        return found[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower())
