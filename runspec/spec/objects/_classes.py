"""
Class set-up: the metaclass that reads a spec class's declaration and builds its field tables on first use.

A spec class names its schema type and declares its fields with annotations, as a dataclass would; its
``__init__`` is ordinary source written by ``tools/gen_spec.py`` (in the class for the generated classes,
in ``_inits.py`` for those written by hand)::

    class NotebookTask(SpecObject, wire="NotebookTask"):
        notebook_path: str
        _: KW_ONLY
        source: Source | None = None

        def __init__(self, notebook_path: str, *, source: Source | None = None, ...) -> None: ...

Its field table is literal data in the class, ``_table``, written by ``tools/gen_spec.py`` from the schema:
one ``(name, type descriptor, required, enum values, why the API refuses it)`` per schema field. (The
library kinds that are a bare path declare ``fields=`` instead.) The tables objects are read through
(``_fields`` with each field's converter, ``_schema``, ``_wire_type``, ``_enum_fields``) are made from it on
first use: a run touches a dozen of the hundred classes, so ``import runspec`` stays cheap. The schema
itself is not read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from runspec._frozen import FrozenMap, freeze_json
from runspec.spec.objects._convert import REGISTRY, bad_type, converter
from runspec.spec.schema._schema import FieldInfo, field_info

if TYPE_CHECKING:  # pragma: no cover - typing_extensions is only needed by type checkers here
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[T], T]:
        return lambda cls: cls


__all__ = ["MapField", "SpecMeta", "adopt_init", "freeze_extra", "map_field", "set_extra", "spec_field"]

T = TypeVar("T")
_osa = object.__setattr__


def spec_field(*, default: Any = None, kw_only: bool = True, init: bool = True) -> Any:
    """Declare a field with options (used for ``extra``, which every spec object takes)."""
    return default


class _Field:
    """One field of a spec class: its name, its schema entry, and the converter its ``__init__`` calls."""

    __slots__ = ("attr", "conv", "exact", "info")

    def __init__(self, attr: str, info: FieldInfo, conv: Callable[[Any], Any]) -> None:
        self.attr = attr
        self.info = info
        self.conv = conv
        #: The Python type a value of this field is kept as it is when it has exactly (str, int, bool), or None.
        self.exact: type | None = _EXACT.get(info.desc[0])


_EXACT: dict[str, type] = {"string": str, "integer": int, "boolean": bool}


class MapField:
    """
    A map field (parameters, tags, Spark conf), which an object keeps as a plain ``dict`` of its own: the JSON
    encoder writes an exact ``dict`` directly, and the collector never tracks one holding only strings. Read
    through the object, it is a ``FrozenMap`` of it; through the class, None (as an unset field reads).
    """

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> FrozenMap[str, str] | None:
        value = None if obj is None else obj.__dict__.get(self.name)
        return value if value is None or type(value) is FrozenMap else FrozenMap(value)

    # Defining __set__ makes this a data descriptor, which Python consults before the instance __dict__: without
    # it, a read would find the object's plain dict there (same name) and hand it out unfrozen.
    def __set__(self, obj: Any, value: Any) -> None:
        obj.__setattr__(self.name, value)  # raises: spec objects are frozen


if TYPE_CHECKING:  # pragma: no cover

    def map_field() -> Any:
        """The class attribute of a map field (as the generated classes declare one): a ``MapField``."""

else:
    map_field = MapField


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
    Records the fields a spec class declares; builds its tables on first use.

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
        own: list[str] = []
        for attr, annotation in annotations.items():
            if attr[0] == "_":
                continue
            text = annotation if type(annotation) is str else getattr(annotation, "__name__", "")
            if text.startswith("ClassVar"):
                continue
            own.append(attr)
            # Unset fields read as None through the class (a map field through its MapField); set ones live
            # in the instance __dict__.
            ns.setdefault(attr, None)
        ns.setdefault("__slots__", ())
        declared = wire is not None or fields is not None
        if declared:
            ns.update(_LAZY_TABLES)
        table = ns.get("_table")
        cls = super().__new__(mcs, name, bases, ns, **kwargs)
        if not declared:
            return cls
        if table is None and fields is None:
            raise TypeError(f"{name} declares neither a field table (_table) nor fields=")
        cls._declared = (own, wire, fields, table)  # type: ignore[attr-defined]
        if wire is not None and wire not in REGISTRY:
            REGISTRY[wire] = cls
        return cls

    @property
    def __signature__(cls) -> Any:
        """
        The signature of the class's ``__init__`` as callers see it: its fields and ``extra``.

        ``**unknown`` is left out: it only lets a misspelled keyword get the closest field's name.
        """
        import inspect  # only when asked: it costs import time

        init = inspect.signature(cls.__init__)  # type: ignore[misc]
        params = list(init.parameters.values())[1:]
        return init.replace(parameters=[p for p in params if p.kind is not p.VAR_KEYWORD])


_LAZY_TABLES = {name: _LazyTable(name) for name in ("_fields", "_schema", "_wire_type", "_enum_fields")}


def _setup(cls: Any) -> None:
    """Build the field tables of a spec class from its declaration and its schema type."""
    built = cls.__dict__.get("_fields")
    if built is not None and not isinstance(built, _LazyTable):
        return
    own, wire, fields, literal = cls.__dict__["_declared"]
    name = cls.__name__
    infos = dict(fields) if fields is not None else {entry[0]: field_info(wire, *entry) for entry in literal}
    table: dict[str, _Field] = {}
    for attr in own:
        info = infos.get(attr)
        if info is None:
            raise TypeError(f"{name}.{attr} is not a field of {wire}")
        table[attr] = _Field(attr, info, converter(name, attr, info.desc))
    missing = [f for f, i in infos.items() if f not in table and not i.rejected]
    if missing:
        raise TypeError(f"{name} does not declare {wire} fields {missing}")
    cls._schema = infos
    cls._wire_type = wire or name
    cls._enum_fields = tuple((f.attr, f.info.enum) for f in table.values() if f.info.enum)
    cls._fields = table  # set last: its presence means the class is ready


def adopt_init(cls: type, init: Callable[..., None]) -> None:
    """
    Make ``init`` (generated into ``_inits.py``) the ``__init__`` of ``cls``, a class written by hand,
    named as its own so Python's messages read ``PyPI.__init__() missing ...``.
    """
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]


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
    return FrozenMap(frozen)


def set_extra(obj: Any, extra: Mapping[str, Any]) -> FrozenMap[str, Any]:
    """Check and freeze ``extra`` (see ``freeze_extra``) and keep it on ``obj``."""
    x = freeze_extra(type(obj), extra)
    _osa(obj, "_x", x)
    return x
