"""
Call-site conversion: check a Python value against a field's type, freeze it, or raise ``TypeError``.

Also the small pieces every other part of the spec base shares: the registry of spec classes by wire
type, JSON paths, and the request form of a value (``wire_of``, ``plain_json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import Any, TypeAlias

from runspec._frozen import FrozenMap, freeze_json
from runspec._text import article, shown
from runspec.spec.schema._schema import Desc, describe

__all__ = ["REGISTRY", "SpecClass", "bad_type", "converter", "jpath", "plain_json", "wire_of"]

#: A spec class (``SpecObject`` or a subclass), as the converters and the loader name it: the object base
#: imports them, so they do not import it back.
SpecClass: TypeAlias = "type[Any]"

#: Wire type name -> the spec class that stands for it.
REGISTRY: dict[str, SpecClass] = {}

_INF = float("inf")


def jpath(base: str, key: str) -> str:
    """Append an object key to a JSON path: ``$.tasks[0]`` + ``task_key``."""
    if key.isidentifier():
        return f"{base}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{base}['{escaped}']"


def bad_type(owner: str, name: str, expected: str, value: Any) -> TypeError:
    """The ``TypeError`` for a wrong Python type at a call: names the class, the argument and the type."""
    return TypeError(
        f"{owner}: {name!r} must be {expected} (got {shown(value)} that is {article(type(value).__name__)})"
    )


#: The JSON encoder's ``default``: the request form of a spec object.
#:
#: A spec object's request form (``_w``) is made of frozen values: usually the object's own dict, whose
#: values are strings, numbers, tuples, FrozenMaps (dicts) and other spec objects. ``json.dumps(...,
#: default=wire_of)`` writes tuples as arrays and dicts as objects, and asks ``wire_of`` for the rest, so no plain copy
#: of the body is built to serialise it; ``plain_json`` makes one for callers who want dicts and lists.
wire_of: Callable[[Any], Any] = attrgetter("_w")


def plain_json(value: Any) -> Any:
    """A request form, or part of one, as new plain dicts and lists (for callers to keep and change)."""
    t = type(value)
    if t is dict or t is FrozenMap:
        return {k: plain_json(v) for k, v in value.items()}
    if t is tuple or t is list:
        return [plain_json(v) for v in value]
    if t is str or t is int or t is float or t is bool or value is None:
        return value
    w = getattr(value, "_w", None)  # a spec object's request form
    return value if w is None else plain_json(w)


def converter(owner: str, name: str, desc: Desc) -> Callable[[Any], Any]:
    kind = desc[0]
    expected = describe(desc)

    if kind == "string":

        def conv(v: Any) -> Any:
            if isinstance(v, str):
                return str.__str__(v)  # a str Enum member's value, not 'Source.GIT'
            raise bad_type(owner, name, expected, v)

    elif kind == "text":

        def conv(v: Any) -> Any:
            if isinstance(v, str):
                return str.__str__(v)
            if type(v) is bool or type(v) is int:
                return v  # the service reads it as its text (a check says so)
            if type(v) is float and v == v and v not in (_INF, -_INF):
                return v
            raise bad_type(owner, name, expected, v)

    elif kind == "integer":

        def conv(v: Any) -> Any:
            if isinstance(v, int) and not isinstance(v, bool):
                return int(v)
            raise bad_type(owner, name, expected, v)

    elif kind == "number":

        def conv(v: Any) -> Any:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if v != v or v in (_INF, -_INF):
                    raise ValueError(f"{owner}: {name!r} must be a finite number; JSON cannot carry {v!r}")
                return v
            raise bad_type(owner, name, expected, v)

    elif kind == "boolean":

        def conv(v: Any) -> Any:
            if isinstance(v, bool):
                return v
            raise bad_type(owner, name, expected, v)

    elif kind == "any":

        def conv(v: Any) -> Any:
            try:
                return freeze_json(v)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{owner}: {name!r} must be a JSON value: {exc}") from None

    elif kind == "array":
        inner = converter(owner, name + "[]", desc[1])
        # The item types kept as they are: ``str`` in a list of strings; in a list of spec objects, the classes of
        # items already found to be of the item class (``isinstance`` against a spec class goes through its
        # metaclass: a set look-up is a fraction of it). Any other list is converted item by item.
        fitting: set[type] = {str} if desc[1][0] == "string" else set()
        item_class = desc[1][1] if desc[1][0] == "object" else None

        def conv(v: Any) -> Any:
            t = type(v)
            if (
                t is not list
                and t is not tuple
                and (isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable))
            ):
                raise bad_type(owner, name, expected, v)
            items = tuple(v)
            for item in items:
                if type(item) not in fitting:
                    if item_class is None or not isinstance(item, REGISTRY[item_class]):
                        return tuple(inner(item) for item in items)
                    fitting.add(type(item))
            return items

    elif kind == "map":
        inner = converter(owner, name + "[]", desc[1])
        inner_kind = desc[1][0]

        # (A dict of str to str, the usual map, is copied as it is by the generated ``__init__`` itself.) A map
        # is kept as a plain dict of the object's own (see runspec.spec.objects._classes.MapField).
        def conv(v: Any) -> Any:
            if type(v) is not dict and not isinstance(v, Mapping):
                raise bad_type(owner, name, expected, v)
            out = {}
            for k, item in v.items():
                if type(k) is not str:
                    raise bad_type(owner, f"{name} key", "str", k)
                out[k] = item if (inner_kind == "string" and type(item) is str) else inner(item)
            return out

    elif kind == "object":
        type_name = desc[1]

        def conv(v: Any) -> Any:
            cls = REGISTRY[type_name]
            if type(v) is cls or isinstance(v, cls):
                return v
            if isinstance(v, Mapping):
                return cls.from_dict(v)
            raise bad_type(owner, name, f"a {cls.__name__}", v)

    else:  # pragma: no cover - the schema has no other kinds
        raise AssertionError(kind)
    return conv
