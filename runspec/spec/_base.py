"""
The machinery behind every spec class: frozen value objects whose fields are the wire fields.

A spec class names its schema type and declares its fields with annotations, as a dataclass would::

    class NotebookTask(SpecObject, wire="NotebookTask"):
        notebook_path: str
        _: KW_ONLY
        source: Source | None = None

The metaclass builds ``__init__`` from the declaration and the schema: a wrong Python type raises
``TypeError`` at the call, naming the class and argument. Values are frozen (lists to tuples, mappings
to ``FrozenMap``). Only the fields a caller set are stored, in ``__dict__``, so an object's request
form is those fields and nothing else. Checks that need more than one value run later, over the
whole run (``runspec.spec._checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from runspec._frozen import FrozenMap, freeze_json, thaw_json
from runspec.errors import Problem, SpecError
from runspec.spec._schema import Desc, FieldInfo, closest, describe, schema_fields

if TYPE_CHECKING:  # pragma: no cover - typing_extensions is only needed by type checkers here
    from typing_extensions import Self, dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[T], T]:
        return lambda cls: cls


__all__ = ["REGISTRY", "LoadContext", "SpecObject", "jpath", "plain_json", "spec_field", "wire_of"]

T = TypeVar("T")

#: Wire type name -> the spec class that stands for it.
REGISTRY: dict[str, type[SpecObject]] = {}


def spec_field(*, default: Any = None, kw_only: bool = True, init: bool = True) -> Any:
    """Declare a field with options (used for ``extra``, which every spec object takes)."""
    return default


def jpath(base: str, key: str) -> str:
    """Append an object key to a JSON path: ``$.tasks[0]`` + ``task_key``."""
    if key.isidentifier():
        return f"{base}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{base}['{escaped}']"


def _type_name(value: Any) -> str:
    return type(value).__name__


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _bad_type(owner: str, name: str, expected: str, value: Any) -> TypeError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return TypeError(f"{owner}: {name!r} must be {expected} (got {shown} that is {_a(_type_name(value))})")


# --------------------------------------------------------------------------------------------------
# Call-site conversion: check a Python value against a descriptor, freeze it, or raise TypeError.
# --------------------------------------------------------------------------------------------------


def _converter(owner: str, name: str, desc: Desc) -> Callable[[Any], Any]:
    kind = desc[0]
    expected = describe(desc)

    if kind == "string":

        def conv(v: Any) -> Any:
            if isinstance(v, str):
                return str.__str__(v)  # a str Enum member's value, not 'Source.GIT'
            raise _bad_type(owner, name, expected, v)

    elif kind == "integer":

        def conv(v: Any) -> Any:
            if isinstance(v, int) and not isinstance(v, bool):
                return int(v)
            raise _bad_type(owner, name, expected, v)

    elif kind == "number":

        def conv(v: Any) -> Any:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if v != v or v in (_INF, -_INF):
                    raise ValueError(f"{owner}: {name!r} must be a finite number; JSON cannot carry {v!r}")
                return v
            raise _bad_type(owner, name, expected, v)

    elif kind == "boolean":

        def conv(v: Any) -> Any:
            if isinstance(v, bool):
                return v
            raise _bad_type(owner, name, expected, v)

    elif kind == "any":

        def conv(v: Any) -> Any:
            try:
                return freeze_json(v)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{owner}: {name!r} must be a JSON value: {exc}") from None

    elif kind == "array":
        inner = _converter(owner, name + "[]", desc[1])
        inner_kind = desc[1][0]

        def conv(v: Any) -> Any:
            t = type(v)
            if (
                t is not list
                and t is not tuple
                and (isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable))
            ):
                raise _bad_type(owner, name, expected, v)
            if inner_kind == "string":
                items = tuple(v)
                for item in items:
                    if type(item) is not str:
                        inner(item)
                return items
            if inner_kind == "object":
                # Most lists hold the right spec objects already: keep them as they are.
                items = tuple(v)
                cls = REGISTRY[desc[1][1]]
                for item in items:
                    if not isinstance(item, cls):
                        return tuple(inner(item) for item in items)
                return items
            return tuple(inner(item) for item in v)

    elif kind == "map":
        inner = _converter(owner, name + "[]", desc[1])
        inner_kind = desc[1][0]

        def conv(v: Any) -> Any:
            if type(v) is dict and inner_kind == "string":
                # The usual case, a dict of str to str, in one pass with no calls.
                for k, item in v.items():
                    if type(k) is not str or type(item) is not str:
                        break
                else:
                    return _frozen_copy(v)
            if type(v) is not dict and not isinstance(v, Mapping):
                raise _bad_type(owner, name, expected, v)
            out = {}
            for k, item in v.items():
                if type(k) is not str:
                    raise _bad_type(owner, f"{name} key", "str", k)
                out[k] = item if (inner_kind == "string" and type(item) is str) else inner(item)
            return FrozenMap._adopt(out)

    elif kind == "object":
        type_name = desc[1]

        def conv(v: Any) -> Any:
            cls = REGISTRY[type_name]
            if type(v) is cls or isinstance(v, cls):
                return v
            if isinstance(v, Mapping):
                return cls.from_dict(v)
            raise _bad_type(owner, name, f"a {cls.__name__}", v)

    else:  # pragma: no cover - the schema has no other kinds
        raise AssertionError(kind)
    return conv


# --------------------------------------------------------------------------------------------------
# Sealing: once an object's fields are stored, note its request form and whether its checks find
# anything. Both happen exactly once, when the object is made, so compile() and to_json() find them ready.
#
# The request form (``_w``) is made of frozen values: usually the object's own dict, whose values are
# strings, numbers, tuples, FrozenMaps and other spec objects. ``json.dumps(..., default=wire_of)``
# writes tuples as arrays and asks ``wire_of`` for the request form of everything else (a spec object's
# ``_w``, a FrozenMap's dict), so no plain copy of the body is ever built to serialise it;
# ``to_dict()`` makes one with ``plain_json`` for callers who want dicts and lists.
# --------------------------------------------------------------------------------------------------

#: The JSON encoder's ``default``: the request form of a spec object, or the dict of a FrozenMap.
wire_of: Callable[[Any], Any] = attrgetter("_w")

# Fields whose values sealing looks at (the ``_steps`` of a class), to set the findings flag.
_OBJ = 1  # a spec object: it may carry findings
_OBJS = 2  # a tuple of spec objects: any may carry findings
_ENUM = 3  # a string from an enum: a finding when it is not one of the values
_ENUMS = 4  # a tuple of strings from an enum: a finding when one is not one of the values


def _step(info: FieldInfo) -> tuple[int, Any] | None:
    """What sealing checks in one field (None: nothing, its value cannot carry a finding)."""
    desc = info.desc
    kind = desc[0]
    if kind == "object":
        return (_OBJ, None)
    if kind == "array" and desc[1][0] == "object":
        return (_OBJS, None)
    if info.enum:
        return (_ENUMS, info.enum) if kind == "array" else (_ENUM, info.enum)
    return None


def _seal(obj: SpecObject, extra: FrozenMap[str, Any] | None, known: bool | None = None) -> None:
    """
    Set ``obj._w`` (the request form) and ``obj._f`` (whether whole-run checks find anything in it).

    ``_f`` is true when this object's own checks (enums and the rules of ``_checks``) find an error or
    a warning, or when a spec object inside it has ``_f`` set. A clean subtree, the usual case, is then
    skipped by ``compile()``; a flagged one is checked in full there, so every problem is still found,
    reported with its path and in its order, and only at compile()/from_dict() time.

    ``known`` is what the fields' children and enums say, when the caller has already found it out
    on its way (``Run.task`` for the fields it checks, the quick loader); the class's rules still run.
    """
    cls = type(obj)
    d = obj.__dict__
    flagged = False
    steps = cls._steps
    if known is not None:
        flagged = known
    elif steps:
        for k, v in d.items():
            step = steps.get(k)
            if step is None:
                continue
            code = step[0]
            if code == _OBJ:
                if v._f:
                    flagged = True
                    break
            elif code == _OBJS:
                for e in v:
                    if e._f:
                        flagged = True
                        break
            elif code == _ENUM:
                if v not in step[1]:
                    flagged = True
            elif not step[1].issuperset(v):  # _ENUMS
                flagged = True
            if flagged:
                break
    # The object's own dict is its request form (never changed: the object is frozen), unless extra
    # fields join it or the class wraps it (the library kinds).
    w = {**d, **extra._d} if extra else d
    key = cls._wire_key
    _set_w(obj, w if key is None else {key: w.get("path", w)})
    if not flagged:
        rules = cls._rules
        if rules:
            flagged = _finds_anything(obj, rules)
    _set_f(obj, flagged)


def plain_json(value: Any) -> Any:
    """A request form, or part of one, as new plain dicts and lists (for callers to keep and change)."""
    t = type(value)
    if t is dict:
        return {k: plain_json(v) for k, v in value.items()}
    if t is tuple or t is list:
        return [plain_json(v) for v in value]
    if t is str or t is int or t is float or t is bool or value is None:
        return value
    w = getattr(value, "_w", None)  # a spec object's request form, or a FrozenMap's dict
    return value if w is None else plain_json(w)


# --------------------------------------------------------------------------------------------------
# Loading: plain JSON value -> spec objects, collecting problems with their paths.
# --------------------------------------------------------------------------------------------------

_BAD = object()
_INF = float("inf")
_osa = object.__setattr__
_MAX_OBJECT_DEPTH = 24


class LoadContext:
    """Problems and warnings found while loading a body; ``strict`` decides what unknown keys are."""

    __slots__ = ("problems", "strict", "warnings")

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, path: str, code: str, message: str) -> None:
        self.problems.append(Problem(path, code, message))

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


def _json_kind(value: Any) -> str:
    for t, name in _JSON_NAMES.items():
        if isinstance(value, t) and not (t is int and isinstance(value, bool)):
            return name
    return f"a Python {type(value).__name__}"


def _is_numeric_string(value: str, integer: bool) -> bool:
    text = value.strip()
    if not text:
        return False
    try:
        int(text) if integer else float(text)
    except ValueError:
        return False
    return True


def load_value(desc: Desc, value: Any, path: str, ctx: LoadContext, depth: int) -> Any:
    """Check ``value`` against ``desc``; return its frozen form, or ``_BAD`` after a problem."""
    kind = desc[0]
    t = type(value)
    if kind == "string":
        if t is str:
            return value
        if isinstance(value, str):  # a str Enum member, read as json.dumps would write it
            return str.__str__(value)
    elif kind == "integer":
        if t is int:
            return value
        if t is str and _is_numeric_string(value, integer=True):
            ctx.warn(path, "number-as-string", f"{value!r} is a string; the API reads it as an integer")
            return value
    elif kind == "number":
        if t is int:
            return value
        if t is float:
            if value != value or value in (_INF, -_INF):
                ctx.problem(path, "invalid-value", f"{value!r} is not a number JSON can carry")
                return _BAD
            return value
        if t is str and _is_numeric_string(value, integer=False):
            ctx.warn(path, "number-as-string", f"{value!r} is a string; the API reads it as a number")
            return value
    elif kind == "boolean":
        if t is bool:
            return value
    elif kind == "any":
        try:
            return freeze_json(value)
        except (TypeError, ValueError) as exc:
            ctx.problem(path, "wrong-type", f"not a usable JSON value: {exc}")
            return _BAD
    elif kind == "array":
        if t is list or t is tuple:
            inner = desc[1]
            out = []
            for i, item in enumerate(value):
                if item is None:
                    ctx.problem(f"{path}[{i}]", "wrong-type", f"null is not allowed in a {describe(desc)}")
                    continue
                loaded = load_value(inner, item, f"{path}[{i}]", ctx, depth)
                if loaded is not _BAD:
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
                if loaded is not _BAD:
                    out_map[k] = loaded
            return FrozenMap._adopt(out_map)
    elif kind == "object":
        cls = REGISTRY[desc[1]]
        return cls._load(value, path, ctx, depth + 1)
    ctx.problem(path, "wrong-type", f"expected {_expected_json(desc)}, got {_json_kind(value)}")
    return _BAD


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


class _Bail(Exception):
    """The quick loader met something to report: load the body again with ``_load``."""


_BAIL = _Bail()
_EXACT_TYPES = {"string": str, "integer": int, "boolean": bool}


def _quick_step(desc: Desc) -> tuple[int, Any]:
    kind = desc[0]
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
                    raise _BAIL
            return tuple(value)
    elif code == _Q_EXACT_MAP:
        if t is dict:
            for k, item in value.items():
                if type(k) is not str or type(item) is not arg:
                    raise _BAIL
            return _adopt(value.copy())
    elif code == _Q_NUMBER:
        if t is int or (t is float and value == value and value not in (_INF, -_INF)):
            return value
    elif code == _Q_ANY:
        try:
            return freeze_json(value)
        except (TypeError, ValueError):
            raise _BAIL from None
    elif code == _Q_ARRAY:
        if t is list or t is tuple:
            out = []
            for item in value:
                if item is None:
                    raise _BAIL
                out.append(_quick_value(arg[0], arg[1], item, depth))
            return tuple(out)
    elif t is dict:  # _Q_MAP
        out_map = {}
        for k, item in value.items():
            if type(k) is not str or item is None:
                raise _BAIL
            out_map[k] = _quick_value(arg[0], arg[1], item, depth)
        return _adopt(out_map)
    raise _BAIL


def _expected_json(desc: Desc) -> str:
    kind = desc[0]
    return {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "array": "an array",
        "map": "an object",
        "object": "an object",
    }.get(kind, "a JSON value")


# --------------------------------------------------------------------------------------------------
# The metaclass and the base class.
# --------------------------------------------------------------------------------------------------


class _Field:
    __slots__ = ("attr", "conv", "default", "info", "kw_only", "required")

    def __init__(self, attr: str, info: FieldInfo, kw_only: bool, default: Any) -> None:
        self.attr = attr
        self.info = info
        self.kw_only = kw_only
        self.default = default
        self.required = default is _MISSING
        self.conv: Callable[[Any], Any] = lambda v: v


_MISSING = object()


class _LazyTable:
    """
    A class table that ``_setup`` has not built yet: reading it builds every table of the class.

    One shared instance per table name sits in the namespace of every declared spec class (no object
    per class, which keeps import cheap); reading one sets up the class that declares it, so a
    subclass never reads a table its base has built. (A metaclass ``__getattr__`` would do without
    them, but it slows down every attribute read on every spec class.)
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type) -> Any:
        for klass in owner.__mro__:
            if klass.__dict__.get(self.name) is self:
                _setup(klass)
                break
        return type.__getattribute__(owner, self.name)


