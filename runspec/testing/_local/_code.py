"""
``LocalCode``: where a run's code lives on this machine, and how a workspace path maps to a file.

Standard library only: the task process loads this module by its path (for ``%run``) without importing
the rest of runspec.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["LocalCode", "Located", "load_secrets"]

_NOTEBOOK_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Located:
    """Where a workspace path led: the file found (or ``None``) and every file looked for."""

    path: str
    file: Path | None
    tried: tuple[Path, ...]
    prefix: str | None  # the ``paths`` prefix that mapped it, if any

    def hint(self) -> str:
        """
        What to do when nothing was found: the mapping to add (or change) first, then every file looked
        for, so that a client that shows only the start of the message still shows what to do.
        """
        looked = ", ".join(str(p) for p in self.tried)
        where = f"one of {looked}" if len(self.tried) > 1 else looked
        if self.prefix is not None:
            return (
                f"the prefix {self.prefix} maps it: change that mapping (--path {self.prefix}=DIR) "
                f"or put the file at {where}"
            )
        folder = self.path.rsplit("/", 1)[0] if "/" in self.path.strip("/") else self.path
        return (
            f"map its folder with --path {folder}=DIR (LocalCode(paths={{{folder!r}: 'DIR'}})), "
            f"or put the file at {where}"
        )


@dataclass(frozen=True)
class LocalCode:
    """
    Where a run's own code lives, for an emulator that runs it: ``Emulator(code=LocalCode(...))``.

    - ``root``: the folder workspace paths are read relative to (``/Repos/etl/ingest`` is
      ``ROOT/Repos/etl/ingest.py``), and the checkout a task with ``source: GIT`` reads from.
    - ``paths``: workspace path prefixes mapped to local folders, e.g. ``{"/Repos/etl": "src/etl"}``;
      the longest prefix that matches a path wins. Relative folders are relative to ``root``. As in a
      workspace, ``/Workspace/Shared/x`` and ``/Shared/x`` are one path: a prefix written either way
      maps both.
    - ``secrets``: ``{scope: {key: value}}`` for ``dbutils.secrets``; their values are shown as
      ``[REDACTED]`` in every log and output, as a workspace shows them.

    A notebook path without an extension finds ``NAME.py`` or ``NAME.ipynb`` (a workspace drops the
    extension of a notebook).
    """

    root: str | os.PathLike[str] = "."
    paths: Mapping[str, str | os.PathLike[str]] | None = field(default=None, kw_only=True)
    secrets: Mapping[str, Mapping[str, str]] | None = field(default=None, kw_only=True, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.root, (str, os.PathLike)):
            raise TypeError(f"LocalCode root must be a path, got {type(self.root).__name__}")
        mapping: dict[str, str] = {}
        for prefix, folder in (self.paths or {}).items():
            if not isinstance(prefix, str) or not prefix.strip("/"):
                raise ValueError(f"LocalCode paths: a prefix must be a non-empty workspace path, got {prefix!r}")
            if not isinstance(folder, (str, os.PathLike)):
                raise TypeError(f"LocalCode paths[{prefix!r}] must be a folder path, got {type(folder).__name__}")
            mapping[_norm(prefix)] = os.fspath(folder)
        object.__setattr__(self, "paths", MappingProxyType(mapping))
        scopes: dict[str, Mapping[str, str]] = {}
        for scope, keys in (self.secrets or {}).items():
            if not isinstance(scope, str) or not isinstance(keys, Mapping):
                raise TypeError("LocalCode secrets must be {scope: {key: value}} with string scopes")
            for key, value in keys.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    raise TypeError(f"LocalCode secrets[{scope!r}]: keys and values must be strings")
            scopes[scope] = MappingProxyType(dict(keys))
        object.__setattr__(self, "secrets", MappingProxyType(scopes))

    @property
    def folder(self) -> Path:
        """``root`` as an absolute path."""
        return Path(self.root).expanduser().resolve()

    def secret_values(self) -> list[str]:
        """Every secret value, longest first (the order to redact them in)."""
        values = {v for keys in (self.secrets or {}).values() for v in keys.values() if v}
        return sorted(values, key=len, reverse=True)

    def locate(self, path: str, *, notebook: bool = False, git: bool = False) -> Located:
        """
        The local file of workspace ``path``: by the longest ``paths`` prefix, else relative to ``root``
        (``git``: a path in the run's git checkout, always relative to ``root``).
        """
        base = self.folder
        prefix: str | None = None
        if git:
            rel = path.lstrip("/")
            candidates = [base / rel]
        else:
            clean = _norm(path)
            prefix = _longest_prefix(clean, self.paths or {})
            if prefix is not None:
                folder = Path((self.paths or {})[prefix]).expanduser()
                folder = folder if folder.is_absolute() else base / folder
                rest = _unrooted(clean)[len(_unrooted(prefix).rstrip("/")) :].lstrip("/")
                candidates = [folder / rest if rest else folder]
            else:
                rel = clean.lstrip("/")
                candidates = [base / rel]
                if rel.startswith("Workspace/"):
                    candidates.append(base / rel[len("Workspace/") :])
        tried: list[Path] = []
        for candidate in candidates:
            options = [candidate]
            if notebook and candidate.suffix not in _NOTEBOOK_SUFFIXES:
                options = [candidate.with_name(candidate.name + s) for s in _NOTEBOOK_SUFFIXES]
            for option in options:
                tried.append(option)
                if option.is_file():
                    return Located(path, option, tuple(tried), prefix)
        return Located(path, None, tuple(tried), prefix)

    def to_json(self) -> dict[str, Any]:
        """The mapping as plain JSON (what a task process gets to resolve ``%run`` paths)."""
        return {
            "root": str(self.folder),
            "paths": dict(self.paths or {}),
            "secrets": {s: dict(k) for s, k in (self.secrets or {}).items()},
        }


def load_secrets(file: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Read ``{scope: {key: value}}`` from a JSON file (``runspec emulator --secrets FILE``)."""
    with open(file, encoding="utf-8") as handle:
        data = json.load(handle)
    ok = isinstance(data, dict) and all(
        isinstance(s, str) and isinstance(k, dict) and all(isinstance(v, str) for v in k.values())
        for s, k in data.items()
    )
    if not ok:
        raise ValueError(f'{os.fspath(file)}: secrets must be a JSON object {{"scope": {{"key": "value"}}}}')
    return {str(scope): dict(keys) for scope, keys in data.items()}


def _norm(path: str) -> str:
    """A workspace path without its ``dbfs:`` scheme or trailing slash."""
    if path.startswith("dbfs:"):
        path = path[len("dbfs:") :]
    if path.startswith("file:"):
        path = path[len("file:") :]
    return "/" + path.strip("/") if path.startswith("/") else path.rstrip("/")


def _unrooted(path: str) -> str:
    """A workspace path without its ``/Workspace`` root: a workspace names ``/Shared/x`` both ways."""
    if path == "/Workspace":
        return "/"
    return path[len("/Workspace") :] if path.startswith("/Workspace/") else path


def _longest_prefix(path: str, paths: Mapping[str, object]) -> str | None:
    """The longest prefix of ``paths`` that ``path`` is under, ``/Workspace`` or not on either side."""
    path = _unrooted(path)
    best: str | None = None
    for prefix in paths:
        bare = _unrooted(prefix).rstrip("/")
        matches = path == (bare or "/") or path.startswith(bare + "/")
        if matches and (best is None or len(_unrooted(prefix)) > len(_unrooted(best))):
            best = prefix
    return best
