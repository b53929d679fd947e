"""Live state: a runs/get answer read into one state name per task, for colouring the pictures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from runspec.picture._words import dig, latest_attempts
from runspec.spec._text import as_text

__all__ = ["STATES", "Live", "live", "state_name", "task_states"]

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
    raw = _raw_run(run)
    tasks = raw.get("tasks")
    states: dict[str, str] = {}
    if not isinstance(tasks, Sequence) or isinstance(tasks, str):
        return states
    for task in latest_attempts(tasks):
        key = task.get("task_key") if isinstance(task, Mapping) else None
        if isinstance(key, str):
            states[key] = state_name(task)
    return states


def _raw_run(run: Any) -> Mapping[str, Any]:
    if isinstance(run, Mapping):
        return run
    raw = getattr(run, "raw", None)
    if isinstance(raw, Mapping):
        return raw
    raise TypeError(f"expected a runs/get answer as a dict or an object with a .raw dict, got {type(run).__name__}")


@dataclass(slots=True)
class Live:
    states: dict[str, str] = field(default_factory=dict)
    progress: dict[str, str] = field(default_factory=dict)
    run: str | None = None


def live(state: Any) -> Live:
    """Accept ``{task_key: state name}``, a runs/get dict, or an object with ``.raw``."""
    if state is None:
        return Live()
    if isinstance(state, Mapping) and all(isinstance(v, str) for v in state.values()):
        return Live(states={str(k): (v if v in STATES else "unknown") for k, v in state.items()})
    raw = _raw_run(state)
    found = Live(states=task_states(raw), run=state_name(raw) if raw else None)
    tasks = raw.get("tasks")
    if isinstance(tasks, Sequence):
        for task in tasks:
            if isinstance(task, Mapping) and isinstance(task.get("task_key"), str):
                progress = _for_each_progress(task)
                if progress:
                    found.progress[task["task_key"]] = progress
    return found


def _for_each_progress(task: Mapping[str, Any]) -> str:
    stats = dig(task, "for_each_task", "stats", "task_run_stats")
    total = stats.get("total_iterations")
    if not isinstance(total, int):
        return ""
    done = stats.get("completed_iterations")
    text = f"{done if isinstance(done, int) else 0}/{total} iterations done"
    failed = stats.get("failed_iterations")
    if isinstance(failed, int) and failed:
        text += f", {failed} failed"
    return text
