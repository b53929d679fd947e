"""
A job's parameters in a one-time run, which has none: each ``{{job.parameters.NAME}}`` in a task gets
the parameter's value, and tasks that take key-value parameters get them all, as a job run pushes them
down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from runspec.errors import Fix
from runspec.spec.objects._base import jpath
from runspec.spec.schema._schema import closest
from runspec.spec.task_types import table

__all__ = ["JobParameters"]

#: ``{{job.parameters.NAME}}``, or ``{{job.parameters.`NAME`}}`` for names with other characters.
_REFERENCE = re.compile(r"\{\{\s*job\.parameters\.(?:`([^`]*)`|([A-Za-z0-9_]+))\s*\}\}")


class Report(Protocol):
    """Where a problem goes: its path in the job settings, code, message, and the way out the message ends with."""

    def __call__(self, path: str, code: str, message: str, fix: Fix | None = None, /) -> None: ...


class JobParameters:
    """The job's parameters: each one's value (None without a default or a given value) and its origin."""

    def __init__(self, values: dict[str, tuple[str | None, str]], defined: bool, problem: Report) -> None:
        self.values = values
        self.defined = defined
        self.problem = problem

    @classmethod
    def read(cls, defined: Any, given: Mapping[str, str] | None, problem: Report) -> JobParameters:
        """
        The job's ``parameters`` (at ``$.parameters``) with the values in ``given`` put over the defaults.

        Two parameters with one name are a problem (a job run would not know which one is meant). A
        default (or a given value) that refers to other parameters gets their values, through any number
        of steps; parameters that refer to each other in a loop are a problem naming the loop.
        """
        values: dict[str, tuple[str | None, str]] = {}
        paths: dict[str, str] = {}
        # (Loading the settings reported wrong types, unknown keys and missing names.)
        for i, entry in enumerate(defined if isinstance(defined, list) else ()):
            name = entry.get("name") if isinstance(entry, Mapping) else None
            if not isinstance(name, str):
                continue
            if name in values:
                problem(
                    f"$.parameters[{i}].name",
                    "duplicate-job-parameter",
                    f"job parameter {name!r} is defined twice (also at {paths[name].removesuffix('.default')}); "
                    "give each parameter one entry",
                )
                continue
            default = entry.get("default")
            if default is not None and not isinstance(default, str):
                default = json.dumps(default)  # a bundle may write a number or a list
            values[name] = (default, "default")
            paths[name] = f"$.parameters[{i}].default"
        for name, value in (given or {}).items():
            if name not in values:
                guess = closest(name, values)
                hint = f"did you mean {guess!r}? " if guess else ""
                known = ", ".join(repr(n) for n in values) or "none"
                problem(
                    "$.parameters",
                    "unknown-job-parameter",
                    f"parameters= gives {name!r}, which the job does not define; {hint}job parameters: {known}",
                )
                continue
            values[name] = (value, "given")
            paths[name] = "$.parameters"
        params = cls(values, isinstance(defined, list) and bool(defined), problem)
        params._resolve(paths)
        return params

    def _resolve(self, paths: Mapping[str, str]) -> None:
        """Replace the references between parameters by their values; a loop is reported once."""
        done: set[str] = set()
        looped: set[str] = set()

        def resolve(name: str, chain: list[str]) -> str | None:
            value, how = self.values[name]
            if name in done or value is None or "{{" not in value:
                return value
            if name in chain:
                loop = [*chain[chain.index(name) :], name]
                if not looped & set(loop):
                    self.problem(
                        paths[loop[0]],
                        "job-parameter-cycle",
                        "job parameters refer to each other in a loop ("
                        + " -> ".join(repr(n) for n in loop)
                        + "), so none of them has a value; break the loop with a plain value",
                    )
                looped.update(loop)
                return None

            def step(match: re.Match[str]) -> str:
                ref = match.group(1) if match.group(1) is not None else match.group(2)
                if ref not in self.values:
                    return self._value_of(match, paths[name])  # reports the unknown name
                found = resolve(ref, [*chain, name])
                if found is None:
                    if ref not in looped:
                        self._value_of(match, paths[name])  # reports the missing default
                    return match.group(0)
                return found

            resolved = _REFERENCE.sub(step, value)
            if name not in looped:
                self.values[name] = (resolved, how)
                done.add(name)
            return None if name in looped else resolved

        for name in list(self.values):
            resolve(name, [])

    def substitute(self, value: Any, path: str) -> Any:
        """
        ``value`` (at ``path``) with each ``{{job.parameters.NAME}}`` replaced by its value: a new object
        where something changed, the same object where nothing did (the input is never changed).
        """
        if isinstance(value, str):
            return _REFERENCE.sub(lambda m: self._value_of(m, path), value) if "{{" in value else value
        if isinstance(value, Mapping):
            changed: dict[Any, Any] | None = None
            for k, v in value.items():
                if not _holds_no_reference(v):
                    new = self.substitute(v, jpath(path, str(k)))
                    if new is not v:
                        changed = changed if changed is not None else dict(value)
                        changed[k] = new
            if any(isinstance(k, str) and "{{" in k for k in value):
                base = changed if changed is not None else dict(value)
                keyed = self._substitute_keys(base, path)
                if keyed is not base or changed is not None:
                    changed = keyed
            return value if changed is None else changed
        if isinstance(value, list):
            items: list[Any] | None = None
            for i, v in enumerate(value):
                if _holds_no_reference(v):
                    continue
                new = self.substitute(v, f"{path}[{i}]")
                if new is not v:
                    items = items if items is not None else list(value)
                    items[i] = new
            return value if items is None else items
        return value

    def _substitute_keys(self, mapping: dict[Any, Any], path: str) -> dict[Any, Any]:
        """``mapping`` with references in its keys replaced (in order); two keys that become one are a problem."""
        out: dict[Any, Any] = {}
        origin: dict[Any, Any] = {}
        renamed = False
        for k, v in mapping.items():
            key = self.substitute(k, jpath(path, str(k))) if isinstance(k, str) else k
            renamed = renamed or key != k
            if key in out:
                first = origin[key]
                where = k if isinstance(k, str) and "{{" in k else first
                self.problem(
                    jpath(path, str(where)),
                    "job-parameter-key-clash",
                    f"the keys {first!r} and {k!r} are both {key!r} once the job's parameters are put in; "
                    "rename one of them",
                )
                continue
            out[key] = v
            origin[key] = k
        return out if renamed or len(out) != len(mapping) else mapping

    def _value_of(self, match: re.Match[str], path: str) -> str:
        name = match.group(1) if match.group(1) is not None else match.group(2)
        found = self.values.get(name)
        if found is None:
            guess = closest(name, self.values)
            hint = f"did you mean {guess!r}? " if guess else ""
            known = ", ".join(repr(n) for n in self.values) or "none"
            self.problem(
                path,
                "unknown-job-parameter",
                f"{match.group(0)} names a job parameter the job does not define; {hint}job parameters: {known}",
            )
            return match.group(0)
        if found[0] is None:
            said = f"; give one with parameters={{{name!r}: ...}}"
            self.problem(
                path,
                "missing-job-parameter",
                f"job parameter {name!r} has no default, so a one-time run has no value for {match.group(0)}{said}",
                Fix("parameter", said, name),
            )
            return match.group(0)
        return found[0]

    def push_down(self, task: dict[str, Any]) -> bool:
        """Give the parameters to a task that takes key-value parameters (a job parameter wins); True if any."""
        pushed = {name: value for name, (value, _) in self.values.items() if value is not None}
        if not pushed:
            return False
        changed = False
        for kind, entry in table().items():
            config = task.get(kind)
            if not isinstance(config, dict):
                continue
            field = entry.job_parameters_field(config)
            if field is None:
                continue
            current = config.get(field)
            merged = {**current, **pushed} if isinstance(current, Mapping) else dict(pushed)
            if merged != current:
                task[kind] = {**config, field: merged}
                changed = True
        return changed

    def warning(self, pushed: list[Any]) -> tuple[str, Fix]:
        """
        The message of ``job-parameters-inlined`` (each value, and the tasks that got them pushed down) and
        the way out it ends with.
        """
        shown = ", ".join(f"{n}={v!r} ({how})" for n, (v, how) in self.values.items() if v is not None)
        where = ""
        if pushed:
            noun = "task" if len(pushed) == 1 else "tasks"
            where = (
                f"; they are also given to {noun} {', '.join(repr(k) for k in pushed)} as key-value parameters, "
                f"as a job run pushes them down"
            )
        said = "; pass parameters={...} to change them"
        text = (
            f"a one-time run has no job-level parameters: each {{{{job.parameters.NAME}}}} in the tasks now holds "
            f"its value ({shown or 'none'}){where}"
        )
        return text + said, Fix("parameters", said)


def _holds_no_reference(value: Any) -> bool:
    """True for a value that cannot hold a reference: not a container, not a string with ``{{``."""
    return (isinstance(value, str) and "{{" not in value) or not isinstance(value, (str, Mapping, list))
