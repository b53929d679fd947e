"""
The base of every spec class: a frozen value whose fields are the request body's wire fields.

Values are frozen (lists to tuples, mappings read as ``FrozenMap``). Only the fields a caller set are stored,
in ``__dict__``, so an object's request form is those fields and nothing else. An object is only a
value: whether it is valid as part of a run is for the checks (``runspec.spec.checks._checks``) to say, the
same way however it was made (builder, classes, ``from_dict``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar

from runspec._frozen import FrozenMap, thaw_json
from runspec.errors import SpecError
from runspec.spec.objects._classes import SpecMeta, _Field, set_extra, spec_field
from runspec.spec.objects._convert import plain_json
from runspec.spec.objects._load import LoadContext, load_body
from runspec.spec.schema._schema import FieldInfo

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

__all__ = [
    "SpecObject",
    "convert",
    "set_fields",
    "set_w",
    "unknown_keyword",
    "with_extra",
]


class SpecObject(metaclass=SpecMeta):
    """
    Base of every spec class: a frozen value whose fields are the request body's fields.

    Objects compare by value, hash by value, and show only the fields that were set in ``repr``.
    ``extra={...}`` carries fields newer than runspec's schema into the body unchanged.
    """

    __slots__ = ("__dict__", "_h", "_w", "_x")

    if TYPE_CHECKING:
        # The request form, set by every constructor (a slot, not a field; see runspec.spec.objects._convert.wire_of).
        _w: Any = spec_field(init=False)

    extra: Mapping[str, Any] | None = spec_field(default=None, kw_only=True)

    #: The field table, as tools/gen_spec.py writes it into each class (see runspec.spec.objects._classes).
    _table: ClassVar[tuple[tuple[Any, ...], ...]]
    # Built on first use by _setup (see SpecMeta.__getattr__).
    _fields: ClassVar[dict[str, _Field]]
    _schema: ClassVar[dict[str, FieldInfo]]
    _wire_type: ClassVar[str]
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
            # (A map field is kept as a plain dict: it hashes as the FrozenMap it reads as.)
            items = frozenset([(k, FrozenMap(v) if type(v) is dict else v) for k, v in self.__dict__.items()])
            h = hash((type(self), items, self._extra_map()))
            object.__setattr__(self, "_h", h)
            return h

    def __repr__(self) -> str:
        parts = [f"{k}={FrozenMap(v) if type(v) is dict else v!r}" for k, v in self.__dict__.items()]
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
            raise TypeError(f"{cls.__name__}.from_dict() takes a dict (got a {type(data).__name__})")
        ctx = LoadContext(strict=strict)
        obj = load_body(cls, data, ctx)
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
    def _new(cls, fields: dict[str, Any], extra: Mapping[str, Any] | None = None) -> Self:
        """
        Make an object from already-checked, frozen field values (no type checks run).

        ``fields`` becomes the object's ``__dict__``: callers pass a dict of their own making and
        never touch it again.
        """
        obj = _object_new(cls)
        _set_dict(obj, fields)
        w: Any = fields
        if extra:
            x = extra if type(extra) is FrozenMap else FrozenMap(extra)
            _osa(obj, "_x", x)
            w = {**fields, **x}
        key = cls._wire_key
        _set_w(obj, w if key is None else {key: w.get("path", w)})
        return obj

    # A class whose objects load in their own way (``Library``'s kinds, ``RunSpec``'s single-task form)
    # defines ``_load(value, where, ctx, depth)``; the loader calls it instead of ``load_object``.


#: ``set_fields(obj)``: the fields of ``obj`` that are set, by name, in the order they were given (``extra``
#: not included). The object's own mapping, not a copy (a map field in it is the object's own plain dict):
#: callers read it and never change it. It is ``obj.__dict__``, and the checks' per-object code reads that
#: attribute itself: CPython 3.11 calls an ``attrgetter`` through an argument tuple (0.53k instructions a
#: call against 0.32k for the attribute read).
set_fields: Callable[[SpecObject], Mapping[str, Any]] = attrgetter("__dict__")


def _rebuild(cls: type[SpecObject], fields: dict[str, Any], extra: FrozenMap[str, Any] | None) -> SpecObject:
    return cls._new(fields, dict(extra) if extra else None)


_object_new = object.__new__
_osa = object.__setattr__
# Slot setters: spec objects refuse attribute assignment, so their constructors write slots directly.
_set_w = SpecObject.__dict__["_w"].__set__
_set_dict = SpecObject.__dict__["__dict__"].__set__


# -- what the generated ``__init__``\ s call (tools/gen_spec.py writes them) ------------------------

#: Store an object's request form (its ``_w`` slot).
set_w = _set_w


def convert(obj: SpecObject, name: str, value: Any) -> Any:
    """Check and freeze ``value`` for field ``name`` of ``obj``'s class, or raise ``TypeError`` naming both."""
    return type(obj)._fields[name].conv(value)


def with_extra(obj: SpecObject, fields: dict[str, Any], extra: Mapping[str, Any]) -> Any:
    """Check and keep ``extra`` on ``obj``; return its request form, ``fields`` with the extra fields."""
    x = set_extra(obj, extra)
    return {**fields, **x} if x else fields


def unknown_keyword(obj: SpecObject, unknown: Mapping[str, Any]) -> TypeError:
    """The ``TypeError`` for a keyword the class does not take, with the closest field's name."""
    from runspec.spec.schema._schema import closest

    cls = type(obj)
    name = next(iter(unknown))
    info = cls._schema.get(name)
    if info is not None and info.rejected:  # a field the API no longer takes: say why
        return TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}: {info.rejected}")
    guess = closest(name, [*cls._fields, "extra"])
    hint = f"; did you mean {guess!r}?" if guess else ""
    return TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}{hint}")
