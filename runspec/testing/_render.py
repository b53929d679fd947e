"""
Run JSON as the Jobs API shows it: ``runs/get`` (a run or a task run), ``runs/get-output`` and the items of
``runs/list``, rendered from a run's state at one moment.

Rendering only reads: it never moves a run forward (the engine advances a run before it renders it).
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
from collections.abc import Mapping
from typing import Any, Protocol

from runspec.spec.schema._schema import schema
from runspec.spec.task_types import table as task_type_table
from runspec.testing._http import invalid
from runspec.testing._run import Run
from runspec.testing._state import CANCELED, FAILED, SKIP_RESULTS, SUCCESS, TIMEDOUT, Attempt, Node

__all__ = [
    "PAGE_SIZE",
    "Site",
    "decode_page_token",
    "encode_page_token",
    "history_entry",
    "ms",
    "render_history",
    "render_output",
    "render_run",
    "render_single_task",
    "render_task_run",
    "task_run_items",
]

PAGE_SIZE = 100

# Submitted task settings are echoed back only where the response's `RunTask` type has the field.
RUN_TASK_FIELDS = frozenset(schema()["RunTask"])
ECHOED_RUN_FIELDS = ("git_source", "environment_variables", "duration_target")


class Site(Protocol):
    """Where runs are shown: the user who owns them and their page URLs."""

    user_name: str

    def page_url(self, job_id: int, run_id: int) -> str: ...


def ms(t: float | None) -> int:
    return 0 if t is None or math.isinf(t) else round(t * 1000)


def span_ms(start: float | None, end: float | None) -> int:
    if start is None or end is None or math.isinf(end):
        return 0
    return max(0, round((end - start) * 1000))


def render_run(run: Run, site: Site, t: float, page: tuple[int, int] | None = None) -> dict[str, Any]:
    """
    The run as ``runs/get`` shows it at ``t``: with every task attempt, or only those of
    ``page = (offset, count)``.
    """
    state = run.life_cycle(t)
    out: dict[str, Any] = {
        "job_id": run.job_id,
        "run_id": run.run_id,
        "number_in_job": run.run_id,
        "original_attempt_run_id": run.run_id,
        "attempt_number": 0,
        "creator_user_name": site.user_name,
        "run_name": run.run_name,
        "run_type": "SUBMIT_RUN",
        "trigger": "ONE_TIME",
        "run_page_url": site.page_url(run.job_id, run.run_id),
        "start_time": ms(run.submitted),
        "end_time": ms(run.end_time),
        "setup_duration": 0,
        "execution_duration": 0,
        "cleanup_duration": 0,
        "run_duration": span_ms(run.submitted, run.end_time),
        "queue_duration": span_ms(run.submitted, run.start_at if run.started else t),
    }
    for name in ECHOED_RUN_FIELDS:
        if name in run.body:
            out[name] = copy.deepcopy(run.body[name])
    if "performance_target" in run.body:
        out["effective_performance_target"] = run.body["performance_target"]
    legacy: dict[str, Any] = {"life_cycle_state": state, "user_cancelled_or_timedout": False}
    status: dict[str, Any] = {"state": state}
    if state == "QUEUED":
        message = "The run is queued (emulated queue time)."
        legacy["state_message"] = message
        legacy["queue_reason"] = message
        status["queue_details"] = {"code": "ACTIVE_RUNS_LIMIT_REACHED", "message": message}
    elif state in ("PENDING", "RUNNING"):
        legacy["state_message"] = ""
    else:
        result, code, kind, message = run.termination()
        legacy["state_message"] = message
        legacy["user_cancelled_or_timedout"] = result in (CANCELED, TIMEDOUT)
        if state == "TERMINATED":
            legacy["result_state"] = result
            if kind == "INTERNAL_ERROR" and result == FAILED:
                legacy["life_cycle_state"] = "INTERNAL_ERROR"
        status["termination_details"] = {"code": code, "type": kind, "message": message}
    out["state"] = legacy
    out["status"] = status
    entries = run.task_entries()
    if page is not None:
        entries = entries[page[0] : page[0] + page[1]]
    out["tasks"] = [render_attempt(run, a, site, t) for a in entries]
    return out


def render_history(run: Run, site: Site, t: float) -> list[dict[str, Any]]:
    """
    ``repair_history`` (``runs/get?include_history=true``): the ``ORIGINAL`` entry first, then one
    ``REPAIR`` entry (with its ``id``) per repair, each with its times, state and task run ids.
    """
    return [*copy.deepcopy(run.closed_rounds), history_entry(run, site, t)]


def history_entry(run: Run, site: Site, t: float) -> dict[str, Any]:
    """The run's latest round (the original run, or its latest repair) as a ``repair_history`` entry."""
    repair_id, start, task_run_ids = run.rounds[-1]
    shown = render_run(run, site, t, page=(0, 0))
    entry: dict[str, Any] = {
        "type": "ORIGINAL" if repair_id is None else "REPAIR",
        "start_time": ms(start),
        "end_time": shown["end_time"],
        "state": shown["state"],
        "status": shown["status"],
        "task_run_ids": list(task_run_ids),
    }
    if repair_id is not None:
        entry["id"] = repair_id
    return entry


