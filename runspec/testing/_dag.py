"""
The Jobs API's DAG semantics: when a task runs (``run_if``), condition tasks, ``{{...}}`` references
and for_each inputs.

Pure functions over the run's nodes (``_state``): they decide, the life cycle (``_run``) acts on the
decision at the emulated time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

from runspec.testing._state import (
    CANCELED,
    CANCELED_CLASS,
    DISABLED,
    EXCLUDED,
    FAILED,
    FAILED_CLASS,
    SUCCESS,
    SUCCESS_WITH_FAILURES,
    TIMEDOUT,
    UPSTREAM_CANCELED,
    UPSTREAM_FAILED,
    Node,
)

__all__ = [
    "evaluate_condition",
    "for_each_inputs",
    "lookup",
    "resolve",
    "run_result",
    "substitute_input",
    "topological",
    "verdict",
]

_REFERENCE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def verdict(node: Node, nodes: Mapping[str, Node]) -> tuple[str | None, list[str]]:
    """
    Whether ``node`` runs once all its dependencies have results: ``(None, [])`` when it runs, else the
    result it is skipped with and the keys of the dependencies that failed.
    """
    classes: list[str] = []
    failed: list[str] = []
    for key, wanted in node.deps:
        dep = nodes[key]
        result = dep.result
        if result == SUCCESS and wanted is not None and dep.kind == "condition":
            outcome = dep.attempts[-1].condition_outcome
            classes.append("success" if outcome == wanted else "excluded")
        elif result == SUCCESS:
            classes.append("success")
        elif result == EXCLUDED:
            classes.append("excluded")
        elif result == DISABLED:
            classes.append("disabled")
        elif result in CANCELED_CLASS:
            classes.append("canceled")
        else:
            classes.append("failed")
            failed.append(key)
    return _run_if_verdict(node.run_if, classes), failed


def _run_if_verdict(run_if: str, classes: list[str]) -> str | None:
    """``None`` when the task runs, else the result it is skipped with."""
    if classes and all(c == "excluded" for c in classes):
        return EXCLUDED
    ok = [c in ("success", "excluded") for c in classes]

    def upstream() -> str:
        if "failed" in classes:
            return UPSTREAM_FAILED
        if "canceled" in classes:
            return UPSTREAM_CANCELED
        if "disabled" in classes:
            return DISABLED
        return UPSTREAM_FAILED

    if run_if == "ALL_DONE":
        return None
    if run_if == "AT_LEAST_ONE_SUCCESS":
        return None if any(ok) else upstream()
    if run_if == "NONE_FAILED":
        clean = "failed" not in classes and "canceled" not in classes
        return None if clean and any(ok) else upstream()
    if run_if == "AT_LEAST_ONE_FAILED":
        return None if "failed" in classes else EXCLUDED
    if run_if == "ALL_FAILED":
        return None if classes and all(c == "failed" for c in classes) else EXCLUDED
    return None if all(ok) else upstream()


def run_result(nodes: Mapping[str, Node]) -> tuple[str, str, str, str]:
    """
    A finished run's result from its tasks' (not cancelled or timed out as a whole):
    ``(result_state, termination code, termination type, message)``.

    ``SUCCESS`` when no task failed or was cancelled; ``SUCCESS_WITH_FAILURES`` when some did but every
    leaf (a task nothing depends on) succeeded, was excluded or disabled; else ``FAILED`` (naming the
    first failed task) or ``CANCELED``.
    """
    tasks = list(nodes.values())
    bad = [n for n in tasks if n.result in FAILED_CLASS or n.result in CANCELED_CLASS]
    if not bad:
        return SUCCESS, "SUCCESS", "SUCCESS", ""
    leaf_results = {n.result for n in tasks if not n.dependents}
    if leaf_results <= {SUCCESS, EXCLUDED, DISABLED}:
        keys = ", ".join(n.key for n in bad)
        return (
            SUCCESS_WITH_FAILURES,
            "SUCCESS_WITH_FAILURES",
            "SUCCESS",
            f"The run succeeded, but these tasks did not: {keys}.",
        )
    if leaf_results & FAILED_CLASS:
        first_failed = next((n for n in tasks if n.result in (FAILED, TIMEDOUT)), None)
        if first_failed is None:
            return FAILED, "RUN_EXECUTION_ERROR", "CLIENT_ERROR", "A task did not succeed."
        attempt = first_failed.last
        code, kind = "RUN_EXECUTION_ERROR", "CLIENT_ERROR"
        if attempt.termination_type in ("INTERNAL_ERROR", "CLOUD_FAILURE"):
            code, kind = attempt.termination_code or "INTERNAL_ERROR", attempt.termination_type
        return FAILED, code, kind, f"Task {first_failed.key} failed: {attempt.message}"
    return CANCELED, "USER_CANCELED", "CLIENT_ERROR", "A task of the run was canceled."


def topological(nodes: Mapping[str, Node]) -> list[Node]:
    """Tasks with every task before the tasks that depend on it (iterative: chains can be long)."""
    waiting = {key: len(node.deps) for key, node in nodes.items()}
    ready = [node for node in nodes.values() if not node.deps]
    order: list[Node] = []
    while ready:
        node = ready.pop()
        order.append(node)
        for dependent in node.dependents:
            waiting[dependent.key] -= 1
            if waiting[dependent.key] == 0:
                ready.append(dependent)
    return order


# ---------------------------------------------------------------------------------------------------
# References, conditions, for_each inputs

Lookup = Callable[[str], Any]
"""Resolves the name inside a ``{{...}}`` reference, or raises ``ValueError``."""


class RunFacts(Protocol):
    """What references read of the run itself (``_run.Run``)."""

    run_name: str
    start_at: float
    rounds: list[Any]
    engine: Any  # its workspace_id and base_url


def lookup(
    name: str,
    node: Node,
    nodes: Mapping[str, Node],
    *,
    run_id: int,
    job_id: int,
    run: RunFacts | None = None,
) -> Any:
    """
    What the reference ``{{name}}`` names for ``node`` in a run: ids, names, the start time, task values,
    results, the for_each input (see docs/local.md for the table of what resolves).
    """
    parts = name.split(".")
    run_name = run.run_name if run is not None else None
    start_time = run.start_at if run is not None else None
    workspace = (run.engine.workspace_id, run.engine.base_url) if run is not None else None
    repairs = len(run.rounds) - 1 if run is not None else 0
    if name == "job.run_id":
        return str(run_id)
    if name == "job.id":
        return str(job_id)
    if name == "job.name" and run_name is not None:
        return run_name
    if name == "job.repair_count":
        return str(repairs)
    if name == "job.trigger.type":
        return "ONE_TIME"
    if len(parts) == 3 and parts[:2] == ["job", "start_time"] and start_time is not None:
        return _start_time(parts[2], start_time)
    if name == "workspace.id" and workspace is not None:
        return str(workspace[0])
    if name == "workspace.url" and workspace is not None:
        return workspace[1]
    if name == "input" and node.parent is not None:
        return node.input
    if len(parts) >= 2 and parts[0] == "input" and node.parent is not None and isinstance(node.input, Mapping):
        value: Any = node.input
        for part in parts[1:]:
            if not isinstance(value, Mapping) or part not in value:
                raise ValueError(f"the for_each input has no field {'.'.join(parts[1:])!r}")
            value = value[part]
        return value
    if len(parts) == 2 and parts[0] == "task":
        return _task_reference(node, parts[1], name)
    if len(parts) >= 3 and parts[0] == "tasks" and parts[1] in nodes:
        target = nodes[parts[1]]
        if parts[2] == "values" and len(parts) == 4:
            if parts[3] not in target.values:
                raise ValueError(f"task {parts[1]!r} did not set the task value {parts[3]!r}")
            return target.values[parts[3]]
        if parts[2] == "result_state" and len(parts) == 3:
            return (target.result or "").lower()
        if len(parts) == 3 and parts[2] in ("run_id", "execution_count", "notebook_path", "error_code"):
            return _task_reference(target, parts[2], name)
    raise ValueError(f"the reference {{{{{name}}}}} cannot be resolved in the emulator")


def _task_reference(node: Node, field: str, name: str) -> Any:
    attempt = node.last
    if field == "name":
        return node.key
    if field == "run_id":
        return str(attempt.run_id)
    if field == "execution_count":
        return str(attempt.attempt_number + 1)
    if field == "notebook_path" and "notebook_task" in node.spec:
        return str((node.spec["notebook_task"] or {}).get("notebook_path", ""))
    if field == "error_code" and node.result is not None:
        return attempt.termination_code or ""
    raise ValueError(f"the reference {{{{{name}}}}} cannot be resolved in the emulator")


def _start_time(field: str, epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    values = {
        "iso_date": moment.date().isoformat(),
        "iso_datetime": moment.isoformat(timespec="seconds"),
        "timestamp_ms": str(int(epoch * 1000)),
        "year": str(moment.year),
        "month": str(moment.month),
        "day": str(moment.day),
        "hour": str(moment.hour),
        "minute": str(moment.minute),
        "second": str(moment.second),
        "is_weekday": "true" if moment.weekday() < 5 else "false",
        "iso_weekday": str(moment.isoweekday()),
    }
    if field not in values:
        raise ValueError(f"the reference {{{{job.start_time.{field}}}}} cannot be resolved in the emulator")
    return values[field]


def resolve(value: Any, find: Lookup) -> Any:
    """Replace ``{{...}}`` references in ``value``; a whole-value reference keeps the named value's type."""
    if not isinstance(value, str):
        return value
    whole = _REFERENCE.fullmatch(value.strip())
    if whole:
        return find(whole.group(1).strip())

    def text(match: re.Match[str]) -> str:
        found = find(match.group(1).strip())
        return found if isinstance(found, str) else json.dumps(found)

    return _REFERENCE.sub(text, value)


