"""
The engine: every run the emulator knows, and the Jobs API operations on them (submit, get, get-output,
cancel, list, delete), with idempotency tokens and run ids.

The engine works on submitted JSON bodies (plain dicts), so it serves bodies built by any client. Each
operation first moves the runs it touches forward to ``now`` (``_run``), then renders what the API
returns (``_render``).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from typing import Any

from runspec.testing._http import ApiFailure, invalid
from runspec.testing._render import (
    PAGE_SIZE,
    decode_page_token,
    encode_page_token,
    ms,
    render_output,
    render_run,
    render_task_run,
)
from runspec.testing._run import Run
from runspec.testing._script import Script, Timing
from runspec.testing._state import CANCELED, Attempt

__all__ = ["Engine"]

LIST_LIMIT_MAX = 24
LIST_LIMIT_DEFAULT = 20


class Engine:
    """
    Every run the emulator knows, and the Jobs API operations on them.

    Not thread-safe on its own: the server calls it under one lock. ``now`` is the clock's reading for
    the request, taken once so a response shows one consistent moment.
    """

    def __init__(
        self,
        *,
        timing: Timing,
        default: Script,
        user_name: str,
        workspace_id: int,
        first_run_id: int = 4_102_000_000_001,
        first_job_id: int = 731_000_000_001,
    ) -> None:
        self.timing = timing
        self.default = default
        self.scripts: dict[str, Script] = {}
        self.user_name = user_name
        self.workspace_id = workspace_id
        self.base_url = "http://127.0.0.1"
        self._ids = itertools.count(first_run_id)
        self._job_ids = itertools.count(first_job_id)
        self.runs: dict[int, Run] = {}
        self.attempts: dict[int, tuple[Attempt, Run]] = {}
        self.tokens: dict[str, int] = {}
        self.deleted_tokens: set[str] = set()

    # -- ids, urls -----------------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def register_attempt(self, attempt: Attempt, run: Run) -> None:
        self.attempts[attempt.run_id] = (attempt, run)

    def page_url(self, job_id: int, run_id: int) -> str:
        return f"{self.base_url}/?o={self.workspace_id}#job/{job_id}/run/{run_id}"

    # -- operations ----------------------------------------------------------------------------------

    def submit(self, body: dict[str, Any], now: float) -> int:
        """Create a run from a checked body, or return the run its idempotency token already names."""
        token = body.get("idempotency_token")
        if isinstance(token, str) and token:
            if token in self.tokens:
                return self.tokens[token]
            if token in self.deleted_tokens:
                raise invalid(
                    f"The run submitted with idempotency token {token!r} was deleted; "
                    "a token cannot be used again after its run is deleted."
                )
        run_id = self.next_id()
        run = Run(self, run_id, next(self._job_ids), copy.deepcopy(body), now)
        self.runs[run_id] = run
        if isinstance(token, str) and token:
            self.tokens[token] = run_id
        run.advance(now)
        return run_id

    def find(self, run_id: int) -> tuple[Run, Attempt | None]:
        run = self.runs.get(run_id)
        if run is not None:
            return run, None
        found = self.attempts.get(run_id)
        if found is not None and found[1].run_id in self.runs:
            return found[1], found[0]
        raise invalid(f"Run {run_id} does not exist.")

    def get(self, run_id: int, now: float, page_token: str | None = None) -> dict[str, Any]:
        """``runs/get``: the run (or task run) with ``tasks`` / ``iterations`` paged by 100."""
        run, attempt = self.find(run_id)
        run.advance(now)
        if attempt is None:
            full = render_run(run, self, now)
            array = "tasks"
        else:
            full = render_task_run(run, attempt, self, now)
            array = "iterations" if "iterations" in full else "tasks"
        offset = decode_page_token(page_token, run_id)
        items = full[array]
        if offset > len(items):
            raise invalid("The page_token does not belong to this run.")
        full[array] = items[offset : offset + PAGE_SIZE]
        if array == "iterations" and offset > 0:
            full["tasks"] = []
        if offset + PAGE_SIZE < len(items):
            full["next_page_token"] = encode_page_token(run_id, offset + PAGE_SIZE)
        return full

    def get_output(self, run_id: int, now: float) -> dict[str, Any]:
        """``runs/get-output`` of a task run (or of the only task of a single-task run)."""
        run, attempt = self.find(run_id)
        run.advance(now)
        if attempt is None:
            if len(run.nodes) != 1:
                raise invalid(
                    "Retrieving the output of runs with multiple tasks is not supported. "
                    "Please retrieve the output of each individual task run instead."
                )
            attempt = next(iter(run.nodes.values())).last
        return render_output(run, attempt, self, now)

    def render(self, run_id: int, now: float) -> dict[str, Any]:
        """The run (or task run) as ``runs/get`` shows it at ``now``, with all its tasks (no paging)."""
        run, attempt = self.find(run_id)
        run.advance(now)
        if attempt is None:
            return render_run(run, self, now)
        return render_task_run(run, attempt, self, now)

    def cancel(self, run_id: int, now: float) -> None:
        """``runs/cancel``: a run, or a single task run. Asynchronous: the run goes to TERMINATING."""
        run, attempt = self.find(run_id)
        run.advance(now)
        if attempt is None:
            run.abort(now, CANCELED)
        else:
            run.cancel_attempt(attempt, now)
        run.advance(now)

    def cancel_all(self, job_id: int | None, all_queued: bool, now: float) -> None:
        """``runs/cancel-all``: the run of ``job_id``, or every queued run."""
        for run in list(self.runs.values()):
            run.advance(now)
            chosen = run.job_id == job_id if job_id is not None else all_queued and not run.started
            if chosen:
                run.abort(now, CANCELED)
            run.advance(now)

    def delete(self, run_id: int, now: float) -> None:
        """``runs/delete``: only runs that have ended; their idempotency token stays unusable."""
        run, attempt = self.find(run_id)
        if attempt is not None:
            raise invalid(f"Run {run_id} is a task run; delete the run it belongs to ({run.run_id}).")
        run.advance(now)
        if run.is_active():
            raise ApiFailure(
                400,
                "INVALID_STATE",
                f"Run {run_id} is still active and cannot be deleted; cancel it and wait until it has terminated.",
            )
        del self.runs[run_id]
        for attempt_ in run.all_attempts():
            self.attempts.pop(attempt_.run_id, None)
        if run.token is not None:
            self.tokens.pop(run.token, None)
            self.deleted_tokens.add(run.token)

    def list(self, query: Mapping[str, str], now: float) -> dict[str, Any]:
        """``runs/list``: newest first, filtered, paged with ``page_token`` (or the old ``offset``)."""
        active_only = _bool_param(query, "active_only")
        completed_only = _bool_param(query, "completed_only")
        if active_only and completed_only:
            raise invalid("active_only and completed_only cannot both be true.")
        limit = _int_param(query, "limit")
        if limit is None:
            limit = LIST_LIMIT_DEFAULT
        elif limit == 0:
            limit = LIST_LIMIT_MAX
        if not 0 < limit <= LIST_LIMIT_MAX:
            raise invalid(f"limit must be between 1 and {LIST_LIMIT_MAX}, got {limit}.")
        run_type = query.get("run_type")
        if run_type is not None and run_type not in ("JOB_RUN", "SUBMIT_RUN", "WORKFLOW_RUN"):
            raise invalid(f"Unknown run_type {run_type!r}.")
        job_id = _int_param(query, "job_id")
        start_from = _int_param(query, "start_time_from")
        start_to = _int_param(query, "start_time_to")
        expand = _bool_param(query, "expand_tasks")
        offset = _int_param(query, "offset") or 0
        if query.get("page_token"):
            offset = decode_page_token(query["page_token"], 0)
        if offset < 0:
            raise invalid("offset must not be negative.")
        selected: list[Run] = []
        for run in sorted(self.runs.values(), key=lambda r: (r.submitted, r.run_id), reverse=True):
            run.advance(now)
            if run_type is not None and run_type != "SUBMIT_RUN":
                continue
            if job_id is not None and run.job_id != job_id:
                continue
            if active_only and not run.is_active():
                continue
            if completed_only and run.is_active():
                continue
            started = ms(run.submitted)
            if start_from is not None and started < start_from:
                continue
            if start_to is not None and started > start_to:
                continue
            selected.append(run)
        page = selected[offset : offset + limit]
        out: dict[str, Any] = {"has_more": offset + limit < len(selected)}
        if page:
            rendered = []
            for run in page:
                item = render_run(run, self, now)
                if expand:
                    if len(item["tasks"]) > PAGE_SIZE:
                        item["tasks"] = item["tasks"][:PAGE_SIZE]
                        item["has_more"] = True
                    else:
                        item["has_more"] = False
                else:
                    del item["tasks"]
                rendered.append(item)
            out["runs"] = rendered
        if out["has_more"]:
            out["next_page_token"] = encode_page_token(0, offset + limit)
        if offset > 0:
            out["prev_page_token"] = encode_page_token(0, max(0, offset - limit))
        return out

    # -- rendering -----------------------------------------------------------------------------------


def _bool_param(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name)
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise invalid(f"{name} must be true or false, got {value!r}.")


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{name} must be an integer, got {value!r}.") from None