def render_single_task(run: Run, task: Mapping[str, Any]) -> dict[str, Any]:
    """
    The top-level fields Jobs API 2.0 shows for a run submitted in the single-task form: ``task`` (its
    task type's settings), ``cluster_spec`` and ``cluster_instance``.
    """
    spec = next(iter(run.nodes.values())).spec
    types = task_type_table()
    out: dict[str, Any] = {"task": {k: copy.deepcopy(v) for k, v in spec.items() if k in types}}
    cluster = {k: copy.deepcopy(spec[k]) for k in ("existing_cluster_id", "new_cluster", "libraries") if k in spec}
    if cluster:
        out["cluster_spec"] = cluster
    if "cluster_instance" in task:
        out["cluster_instance"] = task["cluster_instance"]
    return out


def task_run_items(attempt: Attempt) -> int:
    """How many entries the paged array of a task run has: its iterations (for_each), else its one task."""
    if attempt.node.kind == "for_each":
        return sum(len(it.attempts) for it in attempt.node.iterations)
    return 1


def render_task_run(
    run: Run, attempt: Attempt, site: Site, t: float, page: tuple[int, int] | None = None
) -> dict[str, Any]:
    """
    A task run as ``runs/get`` shows it when asked for its task run id. A for_each task's ``iterations``
    are all there, or those of ``page = (offset, count)`` (``tasks`` is empty after the first page).
    """
    entry = render_attempt(run, attempt, site, t)
    out: dict[str, Any] = {
        "job_id": run.job_id,
        "run_id": attempt.run_id,
        "job_run_id": run.run_id,
        "number_in_job": attempt.run_id,
        "original_attempt_run_id": attempt.original_attempt_run_id,
        "attempt_number": attempt.attempt_number,
        "creator_user_name": site.user_name,
        "run_name": run.run_name,
        "run_type": "SUBMIT_RUN",
        "trigger": "ONE_TIME",
        "run_page_url": entry["run_page_url"],
        "state": entry["state"],
        "status": entry["status"],
    }
    for name in (
        "start_time",
        "end_time",
        "setup_duration",
        "execution_duration",
        "cleanup_duration",
        "run_duration",
        "queue_duration",
        "cluster_instance",
        "git_source",
    ):
        if name in entry:
            out[name] = entry[name]
    out["tasks"] = [entry]
    if attempt.node.kind == "for_each":
        iterations = [a for it in attempt.node.iterations for a in it.attempts]
        if page is not None:
            iterations = iterations[page[0] : page[0] + page[1]]
            if page[0] > 0:
                out["tasks"] = []
        out["iterations"] = [render_attempt(run, a, site, t) for a in iterations]
    return out


