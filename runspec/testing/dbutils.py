"""
A stand-in for Databricks ``dbutils``, for code that runs in the runspec emulator (or on its own).

Notebooks the emulator runs get it as the global ``dbutils``; Python files import it::

    from runspec.testing.dbutils import dbutils

    rows = int(dbutils.widgets.get("rows"))
    dbutils.jobs.taskValues.set("rows", rows)

What it does, in a task the emulator runs:

- ``widgets``: ``get``, ``getAll``, ``getArgument``, ``text``, ``dropdown``, ``combobox``,
  ``multiselect``, ``remove``, ``removeAll``; a notebook task's ``base_parameters`` are the widgets'
  values, a widget's default is used when no parameter names it.
- ``jobs.taskValues``: ``set(key, value)`` (JSON-serialisable, at most 48 KiB as JSON) and
  ``get(taskKey, key, default, debugValue)`` of values set by tasks that ran earlier in the run.
- ``notebook.exit(value)``: ends the notebook; ``value`` is its ``notebook_output.result``.
- ``fs``: ``ls``, ``cp``, ``mv``, ``put``, ``head``, ``mkdirs``, ``rm`` in a folder of the run's own, which
  ``dbfs:/``, ``/dbfs/`` and ``/Volumes/`` paths map into; ``file:`` paths may be read, not written.
- ``secrets``: ``get``, ``getBytes``, ``list``, ``listScopes`` from the emulator's ``LocalCode(secrets=...)``.

Outside the emulator (a file run with plain ``python``), widgets have their defaults, ``taskValues.get``
returns its ``debugValue`` (as in a notebook not run as a job), and ``fs`` works in a temporary folder.

Only the standard library is used: the emulator loads this module into each task's process.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["DBUtils", "FileInfo", "NotebookExit", "SecretMetadata", "SecretScope", "dbutils"]

TASK_FILE_ENV = "RUNSPEC_LOCAL_TASK"
"""The environment variable naming the JSON file that describes the task being run."""

TASK_VALUE_LIMIT = 48 * 1024  # bytes of a task value as JSON, as the service documents
_MISSING: Any = object()


class NotebookExit(BaseException):
    """``dbutils.notebook.exit(value)`` ends the notebook with it (a BaseException: ``except Exception`` lets it by)."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class FileInfo(NamedTuple):
    """An entry of ``dbutils.fs.ls``: ``path``, ``name`` (a folder's ends in ``/``), ``size``, ``modificationTime``."""

    path: str
    name: str
    size: int
    modificationTime: int


class SecretScope(NamedTuple):
    """An entry of ``dbutils.secrets.listScopes()``."""

    name: str


class SecretMetadata(NamedTuple):
    """An entry of ``dbutils.secrets.list(scope)``."""

    key: str