@dataclass_transform(frozen_default=True, field_specifiers=(spec_field,))
class SpecMeta(type):
    """
    Records the fields a spec class declares; builds its tables and ``__init__`` on first use.

    Building lazily keeps ``import runspec`` cheap: a run touches a dozen of the hundred classes.
    """

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        ns: dict[str, Any],
        wire: str | None = None,
        fields: Mapping[str, FieldInfo] | None = None,
        **kwargs: Any,
    ) -> SpecMeta:
        annotations = ns.get("__annotations__", {})
        own: list[tuple[str, bool, Any]] = []  # (name, kw_only, default)
        kw_only = False
        for attr, annotation in annotations.items():
            text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
            if text in ("KW_ONLY", "dataclasses.KW_ONLY"):
                kw_only = True
                continue
            if attr.startswith("_") or text.startswith("ClassVar"):
                continue
            own.append((attr, kw_only, ns.get(attr, _MISSING)))
        ns.setdefault("__slots__", ())
        for attr, _, default in own:
            # Unset fields read as None through the class; set ones live in the instance __dict__.
            ns[attr] = None if default is _MISSING else default
        declared = wire is not None or fields is not None
        if declared:
            ns.update(_LAZY_TABLES)
        cls = super().__new__(mcs, name, bases, ns, **kwargs)
        if not declared:
            return cls
        cls._declared = (own, wire, fields)  # type: ignore[attr-defined]
        if "__init__" not in ns:
            cls.__init__ = _first_init  # type: ignore[misc]
        if wire is not None and wire not in REGISTRY:
            REGISTRY[wire] = cls  # type: ignore[assignment]
        return cls


