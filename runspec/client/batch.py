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
* **Admission.** An item is sent only when the batch stays inside three budgets: task runs active at
  once (each run counts one per task, a For each task its ``concurrency``; a queued run counts as
  active), runs created per rolling hour, and requests per second (submit, list and get together).
  The request rate halves on each 429 ``REQUEST_LIMIT_EXCEEDED`` (waiting what ``Retry-After`` asks)
  and creeps back up while requests succeed.
* **Limits hold, they never fail.** A 429 because the workspace's active runs are at their limit and
  the hourly-limit 400 ``INVALID_STATE`` put the item back in line for later; so do 5xx answers and
  lost connections (the token makes resending safe). A run the workspace accepted but then skipped
  because of a limit has used its key's attempt: the item is sent again under the next attempt, and
  its outcome lists the skipped run. Any other 4xx is that item's failure (``not started``, with the
  error); a workspace that refuses the credentials or cannot be reached stops the batch.
* **Cheap following.** Active runs are followed by paging ``runs/list`` (one-time runs started since
  the oldest run still followed, 24 a page) instead of one ``runs/get`` per run per poll; a run that
  ended is read once more with ``runs/get`` only when the list does not say enough (it failed: its
  failed tasks and their errors are read; it has more than 100 tasks; or it is an older run a resumed
  batch reached, beyond the pages read). A poll comes when the next
  run is due to end, predicted from the shortest run seen (every quarter second before any ended),
  further apart (up to five seconds) while nothing changes, and never takes more than half the
  request rate.
* **Interrupts.** Ctrl-C (``KeyboardInterrupt``) stops sending and cancels every run of the batch still
  active, then re-raises (the ``Batch`` is on the exception as ``batch``); with
  ``cancel_on_interrupt=False`` the runs go on and running the batch again resumes it.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from runspec._budgets import MAX_ACTIVE_TASKS, RUNS_PER_HOUR, is_hourly_limit, task_weight
from runspec.client.handle import RunHandle
from runspec.client.keys import check_key_run, deleted_key_error, key_token
from runspec.client.pages import read_run
from runspec.client.request import _request_body
from runspec.client.results import RunView, TaskView
from runspec.client.transport import Transport
from runspec.errors import (
    ApiError,
    KeyConflict,
    PermissionDenied,
    Problem,
    RateLimited,
    RunspecError,
    ServerError,
    SpecError,
    SubmitError,
    TransportError,
    Unauthenticated,
    WorkspaceUnreachable,
)

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from runspec.client.auth import Connection

__all__ = [
    "DEFAULT_MAX_ACTIVE_TASKS",
    "DEFAULT_REQUESTS_PER_SECOND",
    "DEFAULT_RUNS_PER_HOUR",
    "Batch",
    "BatchProgress",
    "ItemOutcome",
    "submit_many",
]

log = logging.getLogger("runspec")

#: Task runs a batch keeps active at once by default: the workspace's 2,000, with 10% headroom for others.
DEFAULT_MAX_ACTIVE_TASKS = MAX_ACTIVE_TASKS * 9 // 10
#: Runs a batch creates per rolling hour by default: the workspace's 10,000, with 10% headroom.
DEFAULT_RUNS_PER_HOUR = RUNS_PER_HOUR * 9 // 10
#: Requests per second a batch starts at by default (submit, list and get together); the workspace
#: publishes no reliable figure, and 429s lower it.
DEFAULT_REQUESTS_PER_SECOND = 20.0

_HOUR = 3600.0
_LIST_LIMIT = 24  # runs/list takes at most 24 a page
_MAX_LIST_PAGES = 100
_FAST_POLL = 0.25
_SLOW_POLL = 5.0
_POLL_GROWTH = 1.5
_FIRST_HOLD = 1.0  # seconds an item waits after a limit or a transient failure, doubled each time
_LONGEST_HOLD = 60.0
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

Status = Literal["pending", "running", "succeeded", "failed", "cancelled", "not started"]


