"""
Class generation: the metaclass that turns a spec class's declaration into its tables and ``__init__``.

A spec class names its schema type and declares its fields with annotations, as a dataclass would::

    class NotebookTask(SpecObject, wire="NotebookTask"):
        notebook_path: str
        _: KW_ONLY
        source: Source | None = None

The tables (``_fields``, ``_schema``, ``_wire_type``, ``_enum_fields``) and ``__init__`` are built on
first use: a run touches a dozen of the hundred classes, so ``import runspec`` stays cheap. The
generated ``__init__`` checks each argument's Python type (``TypeError`` at the call), freezes it and
stores only the fields given. Its source is compiled under a file name registered in ``linecache``
(as attrs does), so tracebacks and debuggers show the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from runspec._frozen import FrozenMap, freeze_json
from runspec.spec._convert import REGISTRY, bad_type, converter
from runspec.spec._schema import FieldInfo, schema_fields

if TYPE_CHECKING:  # pragma: no cover - typing_extensions is only needed by type checkers here
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[T], T]:
        return lambda cls: cls


__all__ = ["SpecMeta", "freeze_extra", "set_extra", "spec_field"]

T = TypeVar("T")
_osa = object.__setattr__


def spec_field(*, default: Any = None, kw_only: bool = True, init: bool = True) -> Any:
    """Declare a field with options (used for ``extra``, which every spec object takes)."""
    return default


class _Field:
    __slots__ = ("attr", "conv", "default", "exact", "info", "kw_only", "required")

    def __init__(self, attr: str, info: FieldInfo, kw_only: bool, default: Any) -> None:
        self.attr = attr
        self.info = info
        self.kw_only = kw_only
        self.default = default
        self.required = default is _MISSING
        self.conv: Callable[[Any], Any] = lambda v: v
        #: The Python type a value of this field is kept as it is when it has exactly (str, int, bool), or None.
        self.exact: type | None = _EXACT.get(info.desc[0])


_MISSING = object()
_EXACT: dict[str, type] = {"string": str, "integer": int, "boolean": bool}


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


_LAZY_TABLES = {name: _LazyTable(name) for name in ("_fields", "_schema", "_wire_type", "_enum_fields")}


def _setup(cls: Any) -> None:
    """Build the field tables and the real ``__init__`` of a spec class from its declaration."""
    built = cls.__dict__.get("_fields")
    if built is not None and not isinstance(built, _LazyTable):
        return
    own, wire, fields = cls.__dict__["_declared"]
    name = cls.__name__
    infos = dict(fields) if fields is not None else schema_fields(wire)
    table: dict[str, _Field] = {}
    for attr, kw, default in own:
        info = infos.get(attr)
        if info is None:
            raise TypeError(f"{name}.{attr} is not a field of {wire}")
        field = _Field(attr, info, kw, default)
        field.conv = converter(name, attr, info.desc)
        table[attr] = field
    missing = [f for f, i in infos.items() if f not in table and not i.rejected]
    if missing:
        raise TypeError(f"{name} does not declare {wire} fields {missing}")
    cls._schema = infos
    cls._wire_type = wire or name
    cls._enum_fields = tuple((f.attr, f.info.enum) for f in table.values() if f.info.enum)
    if cls.__dict__.get("__init__") is _first_init:
        cls.__init__ = _make_init(cls, table)
    cls._fields = table  # set last: its presence means the class is ready


def _first_init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    for klass in reversed(cls.__mro__):
        if "_declared" in klass.__dict__:
            _setup(klass)
    cls.__init__(self, *args, **kwargs)


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The setter of slot ``name`` (spec objects refuse attribute assignment, so constructors use it)."""
    for klass in cls.__mro__:
        slot = klass.__dict__.get(name)
        if slot is not None and hasattr(slot, "__set__"):
            setter: Callable[[Any, Any], None] = slot.__set__
            return setter
    raise AssertionError(f"{cls.__name__} has no slot {name!r}")  # pragma: no cover


def _make_init(cls: Any, table: dict[str, _Field]) -> Callable[..., None]:
    """Generate an ``__init__`` that checks, freezes and stores each argument given, then notes the request form."""
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
        "_set_extra": set_extra,
        "_set_w": _slot_setter(cls, "_w"),
        "_frozen_copy": FrozenMap._copy_of,
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
    # The request form: the object's own dict, unless extra fields join it or the class wraps it.
    lines.append(" if extra:")
    lines.append("  x = _set_extra(self, extra)")
    lines.append("  w = {**d, **x._d} if x else d")
    lines.append(" else:")
    lines.append("  w = d")
    lines.append(" _set_w(self, w)" if cls._wire_key is None else " _set_w(self, {_wire_key: w.get('path', w)})")
    if hasattr(cls, "__post_init__"):
        lines.append(" self.__post_init__()")
    code = "\n".join(lines) + "\n"
    import linecache  # only when a class is first used: it costs import time

    filename = f"<runspec generated __init__ of {cls.__module__}.{cls.__qualname__}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), env)
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def freeze_extra(cls: Any, extra: Mapping[str, Any]) -> FrozenMap[str, Any]:
    """Check and freeze ``extra``, the fields outside the schema an object of ``cls`` carries (nulls dropped)."""
    owner = cls.__name__
    if not isinstance(extra, Mapping):
        raise bad_type(owner, "extra", "a mapping of field names to JSON values", extra)
    frozen = {}
    for k, v in extra.items():
        if type(k) is not str:
            raise bad_type(owner, "extra key", "str", k)
        if k in cls._fields:
            raise TypeError(f"{owner}: extra field {k!r} is a known field; pass it as {k}=... instead")
        info = cls._schema.get(k)
        if info is not None and info.rejected:
            raise TypeError(f"{owner}: extra field {k!r} cannot be sent: {info.rejected}")
        if cls._wire_key is not None and "path" in cls._fields:
            raise TypeError(f"{owner}: a {owner} is sent as a bare path string, so it cannot carry extra fields")
        try:
            if v is not None:  # null means absent, as everywhere in a body
                frozen[k] = freeze_json(v)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{owner}: extra[{k!r}] is not a JSON value: {exc}") from None
    return FrozenMap._adopt(frozen)


def set_extra(obj: Any, extra: Mapping[str, Any]) -> FrozenMap[str, Any]:
    """Check and freeze ``extra`` (see ``freeze_extra``) and keep it on ``obj``."""
    x = freeze_extra(type(obj), extra)
    _osa(obj, "_x", x)
    return x