_LAZY_TABLES = {
    name: _LazyTable(name)
    for name in (
        "_fields",
        "_schema",
        "_wire_type",
        "_enum_fields",
        "_steps",
        "_rules",
        "_quick",
        "_quick_flags",
        "_required_count",
    )
}


def _setup(cls: Any) -> None:
    """Build the field tables and the real ``__init__`` of a spec class from its declaration."""
    built = cls.__dict__.get("_fields")
    if built is not None and not isinstance(built, _LazyTable):
        return
    # The per-object rules live with the other checks; they are registered when runspec.spec is imported.
    from runspec.spec._checks import local_rules

    own, wire, fields = cls.__dict__["_declared"]
    name = cls.__name__
    infos = dict(fields) if fields is not None else schema_fields(wire)
    table: dict[str, _Field] = {}
    for attr, kw, default in own:
        info = infos.get(attr)
        if info is None:
            raise TypeError(f"{name}.{attr} is not a field of {wire}")
        field = _Field(attr, info, kw, default)
        field.conv = _converter(name, attr, info.desc)
        table[attr] = field
    missing = [f for f, i in infos.items() if f not in table and not i.rejected]
    if missing:
        raise TypeError(f"{name} does not declare {wire} fields {missing}")
    cls._schema = infos
    cls._wire_type = wire or name
    cls._enum_fields = tuple((f.attr, f.info.enum) for f in table.values() if f.info.enum)
    cls._steps = {f.attr: step for f in table.values() if (step := _step(f.info)) is not None}
    cls._rules = local_rules(cls)
    cls._quick = {
        f.attr: (f.info.required, _Q_ENUM, f.info.enum)
        if f.info.enum and f.info.desc == ("string",)
        else (f.info.required, *_quick_step(f.info.desc))
        for f in table.values()
    }
    # The quick loader finds the findings flag of the fields as _seal would, for the steps it knows.
    cls._quick_flags = all(
        code in (_OBJ, _OBJS) or (code == _ENUM and table[attr].info.desc == ("string",))
        for attr, (code, _) in cls._steps.items()
    )
    cls._required_count = sum(1 for f in table.values() if f.info.required)
    if cls.__dict__.get("__init__") is _first_init:
        cls.__init__ = _make_init(cls, table)
    cls._fields = table  # set last: its presence means the class is ready