@dataclass
class ItemOutcome:
    """
    What became of one item of a batch.

    ``status``: ``"succeeded"``, ``"failed"`` (``failed_tasks`` lists each task that did not
    succeed, with its error), ``"cancelled"``, ``"not started"`` (``reason`` says why, ``error`` is
    the exception), or, before the batch has finished, ``"pending"`` (not sent yet) and
    ``"running"``. ``run_id`` is the key's run; ``attempt`` the key's attempt that made it;
    ``reattached`` is True when that run existed before this batch (a resumed batch);
    ``skipped_runs`` the runs the workspace skipped because of a limit, each replaced under the next
    attempt.
    """

    key: str
    status: Status = "pending"
    run_id: int | None = None
    attempt: int = 1
    reattached: bool = False
    run: RunView | None = None
    failed_tasks: list[TaskView] = field(default_factory=list)
    reason: str | None = None
    error: RunspecError | None = None
    skipped_runs: list[int] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """True once nothing more will happen to this item."""
        return self.status in ("succeeded", "failed", "cancelled", "not started")

    def describe(self) -> str:
        """One line: key, status, run and why."""
        text = f"{self.key}: {self.status}"
        if self.run_id is not None:
            text += f" (run {self.run_id}" + (f", attempt {self.attempt}" if self.attempt > 1 else "") + ")"
        if self.failed_tasks:
            text += ": " + "; ".join(task.describe() for task in self.failed_tasks[:3])
        elif self.reason:
            text += f": {self.reason}"
        return text


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


class _Rate:
    """A token bucket for requests that halves its rate on each throttle and grows back slowly."""

    def __init__(self, ceiling: float, clock: Callable[[], float]) -> None:
        self.ceiling = ceiling
        self.rate = ceiling
        self.clock = clock
        self.tokens = 1.0
        self.stamp = clock()
        self.not_before = 0.0
        self.count = 0

    def wait_time(self) -> float:
        """Seconds until the next request may go."""
        now = self.clock()
        self.tokens = min(max(1.0, self.rate), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        wait = 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate
        return max(wait, self.not_before - now)

    def take(self) -> None:
        self.wait_time()
        self.tokens -= 1.0
        self.count += 1
        self.rate = min(self.ceiling, self.rate * 1.02)

    def throttled(self, retry_after: float | None) -> None:
        self.rate = max(0.2, self.rate / 2)
        self.tokens = min(self.tokens, 0.0)
        self.not_before = self.clock() + max(1.0, retry_after or 1.0)


@dataclass
class _Item:
    key: str
    body: dict[str, Any]
    weight: int
    outcome: ItemOutcome
    attempt: int = 1
    token: str = ""
    handle: RunHandle | None = None
    start_time: int | None = None
    sent_at: float = 0.0  # when the submit answered (this process's clock)
    checked: bool = False  # the key's run was compared with the spec
    not_before: float = 0.0
    holds: int = 0
    tries: int = 0
    hold_reason: str | None = None

    def use_attempt(self, attempt: int) -> None:
        self.attempt = attempt
        self.token = key_token(self.key, attempt)
        self.body["idempotency_token"] = self.token
        self.outcome.attempt = attempt


def _items(items: Iterable[tuple[str, Any]] | Mapping[str, Any]) -> list[tuple[str, Any]]:
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"submit_many() takes (key, spec) pairs or a mapping of them, not {pair!r}")
    return pairs


def _check(pairs: list[tuple[str, Any]]) -> list[_Item]:
    """Every item loaded and checked; one ``SpecError`` with every problem, each path under its key."""
    problems: list[Problem] = []
    items: list[_Item] = []
    seen: set[str] = set()
    for key, spec in pairs:
        where = f"[{key!r}]"
        if not isinstance(key, str) or not key.strip():
            problems.append(Problem(where, "invalid-key", "a key is a non-empty string (it names the item's run)"))
            continue
        if key in seen:
            problems.append(Problem(where, "duplicate-key", f"key {key!r} is given twice; each item needs its own"))
            continue
        seen.add(key)
        try:
            body = _request_body(spec)
        except SpecError as exc:
            problems.extend(Problem(where + p.path, p.code, p.message) for p in exc.problems)
            continue
        if body.get("idempotency_token"):
            problems.append(
                Problem(
                    where + "$.idempotency_token",
                    "idempotency-token-conflict",
                    "the key derives the idempotency token; remove it from the spec",
                )
            )
            continue
        outcome = ItemOutcome(key)
        item = _Item(key, body, task_weight(body), outcome)
        item.use_attempt(1)
        items.append(item)
    if problems:
        raise SpecError(problems, subject=f"the batch ({len(pairs)} items)")
    return items


