"""
Libraries a task installs on its cluster, one class per kind.

Each serialises to the API's wrapped form: ``PyPI("pandas")`` is ``{"pypi": {"package": "pandas"}}``
and ``Jar("/Volumes/x/a.jar")`` is ``{"jar": "/Volumes/x/a.jar"}``. Libraries need classic compute;
on serverless, list packages in the environment's ``dependencies`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from runspec._frozen import FrozenMap, freeze_json
from runspec.errors import Fix
from runspec.spec.model._inits import (
    CRAN_TABLE,
    MAVEN_TABLE,
    PYPI_TABLE,
    cran_init,
    egg_init,
    jar_init,
    maven_init,
    pypi_init,
    requirements_init,
    whl_init,
)
from runspec.spec.objects._classes import adopt_init
from runspec.spec.objects._convert import REGISTRY, jpath
from runspec.spec.objects._load import BAD, LoadContext, Where, json_kind, load_object, path_of
from runspec.spec.objects._object import SpecObject
from runspec.spec.schema._schema import FieldInfo, closest

if TYPE_CHECKING:  # pragma: no cover
    from dataclasses import KW_ONLY

    from typing_extensions import Self

__all__ = ["Cran", "Egg", "Jar", "Library", "Maven", "PyPI", "Requirements", "Whl"]

_PATH_FIELD = {"path": FieldInfo(name="path", desc=("string",), required=True)}


class Library(SpecObject, wire="Library", fields={}):
    """Base of the library kinds; use ``PyPI``, ``Maven``, ``Cran``, ``Jar``, ``Whl``, ``Egg`` or ``Requirements``."""

    #: The key of the API's ``Library`` object this kind is sent under.
    kind: ClassVar[str] = ""
    # The API nests each kind under its own key (each kind sets it to its kind), and the file kinds are
    # a bare path string.
    _wire_key: ClassVar[str | None] = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the wrapped request form, for example ``{"pypi": {"package": "pandas"}}``."""
        return super().to_dict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = True) -> Self:
        """Build a library from its wrapped request form (``{"whl": "..."}``), checking it."""
        return super().from_dict(data, strict=strict)

    @classmethod
    def _load(cls, value: Any, parent: Where, key: str | int | None, ctx: LoadContext, depth: int) -> Any:
        """Load one entry, ``{kind: form}`` with exactly one kind (see ``runspec.spec.objects._load``)."""
        lib_cls = None
        if type(value) is dict and len(value) == 1:  # the usual entry: one kind, nothing else
            for kind in value:
                lib_cls = _KINDS.get(kind)
        where = parent if key is None else (parent, key)
        if lib_cls is None:
            found = _kind_of(value, where, ctx)
            if type(found) is not str:  # reported (BAD), or a kind newer than the schema passed through
                return found
            kind = found
            lib_cls = _KINDS[kind]
        inner = value[kind]
        if kind in _PATH_KINDS:
            if type(inner) is not str:
                ctx.problem(path_of(where, kind), "wrong-type", f"expected a string path, got {json_kind(inner)}")
                return BAD
            return lib_cls._new({"path": inner})
        return load_object(lib_cls, inner, where, kind, ctx, depth)