def _first_init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    for klass in reversed(cls.__mro__):
        if "_declared" in klass.__dict__:
            _setup(klass)
    cls.__init__(self, *args, **kwargs)


# What a generated __init__ does to seal a field, by its sealing step (as _seal does, written out for
# the fields of one class so that making an object costs no loop and no lookups).
_SEAL_CODE: dict[int, str] = {
    _OBJ: "{a}._f",
    _OBJS: "_any_flagged({a})",
    _ENUM: "{a} not in _e_{a}",
    _ENUMS: "not _e_{a}.issuperset({a})",
}


def _make_init(cls: Any, table: dict[str, _Field]) -> Callable[..., None]:
    """Generate an ``__init__`` that checks, freezes and stores each argument given, then seals the object."""
    positional = [f for f in table.values() if not f.kw_only]
    keyword = [f for f in table.values() if f.kw_only]
    params: list[str] = []
    for f in positional:
        params.append(f.attr if f.required else f"{f.attr}=_NONE")
    params.append("*")
    for f in keyword:
        params.append(f.attr if f.required else f"{f.attr}=_NONE")
    params.append("extra=None")
    lines = [f"def __init__(self, {', '.join(params)}):", " d = self.__dict__"]
    env: dict[str, Any] = {
        "_NONE": None,
        "_set_extra": _set_extra,
        "_set_w": _set_w,
        "_set_f": _set_f,
        "_any_flagged": _any_flagged,
        "_PROBE": _PROBE,
        "_frozen_copy": _frozen_copy,
        "_wire_key": cls._wire_key,
    }
    fast = {"string": "str", "integer": "int", "boolean": "bool"}
    # Check, freeze and store each field, in declaration order (the first wrong one raises).
    for f in table.values():
        a = f.attr
        env[f"_c_{a}"] = f.conv
        check = fast.get(f.info.desc[0])
        if check:
            convert = [f"if type({a}) is not {check}: {a} = _c_{a}({a})"]
        elif f.info.desc == ("map", ("string",)):
            # A dict of str to str, the usual value, is frozen here without a call (as the converter does).
            convert = [
                f"if type({a}) is dict:",
                f" for _k, _v in {a}.items():",
                "  if type(_k) is not str or type(_v) is not str:",
                f"   {a} = _c_{a}({a})",
                "   break",
                " else:",
                f"  {a} = _frozen_copy({a})",
                f"else: {a} = _c_{a}({a})",
            ]
        else:
            convert = [f"{a} = _c_{a}({a})"]
        if f.required:
            lines.extend(f" {line}" for line in convert)
            lines.append(f" d[{a!r}] = {a}")
        else:
            lines.append(f" if {a} is not None:")
            lines.extend(f"  {line}" for line in convert)
            lines.append(f"  d[{a!r}] = {a}")
    lines.append(" x = _set_extra(self, extra) if extra else None")
    # Seal: the request form and the findings flag, as _seal computes them.
    lines.append(" f = False")
    for a, (code, arg) in cls._steps.items():
        env[f"_e_{a}"] = arg
        finding = _SEAL_CODE[code].format(a=a)
        guard = "" if table[a].required else f"{a} is not None and "
        lines.append(f" if {guard}{finding}: f = True")
    lines.append(" w = {**d, **x._d} if x else d")
    lines.append(" _set_w(self, w)" if cls._wire_key is None else " _set_w(self, {_wire_key: w.get('path', w)})")
    if cls._rules:
        # As _finds_anything does, written out: the first finding (or failure) of a rule is enough.
        lines.append(" if not f:")
        lines.append("  try:")
        for i, rule in enumerate(cls._rules):
            env[f"_rule_{i}"] = rule
            lines.append(f"   _rule_{i}(self, '$', _PROBE)")
        lines.append("  except Exception:")
        lines.append("   f = True")
    lines.append(" _set_f(self, f)")
    if hasattr(cls, "__post_init__"):
        lines.append(" self.__post_init__()")
    code = "\n".join(lines)
    exec(code, env)
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _any_flagged(objects: tuple[SpecObject, ...]) -> bool:
    """Whether any of ``objects`` has a finding inside (see ``_seal``)."""
    return any(map(_flag_of, objects))


