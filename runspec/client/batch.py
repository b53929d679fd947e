"""
``Workspace.submit_many(items)``: hundreds or thousands of keyed runs, kept inside the workspace's
budgets, resumable after a crash with no state store.

::

    batch = workspace.submit_many({f"orders/{day}": spec_for(day) for day in days})
    batch.results["orders/2026-12-01"].status      # "succeeded", "failed", "cancelled", "not started"
    batch.failed()                                 # {key: ItemOutcome} of the runs that failed
    batch.repair_failed()                          # re-run their failed tasks, then follow them

How it works:

* **Checked first.** Every spec is loaded and checked before the first is sent; the problems of all
  of them are raised at once as one ``SpecError``, each path starting with its item's key.
* **Keys make it resumable.** Each item's key is its run key (``submit(key=)``): the idempotency
  token comes from the key and the attempt, so running the same batch again (after a crash, a
  Ctrl-C with ``cancel_on_interrupt=False``, a lost laptop) reaches every run already created and
  submits only the rest; no item ever starts twice. A key whose run was made from another spec
  (other run name or task keys) is a ``KeyConflict`` for that item only.
* **Admission** (``runspec.client.admission``). An item is sent only when the batch stays inside
  four budgets: task runs active at once (each run counts one per task, a For each task its
  ``concurrency``; a queued run counts as active), Run Job and For each parent tasks active at once
  (a budget of their own), runs created per rolling hour, and requests per second (submit, list and
  get together). The request rate halves on each 429
  ``REQUEST_LIMIT_EXCEEDED`` (waiting what ``Retry-After`` asks) and creeps back up while requests
  succeed.
* **Limits hold, they never fail.** A 429 because the workspace's active runs are at their limit and
  the hourly-limit 400 ``INVALID_STATE`` put the item back in line for later; so do 5xx answers and
  lost connections (the token makes resending safe). A run the workspace accepted but then skipped
  because of a limit has used its key's attempt: the item is sent again under the next attempt, and
  its outcome lists the skipped run. Any other 4xx is that item's failure (``not started``, with the
  error); a workspace that refuses the credentials or cannot be reached stops the batch.
* **Cheap following** (``runspec.client.batch_follow``). Active runs are followed by paging
  ``runs/list`` (one-time runs started since the oldest run still followed, 24 a page) instead of
  one ``runs/get`` per run per poll; a run that ended is read once more with ``runs/get`` only when
  the list does not say enough (it failed: its failed tasks and their errors are read; it has more
  than 100 tasks; or it is an older run a resumed batch reached, beyond the pages read). A poll
  comes when the next run is due to end, predicted from the shortest run seen (every quarter second
  before any ended), further apart (up to five seconds) while nothing changes, and never takes more
  than half the request rate.
* **Interrupts.** Ctrl-C (``KeyboardInterrupt``) stops sending and cancels every run of the batch still
  active, then re-raises (the ``Batch`` is on the exception as ``batch``); with
  ``cancel_on_interrupt=False`` the runs go on and running the batch again resumes it.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from runspec._budgets import is_hourly_limit
from runspec.client.admission import (
    DEFAULT_MAX_ACTIVE_PARENT_TASKS,
    DEFAULT_MAX_ACTIVE_TASKS,
    DEFAULT_REQUESTS_PER_SECOND,
    DEFAULT_RUNS_PER_HOUR,
    Admission,
    backoff,
    is_request_rate,
)
from runspec.client.batch_follow import SLOW_POLL, Following
from runspec.client.batch_items import BatchItem, ItemOutcome, check_items
from runspec.client.handle import RunHandle
from runspec.client.keys import check_key_run, deleted_key_error
from runspec.client.pages import read_run
from runspec.client.results import RunView
from runspec.client.transport import Transport
from runspec.errors import (
    ApiError,
    KeyConflict,
    PermissionDenied,
    RateLimited,
    RunspecError,
    ServerError,
    SubmitError,
    TransportError,
    Unauthenticated,
    WorkspaceUnreachable,
)

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from runspec.client.auth import Connection

__all__ = [
    "DEFAULT_MAX_ACTIVE_PARENT_TASKS",
    "DEFAULT_MAX_ACTIVE_TASKS",
    "DEFAULT_REQUESTS_PER_SECOND",
    "DEFAULT_RUNS_PER_HOUR",
    "Batch",
    "BatchProgress",
    "ItemOutcome",
    "submit_many",
]

log = logging.getLogger("runspec")

_INTERRUPT_DEADLINE = 30.0
#: Termination codes (and legacy states) of a run the workspace skipped because of a limit.
_LIMIT_CODES = frozenset(
    {
        "WORKSPACE_RUN_LIMIT_EXCEEDED",
        "MAX_CONCURRENT_RUNS_EXCEEDED",
        "MAX_JOB_QUEUE_SIZE_EXCEEDED",
        "MAXIMUM_CONCURRENT_RUNS_REACHED",
        "QUEUE_TIMEOUT",
    }
)


@dataclass(frozen=True)
class BatchProgress:
    """
    Counts of a batch at one moment, passed to ``progress``: items ``pending`` (not sent yet),
    ``held`` (of those, held back by admission until a budget or a limit allows them),
    ``running``, ``succeeded``, ``failed`` (``cancelled`` and ``not started`` counted apart),
    ``total``, and ``submitted`` (runs this batch created or reached). ``rate`` is the request
    rate the batch allows itself now (per second), ``requests`` the requests it made so far.
    """

    total: int
    pending: int
    held: int
    running: int
    succeeded: int
    failed: int
    cancelled: int
    not_started: int
    submitted: int
    rate: float
    requests: int
    elapsed: float

    @property
    def line(self) -> str:
        """``submitted 120/300 · held 40 · running 20 · succeeded 95 · failed 5 · 9.5 req/s``."""
        parts = [
            f"submitted {self.submitted}/{self.total}",
            f"held {self.held}",
            f"running {self.running}",
            f"succeeded {self.succeeded}",
            f"failed {self.failed}",
        ]
        if self.cancelled:
            parts.append(f"cancelled {self.cancelled}")
        if self.not_started:
            parts.append(f"not started {self.not_started}")
        parts.append(f"{self.rate:.1f} req/s")
        return " · ".join(parts)

    def same_counts(self, other: BatchProgress) -> bool:
        """True when ``other`` counts the same items in each state (rate and time aside)."""
        return self._counts() == other._counts()

    def _counts(self) -> tuple[int, ...]:
        return (self.pending, self.held, self.running, self.succeeded, self.failed, self.cancelled, self.not_started)


class Batch:
    """
    A batch of keyed runs: ``results`` (key -> ``ItemOutcome``, in the order given), ``handles``
    (key -> ``RunHandle`` of each run reached), ``failed()``, ``repair_failed()``, ``cancel()``,
    ``wait()`` (after ``submit_many(..., wait=False)``), and ``summary()``.
    """

    def __init__(
        self,
        transport: Transport,
        items: list[BatchItem],
        *,
        max_active_tasks: int,
        runs_per_hour: int,
        requests_per_second: float,
        progress: Callable[[BatchProgress], None] | None,
        cancel_on_interrupt: bool,
        max_active_parent_tasks: int = DEFAULT_MAX_ACTIVE_PARENT_TASKS,
    ) -> None:
        self._transport = transport
        self._items = items
        self._by_key = {item.key: item for item in items}
        self._admission = Admission(
            transport,
            max_active_tasks=max_active_tasks,
            max_active_parent_tasks=max_active_parent_tasks,
            runs_per_hour=runs_per_hour,
            requests_per_second=requests_per_second,
        )
        self._following = Following(self._admission)
        self._clock = transport.clock
        self._sleep = transport.sleep
        self._progress = progress
        self.cancel_on_interrupt = cancel_on_interrupt
        self._queue: deque[BatchItem] = deque(items)
        self._began = self._clock()
        self._last_report: BatchProgress | None = None
        self._started = False

    # -- public ----------------------------------------------------------------------------------

    @property
    def max_active_tasks(self) -> int:
        """Task runs this batch keeps active at once."""
        return self._admission.max_active_tasks

    @property
    def max_active_parent_tasks(self) -> int:
        """Run Job and For each parent tasks this batch keeps active at once."""
        return self._admission.max_active_parent_tasks

    @property
    def runs_per_hour(self) -> int:
        """Runs this batch creates per rolling hour at most."""
        return self._admission.runs_per_hour

    @property
    def results(self) -> dict[str, ItemOutcome]:
        """Key -> ``ItemOutcome`` for every item, in the order given."""
        return {item.key: item.outcome for item in self._items}

    @property
    def handles(self) -> dict[str, RunHandle]:
        """Key -> ``RunHandle`` of each item's run (items never sent have none)."""
        return {item.key: item.handle for item in self._items if item.handle is not None}

    @property
    def requests(self) -> int:
        """Requests this batch sent to the workspace so far."""
        return self._admission.requests

    def failed(self) -> dict[str, ItemOutcome]:
        """The items whose run failed (``status == "failed"``)."""
        return {key: o for key, o in self.results.items() if o.status == "failed"}

    def summary(self) -> dict[str, int]:
        """Items per status (only the statuses that occur)."""
        counts: dict[str, int] = {}
        for outcome in self.results.values():
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    def __repr__(self) -> str:
        counts = ", ".join(f"{status}={n}" for status, n in self.summary().items())
        return f"<Batch {len(self._items)} items: {counts}>"

    def wait(self) -> Batch:
        """Send what is left and follow every run to its end; returns the batch."""
        self._drive(until="done")
        return self

    def cancel(self) -> list[int]:
        """Cancel every run of this batch that is still active; the run ids asked to cancel."""
        cancelled: list[int] = []
        self._queue.clear()
        for item in list(self._items):
            if item.outcome.status == "pending":
                item.outcome.status = "not started"
                item.outcome.reason = "the batch was cancelled before it was sent"
        for run_id, item in list(self._following.running.items()):
            handle = item.handle
            if handle is None:
                continue
            self._admission.pace()
            try:
                handle.cancel(deadline=_INTERRUPT_DEADLINE)
            except RunspecError as exc:
                log.error("key %r: could not cancel run %d (%s); it may still be running", item.key, run_id, exc)
                continue
            cancelled.append(run_id)
            item.outcome.status = "cancelled"
            item.outcome.reason = "cancelled by the batch"
            self._end(item, run_id)
        self._report(force=True)
        return cancelled

    def repair_failed(self, *, wait: bool = True) -> dict[str, int]:
        """
        Repair each failed run (its failed tasks and their dependents, ``runs/repair``) at the
        batch's request rate; with ``wait`` follow each to its end and update its outcome. Returns
        key -> repair id. A workspace that will not repair one-time runs fails each item's repair
        with an ``ApiError`` saying so (kept as its ``error``).
        """
        repairs: dict[str, int] = {}
        for key, outcome in self.failed().items():
            item = self._by_key[key]
            if item.handle is None:
                continue
            self._admission.pace()
            try:
                repairs[key] = item.handle.repair()
            except RunspecError as exc:
                outcome.error = exc
                outcome.reason = f"repair refused: {exc}"
        if wait:
            for key in repairs:
                item = self._by_key[key]
                assert item.handle is not None
                item.outcome.status = "running"
                try:
                    run = item.handle.wait(cancel_on_interrupt=self.cancel_on_interrupt)
                except RunspecError as exc:
                    self._settle_failure(item, exc)
                else:
                    self._succeeded(item, run)
                self._report(force=True)
        return repairs

    # -- the loop --------------------------------------------------------------------------------

    def _drive(self, *, until: Literal["sent", "done"]) -> None:
        try:
            if not self._started:
                self._started = True
                self._following.begin()
            while True:
                self._send_ready()
                if not self._queue and (until == "sent" or not self._following.running):
                    break
                if self._following.due(self._clock()):
                    self._poll()
                    continue
                self._report()
                self._sleep(self._pause())
            if until == "sent" and self._following.running:
                self._poll()  # what each run is, and which existed before, as the batch returns
            self._report(force=True)
        except KeyboardInterrupt as exc:
            self._interrupted()
            exc.batch = self  # type: ignore[attr-defined]
            raise

    def _pause(self) -> float:
        """Seconds until something can happen: a poll, a held item, a request token."""
        now = self._clock()
        running = bool(self._following.running)
        moments = [self._following.next_poll] if running else []
        if self._queue and not (self._admission.want_slots and running):  # else only a poll can free task runs
            head = min(self._queue, key=lambda item: item.not_before)
            moments.append(max(head.not_before, self._admission.opens_at(now)))
        if not moments:
            return 0.05
        return min(max(min(moments) - now, 0.01), SLOW_POLL)

    def _interrupted(self) -> None:
        active = len(self._following.running)
        if not self.cancel_on_interrupt:
            log.warning("batch interrupted; %d runs go on (run the batch again to resume it)", active)
            self._queue.clear()
            return
        log.warning("batch interrupted; cancelling its %d active runs", active)
        try:
            self.cancel()
        except KeyboardInterrupt:
            log.error("interrupted again while cancelling; some runs may still be running")

    # -- sending ---------------------------------------------------------------------------------

    def _send_ready(self) -> None:
        """Submit the items that are due, in order, while the budgets allow."""
        rounds = len(self._queue)
        while self._queue and rounds > 0:
            rounds -= 1
            item = self._queue[0]
            now = self._clock()
            if item.not_before > now:
                self._queue.rotate(-1)  # a held item lets the ones after it go
                continue
            if self._following.due(now):
                return  # following the runs already sent comes first
            if not self._admission.allows(item.weight, now, item.parents):
                if item.hold_reason is None:
                    item.hold_reason = "budget"
                return
            self._queue.popleft()
            self._submit(item)
            self._report()

    def _hold(self, item: BatchItem, reason: str, seconds: float | None = None) -> None:
        item.holds += 1
        item.not_before = self._clock() + (seconds if seconds is not None else backoff(item.holds - 1))
        item.hold_reason = reason
        self._queue.appendleft(item)

    def _submit(self, item: BatchItem) -> None:
        item.tries += 1
        try:
            answer = self._admission.call(
                "POST", "runs/submit", body=item.body, idempotency_token=item.token, deadline=self._transport.deadline
            )
        except RateLimited as exc:
            if is_request_rate(exc):
                self._hold(item, "request rate", exc.retry_after or 1.0)
            else:  # the workspace's active runs are at its limit: wait for ours to end, or a while
                self._admission.active_limited(item.holds)
                self._hold(item, "active runs limit", 0.0)
            return
        except (ServerError, TransportError) as exc:
            if isinstance(exc, WorkspaceUnreachable):
                raise
            log.warning("key %r: %s; sending it again later (same token: no second run)", item.key, exc)
            self._hold(item, "workspace error")
            return
        except ApiError as exc:
            if is_hourly_limit(exc.error_code, exc.message):
                self._admission.hourly_limited()
                self._hold(item, "runs per hour limit", 0.0)
                return
            if isinstance(exc, (Unauthenticated, PermissionDenied)):
                raise
            if exc.status in (400, 404, 409) and "delet" in exc.message.lower():
                exc = deleted_key_error(exc, item.key, item.attempt)
            self._not_started(item, exc)
            return
        self._admission.accepted()
        run_id = answer.get("run_id") if isinstance(answer, dict) else None
        if isinstance(run_id, bool) or not isinstance(run_id, int):
            self._not_started(item, SubmitError("runs/submit answered without a run_id", method="POST"))
            return
        self._admission.started(item.weight, item.parents)
        item.handle = RunHandle(run_id, self._transport, idempotency_token=item.token)
        item.outcome.run_id = run_id
        item.outcome.status = "running"
        item.hold_reason = None
        item.checked = False
        item.start_time = None
        self._following.sent(item, run_id)

    def _not_started(self, item: BatchItem, exc: RunspecError) -> None:
        item.outcome.status = "not started"
        item.outcome.error = exc
        item.outcome.reason = str(exc)
        log.error("key %r: not started: %s", item.key, exc)

    # -- following -------------------------------------------------------------------------------

    def _poll(self) -> None:
        """Read the runs followed (``Following.poll``), settle the ones that ended, plan the next poll."""
        changed = self._following.poll(self._look)
        if changed is None:
            return
        self._following.schedule(changed, waiting=self._admission.want_slots and bool(self._queue))

    def _look(self, item: BatchItem, raw: dict[str, Any]) -> bool:
        """Take in what the workspace says of an item's run; True when the run ended."""
        run = RunView(raw)
        run_id = run.run_id if run.run_id is not None else item.outcome.run_id
        assert run_id is not None
        if item.start_time is None and isinstance(raw.get("start_time"), int):
            item.start_time = raw["start_time"]
            item.outcome.reattached = self._following.existed_before(run_id, item.start_time)
        if not item.checked:
            if raw.get("has_more") is True:  # more than 100 tasks: the list does not show them all
                self._admission.pace()
                raw = read_run(self._transport, run_id)
                run = RunView(raw)
            try:
                check_key_run(item.key, item.attempt, item.body, raw, run_id)
            except KeyConflict as exc:
                self._end(item, run_id)
                item.handle = None
                item.outcome.run_id = None
                self._not_started(item, exc)
                return True
            item.checked = True
        if not run.state.finished:
            return False
        self._following.saw_end(item)
        self._end(item, run_id)
        outcome = item.outcome
        outcome.run = run
        state = run.state
        if state.termination_code in _LIMIT_CODES or state.result_state in _LIMIT_CODES:
            outcome.skipped_runs.append(run_id)
            log.warning(
                "key %r: run %d was skipped by a workspace limit (%s); sending it again as attempt %d",
                item.key,
                run_id,
                state.label,
                item.attempt + 1,
            )
            item.use_attempt(item.attempt + 1)
            outcome.status = "pending"
            outcome.run_id = None
            item.handle = None
            item.holds = 0
            self._hold(item, "skipped by a limit", 0.0)
            return True
        if run.succeeded():
            self._succeeded(item, run)
            return True
        if state.outcome in ("CANCELED", "USER_CANCELED", "CANCELLED") or state.result_state == "CANCELED":
            outcome.status = "cancelled"
            outcome.reason = state.message or "the run was cancelled"
            return True
        self._admission.pace()
        full = RunView(read_run(self._transport, run_id))
        outcome.run = full
        assert item.handle is not None
        outcome.failed_tasks = item.handle.failed_tasks(full)
        outcome.status = "failed"
        outcome.reason = full.describe()
        return True

    def _end(self, item: BatchItem, run_id: int) -> None:
        if self._following.ended(run_id):
            self._admission.ended(item.weight, item.parents)

    def _succeeded(self, item: BatchItem, run: RunView) -> None:
        item.outcome.status = "succeeded"
        item.outcome.run = run
        item.outcome.failed_tasks = []
        item.outcome.reason = None

    def _settle_failure(self, item: BatchItem, exc: RunspecError) -> None:
        from runspec.errors import RunFailed

        if isinstance(exc, RunFailed):
            item.outcome.status = "failed"
            item.outcome.failed_tasks = list(exc.failed_tasks)
            item.outcome.run = exc.run if isinstance(exc.run, RunView) else item.outcome.run
            item.outcome.reason = exc.message
        else:
            item.outcome.error = exc
            item.outcome.reason = str(exc)

    # -- progress --------------------------------------------------------------------------------

    def snapshot(self) -> BatchProgress:
        """The batch's counts now."""
        counts = self.summary()
        pending = counts.get("pending", 0)
        held = len(self._queue)
        sent = sum(1 for item in self._items if item.outcome.run_id is not None or item.outcome.status != "pending")
        sent -= counts.get("not started", 0)
        return BatchProgress(
            total=len(self._items),
            pending=pending,
            held=held,
            running=counts.get("running", 0),
            succeeded=counts.get("succeeded", 0),
            failed=counts.get("failed", 0),
            cancelled=counts.get("cancelled", 0),
            not_started=counts.get("not started", 0),
            submitted=sent,
            rate=self._admission.rate.rate,
            requests=self._admission.requests,
            elapsed=self._clock() - self._began,
        )

    def _report(self, force: bool = False) -> None:
        if self._progress is None:
            return
        now = self.snapshot()
        last = self._last_report
        if not force and last is not None and last.same_counts(now) and now.elapsed - last.elapsed < 1.0:
            return
        self._last_report = now
        self._progress(now)


