"""
Loading: a plain JSON value into spec objects, collecting every problem with its JSON path.

One loader serves ``from_dict`` / ``from_json`` of every spec class, ``RunSpec.from_dict`` /
``from_json`` and ``Run.from_dict`` / ``from_json``: it checks every key and value and records each
problem, with its path, in a ``LoadContext``, and a body with nothing to report costs no more than
the loading itself. Each class has a plan made once (``_plan``): for each field its step (how a value of
its type loads, ``step_of``), which names, for a str or bool field, the type its value is kept as it is
when it has exactly, so most fields cost one look-up and one type test; every other value goes through
``load_value``, the one place that knows what each schema kind accepts, warns about and reports. No
path is built while loading: each loader is told where its value sits (its parent's ``Where`` and its
own key) and spells the path out with ``path_of`` only when it reports a problem there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from runspec._frozen import freeze_json
from runspec.errors import Fix, Problem
from runspec.spec.limits import INT64_MAX, INT64_MIN, MAX_OBJECT_DEPTH
from runspec.spec.objects._convert import REGISTRY, SpecClass, jpath
from runspec.spec.schema._schema import Desc, closest, describe

__all__ = [
    "BAD",
    "LoadContext",
    "LongInt",
    "Where",
    "json_kind",
    "load_body",
    "load_object",
    "load_value",
    "outside_int64",
    "path_of",
    "step_of",
]

#: What a loader returns for a value it reported a problem about (the caller leaves the field out).
BAD: Any = object()
_INF = float("inf")

#: Where a value sits in the body: a JSON path (``"$"``), or ``(parent, key)`` for an object's field or
#: a map's key, ``(parent, index)`` for an array's item. Loaders take a value's place as its parent's
#: ``Where`` and its own key (None for the body itself), and make a ``Where`` of their own only when they
#: hand one to a nested container or report a problem; ``path_of`` spells it out.
Where: TypeAlias = "str | tuple[Any, str | int]"


def path_of(parent: Where, key: str | int | None = None) -> str:
    """The JSON path of ``key`` in ``parent``: ``path_of(("$", "tasks"), 0)`` is ``$.tasks[0]``."""
    pieces: list[str | int] = [] if key is None else [key]
    where = parent
    while type(where) is tuple:
        where, piece = where
        pieces.append(piece)
    path: str = where  # type: ignore[assignment]  # the loop ends at the path text
    for piece in reversed(pieces):
        path = f"{path}[{piece}]" if type(piece) is int else jpath(path, piece)  # type: ignore[arg-type]
    return path


class LoadContext:
    """
    Problems and warnings found while loading a body; ``strict`` decides what unknown keys are.

    ``owned`` says the body is the loader's to take apart (parsed from JSON text just now, seen by no
    one else): its objects' dicts then become the loaded objects' field dicts, with nested values
    replaced in place, instead of being copied; and its maps' keys, being JSON's, are strings.
    """

    __slots__ = ("owned", "problems", "strict", "warnings")

    def __init__(self, *, strict: bool = True, owned: bool = False) -> None:
        self.strict = strict
        self.owned = owned
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


# -- steps: how a value of one schema type loads, decided once per type ------------------------------
#
# A step is ``(code, arg, desc, exact)``: the code picks the branch of ``load_value``, ``arg`` is what
# that branch needs, ``desc`` is the type, and ``exact`` the Python type a value is kept as it is when it
# has exactly that type (str or bool; None for the other steps).

_EXACT = 0  # a str, bool or text value: kept as it is when it is exactly that type (arg: str or bool)
_INT = 1  # an integer within the API's 64 bits
_OBJECT = 2  # a spec object (arg: its class)
_OWN = 3  # a spec object whose class loads itself (arg: the class's ``_load``, e.g. Library)
_ARRAY = 4  # an array (arg: the step of its items)
_MAP = 5  # an object of string keys (arg: the step of its values)
_NUMBER = 6  # an integer or a finite float
_ANY = 7  # free-form JSON

Step: TypeAlias = "tuple[int, Any, Desc, type | None]"
_STEPS: dict[Desc, Step] = {}
_EXACT_TYPES = {"string": str, "boolean": bool, "text": str}


def step_of(desc: Desc) -> Step:
    """The step that loads a value of type ``desc`` (one per type, made on first use)."""
    step = _STEPS.get(desc)
    if step is None:
        kind = desc[0]
        if kind in _EXACT_TYPES:
            exact = _EXACT_TYPES[kind]
            step = (_EXACT, exact, desc, exact)
        elif kind == "integer":
            step = (_INT, None, desc, None)
        elif kind == "number":
            step = (_NUMBER, None, desc, None)
        elif kind == "any":
            step = (_ANY, None, desc, None)
        elif kind == "object":
            cls = REGISTRY[desc[1]]
            own = getattr(cls, "_load", None)
            step = (_OBJECT, cls, desc, None) if own is None else (_OWN, own, desc, None)
        elif kind == "array":
            step = (_ARRAY, step_of(desc[1]), desc, None)
        else:
            step = (_MAP, step_of(desc[1]), desc, None)
        _STEPS[desc] = step
    return step


def load_value(step: Step, value: Any, parent: Where, key: str | int | None, ctx: LoadContext, depth: int) -> Any:
    """
    Check ``value`` (``key`` in ``parent``) with ``step`` (see ``step_of``); return its frozen form, or
    ``BAD`` after a problem.
    """
    code, arg, desc, _ = step
    t = type(value)
    if code == _MAP:
        if t is dict or isinstance(value, Mapping):
            exact = arg[3]
            here = None
            owned = ctx.owned and t is dict  # see LoadContext
            changed = None  # the entries, once one of them loads as something else (BAD: left out)
            for k, item in value.items():
                if type(item) is exact and (owned or type(k) is str):
                    continue
                if here is None:
                    here = parent if key is None else (parent, key)
                if type(k) is not str:
                    ctx.problem(path_of(here, str(k)), "wrong-type", "object keys must be strings")
                    loaded = BAD
                elif item is None:
                    message = f"null is not allowed here; expected {describe(arg[2])}"
                    ctx.problem(path_of(here, k), "wrong-type", message)
                    loaded = BAD
                else:
                    loaded = load_value(arg, item, here, k, ctx, depth)
                if loaded is not item:
                    if changed is None:
                        changed = dict(value)
                    changed[k] = loaded
            # A map is kept as a plain dict of the object's own (see runspec.spec.objects._classes.MapField).
            if changed is None:
                return value if owned else dict(value)
            return {k: v for k, v in changed.items() if v is not BAD}
    elif code == _ARRAY:
        if t is list or t is tuple:
            inner_code, inner_arg, _, exact = arg
            here = parent if key is None else (parent, key)
            out = []
            for i, item in enumerate(value):
                if type(item) is exact:
                    out.append(item)
                    continue
                if item is None:
                    ctx.problem(path_of(here, i), "wrong-type", f"null is not allowed in a {describe(desc)}")
                    continue
                if inner_code == _OBJECT:
                    loaded = load_object(inner_arg, item, here, i, ctx, depth + 1)
                elif inner_code == _OWN:
                    loaded = inner_arg(item, here, i, ctx, depth + 1)
                else:
                    loaded = load_value(arg, item, here, i, ctx, depth)
                if loaded is not BAD:
                    out.append(loaded)
            return tuple(out)
    elif code == _EXACT:
        if t is arg:
            return value
        if desc[0] == "text":
            if isinstance(value, str):
                return str.__str__(value)
            if t is bool or (t is int and INT64_MIN <= value <= INT64_MAX):
                return value  # the service reads it as its text (a check says so)
            if t is float and value == value and value not in (_INF, -_INF):
                return value
        elif arg is str and isinstance(value, str):  # a str Enum member, read as json.dumps would write it
            return str.__str__(value)
    elif code == _INT:
        if t is int and INT64_MIN <= value <= INT64_MAX:
            return value
        if t is int or t is LongInt:
            ctx.problem(path_of(parent, key), "out-of-range", outside_int64(value))
            return BAD
        if t is str and _is_numeric_string(value, integer=True):
            number = int(value.strip())
            if not INT64_MIN <= number <= INT64_MAX:
                ctx.problem(path_of(parent, key), "out-of-range", outside_int64(number))
                return BAD
            message = f"{value!r} is a string; the API reads it as an integer"
            ctx.warn(path_of(parent, key), "number-as-string", message)
            return value
    elif code == _NUMBER:
        if t is int or t is LongInt:
            if t is int and INT64_MIN <= value <= INT64_MAX:
                return value
            ctx.problem(path_of(parent, key), "out-of-range", outside_int64(value))
            return BAD
        if t is float:
            if value != value or value in (_INF, -_INF):
                ctx.problem(path_of(parent, key), "invalid-value", f"{value!r} is not a number JSON can carry")
                return BAD
            return value
        if t is str and _is_numeric_string(value, integer=False):
            ctx.warn(path_of(parent, key), "number-as-string", f"{value!r} is a string; the API reads it as a number")
            return value
    elif code == _OBJECT:
        return load_object(arg, value, parent, key, ctx, depth + 1)
    elif code == _OWN:
        return arg(value, parent, key, ctx, depth + 1)
    else:  # _ANY
        try:
            return freeze_json(value)
        except (TypeError, ValueError) as exc:
            ctx.problem(path_of(parent, key), "wrong-type", f"not a usable JSON value: {exc}")
            return BAD
    ctx.problem(path_of(parent, key), "wrong-type", f"expected {_expected_json(desc)}, got {json_kind(value)}")
    return BAD


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


# -- objects ---------------------------------------------------------------------------------------

#: A class's plan, made on first use: each field's step, the names of the required fields, and the
#: class's ``_new``.
Plan: TypeAlias = "tuple[dict[str, Step], tuple[str, ...], Callable[..., Any]]"
_PLANS: dict[type, Plan] = {}


def _plan(cls: SpecClass) -> Plan:
    steps = {f.attr: step_of(f.info.desc) for f in cls._fields.values()}
    required = tuple(f.attr for f in cls._fields.values() if f.info.required)
    _PLANS[cls] = (steps, required, cls._new)
    return _PLANS[cls]


def load_object(cls: SpecClass, value: Any, parent: Where, key: str | int | None, ctx: LoadContext, depth: int) -> Any:
    """
    Load one object of ``cls`` (``key`` in ``parent``): every problem goes to ``ctx``; ``BAD`` when
    ``value`` is not an object.
    """
    # The object's field dict: the body's own dict when the loader owns it (see LoadContext), else a copy;
    # nested values are replaced in it, and what does not load is taken out after the walk.
    if type(value) is dict and depth <= MAX_OBJECT_DEPTH:
        fields: dict[str, Any] = value if ctx.owned else dict(value)
    elif not isinstance(value, Mapping):
        message = f"expected an object ({cls._wire_type}), got {json_kind(value)}"
        ctx.problem(path_of(parent, key), "wrong-type", message)
        return BAD
    elif depth > MAX_OBJECT_DEPTH:
        message = f"objects nest more than {MAX_OBJECT_DEPTH} levels deep here"
        ctx.problem(path_of(parent, key), "too-deep", message)
        return BAD
    else:
        fields = dict(value)
    try:
        steps, required, new = _PLANS[cls]
    except KeyError:
        steps, required, new = _plan(cls)
    here = None  # this object's Where, made when a field needs it
    extra: dict[str, Any] | None = None
    drop: list[Any] | None = None
    for name, item in value.items():
        try:
            step = steps[name]
        except KeyError:  # not a field: an unknown, removed or non-string key
            if extra is None:
                extra = {}
            _not_a_field(cls, name, item, parent if key is None else (parent, key), ctx, extra)
            drop = [name] if drop is None else [*drop, name]
            continue
        if type(item) is step[3]:  # a str or bool field, as most are
            continue
        if item is None:
            drop = [name] if drop is None else [*drop, name]
            continue
        code = step[0]
        if code == _INT and type(item) is int and INT64_MIN <= item <= INT64_MAX:
            continue
        if here is None:
            here = parent if key is None else (parent, key)
        loaded = (
            load_object(step[1], item, here, name, ctx, depth + 1)
            if code == _OBJECT
            else load_value(step, item, here, name, ctx, depth)
        )
        if loaded is BAD:
            drop = [name] if drop is None else [*drop, name]
        elif loaded is not item:
            fields[name] = loaded
    for name in required:
        if name not in fields or (drop is not None and name in drop):
            _missing(cls, value, parent if key is None else (parent, key), ctx)
            break
    if drop is not None:
        for name in drop:
            del fields[name]
    return new(fields, extra)


def _missing(cls: SpecClass, value: Mapping[str, Any], where: Where, ctx: LoadContext) -> None:
    """Report each required field of ``cls`` that ``value`` leaves out or sets to null."""
    for f in cls._fields.values():
        if not f.info.required:
            continue
        if f.attr in value and value[f.attr] is None:
            ctx.problem(path_of(where, f.attr), "missing-field", f"{f.attr!r} is required and cannot be null")
        elif f.attr not in value:
            ctx.problem(
                path_of(where, f.attr),
                "missing-field",
                f"{cls._wire_type} needs {f.attr!r} ({describe(f.info.desc)})",
            )


def _not_a_field(cls: SpecClass, key: Any, item: Any, where: Where, ctx: LoadContext, extra: dict[str, Any]) -> None:
    """Report a key that is not a field of ``cls``: not a string, a field the API removed, or unknown."""
    if type(key) is not str:
        ctx.problem(path_of(where), "wrong-type", f"object keys must be strings (got {key!r})")
        return
    info = cls._schema.get(key)
    if info is not None and info.rejected:
        code = "shared-cluster-unsupported" if "job cluster" in info.rejected else "removed-field"
        ctx.problem(path_of(where, key), code, info.rejected)
        return
    unknown_key(cls, key, item, path_of(where, key), ctx, extra)


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


def load_body(cls: SpecClass, value: Mapping[str, Any], ctx: LoadContext) -> Any:
    """Load a whole body (``$``) as ``cls``, with its own loader if it has one (``RunSpec``, ``Library``)."""
    own = getattr(cls, "_load", None)
    return load_object(cls, value, "$", None, ctx, 0) if own is None else own(value, "$", None, ctx, 0)
