"""
Live state for colouring the pictures: a runs/get answer read (by ``runspec._runs_get``, the one
reader of runs/get answers) into one state name per task, and for-each progress.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runspec._runs_get import STATES, raw_run, state_name, task_states
from runspec.picture._words import dig

__all__ = ["STATES", "Live", "live", "state_name", "task_states"]


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
    raw = raw_run(state)
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
