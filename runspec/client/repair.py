"""
Repairing a finished run: ``runs/repair`` re-runs chosen tasks (or every failed one, with their
dependents) in the same run, keeping its history. Behind ``RunHandle.repair()``.

* The run must have finished: a run still active is refused here, before anything is sent.
* Every repair after the first must name the latest repair (``latest_repair_id``); runspec reads it
  from the run's ``repair_history`` and from each repair it makes, so a handle attached in another
  process repairs correctly too.
* Each task key is sent once, however many attempts (retries) it had.
* ``runs/repair`` is not idempotent: it is retried only when the connection could not be opened.
* Whether a workspace repairs runs made by ``runs/submit`` is not documented. When it refuses, the
  ``ApiError`` says so plainly and suggests resubmitting with a new ``attempt``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from runspec.client.pages import more_pages
from runspec.client.results import RunView
from runspec.client.tracked import Tracked
from runspec.errors import ApiError, SubmitError

__all__ = ["repair_run"]

log = logging.getLogger("runspec")

# Words of a workspace that will not repair a one-time run (as opposed to a bad repair request).
_REFUSES_ONE_TIME = re.compile(
    r"SUBMIT_RUN|one[- ]time|runs/submit|submitted run|not supported|cannot be repaired|not allowed|unsupported",
    re.IGNORECASE,
)


def _latest_repair_id(raw: dict[str, Any]) -> int | None:
    ids = [
        entry.get("id")
        for entry in raw.get("repair_history") or []
        if isinstance(entry, dict) and entry.get("type") == "REPAIR"
    ]
    found = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    return max(found) if found else None


def _dedupe(tasks: Sequence[str]) -> list[str]:
    keys: list[str] = []
    for key in tasks:
        if not isinstance(key, str) or not key:
            raise TypeError(f"repair(tasks=...) takes task keys (strings), not {key!r}")
        if key not in keys:
            keys.append(key)
    return keys


def repair_run(tracked: Tracked, tasks: Sequence[str] | None, *, dependents: bool) -> int:
    """The body of ``RunHandle.repair()``: send ``runs/repair``, return the repair id."""
    transport = tracked.transport
    first = transport.call("GET", "runs/get", query={"run_id": tracked.run_id, "include_history": True})
    raw = more_pages(transport, tracked.run_id, first if isinstance(first, dict) else {})
    run = RunView(raw)
    tracked.seen(run)
    if not run.state.finished:
        raise SubmitError(
            f"run {tracked.run_id} is still {run.state.label}; a run can be repaired once it has finished "
            "(wait() for it, or cancel() it first)",
            method="POST",
            path="/api/2.2/jobs/runs/repair",
        )
    body: dict[str, Any] = {"run_id": tracked.run_id, "rerun_dependent_tasks": dependents}
    if tasks is None:
        if run.succeeded() and all(t.state.succeeded() or t.state.excluded for t in run.tasks):
            # The workspace would answer 400 "no failed tasks to repair": say it here, with the way out.
            raise ValueError(
                f"run {tracked.run_id} succeeded: no task failed, so there is nothing to re-run; "
                "name the tasks to run again (repair(tasks=[...]), runspec repair --task KEY)"
            )
        body["rerun_all_failed_tasks"] = True
    else:
        keys = _dedupe(tasks)
        if not keys:
            raise ValueError("repair(tasks=[]) names no task; pass None to re-run every failed task")
        known = {t.task_key for t in run.all_attempts}
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValueError(
                f"run {tracked.run_id} has no task {', '.join(map(repr, unknown))} "
                f"(tasks: {', '.join(sorted(known)) or 'none'})"
            )
        body["rerun_tasks"] = keys
    latest = max(
        (i for i in (_latest_repair_id(raw), tracked.latest_repair_id) if i is not None),
        default=None,
    )
    if latest is not None:
        body["latest_repair_id"] = latest
    try:
        answer = transport.call("POST", "runs/repair", body=body, idempotent=False)
    except ApiError as exc:
        if (
            run.raw.get("run_type") == "SUBMIT_RUN"
            and exc.status in (400, 403, 501)
            and _REFUSES_ONE_TIME.search(exc.message)
        ):
            exc.note = "the workspace does not repair one-time runs (made by runs/submit)"
            exc.resubmit = True
        raise
    repair_id = answer.get("repair_id") if isinstance(answer, dict) else None
    if not isinstance(repair_id, int) or isinstance(repair_id, bool):
        raise SubmitError(
            "POST /api/2.2/jobs/runs/repair answered without a repair_id "
            f"({transport.redactor.text(str(answer))[:200]})",
            method="POST",
            path="/api/2.2/jobs/runs/repair",
        )
    tracked.latest_repair_id = repair_id
    tracked.awaiting_repair = repair_id
    what = "every failed task" if tasks is None else ", ".join(body["rerun_tasks"])
    log.info("run %d: repair %d re-runs %s%s", tracked.run_id, repair_id, what, " and dependents" if dependents else "")
    return repair_id