_flag_of = attrgetter("_f")


def _set_extra(obj: SpecObject, extra: Mapping[str, Any]) -> FrozenMap[str, Any]:
    if not isinstance(extra, Mapping):
        raise _bad_type(type(obj).__name__, "extra", "a mapping of field names to JSON values", extra)
    frozen = {}
    for k, v in extra.items():
        if type(k) is not str:
            raise _bad_type(type(obj).__name__, "extra key", "str", k)
        cls = type(obj)
        if k in cls._fields:
            raise TypeError(f"{cls.__name__}: extra field {k!r} is a known field; pass it as {k}=... instead")
        info = cls._schema.get(k)
        if info is not None and info.rejected:
            raise TypeError(f"{cls.__name__}: extra field {k!r} cannot be sent: {info.rejected}")
        if cls._wire_key is not None and "path" in cls._fields:
            raise TypeError(
                f"{cls.__name__}: a {cls.__name__} is sent as a bare path string, so it cannot carry extra fields"
            )
        try:
            if v is not None:  # null means absent, as everywhere in a body
                frozen[k] = freeze_json(v)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{type(obj).__name__}: extra[{k!r}] is not a JSON value: {exc}") from None
    x = FrozenMap._adopt(frozen)
    _osa(obj, "_x", x)
    return x