def _kind_of(value: Any, where: Where, ctx: LoadContext) -> Any:
    """
    The one kind of a library entry that is not simply ``{kind: form}``: reported (``BAD``) unless it has
    exactly one known kind; with ``strict=False`` an entry of one kind newer than the schema is passed on.
    """
    if not isinstance(value, Mapping):
        ctx.problem(path_of(where), "wrong-type", f"expected a library object, got {json_kind(value)}")
        return BAD
    path = path_of(where)
    kinds = [k for k in value if k in _KINDS]
    unknown = [k for k in value if k not in _KINDS]
    if not ctx.strict and not kinds and len(unknown) == 1 and isinstance(unknown[0], str):
        # A kind newer than runspec's schema: sent as given, like any unknown key under strict=False.
        kind = unknown[0]
        guess = closest(kind, _KINDS)
        hint = f"; did you mean {guess!r}?" if guess else ""
        try:
            passed = FrozenMap({kind: freeze_json(value[kind])})
        except (TypeError, ValueError) as exc:
            ctx.problem(jpath(path, kind), "wrong-type", f"not a usable JSON value: {exc}")
            return BAD
        ctx.warn(jpath(path, kind), "unknown-field", f"a library has no kind {kind!r}{hint}; sent as given")
        return _OtherKind._new({}, passed)
    for k in unknown:
        guess = closest(str(k), _KINDS)
        hint = f"; did you mean {guess!r}?" if guess else ""
        ctx.problem(
            jpath(path, str(k)),
            "unknown-field",
            f"a library has no kind {k!r}{hint} (kinds: {', '.join(sorted(_KINDS))})",
            Fix("lenient"),
        )
    if len(kinds) != 1:
        if not unknown or kinds:
            ctx.problem(
                path,
                "library-kind",
                "a library entry needs exactly one kind "
                f"({', '.join(sorted(_KINDS))}); this one has "
                + (", ".join(repr(k) for k in kinds) if kinds else "none"),
            )
        return BAD
    return kinds[0]


class PyPI(Library, wire="PythonPyPiLibrary"):
    """A package from PyPI or another index: ``PyPI("pandas==2.2.2", repo=None)``."""

    kind = "pypi"
    _wire_key = kind
    _table = PYPI_TABLE
    package: str
    repo: str | None = None


class Maven(Library, wire="MavenLibrary"):
    """A Maven artifact ``group:artifact:version``, with an optional repository and exclusions."""

    kind = "maven"
    _wire_key = kind
    _table = MAVEN_TABLE
    coordinates: str
    repo: str | None = None
    exclusions: Sequence[str] | None = None


class Cran(Library, wire="RCranLibrary"):
    """An R package from CRAN or another repository."""

    kind = "cran"
    _wire_key = kind
    _table = CRAN_TABLE
    package: str
    repo: str | None = None


class Jar(Library, fields=_PATH_FIELD):
    """A JAR file: a workspace, Unity Catalog volume or cloud storage path."""

    kind = "jar"
    _wire_key = kind
    path: str
    _: KW_ONLY


class Whl(Library, fields=_PATH_FIELD):
    """A Python wheel file: a workspace, Unity Catalog volume or cloud storage path."""

    kind = "whl"
    _wire_key = kind
    path: str
    _: KW_ONLY


class Egg(Library, fields=_PATH_FIELD):
    """A Python egg file (deprecated by Databricks; not supported on Databricks Runtime 14 and newer)."""

    kind = "egg"
    _wire_key = kind
    path: str
    _: KW_ONLY


class Requirements(Library, fields=_PATH_FIELD):
    """A ``requirements.txt`` file in the workspace or a Unity Catalog volume."""

    kind = "requirements"
    _wire_key = kind
    path: str
    _: KW_ONLY


class _OtherKind(Library, fields={}):
    """A library kind newer than runspec's schema, loaded with ``strict=False`` and sent as given."""

    _wire_key = None


_KINDS: dict[str, type[Library]] = {c.kind: c for c in (PyPI, Maven, Cran, Jar, Whl, Egg, Requirements)}
#: The kinds sent as a bare path string (``{"whl": "/a.whl"}``).
_PATH_KINDS = frozenset(kind for kind, c in _KINDS.items() if "path" in c._fields)
REGISTRY["Library"] = Library

# The __init__s tools/gen_spec.py writes (set here, so type checkers read the signatures from the annotations).
adopt_init(PyPI, pypi_init)
adopt_init(Maven, maven_init)
adopt_init(Cran, cran_init)
adopt_init(Jar, jar_init)
adopt_init(Whl, whl_init)
adopt_init(Egg, egg_init)
adopt_init(Requirements, requirements_init)
