"""
Immutable containers for spec values, and conversions between them and plain JSON values.

Spec objects hold tuples instead of lists and are read as ``FrozenMap`` instead of dicts, so that a spec
can be shared, hashed and compared without anyone changing it underneath. (A map field is kept inside its
object as a plain dict no one else holds, and read as a ``FrozenMap``: see runspec.spec.objects._classes.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

__all__ = ["MAX_DEPTH", "FrozenMap", "freeze_json", "thaw_json"]

K = TypeVar("K")
V = TypeVar("V")

#: How deep free-form JSON (``extra`` and untyped fields) may nest before it is refused.
MAX_DEPTH = 64
_INF = float("inf")
_INT64 = 2**63


class FrozenMap(dict[K, V]):
    """
    A read-only, hashable mapping that keeps insertion order: a ``dict`` whose changing methods raise.

    Being a dict, it is made in one call (``FrozenMap(d)`` copies ``d``), read at the speed of a dict and
    written by the JSON encoder as the object it is. It compares equal to any mapping with the same items.
    """

    __slots__ = ("_h",)

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("FrozenMap is read-only")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __hash__(self) -> int:  # type: ignore[override]  # a dict has no hash; a FrozenMap does
        try:
            return getattr(self, "_h")  # type: ignore[no-any-return]  # noqa: B009 - unset slot until first hash
        except AttributeError:
            h = hash(frozenset(self.items()))
            object.__setattr__(self, "_h", h)
            return h

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is read-only")

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (dict(self),))

    def __copy__(self) -> FrozenMap[K, V]:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenMap[K, V]:
        return self

    def to_dict(self) -> dict[K, V]:
        """Return a plain ``dict`` copy."""
        return dict(self)


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
        return FrozenMap(out)
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
        return {k: thaw_json(v) for k, v in value.items()}
    if t is tuple:
        return [thaw_json(v) for v in value]
    return value
