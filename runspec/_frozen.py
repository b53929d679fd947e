"""
Immutable containers for spec values, and conversions between them and plain JSON values.

Spec objects hold tuples instead of lists and ``FrozenMap`` instead of dicts, so that a spec can be
shared, hashed and compared without anyone changing it underneath.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, TypeVar

__all__ = ["MAX_DEPTH", "FrozenMap", "copy_json", "freeze_json", "thaw_json"]

K = TypeVar("K")
V = TypeVar("V")

#: How deep free-form JSON (``extra`` and untyped fields) may nest before it is refused.
MAX_DEPTH = 64
_INF = float("inf")
_INT64 = 2**63


class FrozenMap(Mapping[K, V]):
    """
    A read-only, hashable mapping that keeps insertion order.

    It compares equal to any mapping with the same items, dicts included.
    """

    __slots__ = ("_d", "_h")

    _d: dict[K, V]
    if TYPE_CHECKING:
        # The same dict under the name the JSON encoder's ``default`` reads from spec objects
        # (``runspec.spec.objects._convert.wire_of``): a FrozenMap's request form is its dict. Not a
        # second slot: ``_w`` is the ``_d`` slot's own descriptor (set below the class), so making a
        # FrozenMap stores one reference.
        _w: dict[K, V]

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        _set_d(self, dict(items) if items else {})

    @staticmethod
    def _copy_of(d: dict[K, V]) -> FrozenMap[K, V]:
        """A FrozenMap of a copy of ``d`` (the caller may keep ``d``)."""
        m = _new_map(FrozenMap)
        _set_d(m, d.copy())
        return m

    @classmethod
    def _adopt(cls, d: dict[K, V]) -> FrozenMap[K, V]:
        """Wrap ``d`` without copying it; the caller must not keep a reference."""
        m = _new_map(cls)
        _set_d(m, d)
        return m

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    # The Mapping mixins work through __getitem__ one key at a time; the checks read every map of a
    # large run, so these go straight to the dict (its views are read-only).
    def get(self, key: K, default: Any = None) -> Any:
        return self._d.get(key, default)

    def keys(self) -> KeysView[K]:
        return self._d.keys()

    def items(self) -> ItemsView[K, V]:
        return self._d.items()

    def values(self) -> ValuesView[V]:
        return self._d.values()

    def __bool__(self) -> bool:
        return bool(self._d)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._d == other._d
        if isinstance(other, Mapping):
            return self._d == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        try:
            return getattr(self, "_h")  # type: ignore[no-any-return]  # noqa: B009 - unset slot until first hash
        except AttributeError:
            h = hash(frozenset(self._d.items()))
            object.__setattr__(self, "_h", h)
            return h

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is read-only")

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._d,))

    def to_dict(self) -> dict[K, V]:
        """Return a plain ``dict`` copy."""
        return dict(self._d)


_new_map = object.__new__
_set_d = FrozenMap.__dict__["_d"].__set__
FrozenMap._w = FrozenMap.__dict__["_d"]  # type: ignore[misc]  # the request form is the _d slot itself


def freeze_json(value: Any, depth: int = 0) -> Any:
    """
    Turn a JSON value into its immutable form (dicts to ``FrozenMap``, lists to tuples).

    Raises ``TypeError`` for anything JSON cannot hold, and ``ValueError`` past ``MAX_DEPTH`` levels.
    """
    t = type(value)
    if value is None or t is str or t is bool:
        return value
    if t is int:
        if -_INT64 <= value < _INT64:
            return value
        raise ValueError("an integer outside the 64 bits JSON numbers carry to the API")
    if t is float:
        if value != value or value in (_INF, -_INF):
            raise ValueError(f"{value!r} is not a number JSON can carry")
        return value
    if depth >= MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError(f"JSON object keys must be str (got {k!r} that is a {type(k).__name__})")
            out[k] = freeze_json(v, depth + 1)
        return FrozenMap._adopt(out)
    if isinstance(value, (list, tuple)):
        return tuple(freeze_json(v, depth + 1) for v in value)
    if isinstance(value, (str, float)):  # subclasses such as str enums
        return value
    if isinstance(value, int):
        return freeze_json(int(value), depth)
    raise TypeError(f"{value!r} (a {t.__name__}) is not a JSON value")


def thaw_json(value: Any) -> Any:
    """Turn a frozen JSON value back into plain dicts and lists."""
    t = type(value)
    if t is FrozenMap:
        return {k: thaw_json(v) for k, v in value._d.items()}
    if t is tuple:
        return [thaw_json(v) for v in value]
    return value


def copy_json(value: Any) -> Any:
    """Deep-copy a plain JSON value (dicts and lists) quickly."""
    t = type(value)
    if t is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if t is list:
        return [copy_json(v) for v in value]
    return value