class Batch:
    """
    A batch of keyed runs: ``results`` (key -> ``ItemOutcome``, in the order given), ``handles``
    (key -> ``RunHandle`` of each run reached), ``failed()``, ``repair_failed()``, ``cancel()``,
    ``wait()`` (after ``submit_many(..., wait=False)``), and ``summary()``.
    """

    def __init__(
        self,
        transport: Transport,
        items: list[_Item],
        *,
        max_active_tasks: int,
        runs_per_hour: int,
        requests_per_second: float,
        progress: Callable[[BatchProgress], None] | None,
        cancel_on_interrupt: bool,
    ) -> None:
        self._transport = transport
        self._items = items
        self._by_key = {item.key: item for item in items}
        self.max_active_tasks = max_active_tasks
        self.runs_per_hour = runs_per_hour
        self._clock = transport.clock
        self._sleep = transport.sleep
        self._rate = _Rate(requests_per_second, self._clock)
        self._progress = progress
        self.cancel_on_interrupt = cancel_on_interrupt
        self._queue: deque[_Item] = deque(items)
        self._running: dict[int, _Item] = {}
        self._created: deque[float] = deque()
        self._hour_hold = 0.0
        self._hour_holds = 0
        self._capacity_hold = 0.0
        self._active_weight = 0
        self._next_poll = 0.0
        self._poll_pause = _FAST_POLL
        self._want_slots = False  # an item waits for runs of the batch to end
        self._shortest: float | None = None  # the shortest run seen, submit to seen ended (this clock)
        self._last_pages = 0  # list pages the last poll read
        self._poll_floor = 0.0  # no poll before this: polls take at most half the request rate
        self._newest_before: tuple[int, int] | None = None
        self._began = self._clock()
        self._last_report: BatchProgress | None = None
        self._started = False

    # -- public ----------------------------------------------------------------------------------

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
        return self._rate.count

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
        for run_id, item in list(self._running.items()):
            handle = item.handle
            if handle is None:
                continue
            self._pace()
            try:
                handle.cancel(deadline=_INTERRUPT_DEADLINE)
            except RunspecError as exc:
                log.error("key %r: could not cancel run %d (%s); it may still be running", item.key, run_id, exc)
                continue
            cancelled.append(run_id)
            item.outcome.status = "cancelled"
            item.outcome.reason = "cancelled by the batch"
            del self._running[run_id]
            self._active_weight -= item.weight
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
            self._pace()
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
                self._newest_before = self._newest_run()
            while True:
                self._send_ready()
                if not self._queue and (until == "sent" or not self._running):
                    break
                now = self._clock()
                if self._running and now >= self._next_poll:
                    self._poll()
                    continue
                self._report()
                self._sleep(self._pause())
            if until == "sent" and self._running:
                self._poll()  # what each run is, and which existed before, as the batch returns
            self._report(force=True)
        except KeyboardInterrupt as exc:
            self._interrupted()
            exc.batch = self  # type: ignore[attr-defined]
            raise

    def _pause(self) -> float:
        """Seconds until something can happen: a poll, a held item, a request token."""
        now = self._clock()
        moments = [self._next_poll] if self._running else []
        if self._queue and not (self._want_slots and self._running):  # else only a poll can free task runs
            head = min(self._queue, key=lambda item: item.not_before)
            moments.append(max(head.not_before, self._hour_hold, self._capacity_hold, now + self._rate.wait_time()))
        if not moments:
            return 0.05
        return min(max(min(moments) - now, 0.01), _SLOW_POLL)

    def _interrupted(self) -> None:
        if not self.cancel_on_interrupt:
            log.warning("batch interrupted; %d runs go on (run the batch again to resume it)", len(self._running))
            self._queue.clear()
            return
        log.warning("batch interrupted; cancelling its %d active runs", len(self._running))
        try:
            self.cancel()
        except KeyboardInterrupt:
            log.error("interrupted again while cancelling; some runs may still be running")

    def _pace(self) -> None:
        """Wait for the request rate, then count one request."""
        wait = self._rate.wait_time()
        if wait > 0:
            self._sleep(wait)
        self._rate.take()

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        """One request at the batch's rate; a 429 lowers the rate (and is raised to the caller)."""
        self._pace()
        try:
            return self._transport.call(method, endpoint, idempotent=False, **kwargs)
        except RateLimited as exc:
            if exc.error_code in (None, "REQUEST_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS"):
                self._rate.throttled(exc.retry_after)
            raise

    # -- sending ---------------------------------------------------------------------------------

    def _budget_allows(self, item: _Item, now: float) -> bool:
        if now < self._hour_hold or now < self._capacity_hold:
            return False
        while self._created and self._created[0] <= now - _HOUR:
            self._created.popleft()
        if len(self._created) >= self.runs_per_hour:
            self._hour_hold = self._created[0] + _HOUR
            return False
        fits = not self._active_weight or self._active_weight + item.weight <= self.max_active_tasks
        self._want_slots = not fits
        return fits

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
            if self._running and now >= self._next_poll:
                return  # following the runs already sent comes first
            if not self._budget_allows(item, now):
                if item.hold_reason is None:
                    item.hold_reason = "budget"
                return
            self._queue.popleft()
            self._submit(item)
            self._report()

    def _hold(self, item: _Item, reason: str, seconds: float | None = None) -> None:
        item.holds += 1
        wait = seconds if seconds is not None else min(_LONGEST_HOLD, _FIRST_HOLD * 2 ** min(item.holds - 1, 6))
        item.not_before = self._clock() + wait
        item.hold_reason = reason
        self._queue.appendleft(item)

    def _submit(self, item: _Item) -> None:
        item.tries += 1
        try:
            answer = self._call(
                "POST", "runs/submit", body=item.body, idempotency_token=item.token, deadline=self._transport.deadline
            )
        except RateLimited as exc:
            if exc.error_code in (None, "REQUEST_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS"):
                self._hold(item, "request rate", exc.retry_after or 1.0)
            else:  # the workspace's active runs are at its limit: wait for ours to end, or a while
                self._capacity_hold = self._clock() + min(_LONGEST_HOLD, _FIRST_HOLD * 2 ** min(item.holds, 6))
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
                self._hour_holds += 1
                self._hour_hold = self._clock() + min(_LONGEST_HOLD, _FIRST_HOLD * 2 ** min(self._hour_holds - 1, 6))
                self._hold(item, "runs per hour limit", 0.0)
                return
            if isinstance(exc, (Unauthenticated, PermissionDenied)):
                raise
            if exc.status in (400, 404, 409) and "delet" in exc.message.lower():
                exc = deleted_key_error(exc, item.key, item.attempt)
            self._not_started(item, exc)
            return
        self._hour_holds = 0
        run_id = answer.get("run_id") if isinstance(answer, dict) else None
        if isinstance(run_id, bool) or not isinstance(run_id, int):
            self._not_started(item, SubmitError("runs/submit answered without a run_id", method="POST"))
            return
        self._created.append(self._clock())
        item.handle = RunHandle(run_id, self._transport, idempotency_token=item.token)
        item.outcome.run_id = run_id
        item.outcome.status = "running"
        item.hold_reason = None
        item.checked = False
        item.start_time = None
        self._running[run_id] = item
        self._active_weight += item.weight
        item.sent_at = self._clock()
        if self._shortest is None:  # nothing to predict ends from yet
            self._next_poll = min(self._next_poll, max(item.sent_at + _FAST_POLL, self._poll_floor))

    def _not_started(self, item: _Item, exc: RunspecError) -> None:
        item.outcome.status = "not started"
        item.outcome.error = exc
        item.outcome.reason = str(exc)
        log.error("key %r: not started: %s", item.key, exc)

    # -- following -------------------------------------------------------------------------------

    def _newest_run(self) -> tuple[int, int] | None:
        """(run id, start time) of the newest one-time run before this batch, to tell reattached runs."""
        try:
            answer = self._call("GET", "runs/list", query={"run_type": "SUBMIT_RUN", "limit": 1})
        except (ApiError, TransportError) as exc:
            if isinstance(exc, (Unauthenticated, PermissionDenied, WorkspaceUnreachable)):
                raise
            return None
        runs = answer.get("runs") if isinstance(answer, dict) else None
        first = runs[0] if isinstance(runs, list) and runs and isinstance(runs[0], dict) else {}
        run_id, started = first.get("run_id"), first.get("start_time")
        return (run_id, started) if isinstance(run_id, int) and isinstance(started, int) else None

    def _poll(self) -> None:
        """Read the one-time runs started since the oldest one followed; settle the ones that ended."""
        starts = [item.start_time for item in self._running.values()]
        floor = min(s for s in starts if s is not None) if any(s is not None for s in starts) else None
        unknown = any(s is None for s in starts)
        seen: dict[int, dict[str, Any]] = {}
        token: str | None = None
        self._last_pages = 0
        changed = False
        # Pages enough to hold every run followed if they were the newest, and one more: a run
        # reattached to long ago is read with runs/get rather than by paging back to it.
        pages = min(_MAX_LIST_PAGES, len(self._running) // _LIST_LIMIT + 2) if unknown else _MAX_LIST_PAGES
        try:
            for _ in range(pages):
                query: dict[str, Any] = {"run_type": "SUBMIT_RUN", "expand_tasks": True, "limit": _LIST_LIMIT}
                if floor is not None and not unknown:
                    query["start_time_from"] = floor
                if token:
                    query["page_token"] = token
                answer = self._call("GET", "runs/list", query=query)
                self._last_pages += 1
                runs = answer.get("runs") if isinstance(answer, dict) else None
                oldest: int | None = None
                found = 0
                for raw in runs if isinstance(runs, list) else []:
                    if isinstance(raw, dict) and isinstance(raw.get("run_id"), int):
                        if raw["run_id"] in self._running:
                            seen[raw["run_id"]] = raw
                            found += 1
                        started = raw.get("start_time")
                        oldest = started if isinstance(started, int) else oldest
                token = answer.get("next_page_token") if isinstance(answer, dict) else None
                if len(seen) == len(self._running) or not token:
                    break
                # Runs whose start is not known yet were sent since the last poll (the newest) or
                # reached an older run: page on while pages still hold ours, and past the oldest
                # start known; what is not found is read with runs/get.
                past_floor = floor is None or (oldest is not None and oldest < floor)
                if unknown and not found and past_floor:
                    break
        except (ApiError, TransportError) as exc:
            if isinstance(exc, (Unauthenticated, PermissionDenied, WorkspaceUnreachable)):
                raise
            log.warning("runs/list failed (%s); trying again at the next poll", exc)
            self._next_poll = self._clock() + self._poll_pause
            return
        for run_id, item in list(self._running.items()):
            raw = seen.get(run_id)
            if raw is None:
                try:
                    self._pace()
                    raw = read_run(self._transport, run_id)
                except (ApiError, TransportError) as exc:
                    if isinstance(exc, (Unauthenticated, PermissionDenied, WorkspaceUnreachable)):
                        raise
                    log.warning("key %r: cannot read run %d (%s); trying again later", item.key, run_id, exc)
                    continue
            changed = self._look(item, raw) or changed
        self._schedule(changed)

    def _schedule(self, changed: bool) -> None:
        """
        When to poll next. Items waiting for task runs to free up need each end seen soon: with no
        run seen end yet, every quarter second while anything changes. Once runs have ended, the
        shortest (submit to seen ended) predicts when the others end: the poll comes when the next
        of them is due, and runs past their due time are looked at again with a growing pause.
        Otherwise the pause grows by half each poll that saw nothing change, up to five seconds.
        Polls never take more than half the request rate: a poll of many pages waits longer.
        """
        self._plan_poll(changed)
        self._poll_floor = self._clock() + 2 * self._last_pages / self._rate.rate
        self._next_poll = max(self._next_poll, self._poll_floor)

    def _plan_poll(self, changed: bool) -> None:
        now = self._clock()
        busy = changed or (self._want_slots and bool(self._queue))
        self._poll_pause = _FAST_POLL if busy else min(_SLOW_POLL, self._poll_pause * _POLL_GROWTH)
        following = now + self._poll_pause
        shortest = self._shortest
        if shortest is None or not self._running:
            self._next_poll = following
            return
        margin = 0.02
        due = sorted(item.sent_at + shortest + margin for item in self._running.values() if item.sent_at)
        ahead = [t for t in due if t > now]
        overdue = len(due) > len(ahead)
        if not ahead:
            self._next_poll = following
            return
        predicted = ahead[0]
        if overdue and not changed:
            predicted = min(predicted, following)
        self._next_poll = min(max(predicted, now + 0.05), now + _SLOW_POLL)

    def _look(self, item: _Item, raw: dict[str, Any]) -> bool:
        """Take in what the workspace says of an item's run; True when the run ended."""
        run = RunView(raw)
        run_id = run.run_id if run.run_id is not None else item.outcome.run_id
        assert run_id is not None
        if item.start_time is None and isinstance(raw.get("start_time"), int):
            item.start_time = raw["start_time"]
            item.outcome.reattached = self._existed_before(run_id, item.start_time)
        if not item.checked:
            if raw.get("has_more") is True:  # more than 100 tasks: the list does not show them all
                self._pace()
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
        if item.sent_at and not item.outcome.reattached:
            took = self._clock() - item.sent_at
            self._shortest = took if self._shortest is None else min(self._shortest, took)
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
        self._pace()
        full = RunView(read_run(self._transport, run_id))
        outcome.run = full
        assert item.handle is not None
        outcome.failed_tasks = item.handle.failed_tasks(full)
        outcome.status = "failed"
        outcome.reason = full.describe()
        return True

    def _end(self, item: _Item, run_id: int) -> None:
        if self._running.pop(run_id, None) is not None:
            self._active_weight -= item.weight
            self._capacity_hold = 0.0

    def _succeeded(self, item: _Item, run: RunView) -> None:
        item.outcome.status = "succeeded"
        item.outcome.run = run
        item.outcome.failed_tasks = []
        item.outcome.reason = None

    def _settle_failure(self, item: _Item, exc: RunspecError) -> None:
        from runspec.errors import RunFailed

        if isinstance(exc, RunFailed):
            item.outcome.status = "failed"
            item.outcome.failed_tasks = list(exc.failed_tasks)
            item.outcome.run = exc.run if isinstance(exc.run, RunView) else item.outcome.run
            item.outcome.reason = exc.message
        else:
            item.outcome.error = exc
            item.outcome.reason = str(exc)

    def _existed_before(self, run_id: int, started: int) -> bool:
        before = self._newest_before
        if before is None:
            return False
        return run_id == before[0] or started < before[1]

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
            rate=self._rate.rate,
            requests=self._rate.count,
            elapsed=self._clock() - self._began,
        )

    def _report(self, force: bool = False) -> None:
        if self._progress is None:
            return
        now = self.snapshot()
        last = self._last_report
        if not force and last is not None and _same(last, now) and now.elapsed - last.elapsed < 1.0:
            return
        self._last_report = now
        self._progress(now)


