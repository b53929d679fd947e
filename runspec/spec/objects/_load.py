"""
Loading: a plain JSON value into spec objects, collecting every problem with its JSON path.

Two loaders live here, side by side. ``load_object`` (the slow path) checks every key and value and
records each problem, with its path, in a ``LoadContext``. ``quick_object`` loads a body that has
nothing to report, without paths or messages; at the first thing it would have to report it gives up
(``Bail``) and ``load_checked`` loads the body again with ``load_object``. tests/test_spec_loaders.py
proves the two agree on the hidden corners (nulls, bools for ints, floats, numeric strings, unknown
fields, depth, enums, wrong types inside lists and maps).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runspec._frozen import FrozenMap, freeze_json
from runspec.errors import Fix, Problem
from runspec.spec.limits import INT64_MAX, INT64_MIN, MAX_OBJECT_DEPTH
from runspec.spec.objects._convert import REGISTRY, SpecClass, jpath
from runspec.spec.schema._schema import Desc, closest, describe

__all__ = [
    "BAD",
    "BAIL",
    "Bail",
    "LoadContext",
    "LongInt",
    "json_kind",
    "load_checked",
    "load_object",
    "load_value",
    "outside_int64",
    "quick_object",
]

#: What a loader returns for a value it reported a problem about (the caller leaves the field out).
BAD: Any = object()
_INF = float("inf")
_adopt = FrozenMap._adopt


class LoadContext:
    """Problems and warnings found while loading a body; ``strict`` decides what unknown keys are."""

    __slots__ = ("problems", "strict", "warnings")

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, path: str, code: str, message: str, fix: Fix | None = None) -> None:
        self.problems.append(Problem(path, code, message, fix=fix))

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(Problem(path, code, message))


_JSON_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def json_kind(value: Any) -> str:
    for t, name in _JSON_NAMES.items():
        if isinstance(value, t) and not (t is int and isinstance(value, bool)):
            return name
    return f"a Python {type(value).__name__}"


def _is_numeric_string(value: str, integer: bool) -> bool:
    text = value.strip()
    if not text or len(text) > _MAX_NUMBER_TEXT:
        return False
    try:
        int(text) if integer else float(text)
    except ValueError:
        return False
    return True


# Longer numeric strings are not numbers the API reads (an int64 has at most 20 characters); this also
# keeps int() away from its limit on digits.
_MAX_NUMBER_TEXT = 400


class LongInt(int):
    """Stands in, in parsed JSON, for an integer whose text is too long to read (``RunSpec.from_json``)."""


def outside_int64(value: int) -> str:
    """The message for an integer the API cannot take (without writing out all of a huge one)."""
    if type(value) is LongInt:
        shown = f"an integer of more than {_MAX_NUMBER_TEXT} digits"
    elif value.bit_length() <= 100:
        shown = str(value)
    elif value.bit_length() < 4000:
        shown = f"a {len(str(abs(value)))}-digit integer"
    else:  # str() refuses integers this long
        shown = f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    return f"{shown} is outside the 64-bit integers the API takes (-2**63 to 2**63 - 1)"


def load_value(desc: Desc, value: Any, path: str, ctx: LoadContext, depth: int) -> Any:
    """Check ``value`` against ``desc``; return its frozen form, or ``BAD`` after a problem."""
    kind = desc[0]
    t = type(value)
    if kind == "string":
        if t is str:
            return value
        if isinstance(value, str):  # a str Enum member, read as json.dumps would write it
            return str.__str__(value)
    elif kind == "integer":
        if t is int or t is LongInt:
            if t is int and INT64_MIN <= value <= INT64_MAX:
                return value
            ctx.problem(path, "out-of-range", outside_int64(value))
            return BAD
        if t is str and _is_numeric_string(value, integer=True):
            number = int(value.strip())
            if not INT64_MIN <= number <= INT64_MAX:
                ctx.problem(path, "out-of-range", outside_int64(number))
                return BAD
            ctx.warn(path, "number-as-string", f"{value!r} is a string; the API reads it as an integer")
            return value
    elif kind == "number":
        if t is int or t is LongInt:
            if t is int and INT64_MIN <= value <= INT64_MAX:
                return value
            ctx.problem(path, "out-of-range", outside_int64(value))
            return BAD
        if t is float:
            if value != value or value in (_INF, -_INF):
                ctx.problem(path, "invalid-value", f"{value!r} is not a number JSON can carry")
                return BAD
            return value
        if t is str and _is_numeric_string(value, integer=False):
            ctx.warn(path, "number-as-string", f"{value!r} is a string; the API reads it as a number")
            return value
    elif kind == "boolean":
        if t is bool:
            return value
    elif kind == "text":
        if isinstance(value, str):
            return value if t is str else str.__str__(value)
        if t is bool or (t is int and INT64_MIN <= value <= INT64_MAX):
            return value  # the service reads it as its text (a check says so)
        if t is float and value == value and value not in (_INF, -_INF):
            return value
    elif kind == "any":
        try:
            return freeze_json(value)
        except (TypeError, ValueError) as exc:
            ctx.problem(path, "wrong-type", f"not a usable JSON value: {exc}")
            return BAD
    elif kind == "array":
        if t is list or t is tuple:
            inner = desc[1]
            out = []
            for i, item in enumerate(value):
                if item is None:
                    ctx.problem(f"{path}[{i}]", "wrong-type", f"null is not allowed in a {describe(desc)}")
                    continue
                loaded = load_value(inner, item, f"{path}[{i}]", ctx, depth)
                if loaded is not BAD:
                    out.append(loaded)
            return tuple(out)
    elif kind == "map":
        if isinstance(value, Mapping):
            inner = desc[1]
            out_map = {}
            for k, item in value.items():
                sub = jpath(path, str(k))
                if type(k) is not str:
                    ctx.problem(sub, "wrong-type", "object keys must be strings")
                    continue
                if item is None:
                    ctx.problem(sub, "wrong-type", f"null is not allowed here; expected {describe(inner)}")
                    continue
                loaded = load_value(inner, item, sub, ctx, depth)
                if loaded is not BAD:
                    out_map[k] = loaded
            return FrozenMap._adopt(out_map)
    elif kind == "object":
        cls = REGISTRY[desc[1]]
        return cls._load(value, path, ctx, depth + 1)
    ctx.problem(path, "wrong-type", f"expected {_expected_json(desc)}, got {json_kind(value)}")
    return BAD


# The quick loader: most bodies are valid, and a valid body needs no paths, no messages and no
# per-field function calls. ``_quick`` loads a body that has nothing to report; at the first thing it
# would have to report (a wrong type, an unknown key, a null where one is not allowed, a numeric
# string, ...) it gives up with _Bail, and ``_load_checked`` loads the body again with ``_load``, which
# finds and reports every problem with its path, as it always has.

_Q_EXACT = 0  # a str, int or bool: exactly that type (arg)
_Q_OBJECT = 1  # a spec object (arg: its class)
_Q_OBJECTS = 2  # a list of spec objects (arg: their class)
_Q_EXACTS = 3  # a list of str, int or bool (arg: the type)
_Q_EXACT_MAP = 4  # an object of str, int or bool values (arg: the type)
_Q_NUMBER = 5  # an int or a float
_Q_ANY = 6  # free-form JSON
_Q_ARRAY = 7  # any other list (arg: the step for its items)
_Q_MAP = 8  # any other object (arg: the step for its values)
_Q_ENUM = 9  # a str from an enum (arg: the values); another str is a finding, not a problem to load
_Q_INT = 10  # an int within the API's 64 bits


class Bail(Exception):
    """The quick loader met something to report: load the body again with ``_load``."""


BAIL = Bail()
_EXACT_TYPES = {"string": str, "boolean": bool, "text": str}


def _quick_step(desc: Desc) -> tuple[int, Any]:
    kind = desc[0]
    if kind == "integer":
        return (_Q_INT, None)
    if kind in _EXACT_TYPES:
        return (_Q_EXACT, _EXACT_TYPES[kind])
    if kind == "number":
        return (_Q_NUMBER, None)
    if kind == "any":
        return (_Q_ANY, None)
    if kind == "object":
        return (_Q_OBJECT, REGISTRY[desc[1]])
    inner = _quick_step(desc[1])
    if kind == "array":
        if inner[0] == _Q_OBJECT:
            return (_Q_OBJECTS, inner[1])
        return (_Q_EXACTS, inner[1]) if inner[0] == _Q_EXACT else (_Q_ARRAY, inner)
    return (_Q_EXACT_MAP, inner[1]) if inner[0] == _Q_EXACT else (_Q_MAP, inner)


def _quick_value(code: int, arg: Any, value: Any, depth: int) -> Any:
    """The frozen form of ``value``, loaded as ``load_value`` would when it has nothing to report."""
    t = type(value)
    if code == _Q_EXACT:
        if t is arg:
            return value
    elif code == _Q_OBJECT:
        return arg._quick_load(value, depth + 1)
    elif code == _Q_OBJECTS:
        if t is list or t is tuple:
            load = arg._quick_load
            return tuple([load(item, depth + 1) for item in value])  # a null item is not a dict: _Bail
    elif code == _Q_EXACTS:
        if t is list or t is tuple:
            for item in value:
                if type(item) is not arg:
                    raise BAIL
            return tuple(value)
    elif code == _Q_EXACT_MAP:
        if t is dict:
            for k, item in value.items():
                if type(k) is not str or type(item) is not arg:
                    raise BAIL
            return _adopt(value.copy())
    elif code == _Q_INT:
        if t is int and INT64_MIN <= value <= INT64_MAX:
            return value
    elif code == _Q_NUMBER:
        if (t is int and INT64_MIN <= value <= INT64_MAX) or (
            t is float and value == value and value not in (_INF, -_INF)
        ):
            return value
    elif code == _Q_ANY:
        try:
            return freeze_json(value)
        except (TypeError, ValueError):
            raise BAIL from None
    elif code == _Q_ARRAY:
        if t is list or t is tuple:
            out = []
            for item in value:
                if item is None:
                    raise BAIL
                out.append(_quick_value(arg[0], arg[1], item, depth))
            return tuple(out)
    elif t is dict:  # _Q_MAP
        out_map = {}
        for k, item in value.items():
            if type(k) is not str or item is None:
                raise BAIL
            out_map[k] = _quick_value(arg[0], arg[1], item, depth)
        return _adopt(out_map)
    raise BAIL


def _expected_json(desc: Desc) -> str:
    kind = desc[0]
    return {
        "string": "a string",
        "text": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "array": "an array",
        "map": "an object",
        "object": "an object",
    }.get(kind, "a JSON value")


def load_object(cls: SpecClass, value: Any, path: str, ctx: LoadContext, depth: int) -> Any:
    """Load one object of ``cls`` (the slow path): every problem goes to ``ctx``; ``BAD`` when not an object."""
    if not isinstance(value, Mapping):
        ctx.problem(path, "wrong-type", f"expected an object ({cls._wire_type}), got {json_kind(value)}")
        return BAD
    if depth > MAX_OBJECT_DEPTH:
        ctx.problem(path, "too-deep", f"objects nest more than {MAX_OBJECT_DEPTH} levels deep here")
        return BAD
    table = cls._fields
    schema = cls._schema
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            ctx.problem(path, "wrong-type", f"object keys must be strings (got {key!r})")
            continue
        f = table.get(key)
        sub = jpath(path, key)
        if f is None:
            info = schema.get(key)
            if info is not None and info.rejected:
                code = "shared-cluster-unsupported" if "job cluster" in info.rejected else "removed-field"
                ctx.problem(sub, code, info.rejected)
                continue
            unknown_key(cls, key, item, sub, ctx, extra)
            continue
        if item is None:
            continue
        loaded = load_value(f.info.desc, item, sub, ctx, depth)
        if loaded is not BAD:
            fields[key] = loaded
    for f in table.values():
        if f.info.required and f.attr not in fields and f.attr in value and value[f.attr] is None:
            ctx.problem(jpath(path, f.attr), "missing-field", f"{f.attr!r} is required and cannot be null")
        elif f.info.required and f.attr not in value:
            ctx.problem(
                jpath(path, f.attr),
                "missing-field",
                f"{cls._wire_type} needs {f.attr!r} ({describe(f.info.desc)})",
            )
    return cls._new(fields, extra)


def unknown_key(cls: SpecClass, key: str, item: Any, path: str, ctx: LoadContext, extra: dict[str, Any]) -> None:
    """Report a key ``cls`` does not know (a problem, or under ``strict=False`` a warning and ``extra``)."""
    guess = closest(key, (k for k, i in cls._schema.items() if not i.rejected))
    hint = f"; did you mean {guess!r}?" if guess else ""
    message = f"{cls._wire_type} has no field {key!r}{hint}"
    if ctx.strict:
        said = " (extra={...} or strict=False passes it through)"
        ctx.problem(path, "unknown-field", message + said, Fix("lenient", said))
        return
    try:
        extra[key] = freeze_json(item)
    except (TypeError, ValueError) as exc:
        ctx.problem(path, "wrong-type", f"not a usable JSON value: {exc}")
        return
    ctx.warn(path, "unknown-field", message + "; sent as given")


#: Each class's quick-loading plan (field -> (required, step code, argument)), made on first use.
_PLANS: dict[type, dict[str, tuple[bool, int, Any]]] = {}
_REQUIRED: dict[type, int] = {}


def _plan(cls: SpecClass) -> dict[str, tuple[bool, int, Any]]:
    table = cls._fields
    plan = {
        f.attr: (f.info.required, _Q_ENUM, f.info.enum)
        if f.info.enum and f.info.desc == ("string",)
        else (f.info.required, *_quick_step(f.info.desc))
        for f in table.values()
    }
    _REQUIRED[cls] = sum(1 for f in table.values() if f.info.required)
    _PLANS[cls] = plan
    return plan


def quick_object(cls: SpecClass, value: Any, depth: int) -> Any:
    """Load ``value`` as ``load_object`` would when it has nothing to report; raise ``Bail`` otherwise."""
    if type(value) is not dict or depth > MAX_OBJECT_DEPTH:
        raise BAIL
    plan = _PLANS.get(cls) or _plan(cls)
    fields: dict[str, Any] = {}
    required = 0
    for key, item in value.items():
        entry = plan.get(key)  # None for an unknown, rejected or non-string key
        if entry is None:
            raise BAIL
        is_required, code, arg = entry
        if item is None:
            if is_required:
                raise BAIL
            continue
        if is_required:
            required += 1
        if code == _Q_EXACT and type(item) is arg:
            fields[key] = item
        elif code == _Q_OBJECT:
            fields[key] = arg._quick_load(item, depth + 1)
        elif code == _Q_ENUM:
            # Another string is a finding of the checks (invalid-enum), not a problem to load.
            if type(item) is not str:
                raise BAIL
            fields[key] = item
        else:
            fields[key] = _quick_value(code, arg, item, depth)
    if required != _REQUIRED[cls]:
        raise BAIL
    return cls._new(fields)


def load_checked(cls: SpecClass, value: Mapping[str, Any], ctx: LoadContext) -> Any:
    """Load a body (``$``): quickly when it has nothing to report, else with every problem in ``ctx``."""
    try:
        return cls._quick_load(value, 0)
    except Bail:
        pass
    except RecursionError:
        pass  # the slow path says where the body nests too deeply
    return cls._load(value, "$", ctx, 0)