def submit_many(
    workspace: Connection,
    items: Iterable[tuple[str, Any]] | Mapping[str, Any],
    *,
    max_active_tasks: int | None = None,
    runs_per_hour: int | None = None,
    requests_per_second: float | None = None,
    wait: bool = True,
    progress: Callable[[BatchProgress], None] | None = None,
    cancel_on_interrupt: bool = True,
    transport: Transport | None = None,
    max_active_parent_tasks: int | None = None,
) -> Batch:
    """The body of ``Workspace.submit_many()`` (see there and this module's notes)."""
    budgets = {"max_active_tasks": max_active_tasks, "max_active_parent_tasks": max_active_parent_tasks}
    for name, value in {**budgets, "runs_per_hour": runs_per_hour}.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if requests_per_second is not None and not (
        isinstance(requests_per_second, (int, float)) and 0 < requests_per_second < math.inf
    ):
        raise ValueError(f"requests_per_second must be a number > 0, got {requests_per_second!r}")
    checked = check_items(items)
    batch = Batch(
        transport if transport is not None else Transport(workspace),
        checked,
        max_active_tasks=max_active_tasks or DEFAULT_MAX_ACTIVE_TASKS,
        runs_per_hour=runs_per_hour or DEFAULT_RUNS_PER_HOUR,
        requests_per_second=float(requests_per_second or DEFAULT_REQUESTS_PER_SECOND),
        progress=progress,
        cancel_on_interrupt=cancel_on_interrupt,
        max_active_parent_tasks=max_active_parent_tasks or DEFAULT_MAX_ACTIVE_PARENT_TASKS,
    )
    batch._drive(until="done" if wait else "sent")
    return batch