def evaluate_condition(spec: Mapping[str, Any], find: Lookup) -> str:
    """The outcome (``"true"`` / ``"false"``) of a ``condition_task``; ``ValueError`` when it cannot be decided."""
    op = spec.get("op")
    left = _as_operand(resolve(spec.get("left", ""), find))
    right = _as_operand(resolve(spec.get("right", ""), find))
    return "true" if _compare(op, left, right) else "false"


def for_each_inputs(spec: Mapping[str, Any], find: Lookup) -> list[Any]:
    """The inputs of a ``for_each_task`` as a list; ``ValueError`` when they are not a JSON array."""
    raw = resolve(spec.get("inputs", ""), find)
    try:
        inputs = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        inputs = raw
    if not isinstance(inputs, list):
        raise ValueError(f"they are not a JSON array: {raw!r}")
    return inputs


def substitute_input(value: Any, item: Any) -> Any:
    """``value`` (a nested task's settings) with ``{{input}}`` replaced by one iteration's input."""
    if isinstance(value, str):
        text = item if isinstance(item, str) else json.dumps(item)
        return re.sub(r"\{\{\s*input\s*\}\}", lambda _: text, value)
    if isinstance(value, list):
        return [substitute_input(v, item) for v in value]
    if isinstance(value, dict):
        return {k: substitute_input(v, item) for k, v in value.items()}
    return value


def _as_operand(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _compare(op: Any, left: str, right: str) -> bool:
    if op == "EQUAL_TO":
        return left == right
    if op == "NOT_EQUAL":
        return left != right
    if op not in ("GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"):
        raise ValueError(f"unknown condition op {op!r}")
    try:
        a, b = float(left), float(right)
    except ValueError:
        raise ValueError(f"{op} compares numbers, but got {left!r} and {right!r}") from None
    if op == "GREATER_THAN":
        return a > b
    if op == "GREATER_THAN_OR_EQUAL":
        return a >= b
    if op == "LESS_THAN":
        return a < b
    return a <= b