def render_attempt(run: Run, attempt: Attempt, site: Site, t: float) -> dict[str, Any]:
    """One ``RunTask`` entry at time ``t``."""
    node = attempt.node
    out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in node.spec.items() if k in RUN_TASK_FIELDS}
    state, legacy = _attempt_state(attempt, run, t)
    out.update(
        run_id=attempt.run_id,
        task_key=node.key,
        attempt_number=attempt.attempt_number,
        run_page_url=site.page_url(run.job_id, attempt.run_id),
        start_time=ms(attempt.started),
        end_time=ms(_end_time(attempt, t)),
        setup_duration=0,
        execution_duration=0,
        cleanup_duration=0,
        run_duration=0,
        queue_duration=0,
        state=legacy,
        status=state,
    )
    if attempt.started is not None:
        begun = attempt.started + attempt.setup
        out["setup_duration"] = span_ms(attempt.started, min(t, begun))
        if t > begun:
            out["execution_duration"] = span_ms(begun, min(t, attempt.end_exec))
        if t > attempt.end_exec:
            out["cleanup_duration"] = span_ms(attempt.end_exec, min(t, attempt.end))
        if t >= attempt.end:
            out["run_duration"] = span_ms(attempt.started, attempt.end)
        cluster = _cluster_instance(node.spec, attempt.run_id)
        if cluster is not None:
            out["cluster_instance"] = cluster
    decided = attempt.condition_outcome is not None and t >= attempt.end_exec
    if node.kind == "condition" and "condition_task" in out and decided:
        out["condition_task"]["outcome"] = attempt.condition_outcome
    if node.kind == "for_each" and "for_each_task" in out and attempt.started is not None:
        out["for_each_task"]["stats"] = _for_each_stats(node, t)
    if "performance_target" in run.body and not any(k in node.spec for k in ("new_cluster", "existing_cluster_id")):
        out["effective_performance_target"] = run.body["performance_target"]
    return out


def render_output(run: Run, attempt: Attempt, site: Site, now: float) -> dict[str, Any]:
    """``runs/get-output`` of one task run (``attempt``) at ``now``."""
    out: dict[str, Any] = {"metadata": render_task_run(run, attempt, site, now)}
    if not attempt.finalized and not (attempt.started is not None and now >= attempt.end):
        return out
    outcome = attempt.outcome
    spec = attempt.node.spec
    types = task_type_table()
    carried = {types[kind].output for kind in spec if kind in types}  # what the task type's output holds
    if "notebook_output" in carried:
        notebook: dict[str, Any] = {}
        if outcome is not None and outcome.result is not None:
            notebook = {"result": outcome.result, "truncated": attempt.result_truncated}
        out["notebook_output"] = notebook
    if "logs" in carried:
        out["logs"] = outcome.logs if outcome is not None and outcome.logs is not None else ""
        out["logs_truncated"] = attempt.logs_truncated
    if attempt.result in (FAILED, TIMEDOUT, CANCELED):
        out["error"] = attempt.message
        if attempt.error_trace:
            out["error_trace"] = attempt.error_trace
    return out


def _end_time(attempt: Attempt, t: float) -> float | None:
    if attempt.skipped_at is not None:
        return attempt.skipped_at
    if attempt.started is not None and t >= attempt.end:
        return attempt.end
    return None