def _same(a: BatchProgress, b: BatchProgress) -> bool:
    return (a.pending, a.held, a.running, a.succeeded, a.failed, a.cancelled, a.not_started) == (
        b.pending,
        b.held,
        b.running,
        b.succeeded,
        b.failed,
        b.cancelled,
        b.not_started,
    )


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
) -> Batch:
    """The body of ``Workspace.submit_many()`` (see there and this module's notes)."""
    for name, value in (("max_active_tasks", max_active_tasks), ("runs_per_hour", runs_per_hour)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if requests_per_second is not None and not (
        isinstance(requests_per_second, (int, float)) and 0 < requests_per_second < math.inf
    ):
        raise ValueError(f"requests_per_second must be a number > 0, got {requests_per_second!r}")
    checked = _check(_items(items))
    batch = Batch(
        transport if transport is not None else Transport(workspace),
        checked,
        max_active_tasks=max_active_tasks or DEFAULT_MAX_ACTIVE_TASKS,
        runs_per_hour=runs_per_hour or DEFAULT_RUNS_PER_HOUR,
        requests_per_second=float(requests_per_second or DEFAULT_REQUESTS_PER_SECOND),
        progress=progress,
        cancel_on_interrupt=cancel_on_interrupt,
    )
    batch._drive(until="done" if wait else "sent")
    return batch