class SpecObject(metaclass=SpecMeta):
    """
    Base of every spec class: a frozen value whose fields are the request body's fields.

    Objects compare by value, hash by value, and show only the fields that were set in ``repr``.
    ``extra={...}`` carries fields newer than runspec's schema into the body unchanged.
    """

    __slots__ = ("__dict__", "_f", "_h", "_w", "_x")

    if TYPE_CHECKING:
        # The request form, and whether checks find anything in this object or inside it: set by
        # every constructor (slots, not fields; see _seal).
        _w: Any = spec_field(init=False)
        _f: bool = spec_field(init=False)

    extra: Mapping[str, Any] | None = spec_field(default=None, kw_only=True)

    # Built on first use by _setup (see SpecMeta.__getattr__).
    _fields: ClassVar[dict[str, _Field]]
    _schema: ClassVar[dict[str, FieldInfo]]
    _wire_type: ClassVar[str]
    _steps: ClassVar[dict[str, tuple[int, Any]]]
    _rules: ClassVar[tuple[Callable[[Any, str, Any], None], ...]]
    _quick: ClassVar[dict[str, tuple[bool, int, Any]]]
    _required_count: ClassVar[int]
    _quick_flags: ClassVar[bool]
    #: When set, the request form is nested under this key: ``{key: form}``, or ``{key: path}`` for a
    #: form whose only field is ``path`` (the library kinds: ``{"pypi": {...}}``, ``{"whl": "..."}``).
    _wire_key: ClassVar[str | None] = None
    _enum_fields: ClassVar[tuple[tuple[str, frozenset[str]], ...]]

    # -- immutability --------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}: spec objects are frozen; use .replace()")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}: spec objects are frozen")

    # -- value semantics -------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__ and self._extra_map() == other._extra_map()

    def __hash__(self) -> int:
        try:
            return getattr(self, "_h")  # type: ignore[no-any-return]  # noqa: B009 - slot unset until first hash
        except AttributeError:
            # A frozenset: equal objects hash equal whatever order their fields were given in.
            h = hash((type(self), frozenset(self.__dict__.items()), self._extra_map()))
            object.__setattr__(self, "_h", h)
            return h

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.__dict__.items()]
        x = self._extra_map()
        if x:
            parts.append(f"extra={thaw_json(x)!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(self.__dict__), self._extra_map()))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: Any) -> Self:
        return self

    def _extra_map(self) -> FrozenMap[str, Any] | None:
        x: FrozenMap[str, Any] | None = getattr(self, "_x", None)
        return x

    if not TYPE_CHECKING:

        @property
        def extra(self) -> Mapping[str, Any] | None:
            """Fields outside runspec's schema that this object carries into the body, or None."""
            x = self._extra_map()
            return thaw_json(x) if x else None

    # -- conversion ------------------------------------------------------------------------------

    def _wire(self) -> Any:
        """
        The request form, made once when the object is, as frozen values (see ``wire_of``).

        Callers must not change it; ``to_dict()`` gives plain dicts and lists.
        """
        return self._w

    def to_dict(self) -> dict[str, Any]:
        """Return this object's request form as plain dicts and lists: only the fields that are set."""
        return plain_json(self._wire())  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = True) -> Self:
        """
        Build this object from its request form, checking every key and value.

        Raises ``SpecError`` listing every problem with its path (``$`` is this object). With
        ``strict=False`` unknown keys are kept in ``extra`` and reported as warnings instead.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}.from_dict() takes a dict (got a {_type_name(data)})")
        ctx = LoadContext(strict=strict)
        obj = cls._load_checked(data, ctx)
        if ctx.problems:
            raise SpecError(ctx.problems, subject=f"this {cls.__name__}")
        return obj  # type: ignore[no-any-return]

    def replace(self, **changes: Any) -> Self:
        """Return a copy with the given fields replaced (``None`` unsets a field)."""
        kwargs: dict[str, Any] = dict(self.__dict__)
        x = self._extra_map()
        if x:
            kwargs["extra"] = thaw_json(x)
        kwargs.update(changes)
        return type(self)(**kwargs)

    # -- loading (used by from_dict) ---------------------------------------------------------------

    @classmethod
    def _new(cls, fields: dict[str, Any], extra: Mapping[str, Any] | None = None, known: bool | None = None) -> Self:
        """
        Make an object from already-checked, frozen field values (no type checks run).

        ``fields`` becomes the object's ``__dict__``: callers pass a dict of their own making and
        never touch it again. ``known``: see ``_seal``.
        """
        obj = _object_new(cls)
        _set_dict(obj, fields)
        if extra:
            x = extra if type(extra) is FrozenMap else FrozenMap._adopt(dict(extra))
            _osa(obj, "_x", x)
            _seal(obj, x, known)
        elif known is None or cls._wire_key is not None:
            _seal(obj, None, known)
        else:  # _seal's work when the findings of the fields are known (compile() knows them for most tasks)
            _set_w(obj, fields)
            rules = cls._rules
            _set_f(obj, known or (bool(rules) and _finds_anything(obj, rules)))
        return obj

    @classmethod
    def _load(cls, value: Any, path: str, ctx: LoadContext, depth: int) -> Any:
        if not isinstance(value, Mapping):
            ctx.problem(path, "wrong-type", f"expected an object ({cls._wire_type}), got {_json_kind(value)}")
            return _BAD
        if depth > _MAX_OBJECT_DEPTH:
            ctx.problem(path, "too-deep", f"objects nest more than {_MAX_OBJECT_DEPTH} levels deep here")
            return _BAD
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
                cls._unknown_key(key, item, sub, ctx, extra)
                continue
            if item is None:
                continue
            loaded = load_value(f.info.desc, item, sub, ctx, depth)
            if loaded is not _BAD:
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

    @classmethod
    def _quick_load(cls, value: Any, depth: int) -> Any:
        """Load ``value`` as ``_load`` would when it has nothing to report; raise ``_Bail`` otherwise."""
        if type(value) is not dict or depth > _MAX_OBJECT_DEPTH:
            raise _BAIL
        plan = cls._quick
        fields: dict[str, Any] = {}
        required = 0
        flagged = False
        for key, item in value.items():
            entry = plan.get(key)  # None for an unknown, rejected or non-string key
            if entry is None:
                raise _BAIL
            is_required, code, arg = entry
            if item is None:
                if is_required:
                    raise _BAIL
                continue
            if is_required:
                required += 1
            # What sealing would find from the fields (see _seal) is found on the way.
            if code == _Q_EXACT and type(item) is arg:
                fields[key] = item
            elif code == _Q_OBJECT:
                fields[key] = child = arg._quick_load(item, depth + 1)
                if child._f:
                    flagged = True
            elif code == _Q_ENUM:
                if type(item) is not str:
                    raise _BAIL
                fields[key] = item
                if item not in arg:
                    flagged = True
            else:
                fields[key] = loaded = _quick_value(code, arg, item, depth)
                if code == _Q_OBJECTS and not flagged:
                    flagged = any(map(_flag_of, loaded))
        if required != cls._required_count:
            raise _BAIL
        return cls._new(fields, None, flagged if cls._quick_flags else None)

    @classmethod
    def _load_checked(cls, value: Mapping[str, Any], ctx: LoadContext) -> Any:
        """Load a body (``$``): quickly when it has nothing to report, else with every problem in ``ctx``."""
        try:
            return cls._quick_load(value, 0)
        except _Bail:
            pass
        except RecursionError:
            pass  # ``_load`` says where the body nests too deeply
        return cls._load(value, "$", ctx, 0)

    @classmethod
    def _unknown_key(cls, key: str, item: Any, path: str, ctx: LoadContext, extra: dict[str, Any]) -> None:
        guess = closest(key, (k for k, i in cls._schema.items() if not i.rejected))
        hint = f"; did you mean {guess!r}?" if guess else ""
        message = f"{cls._wire_type} has no field {key!r}{hint}"
        if ctx.strict:
            ctx.problem(path, "unknown-field", message + " (extra={...} or strict=False passes it through)")
            return
        try:
            extra[key] = freeze_json(item)
        except (TypeError, ValueError) as exc:
            ctx.problem(path, "wrong-type", f"not a usable JSON value: {exc}")
            return
        ctx.warn(path, "unknown-field", message + "; sent as given")


def _rebuild(cls: type[SpecObject], fields: dict[str, Any], extra: FrozenMap[str, Any] | None) -> SpecObject:
    return cls._new(fields, dict(extra) if extra else None)


_object_new = object.__new__
_frozen_copy = FrozenMap._copy_of
_adopt = FrozenMap._adopt
# Slot setters: spec objects refuse attribute assignment, so their constructors write slots directly.
_set_w = SpecObject.__dict__["_w"].__set__
_set_f = SpecObject.__dict__["_f"].__set__
_set_dict = SpecObject.__dict__["__dict__"].__set__


class _Found(Exception):
    """Raised by ``_PROBE`` at a rule's first finding."""


class _Probe:
    """
    Stands in for the checks' ``Report`` while an object is made: all that matters then is whether a
    rule finds anything, so the first finding ends the rule.
    """

    __slots__ = ()

    def error(self, path: str, code: str, message: str) -> None:
        raise _Found

    def warn(self, path: str, code: str, message: str) -> None:
        raise _Found


_PROBE = _Probe()


def _finds_anything(obj: SpecObject, rules: tuple[Callable[[Any, str, Any], None], ...]) -> bool:
    """True when one of ``rules`` reports an error or a warning about ``obj`` (seen from ``$``)."""
    for rule in rules:
        try:
            rule(obj, "$", _PROBE)
        except Exception:
            # _Found, or a rule that fails on this value: flagged, the rule runs again when the whole
            # run is checked and fails there, at the same point as it always did.
            return True
    return False
