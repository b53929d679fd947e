"""
``runs/repair``: re-run chosen tasks of a finished run (or every failed one), with or without the tasks
that depend on them, in the same run, keeping its history.

What the service checks is checked here, before anything changes: the run has finished, exactly one of
``rerun_tasks`` and ``rerun_all_failed_tasks`` is given, task keys exist and appear once, and every
repair after the first names the latest one in ``latest_repair_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runspec.testing._http import ApiFailure, invalid
from runspec.testing._render import Site, history_entry
from runspec.testing._run import Run
from runspec.testing._state import CANCELED_CLASS, FAILED_CLASS, Node
from runspec.testing._wire import bool_param, int64

__all__ = ["ONE_TIME_REFUSAL", "repair"]

ONE_TIME_REFUSAL = (
    "Runs of type SUBMIT_RUN cannot be repaired: this workspace does not repair one-time runs created with runs/submit."
)


def repair(run: Run, request: Mapping[str, Any], site: Site, now: float, *, repair_id: int) -> list[int]:
    """
    Check a ``runs/repair`` request against ``run`` (moved to ``now``, its lock held) and start the
    repair as ``repair_id``; the task run ids of the tasks that run again.
    """
    if run.is_active():
        raise ApiFailure(
            400,
            "INVALID_STATE",
            f"Run {run.run_id} is still active; a run can be repaired only after it has terminated.",
        )
    latest = run.rounds[-1][0]
    given = request.get("latest_repair_id")
    if latest is not None and given is None:
        raise invalid(
            f"Run {run.run_id} has been repaired before: latest_repair_id must be given (the latest repair is "
            f"{latest})."
        )
    if given is not None and int64(given, "latest_repair_id") != latest:
        raise invalid(
            f"latest_repair_id {given} is not the latest repair of run {run.run_id} "
            f"({'it has none' if latest is None else f'that is {latest}'})."
        )
    keys = _chosen(run, request)
    if bool_param(request, "rerun_dependent_tasks"):
        keys = _with_dependents(run, keys)
    entry = history_entry(run, site, now)
    run.rerun(keys, repair_id, now)
    run.closed_rounds.append(entry)
    return run.rounds[-1][2]


def _chosen(run: Run, request: Mapping[str, Any]) -> list[str]:
    names = request.get("rerun_tasks")
    all_failed = bool_param(request, "rerun_all_failed_tasks")
    if names is not None and names != [] and all_failed:
        raise invalid("Only one of rerun_tasks and rerun_all_failed_tasks can be given.")
    if all_failed:
        failed = [n.key for n in run.nodes.values() if n.result in FAILED_CLASS or n.result in CANCELED_CLASS]
        if not failed:
            raise invalid(f"Run {run.run_id} has no failed tasks to repair.")
        return failed
    if not isinstance(names, list) or not names:
        raise invalid("Give the tasks to repair in rerun_tasks, or set rerun_all_failed_tasks.")
    keys: list[str] = []
    for name in names:
        if not isinstance(name, str) or name not in run.nodes:
            raise invalid(f"rerun_tasks: {name!r} is not a task of run {run.run_id}.")
        if name in keys:
            raise invalid(f"rerun_tasks cannot contain duplicate task keys: {name!r} is given twice.")
        keys.append(name)
    return keys


def _with_dependents(run: Run, keys: list[str]) -> list[str]:
    """``keys`` and every task that depends on one of them, directly or not."""
    seen = set(keys)
    stack: list[Node] = [run.nodes[k] for k in keys]
    while stack:
        for dependent in stack.pop().dependents:
            if dependent.key not in seen:
                seen.add(dependent.key)
                stack.append(dependent)
    return [key for key in run.nodes if key in seen]
