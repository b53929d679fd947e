"""What running a task's own code means for each task type: which file, which arguments, which widgets."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runspec.testing._local._code import LocalCode, Located

__all__ = ["RUNNABLE", "Missing", "NotRunnable", "Plan", "plan_task"]

RUNNABLE = ("notebook_task", "spark_python_task", "python_wheel_task")
"""The task types whose code the emulator runs; every other type keeps its scripted outcome."""

Resolve = Callable[[Any], Any]


@dataclass(frozen=True)
class Plan:
    """A task to run: ``kind`` is ``"notebook"``, ``"python"`` or ``"wheel"``."""

    kind: str
    file: Path | None
    cwd: Path
    argv: list[str] = field(default_factory=list)
    widgets: dict[str, str] = field(default_factory=dict)
    package: str | None = None
    entry_point: str | None = None
    wheels: list[str] = field(default_factory=list)
    missing_wheels: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Missing:
    """The task's code file is not there: what was looked for."""

    what: str
    located: Located

    def message(self, key: str) -> str:
        return f"Task {key}: no local file for the {self.what} {self.located.path}: {self.located.hint()}"


@dataclass(frozen=True)
class NotRunnable:
    """A task type the emulator does not run (SQL, dbt, pipeline, JAR, ...)."""

    task_type: str


def plan_task(spec: Mapping[str, Any], code: LocalCode, resolve: Resolve) -> Plan | Missing | NotRunnable:
    """
    How to run ``spec`` (a submitted task) with the code under ``code``; ``resolve`` replaces ``{{...}}``
    references in parameters (it raises ``ValueError`` for one it cannot resolve).
    """
    if "notebook_task" in spec:
        task = spec["notebook_task"] or {}
        located = code.locate(str(task.get("notebook_path", "")), notebook=True, git=task.get("source") == "GIT")
        if located.file is None:
            return Missing("notebook", located)
        params = task.get("base_parameters") or {}
        widgets = {str(k): _text(resolve(v)) for k, v in params.items()}
        return Plan("notebook", located.file, located.file.parent, widgets=widgets)
    if "spark_python_task" in spec:
        task = spec["spark_python_task"] or {}
        located = code.locate(str(task.get("python_file", "")), git=task.get("source") == "GIT")
        if located.file is None:
            return Missing("Python file", located)
        argv = [_text(resolve(v)) for v in task.get("parameters") or ()]
        return Plan("python", located.file, located.file.parent, argv=argv)
    if "python_wheel_task" in spec:
        task = spec["python_wheel_task"] or {}
        named = task.get("named_parameters") or {}
        if named:
            argv = [f"--{k}={_text(resolve(v))}" for k, v in named.items()]
        else:
            argv = [_text(resolve(v)) for v in task.get("parameters") or ()]
        wheels, missing = [], []
        for library in spec.get("libraries") or ():
            if isinstance(library, Mapping) and isinstance(library.get("whl"), str):
                found = code.locate(library["whl"])
                if found.file is not None:
                    wheels.append(str(found.file))
                else:
                    missing.append(library["whl"])
        return Plan(
            "wheel",
            None,
            code.folder,
            argv=argv,
            package=str(task.get("package_name", "")),
            entry_point=str(task.get("entry_point", "")),
            wheels=wheels,
            missing_wheels=missing,
        )
    kind = next((k for k in spec if k.endswith("_task")), "task")
    return NotRunnable(kind)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
