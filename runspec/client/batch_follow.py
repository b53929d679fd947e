"""
Following the runs of a batch (``Workspace.submit_many``) by paging ``runs/list`` rather than one
``runs/get`` per run per poll.

* A poll reads the one-time runs started since the oldest run still followed (24 a page, tasks
  included). A run the pages do not show (an older run a resumed batch reached, beyond the pages
  read) is read with ``runs/get``.
* A poll comes when the next run is due to end, predicted from the shortest run seen (every quarter
  second before any ended), further apart (up to five seconds) while nothing changes, and never takes
  more than half the request rate.
* The newest one-time run before the batch began tells the runs a resumed batch reached (they
  existed before it) from the ones it created.

What a run's state means for its item (ended, failed, skipped by a limit) is the batch's to decide
(``runspec.client.batch``); this module reads the runs and chooses when to read them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from runspec.client.admission import Admission
from runspec.client.batch_items import BatchItem
from runspec.client.pages import read_run
from runspec.errors import ApiError, PermissionDenied, TransportError, Unauthenticated, WorkspaceUnreachable

__all__ = ["SLOW_POLL", "Following"]

log = logging.getLogger("runspec")

_LIST_LIMIT = 24  # runs/list takes at most 24 a page
_MAX_LIST_PAGES = 100
_FAST_POLL = 0.25
#: The longest pause between two polls (and between two looks of the batch at its queue).
SLOW_POLL = 5.0
_POLL_GROWTH = 1.5


def _fatal(exc: Exception) -> bool:
    """True for an error that stops the batch: refused credentials or an unreachable workspace."""
    return isinstance(exc, (Unauthenticated, PermissionDenied, WorkspaceUnreachable))


class Following:
    """The runs of a batch still active (run id -> item), and when to read them next."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission
        self.clock = admission.clock
        self.running: dict[int, BatchItem] = {}
        self.next_poll = 0.0
        self.poll_pause = _FAST_POLL
        self.shortest: float | None = None  # the shortest run seen, submit to seen ended (this clock)
        self.last_pages = 0  # list pages the last poll read
        self.poll_floor = 0.0  # no poll before this: polls take at most half the request rate
        self.newest_before: tuple[int, int] | None = None

    def begin(self) -> None:
        """Note the newest one-time run before the batch, to tell the runs a resumed batch reached."""
        try:
            answer = self.admission.call("GET", "runs/list", query={"run_type": "SUBMIT_RUN", "limit": 1})
        except (ApiError, TransportError) as exc:
            if _fatal(exc):
                raise
            return
        runs = answer.get("runs") if isinstance(answer, dict) else None
        first = runs[0] if isinstance(runs, list) and runs and isinstance(runs[0], dict) else {}
        run_id, started = first.get("run_id"), first.get("start_time")
        self.newest_before = (run_id, started) if isinstance(run_id, int) and isinstance(started, int) else None

    def due(self, now: float) -> bool:
        """True when runs are followed and their next poll is due."""
        return bool(self.running) and now >= self.next_poll

    def sent(self, item: BatchItem, run_id: int) -> None:
        """Follow the run just created (or reached) for ``item``."""
        self.running[run_id] = item
        item.sent_at = self.clock()
        if self.shortest is None:  # nothing to predict ends from yet
            self.next_poll = min(self.next_poll, max(item.sent_at + _FAST_POLL, self.poll_floor))

    def ended(self, run_id: int) -> bool:
        """Stop following a run; True when it was followed."""
        return self.running.pop(run_id, None) is not None

    def saw_end(self, item: BatchItem) -> None:
        """An item's run was seen ended: a run this batch created tells how long runs take."""
        if item.sent_at and not item.outcome.reattached:
            took = self.clock() - item.sent_at
            self.shortest = took if self.shortest is None else min(self.shortest, took)

    def existed_before(self, run_id: int, started: int) -> bool:
        """True for a run created before the batch began (a resumed batch reached it)."""
        before = self.newest_before
        if before is None:
            return False
        return run_id == before[0] or started < before[1]

    def poll(self, look: Callable[[BatchItem, dict[str, Any]], bool]) -> bool | None:
        """
        Read the one-time runs started since the oldest one followed and pass each run followed to
        ``look`` (True when it ended). Returns whether any changed, or None when ``runs/list``
        failed (the next poll tries again).
        """
        starts = [item.start_time for item in self.running.values()]
        floor = min(s for s in starts if s is not None) if any(s is not None for s in starts) else None
        unknown = any(s is None for s in starts)
        seen: dict[int, dict[str, Any]] = {}
        token: str | None = None
        self.last_pages = 0
        changed = False
        # Pages enough to hold every run followed if they were the newest, and one more: a run
        # reattached to long ago is read with runs/get rather than by paging back to it.
        pages = min(_MAX_LIST_PAGES, len(self.running) // _LIST_LIMIT + 2) if unknown else _MAX_LIST_PAGES
        try:
            for _ in range(pages):
                query: dict[str, Any] = {"run_type": "SUBMIT_RUN", "expand_tasks": True, "limit": _LIST_LIMIT}
                if floor is not None and not unknown:
                    query["start_time_from"] = floor
                if token:
                    query["page_token"] = token
                answer = self.admission.call("GET", "runs/list", query=query)
                self.last_pages += 1
                runs = answer.get("runs") if isinstance(answer, dict) else None
                oldest: int | None = None
                found = 0
                for raw in runs if isinstance(runs, list) else []:
                    if isinstance(raw, dict) and isinstance(raw.get("run_id"), int):
                        if raw["run_id"] in self.running:
                            seen[raw["run_id"]] = raw
                            found += 1
                        started = raw.get("start_time")
                        oldest = started if isinstance(started, int) else oldest
                token = answer.get("next_page_token") if isinstance(answer, dict) else None
                if len(seen) == len(self.running) or not token:
                    break
                # Runs whose start is not known yet were sent since the last poll (the newest) or
                # reached an older run: page on while pages still hold ours, and past the oldest
                # start known; what is not found is read with runs/get.
                past_floor = floor is None or (oldest is not None and oldest < floor)
                if unknown and not found and past_floor:
                    break
        except (ApiError, TransportError) as exc:
            if _fatal(exc):
                raise
            log.warning("runs/list failed (%s); trying again at the next poll", exc)
            self.next_poll = self.clock() + self.poll_pause
            return None
        for run_id, item in list(self.running.items()):
            raw = seen.get(run_id)
            if raw is None:
                try:
                    self.admission.pace()
                    raw = read_run(self.admission.transport, run_id)
                except (ApiError, TransportError) as exc:
                    if _fatal(exc):
                        raise
                    log.warning("key %r: cannot read run %d (%s); trying again later", item.key, run_id, exc)
                    continue
            changed = look(item, raw) or changed
        return changed

    def schedule(self, changed: bool, waiting: bool) -> None:
        """
        When to poll next. Items waiting for task runs to free up (``waiting``) need each end seen
        soon: with no run seen end yet, every quarter second while anything changes. Once runs have
        ended, the shortest (submit to seen ended) predicts when the others end: the poll comes when
        the next of them is due, and runs past their due time are looked at again with a growing
        pause. Otherwise the pause grows by half each poll that saw nothing change, up to five
        seconds. Polls never take more than half the request rate: a poll of many pages waits longer.
        """
        self._plan(changed, waiting)
        self.poll_floor = self.clock() + 2 * self.last_pages / self.admission.rate.rate
        self.next_poll = max(self.next_poll, self.poll_floor)

    def _plan(self, changed: bool, waiting: bool) -> None:
        now = self.clock()
        busy = changed or waiting
        self.poll_pause = _FAST_POLL if busy else min(SLOW_POLL, self.poll_pause * _POLL_GROWTH)
        following = now + self.poll_pause
        shortest = self.shortest
        if shortest is None or not self.running:
            self.next_poll = following
            return
        margin = 0.02
        due = sorted(item.sent_at + shortest + margin for item in self.running.values() if item.sent_at)
        ahead = [t for t in due if t > now]
        overdue = len(due) > len(ahead)
        if not ahead:
            self.next_poll = following
            return
        predicted = ahead[0]
        if overdue and not changed:
            predicted = min(predicted, following)
        self.next_poll = min(max(predicted, now + 0.05), now + SLOW_POLL)