def _attempt_state(attempt: Attempt, run: Run, t: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(status, state)`` of an attempt at ``t``: the V2 status and the legacy state."""
    node = attempt.node
    if attempt.skipped_at is not None:
        skipped = attempt.result in SKIP_RESULTS
        return _terminal(attempt, "SKIPPED" if skipped else "TERMINATED")
    if attempt.started is None:
        if not run.started:
            phase = legacy_phase = "QUEUED"
        elif attempt.attempt_number > 0:
            phase, legacy_phase = "WAITING", "WAITING_FOR_RETRY"
        elif node.deps:
            phase = legacy_phase = "BLOCKED"
        else:
            phase = legacy_phase = "PENDING"
        return {"state": phase}, {
            "life_cycle_state": legacy_phase,
            "state_message": "Waiting for a retry." if phase == "WAITING" else "",
            "user_cancelled_or_timedout": False,
        }
    if t < attempt.started + attempt.setup:
        phase = "PENDING"
    elif t < attempt.end_exec:
        phase = "RUNNING"
    elif t < attempt.end:
        status, legacy = _terminal(attempt, "TERMINATING")
        del legacy["result_state"]
        return status, legacy
    else:
        return _terminal(attempt, "TERMINATED")
    return {"state": phase}, {
        "life_cycle_state": phase,
        "state_message": "",
        "user_cancelled_or_timedout": False,
    }


def _terminal(attempt: Attempt, life_cycle: str) -> tuple[dict[str, Any], dict[str, Any]]:
    result = attempt.result or SUCCESS
    if result == SUCCESS:
        code, kind = "SUCCESS", "SUCCESS"
    else:
        code = attempt.termination_code or "RUN_EXECUTION_ERROR"
        kind = attempt.termination_type or "CLIENT_ERROR"
    legacy_life_cycle = life_cycle
    if life_cycle == "TERMINATED" and result == FAILED and kind == "INTERNAL_ERROR":
        legacy_life_cycle = "INTERNAL_ERROR"
    v2 = "TERMINATING" if life_cycle == "TERMINATING" else "TERMINATED"
    status = {
        "state": v2,
        "termination_details": {"code": code, "type": kind, "message": attempt.message},
    }
    legacy = {
        "life_cycle_state": legacy_life_cycle,
        "result_state": result,
        "state_message": attempt.message,
        "user_cancelled_or_timedout": result in (CANCELED, TIMEDOUT),
    }
    return status, legacy


def _cluster_instance(spec: Mapping[str, Any], run_id: int) -> dict[str, str] | None:
    existing = spec.get("existing_cluster_id")
    if isinstance(existing, str):
        return {"cluster_id": existing, "spark_context_id": str(7_000_000_000_000 + run_id % 10**12)}
    if "new_cluster" in spec:
        return {
            "cluster_id": f"0101-000000-emu{run_id % 10**8:08d}",
            "spark_context_id": str(7_000_000_000_000 + run_id % 10**12),
        }
    return None


def _for_each_stats(node: Node, t: float) -> dict[str, Any]:
    total = len(node.inputs or [])
    done = [it for it in node.iterations if it.result is not None and t >= it.last.end]
    succeeded = sum(1 for it in done if it.result == SUCCESS)
    errors: dict[str, int] = {}
    for it in done:
        if it.result != SUCCESS:
            errors[it.last.message] = errors.get(it.last.message, 0) + 1
    stats: dict[str, Any] = {
        "task_run_stats": {
            "total_iterations": total,
            "scheduled_iterations": len(node.iterations),
            "active_iterations": len(node.iterations) - len(done),
            "completed_iterations": len(done),
            "succeeded_iterations": succeeded,
            "failed_iterations": len(done) - succeeded,
        }
    }
    if errors:
        common = sorted(errors.items(), key=lambda kv: -kv[1])[:3]
        stats["error_message_stats"] = [
            {"error_message": msg, "count": count, "termination_category": "RUN_EXECUTION_ERROR"}
            for msg, count in common
        ]
    return stats


def encode_page_token(run_id: int, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{run_id}:{offset}".encode()).decode().rstrip("=")


def decode_page_token(token: str | None, run_id: int) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        owner, offset = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        if int(owner) != run_id or int(offset) < 0:
            raise ValueError(token)
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(f"Invalid page_token {token!r}.") from None