class _Widgets:
    def __init__(self, parameters: Mapping[str, str]) -> None:
        self._parameters = {str(k): str(v) for k, v in parameters.items()}
        self._defaults: dict[str, str] = {}

    def get(self, name: str) -> str:
        """The widget's value: the task's parameter of that name, else the widget's default."""
        if name in self._parameters:
            return self._parameters[name]
        if name in self._defaults:
            return self._defaults[name]
        raise ValueError(
            f"InputWidgetNotDefined: no input widget named {name!r} is defined (give the task a base_parameters "
            f"entry {name!r}, or define it with dbutils.widgets.text({name!r}, 'default'))"
        )

    def getArgument(self, name: str, defaultValue: str | None = None) -> str | None:
        """Deprecated in dbutils: ``get``, or ``defaultValue`` when the widget is not defined."""
        try:
            return self.get(name)
        except ValueError:
            return defaultValue

    def getAll(self) -> dict[str, str]:
        """Every widget's value: defaults overridden by the task's parameters."""
        return {**self._defaults, **self._parameters}

    def _define(self, name: str, default: str) -> None:
        self._defaults[str(name)] = str(default)

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:
        self._define(name, defaultValue)

    def dropdown(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        if defaultValue not in choices:
            raise ValueError(f"the default value {defaultValue!r} of widget {name!r} is not one of its choices")
        self._define(name, defaultValue)

    def combobox(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._define(name, defaultValue)

    def multiselect(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        if defaultValue not in choices:
            raise ValueError(f"the default value {defaultValue!r} of widget {name!r} is not one of its choices")
        self._define(name, defaultValue)

    def remove(self, name: str) -> None:
        self._defaults.pop(name, None)

    def removeAll(self) -> None:
        self._defaults.clear()


class _TaskValues:
    def __init__(self, task: Mapping[str, Any] | None) -> None:
        self._task = task
        self._upstream: Mapping[str, Mapping[str, Any]] = (task or {}).get("values") or {}
        self.values: dict[str, Any] = {}  # what this task set, in order

    def set(self, key: str, value: Any) -> None:
        """Set the task value ``key`` that later tasks read as ``{{tasks.<this task>.values.<key>}}``."""
        if not isinstance(key, str) or not key:
            raise ValueError("a task value's key must be a non-empty string")
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the task value {key!r} is not JSON-serialisable: {exc}") from None
        if len(text.encode("utf-8")) > TASK_VALUE_LIMIT:
            raise ValueError(
                f"the task value {key!r} is {len(text.encode('utf-8'))} bytes as JSON; the limit is 48 KiB"
            )
        self.values[key] = json.loads(text)

    def get(self, taskKey: str, key: str, default: Any = _MISSING, debugValue: Any = _MISSING) -> Any:
        """
        The value ``key`` that task ``taskKey`` set earlier in this run; ``default`` when it set none.

        Outside a run (no emulator), ``debugValue`` is returned, as in a notebook run by hand.
        """
        if self._task is None:
            if debugValue is _MISSING:
                raise TypeError(
                    "taskValues.get outside a job run needs debugValue (the value to use when not run as a task)"
                )
            return debugValue
        known = (self._task.get("tasks") or ()) if self._task else ()
        if taskKey not in known:
            raise ValueError(f"there is no task {taskKey!r} in this run (tasks: {', '.join(known)})")
        values = self._upstream.get(taskKey) or {}
        if key in values:
            return values[key]
        if default is not _MISSING:
            return default
        raise ValueError(f"task {taskKey!r} did not set the task value {key!r}, and no default was given")


class _Jobs:
    def __init__(self, task: Mapping[str, Any] | None) -> None:
        self.taskValues = _TaskValues(task)


class _Notebook:
    def exit(self, value: Any) -> None:
        """End the notebook here; ``value`` (as a string) is the task's ``notebook_output.result``."""
        raise NotebookExit(str(value))

    def run(self, path: str, timeout_seconds: int = 0, arguments: Mapping[str, str] | None = None) -> str:
        raise NotImplementedError(
            "dbutils.notebook.run is not supported by the runspec emulator: make the notebook a task of the run"
        )


class _Fs:
    def __init__(self, root: Path | None) -> None:
        self._given = root

    @property
    def _root(self) -> Path:
        if self._given is None:  # outside the emulator: a temporary folder, made on first use
            self._given = Path(tempfile.mkdtemp(prefix="runspec-dbfs-"))
        return self._given

    def _local(self, path: str, *, write: bool = False) -> Path:
        """The local file of a dbfs, Volumes or file path: inside the run's folder (``file:`` read-only)."""
        if path.startswith("file:"):
            if write:
                raise PermissionError(f"{path}: the emulator's dbutils.fs writes only dbfs:/ and /Volumes/ paths")
            return Path(path[len("file:") :])
        rest = path[len("dbfs:") :] if path.startswith("dbfs:") else path
        if rest.startswith("/dbfs/"):
            rest = rest[len("/dbfs") :]
        target = (self._root / rest.lstrip("/")).resolve()
        root = self._root.resolve()
        if target != root and root not in target.parents:
            raise PermissionError(f"{path}: outside the run's file system")
        return target

    def _shown(self, path: str, local: Path) -> str:
        if path.startswith("file:"):
            return "file:" + str(local)
        rel = local.relative_to(self._root.resolve()).as_posix()
        return "dbfs:/" + rel if rel != "." else "dbfs:/"

    def ls(self, dir: str) -> list[FileInfo]:  # noqa: A002 - dbutils' own name
        local = self._local(dir)
        if not local.exists():
            raise FileNotFoundError(f"File/Directory does not exist: {dir}")
        entries = sorted(local.iterdir()) if local.is_dir() else [local]
        out = []
        for entry in entries:
            stat = entry.stat()
            name = entry.name + ("/" if entry.is_dir() else "")
            shown = self._shown(dir, entry) + ("/" if entry.is_dir() else "")
            out.append(FileInfo(shown, name, 0 if entry.is_dir() else stat.st_size, int(stat.st_mtime * 1000)))
        return out

    def mkdirs(self, dir: str) -> bool:  # noqa: A002
        self._local(dir, write=True).mkdir(parents=True, exist_ok=True)
        return True

    def put(self, file: str, contents: str, overwrite: bool = False) -> bool:
        local = self._local(file, write=True)
        if local.exists() and not overwrite:
            raise FileExistsError(f"File already exists: {file} (pass overwrite=True)")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(contents, encoding="utf-8")
        return True

    def head(self, file: str, maxBytes: int = 65536) -> str:
        local = self._local(file)
        if not local.is_file():
            raise FileNotFoundError(f"File does not exist: {file}")
        with open(local, "rb") as handle:
            return handle.read(maxBytes).decode("utf-8", errors="replace")

    def cp(self, from_: str, to: str, recurse: bool = False) -> bool:
        source, target = self._local(from_), self._local(to, write=True)
        if source.is_dir():
            if not recurse:
                raise IsADirectoryError(f"{from_} is a directory: pass recurse=True")
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        else:
            raise FileNotFoundError(f"File/Directory does not exist: {from_}")
        return True

    def mv(self, from_: str, to: str, recurse: bool = False) -> bool:
        source = self._local(from_, write=True)
        target = self._local(to, write=True)
        if source.is_dir() and not recurse:
            raise IsADirectoryError(f"{from_} is a directory: pass recurse=True")
        if not source.exists():
            raise FileNotFoundError(f"File/Directory does not exist: {from_}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
        return True

    def rm(self, dir: str, recurse: bool = False) -> bool:  # noqa: A002
        local = self._local(dir, write=True)
        if local == self._root.resolve():
            raise PermissionError("refusing to remove the root of the run's file system")
        if local.is_dir():
            if not recurse and any(local.iterdir()):
                raise OSError(f"{dir} is a non-empty directory: pass recurse=True")
            shutil.rmtree(local)
            return True
        if local.exists():
            local.unlink()
            return True
        return False


class _Secrets:
    def __init__(self, scopes: Mapping[str, Mapping[str, str]]) -> None:
        self._scopes = scopes

    def get(self, scope: str, key: str) -> str:
        if scope not in self._scopes:
            raise ValueError(f"Secret scope {scope!r} does not exist (give it in LocalCode(secrets=...) / --secrets)")
        if key not in self._scopes[scope]:
            raise ValueError(f"Secret does not exist with scope: {scope} and key: {key}")
        return self._scopes[scope][key]

    def getBytes(self, scope: str, key: str) -> bytes:
        return self.get(scope, key).encode("utf-8")

    def list(self, scope: str) -> builtins.list[SecretMetadata]:
        if scope not in self._scopes:
            raise ValueError(f"Secret scope {scope!r} does not exist")
        return [SecretMetadata(k) for k in sorted(self._scopes[scope])]

    def listScopes(self) -> builtins.list[SecretScope]:
        return [SecretScope(s) for s in sorted(self._scopes)]


class DBUtils:
    """The stand-in itself: ``widgets``, ``jobs.taskValues``, ``notebook``, ``fs`` and ``secrets``."""

    def __init__(self, task: Mapping[str, Any] | None = None) -> None:
        self.task = task
        self.widgets = _Widgets((task or {}).get("widgets") or {})
        self.jobs = _Jobs(task)
        self.notebook = _Notebook()
        fs_root = (task or {}).get("fs_root")
        self.fs = _Fs(Path(fs_root) if fs_root else None)
        code = (task or {}).get("code") or {}
        self.secrets = _Secrets(code.get("secrets") or {})

    def __repr__(self) -> str:
        where = f"task {self.task.get('task_key')!r}" if self.task else "no emulator task"
        return f"<runspec dbutils stand-in: {where}>"


def _current_task() -> dict[str, Any] | None:
    path = os.environ.get(TASK_FILE_ENV)
    if not path:
        return None
    with open(path, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


dbutils = DBUtils(_current_task())
"""The ``dbutils`` of the task this process runs (or a stand-alone one outside the emulator)."""
