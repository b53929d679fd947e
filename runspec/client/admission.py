"""
Admission for a batch of runs (``Workspace.submit_many``): the budgets an item must fit before it is
sent, and the request rate every request of the batch goes through.

* **Task runs active at once**: each run counts one per task, a For each task its ``concurrency``
  (``runspec._budgets.task_weight``); a queued run counts as active.
* **Run Job and For each parent tasks active at once**, a budget of their own: one per
  ``run_job_task`` and ``for_each_task`` task, and a For each's ``concurrency`` when its iterations
  each run a job (``runspec._budgets.parent_weight``).
* **Runs created per rolling hour.**
* **Requests per second**, submit, list and get together: a token bucket whose rate halves on each 429
  ``REQUEST_LIMIT_EXCEEDED`` (waiting what ``Retry-After`` asks) and creeps back up while requests
  succeed.

The batch (``runspec.client.batch``) asks ``Admission`` whether an item fits, tells it of each run
created and ended, and of the limits the workspace answered with; ``Admission`` holds the batch back
until they allow it again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from runspec._budgets import MAX_ACTIVE_PARENT_TASKS, MAX_ACTIVE_TASKS, RUNS_PER_HOUR
from runspec.client.transport import Transport
from runspec.errors import RateLimited

__all__ = [
    "DEFAULT_MAX_ACTIVE_PARENT_TASKS",
    "DEFAULT_MAX_ACTIVE_TASKS",
    "DEFAULT_REQUESTS_PER_SECOND",
    "DEFAULT_RUNS_PER_HOUR",
    "Admission",
    "RequestRate",
    "backoff",
    "is_request_rate",
]

#: Task runs a batch keeps active at once by default: the workspace's 2,000, with 10% headroom for others.
DEFAULT_MAX_ACTIVE_TASKS = MAX_ACTIVE_TASKS * 9 // 10
#: Run Job and For each parent tasks a batch keeps active at once by default: the workspace's 750, less 10%.
DEFAULT_MAX_ACTIVE_PARENT_TASKS = MAX_ACTIVE_PARENT_TASKS * 9 // 10
#: Runs a batch creates per rolling hour by default: the workspace's 10,000, with 10% headroom.
DEFAULT_RUNS_PER_HOUR = RUNS_PER_HOUR * 9 // 10
#: Requests per second a batch starts at by default (submit, list and get together); the workspace
#: publishes no reliable figure, and 429s lower it.
DEFAULT_REQUESTS_PER_SECOND = 20.0

_HOUR = 3600.0
_FIRST_HOLD = 1.0  # seconds an item waits after a limit or a transient failure, doubled each time
_LONGEST_HOLD = 60.0


def backoff(holds: int) -> float:
    """Seconds to hold after ``holds`` earlier holds in a row: one, doubled each time, at most a minute."""
    return min(_LONGEST_HOLD, _FIRST_HOLD * 2.0 ** min(holds, 6))


def is_request_rate(exc: RateLimited) -> bool:
    """True for a 429 about the request rate (as opposed to the workspace's active runs limit)."""
    return exc.error_code in (None, "REQUEST_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS")


class RequestRate:
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


class Admission:
    """
    The budgets of one batch: task runs active at once (``max_active_tasks``), Run Job and For each
    parent tasks active at once (``max_active_parent_tasks``), runs created per rolling hour
    (``runs_per_hour``), and the request rate, with the holds the workspace's own limits put on
    sending. Every request of the batch goes through ``call()`` (or ``pace()`` before it).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        max_active_tasks: int,
        max_active_parent_tasks: int = DEFAULT_MAX_ACTIVE_PARENT_TASKS,
        runs_per_hour: int,
        requests_per_second: float,
    ) -> None:
        self.transport = transport
        self.max_active_tasks = max_active_tasks
        self.max_active_parent_tasks = max_active_parent_tasks
        self.runs_per_hour = runs_per_hour
        self.clock = transport.clock
        self.sleep = transport.sleep
        self.rate = RequestRate(requests_per_second, self.clock)
        self.created: deque[float] = deque()  # when each run of the last hour was created
        self.hour_hold = 0.0  # nothing is sent before this: the workspace's hourly limit answered
        self.hour_holds = 0
        self.capacity_hold = 0.0  # nor before this: the workspace's active runs limit answered
        self.active_weight = 0
        self.active_parents = 0
        self.want_slots = False  # an item waits for runs of the batch to end

    # -- the budgets -----------------------------------------------------------------------------

    def allows(self, weight: int, now: float, parents: int = 0) -> bool:
        """True when a run of ``weight`` task runs and ``parents`` parent tasks may be sent now."""
        if now < self.hour_hold or now < self.capacity_hold:
            return False
        while self.created and self.created[0] <= now - _HOUR:
            self.created.popleft()
        if len(self.created) >= self.runs_per_hour:
            self.hour_hold = self.created[0] + _HOUR
            return False
        fits = not self.active_weight or self.active_weight + weight <= self.max_active_tasks
        if parents:  # a lone run larger than a budget is sent when nothing of the batch is active
            fits = fits and (not self.active_parents or self.active_parents + parents <= self.max_active_parent_tasks)
        self.want_slots = not fits
        return fits

    def opens_at(self, now: float) -> float:
        """The earliest moment the holds and the request rate let a request go."""
        return max(self.hour_hold, self.capacity_hold, now + self.rate.wait_time())

    def started(self, weight: int, parents: int = 0) -> None:
        """A run of ``weight`` task runs and ``parents`` parent tasks was created."""
        self.created.append(self.clock())
        self.active_weight += weight
        self.active_parents += parents

    def ended(self, weight: int, parents: int = 0) -> None:
        """A run of the batch ended (or was cancelled): its task runs and parent tasks are free again."""
        self.active_weight -= weight
        self.active_parents -= parents
        self.capacity_hold = 0.0

    def accepted(self) -> None:
        """The workspace took a submit: the hourly limit no longer answers."""
        self.hour_holds = 0

    def hourly_limited(self) -> None:
        """The workspace answered with its hourly limit: hold every item, longer each time in a row."""
        self.hour_holds += 1
        self.hour_hold = self.clock() + backoff(self.hour_holds - 1)

    def active_limited(self, holds: int) -> None:
        """The workspace's active runs are at its limit: hold every item until ours end, or a while."""
        self.capacity_hold = self.clock() + backoff(holds)

    # -- the request rate ------------------------------------------------------------------------

    @property
    def requests(self) -> int:
        """Requests sent so far."""
        return self.rate.count

    def pace(self) -> None:
        """Wait for the request rate, then count one request."""
        wait = self.rate.wait_time()
        if wait > 0:
            self.sleep(wait)
        self.rate.take()

    def call(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        """One request at the batch's rate; a 429 lowers the rate (and is raised to the caller)."""
        self.pace()
        try:
            return self.transport.call(method, endpoint, idempotent=False, **kwargs)
        except RateLimited as exc:
            if is_request_rate(exc):
                self.rate.throttled(exc.retry_after)
            raise
