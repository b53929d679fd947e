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
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from runspec.testing._clock import Clock, InstantClock, ManualClock
from runspec.testing._http import ApiFailure, invalid
from runspec.testing._limits import Limiter
from runspec.testing._local import NoCode
from runspec.testing._render import (
    PAGE_SIZE,
    decode_page_token,
    encode_page_token,
    ms,
    render_history,
    render_output,
    render_run,
    render_single_task,
    render_task_run,
    task_run_items,
)
from runspec.testing._repair import ONE_TIME_REFUSAL, repair
from runspec.testing._run import Run, next_event_time
from runspec.testing._script import Script, Timing
from runspec.testing._state import CANCELED, Attempt
from runspec.testing._wire import bool_param, int64, int_param

__all__ = ["Engine", "settle"]

LIST_LIMIT_MAX = 25  # the published schema's maximum (and default); prefect sends 25
LIST_LIMIT_DEFAULT = 25
MAX_FINISHED_RUNS = 10_000  # finished runs kept before the oldest are dropped (Emulator(max_finished_runs=))
_SWEEP = 4  # unfinished runs brought up to date per submit once the emulator holds more runs than the cap


class Engine:
    """
    Every run the emulator knows, and the Jobs API operations on them.

    Safe to call from the server's threads: each run has its own lock, so a request about one run never
    waits for work on another (a for_each of 10,000 iterations moving forward holds only its own run).
    Each operation reads the clock once, after moving the run forward, so a response shows one moment.
    With an ``InstantClock`` the clock first jumps to where the run can go no further.

    Memory stays bounded: past ``max_finished_runs`` finished runs (``None``: no limit), each submit drops
    the runs that finished first, as ``runs/delete`` would, except that an idempotency token keeps naming
    its run, so sending it again never starts a second run. Once the engine holds more runs than the cap,
    each submit also brings a few unfinished runs up to date, oldest first, so runs nobody looks at end
    (and go) too.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        timing: Timing,
        default: Script,
        user_name: str,
        workspace_id: int,
        first_run_id: int = 4_102_000_000_001,
        first_job_id: int = 731_000_000_001,
        max_finished_runs: int | None = MAX_FINISHED_RUNS,
    ) -> None:
        if max_finished_runs is not None and max_finished_runs < 0:
            raise ValueError("max_finished_runs must be 0 or more (or None: keep every run)")
        self.clock = clock
        self.repair_one_time_runs = True
        self.timing = timing
        self.default = default
        self.scripts: dict[str, Script] = {}
        self.local: NoCode = NoCode()  # runs tasks' own code: a LocalRunner (Emulator(code=...))
        self.user_name = user_name
        self.workspace_id = workspace_id
        self.base_url = "http://127.0.0.1"
        self._ids = itertools.count(first_run_id)
        self._job_ids = itertools.count(first_job_id)
        self._lock = threading.Lock()  # the maps below, for operations that read and then write them
        self.runs: dict[int, Run] = {}
        self.attempts: dict[int, tuple[Attempt, Run]] = {}
        self.tokens: dict[str, int] = {}
        self._last_created: float | None = None  # when the newest run was submitted
        self.deleted_tokens: set[str] = set()
        #: The workspace budgets enforced on new runs (``Emulator(limits=...)``), if any.
        self.limiter: Limiter | None = None
        self.max_finished_runs = max_finished_runs
        # Runs by whether they are known to have ended, each in the order it got there. Guarded by
        # _ended_lock, which is taken under a run's lock and never held while taking another lock.
        self._ended_lock = threading.Lock()
        self._ended: OrderedDict[int, Run] = OrderedDict()
        self._unended: OrderedDict[int, Run] = OrderedDict()

    # -- ids, urls, time -----------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)  # atomic: itertools.count holds the GIL for the step

    def register_attempt(self, attempt: Attempt, run: Run) -> None:
        self.attempts[attempt.run_id] = (attempt, run)

    def run_ended(self, run: Run) -> None:
        """Called by a run (under its lock) when it ends: it now counts against ``max_finished_runs``."""
        with self._ended_lock:
            self._unended.pop(run.run_id, None)
            self._ended[run.run_id] = run

    def _reopened(self, run: Run) -> None:
        """A repair made ``run`` active again (called under its lock)."""
        with self._ended_lock:
            self._ended.pop(run.run_id, None)
            self._unended[run.run_id] = run

    def _evict_finished(self) -> None:
        """Drop the runs that finished first while more than ``max_finished_runs`` have finished."""
        cap = self.max_finished_runs
        if cap is None or len(self.runs) <= cap:
            return
        with self._ended_lock:
            stale = list(itertools.islice(self._unended.values(), _SWEEP))
            for run in stale:
                self._unended.move_to_end(run.run_id)
        for run in stale:
            with run.lock:
                if run.is_active():
                    self.catch_up(run)
        while True:
            with self._ended_lock:
                if len(self._ended) <= cap:
                    return
                _, run = self._ended.popitem(last=False)
            with run.lock:
                if run.is_active():
                    continue  # repaired meanwhile: it is back among the unended runs
                with self._lock:
                    if self.runs.get(run.run_id) is run:
                        del self.runs[run.run_id]
                        for attempt in run.all_attempts():
                            self.attempts.pop(attempt.run_id, None)

    def page_url(self, job_id: int, run_id: int) -> str:
        return f"{self.base_url}/?o={self.workspace_id}#job/{job_id}/run/{run_id}"

    def catch_up(self, run: Run) -> float:
        """Move ``run`` to the clock's time (an ``InstantClock`` first jumps ahead); the caller holds its lock."""
        clock = self.clock
        if isinstance(clock, InstantClock):
            settle(run, clock)
        now = clock.now()
        run.advance(now)
        return now

    def _creation_time(self) -> float:
        """
        When a run created now is submitted (the caller holds ``_lock``): the clock's time, except that an
        ``InstantClock`` first moves to the millisecond after the last run created, as two runs one client
        makes one after the other never share a millisecond in a workspace (their ``start_time`` then
        orders them, as clients that compare it expect).
        """
        clock = self.clock
        if isinstance(clock, InstantClock) and self._last_created is not None:
            clock.advance_to((ms(self._last_created) + 1) / 1000)
        now = clock.now()
        self._last_created = now
        return now

    def snapshot(self) -> list[Run]:
        """The runs that exist now, oldest first."""
        with self._lock:
            return list(self.runs.values())

    # -- operations ----------------------------------------------------------------------------------

    def submit(self, body: dict[str, Any], *, single_task: bool = False) -> int:
        """
        Create a run from a checked body, or return the run its idempotency token already names.

        ``single_task``: the body was sent in the single-task form (task fields at the top level).
        """
        token = body.get("idempotency_token")
        with self._lock:
            if isinstance(token, str) and token:
                if token in self.tokens:
                    return self.tokens[token]
                if token in self.deleted_tokens:
                    raise invalid(
                        f"The run submitted with idempotency token {token!r} was deleted; "
                        "a token cannot be used again after its run is deleted."
                    )
            now = self._creation_time()
            limiter = self.limiter
            held = limiter.admit(body, now) if limiter is not None else False
            run_id = self.next_id()
            run = Run(self, run_id, next(self._job_ids), copy.deepcopy(body), now)
            run.single_task = single_task
            with run.lock:
                if held:
                    run.hold()
                self.runs[run_id] = run
                if isinstance(token, str) and token:
                    self.tokens[token] = run_id
            if limiter is not None:
                limiter.track(run, held)
        with self._ended_lock:
            self._unended[run_id] = run
        with run.lock:
            run.advance(now)
        self._evict_finished()
        return run_id

    def find(self, run_id: int) -> tuple[Run, Attempt | None]:
        """The run ``run_id`` names, and the task attempt when it is a task run id."""
        with self._lock:
            run = self.runs.get(run_id)
            if run is not None:
                return run, None
            found = self.attempts.get(run_id)
            if found is not None and found[1].run_id in self.runs:
                return found[1], found[0]
        raise invalid(f"Run {run_id} does not exist.")

    def get(
        self,
        run_id: int,
        page_token: str | None = None,
        *,
        history: bool = False,
        version: str = "2.2",
    ) -> dict[str, Any]:
        """
        ``runs/get``: the run (or task run) with ``tasks`` / ``iterations`` paged by 100.

        ``history`` adds ``repair_history`` (``include_history=true``); on ``version`` 2.0 a run submitted
        in the single-task form also shows its task at the top level, as 2.0 clients read it.
        """
        run, attempt = self.find(run_id)
        offset = decode_page_token(page_token, run_id)
        with run.lock:
            now = self.catch_up(run)
            if attempt is None:
                full = render_run(run, self, now, page=(offset, PAGE_SIZE))
                if history:
                    full["repair_history"] = render_history(run, self, now)
                if version == "2.0" and run.single_task:
                    full.update(render_single_task(run, full["tasks"][-1] if full["tasks"] else {}))
                total = len(run.task_entries())
            else:
                full = render_task_run(run, attempt, self, now, page=(offset, PAGE_SIZE))
                total = task_run_items(attempt)
        if offset > total:
            raise invalid("The page_token does not belong to this run.")
        if offset + PAGE_SIZE < total:
            full["next_page_token"] = encode_page_token(run_id, offset + PAGE_SIZE)
        return full

    def get_output(self, run_id: int) -> dict[str, Any]:
        """``runs/get-output`` of a task run (or of the only task of a single-task run)."""
        run, attempt = self.find(run_id)
        with run.lock:
            now = self.catch_up(run)
            if attempt is None:
                if len(run.nodes) != 1:
                    raise invalid(
                        "Retrieving the output of runs with multiple tasks is not supported. "
                        "Please retrieve the output of each individual task run instead."
                    )
                attempt = next(iter(run.nodes.values())).last
            return render_output(run, attempt, self, now)

    def render(self, run_id: int) -> dict[str, Any]:
        """The run (or task run) as ``runs/get`` shows it now, with all its tasks (no paging)."""
        run, attempt = self.find(run_id)
        with run.lock:
            now = self.catch_up(run)
            if attempt is None:
                return render_run(run, self, now)
            return render_task_run(run, attempt, self, now)

    def cancel(self, run_id: int) -> None:
        """``runs/cancel``: a run, or a single task run. Asynchronous: the run goes to TERMINATING."""
        run, attempt = self.find(run_id)
        with run.lock:
            now = self.catch_up(run)
            if attempt is None:
                run.abort(now, CANCELED)
            else:
                run.cancel_attempt(attempt, now)
            run.advance(now)

    def cancel_all(self, job_id: int | None, all_queued: bool) -> None:
        """``runs/cancel-all``: the run of ``job_id``, or every queued run."""
        for run in self.snapshot():
            with run.lock:
                now = self.catch_up(run)
                chosen = run.job_id == job_id if job_id is not None else all_queued and not run.started
                if chosen:
                    run.abort(now, CANCELED)
                run.advance(now)

    def repair(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """``runs/repair``: re-run tasks of a finished run; ``{"repair_id": ...}``."""
        if "run_id" not in request or request["run_id"] in (None, ""):
            raise invalid("Missing required field: run_id")
        run_id = int64(request["run_id"], "run_id")
        run, attempt = self.find(run_id)
        if attempt is not None:
            raise invalid(f"Run {run_id} is a task run; repair the run it belongs to ({run.run_id}).")
        if not self.repair_one_time_runs:
            raise invalid(ONE_TIME_REFUSAL)
        with run.lock:
            if self.runs.get(run_id) is not run:
                raise invalid(f"Run {run_id} does not exist.")  # deleted or dropped meanwhile
            now = self.catch_up(run)
            repair_id = self.next_id()
            repair(run, request, self, now, repair_id=repair_id)
            if run.is_active():
                self._reopened(run)
        return {"repair_id": repair_id}

    def delete(self, run_id: int) -> None:
        """``runs/delete``: only runs that have ended; their idempotency token stays unusable."""
        run, attempt = self.find(run_id)
        if attempt is not None:
            raise invalid(f"Run {run_id} is a task run; delete the run it belongs to ({run.run_id}).")
        with run.lock:
            self.catch_up(run)
            if run.is_active():
                raise ApiFailure(
                    400,
                    "INVALID_STATE",
                    f"Run {run_id} is still active and cannot be deleted; cancel it and wait until it has terminated.",
                )
        with self._lock:
            if self.runs.pop(run_id, None) is None:
                raise invalid(f"Run {run_id} does not exist.")
            with self._ended_lock:
                self._ended.pop(run_id, None)
                self._unended.pop(run_id, None)
            for attempt_ in run.all_attempts():
                self.attempts.pop(attempt_.run_id, None)
            if run.token is not None:
                self.tokens.pop(run.token, None)
                self.deleted_tokens.add(run.token)

    def list(self, query: Mapping[str, Any]) -> dict[str, Any]:
        """``runs/list``: newest first, filtered, paged with ``page_token`` (or the old ``offset``)."""
        active_only = bool_param(query, "active_only")
        completed_only = bool_param(query, "completed_only")
        if active_only and completed_only:
            raise invalid("active_only and completed_only cannot both be true.")
        limit = int_param(query, "limit")
        if limit is None:
            limit = LIST_LIMIT_DEFAULT
        elif limit == 0:
            limit = LIST_LIMIT_MAX
        if limit > LIST_LIMIT_MAX:
            raise invalid(f"Invalid limit {limit} - it has to be no more than {LIST_LIMIT_MAX}.")
        if limit < 0:
            raise invalid(f"Invalid limit {limit} - it has to be at least 1.")
        run_type = query.get("run_type")
        if run_type is not None and run_type not in ("JOB_RUN", "SUBMIT_RUN", "WORKFLOW_RUN"):
            raise invalid(f"Unknown run_type {run_type!r}.")
        job_id = int_param(query, "job_id")
        start_from = int_param(query, "start_time_from")
        start_to = int_param(query, "start_time_to")
        expand = bool_param(query, "expand_tasks")
        offset = int_param(query, "offset") or 0
        if query.get("page_token"):
            offset = decode_page_token(str(query["page_token"]), 0)
        if offset < 0:
            raise invalid("offset must not be negative.")
        selected: list[tuple[Run, float]] = []
        for run in sorted(self.snapshot(), key=lambda r: (r.submitted, r.run_id), reverse=True):
            with run.lock:
                now = self.catch_up(run)
                active = run.is_active()
            if run_type is not None and run_type != "SUBMIT_RUN":
                continue
            if job_id is not None and run.job_id != job_id:
                continue
            if active_only and not active:
                continue
            if completed_only and active:
                continue
            started = ms(run.submitted)
            if start_from is not None and started < start_from:
                continue
            if start_to is not None and started > start_to:
                continue
            selected.append((run, now))
        page = selected[offset : offset + limit]
        out: dict[str, Any] = {"has_more": offset + limit < len(selected)}
        if page:
            rendered = []
            for run, now in page:
                with run.lock:
                    item = render_run(run, self, now, page=(0, PAGE_SIZE if expand else 0))
                    if expand:
                        item["has_more"] = len(run.task_entries()) > PAGE_SIZE
                    else:
                        del item["tasks"]
                rendered.append(item)
            out["runs"] = rendered
        if out["has_more"]:
            out["next_page_token"] = encode_page_token(0, offset + limit)
        if offset > 0:
            out["prev_page_token"] = encode_page_token(0, max(0, offset - limit))
        return out


def settle(run: Run, clock: ManualClock) -> None:
    """
    Move ``clock`` from event to event until ``run`` has nothing more to do on its own, then past the
    setup of every task still going (one that hangs with no timeout): it reads ``RUNNING``, as it does
    in real time once its cluster is up.
    """
    while True:
        upcoming = next_event_time([run])
        if upcoming is None:
            break
        clock.advance_to(upcoming)
        run.advance(max(upcoming, clock.now()))
    ready = [a.started + a.setup for a in run.active if a.started is not None]
    if ready:
        clock.advance_to(max(ready))
