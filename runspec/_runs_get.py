"""
Reading a runs/get answer: one state name per run or task, the latest attempt of each task, the
iterations of a for-each task's run. The client's views (``RunView``) and the pictures read runs
through this module alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from runspec._text import as_text

__all__ = ["STATES", "iterations", "latest_attempts", "raw_run", "state_name", "task_states"]

STATES: Final[tuple[str, ...]] = (
    "succeeded",
    "partial",
    "failed",
    "timed_out",
    "canceled",
    "upstream_failed",
    "excluded",
    "skipped",
    "disabled",
    "running",
    "retrying",
    "pending",
    "unknown",
)
"""Every state name :func:`task_states` returns, in the order summaries list them."""

_RESULT_STATES: Final[Mapping[str, str]] = {
    "SUCCESS": "succeeded",
    "SUCCESS_WITH_FAILURES": "partial",
    "FAILED": "failed",
    "MAXIMUM_CONCURRENT_RUNS_REACHED": "failed",
    "TIMEDOUT": "timed_out",
    "CANCELED": "canceled",
    "UPSTREAM_CANCELED": "canceled",
    "UPSTREAM_FAILED": "upstream_failed",
    "EXCLUDED": "excluded",
    "DISABLED": "disabled",
}
_LIFE_CYCLE_STATES: Final[Mapping[str, str]] = {
    "QUEUED": "pending",
    "PENDING": "pending",
    "BLOCKED": "pending",
    "RUNNING": "running",
    "TERMINATING": "running",
    "WAITING_FOR_RETRY": "retrying",
    "SKIPPED": "skipped",
    "INTERNAL_ERROR": "failed",
}
_STATUS_STATES: Final[Mapping[str, str]] = {
    "QUEUED": "pending",
    "PENDING": "pending",
    "BLOCKED": "pending",
    "RUNNING": "running",
    "TERMINATING": "running",
    "WAITING": "retrying",
}
_TERMINATION_CODES: Final[Mapping[str, str]] = {
    "SUCCESS": "succeeded",
    "SUCCESS_WITH_FAILURES": "partial",
    "USER_CANCELED": "canceled",
    "CANCELED": "canceled",
    "SKIPPED": "skipped",
    "DISABLED": "disabled",
}


def state_name(run_or_task: Mapping[str, Any]) -> str:
    """
    The state name (one of :data:`STATES`) of one run or one task run from a runs/get answer.

    The legacy ``state.result_state`` is read first because it is the most specific (it alone tells
    ``excluded`` and ``upstream_failed`` apart); then ``status`` (its ``termination_details.code``
    once terminated); then ``state.life_cycle_state``. Values the API adds later give ``"unknown"``.
    """
    legacy = run_or_task.get("state")
    legacy = legacy if isinstance(legacy, Mapping) else {}
    found = _RESULT_STATES.get(as_text(legacy.get("result_state")))
    if found:
        return found
    status = run_or_task.get("status")
    if isinstance(status, Mapping):
        current = as_text(status.get("state"))
        if current == "TERMINATED":
            details = status.get("termination_details")
            details = details if isinstance(details, Mapping) else {}
            code = as_text(details.get("code"))
            if code in _TERMINATION_CODES:
                return _TERMINATION_CODES[code]
            if code or details.get("type"):
                return "succeeded" if details.get("type") == "SUCCESS" else "failed"
        elif current in _STATUS_STATES:
            return _STATUS_STATES[current]
    return _LIFE_CYCLE_STATES.get(as_text(legacy.get("life_cycle_state")), "unknown")


def task_states(run: Mapping[str, Any] | Any) -> dict[str, str]:
    """
    Map each task key of a runs/get answer to its state name (one of :data:`STATES`).

    ``run`` is the runs/get JSON as a dict, or any object with a ``raw`` attribute holding it (a run
    handle's ``get()`` result). When a task was retried and appears once per attempt, the highest
    ``attempt_number`` wins. runs/get pages its ``tasks`` at 100: pass a dict whose ``tasks`` holds
    every page, or tasks on later pages simply have no state.
    """
    raw = raw_run(run)
    tasks = raw.get("tasks")
    states: dict[str, str] = {}
    if not isinstance(tasks, Sequence) or isinstance(tasks, str):
        return states
    for task in latest_attempts(tasks):
        key = task.get("task_key") if isinstance(task, Mapping) else None
        if isinstance(key, str):
            states[key] = state_name(task)
    return states


def raw_run(run: Any) -> Mapping[str, Any]:
    if isinstance(run, Mapping):
        return run
    raw = getattr(run, "raw", None)
    if isinstance(raw, Mapping):
        return raw
    raise TypeError(f"expected a runs/get answer as a dict or an object with a .raw dict, got {type(run).__name__}")


def latest_attempts(tasks: Sequence[Any]) -> list[Any]:
    """
    The tasks of a runs/get answer, one per task key: runs/get lists a retried or repaired task once
    per attempt, and the one with the highest ``attempt_number`` (none counts as 0; a tie, the later)
    stands where the key first appears. Entries without a string ``task_key`` are kept as they are.
    """
    latest: dict[str, tuple[int, int]] = {}  # task key -> (attempt number, index of that attempt)
    for i, task in enumerate(tasks):
        key = task.get("task_key") if isinstance(task, Mapping) else None
        if not isinstance(key, str):
            continue
        attempt = task.get("attempt_number")
        number = attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0
        if key not in latest or number >= latest[key][0]:
            latest[key] = (number, i)
    out: list[Any] = []
    for task in tasks:
        key = task.get("task_key") if isinstance(task, Mapping) else None
        if not isinstance(key, str):
            out.append(task)
        elif key in latest:
            out.append(tasks[latest.pop(key)[1]])
    return out


def iterations(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The iterations of a for-each task's run (its runs/get answer), in the order the API lists them."""
    items = run.get("iterations")
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    return [item for item in items if isinstance(item, Mapping)]
