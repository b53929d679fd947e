"""
The workspace budgets the emulator enforces when asked: ``Emulator(limits=Limits(...))``.

Each answer is the service's: a request past the request rate gets 429 ``REQUEST_LIMIT_EXCEEDED`` with
``Retry-After``; a runs/submit past the hourly creation limit gets 400 ``INVALID_STATE`` with the
service's message; a run that cannot start because the active task runs would pass the limit gets 429
(``RESOURCE_EXHAUSTED``), or, with ``queue.enabled``, is accepted and waits in ``QUEUED`` until enough
task runs have ended. Reaching an existing run with its idempotency token is never refused by the run
limits (no run is created).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runspec._budgets import HOURLY_LIMIT_MESSAGE, parent_weight, queued, task_weight
from runspec.testing._http import ApiFailure

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from runspec.testing._run import Run

__all__ = ["Limiter", "Limits"]

_HOUR = 3600.0


@dataclass(frozen=True)
class Limits:
    """
    Budgets the emulator enforces, as a workspace does (``None``: no limit, the default).

    - ``max_active_tasks``: task runs running at once, counted per active run as the client counts
      them (one per task, a For each task its ``concurrency``). A run that would pass it is refused
      with 429, or queued when its body has ``queue.enabled``; a lone run larger than the limit starts.
    - ``max_active_parent_tasks``: Run Job and For each parent tasks running at once, counted per
      active run as the client counts them (one per ``run_job_task`` and ``for_each_task`` task, and a
      For each's ``concurrency`` when its iterations each run a job); answered as ``max_active_tasks``.
    - ``runs_per_hour``: runs created per rolling hour of the emulator's clock (so ``speed=`` makes
      an hour shorter); past it runs/submit answers 400 ``INVALID_STATE``.
    - ``requests_per_second``: API requests per second of the emulator's clock, all endpoints
      together (a burst of one second's worth is allowed); past it 429 ``REQUEST_LIMIT_EXCEEDED`` with
      ``Retry-After`` (the clock's seconds, rounded up). With a ``ManualClock`` only ``advance()`` frees
      the budget, with ``speed=10`` a real second holds ten seconds' worth; the default ``InstantClock``
      stands still between runs, so it is counted there in real seconds.
    """

    max_active_tasks: int | None = None
    runs_per_hour: int | None = None
    requests_per_second: float | None = None
    max_active_parent_tasks: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_active_tasks", "max_active_parent_tasks", "runs_per_hour"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"Limits.{name} must be a whole number >= 1 or None, got {value!r}")
        rate = self.requests_per_second
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0):
            raise ValueError(f"Limits.requests_per_second must be a number > 0 or None, got {rate!r}")


class Limiter:
    """
    Keeps the emulator inside ``limits``: the request rate (on ``seconds``, the emulator's clock), the
    runs created in the last hour and the task runs active (emulated time). Thread-safe.
    """

    def __init__(
        self, limits: Limits, catch_up: Callable[[Run], float], seconds: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self._catch_up = catch_up
        self._seconds = seconds
        self._lock = threading.Lock()
        self._created: deque[float] = deque()
        self._active: dict[int, tuple[Run, int, int]] = {}  # run id -> (run, task runs, parent tasks)
        self._held: deque[tuple[Run, int, int]] = deque()
        rate = limits.requests_per_second
        self._capacity = max(1.0, float(rate)) if rate is not None else 0.0
        self._tokens = self._capacity
        self._filled = seconds()

    # -- the request rate ---------------------------------------------------------------------------

    def request(self) -> float | None:
        """Take one request from the rate budget; ``None`` when allowed, else the seconds to wait."""
        rate = self.limits.requests_per_second
        if rate is None:
            return None
        with self._lock:
            now = self._seconds()
            self._tokens = min(self._capacity, self._tokens + (now - self._filled) * rate)
            self._filled = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return (1.0 - self._tokens) / rate

    @staticmethod
    def throttled(wait: float) -> tuple[ApiFailure, dict[str, str]]:
        """The service's answer past the request rate, and its ``Retry-After`` header (whole seconds)."""
        failure = ApiFailure(429, "REQUEST_LIMIT_EXCEEDED", "Too many requests. Please wait a moment and try again.")
        return failure, {"Retry-After": str(max(1, math.ceil(wait)))}

    # -- runs ---------------------------------------------------------------------------------------

    def _active_weight(self) -> tuple[int, int]:
        """Task runs and parent tasks of the runs running now (each moved to now first); ended runs are forgotten."""
        tasks = parents = 0
        for run_id, (run, weight, parent) in list(self._active.items()):
            with run.lock:
                self._catch_up(run)
                active = run.is_active()
            if active:
                tasks += weight
                parents += parent
            else:
                del self._active[run_id]
        return tasks, parents

    def _fits(self, weight: int, parents: int, current: tuple[int, int]) -> str | None:
        """Why a run of ``weight`` task runs and ``parents`` parent tasks cannot start now, or ``None``."""
        tasks_now, parents_now = current
        cap = self.limits.max_active_tasks
        if cap is not None and tasks_now > 0 and tasks_now + weight > cap:
            return f"{tasks_now} of the workspace's {cap} concurrent task runs are in use and it needs {weight}"
        cap = self.limits.max_active_parent_tasks
        if cap is not None and parents and parents_now > 0 and parents_now + parents > cap:
            return (
                f"{parents_now} of the workspace's {cap} concurrent Run Job and For each parent tasks are in use "
                f"and it needs {parents}"
            )
        return None

    def _counts_runs(self) -> bool:
        return self.limits.max_active_tasks is not None or self.limits.max_active_parent_tasks is not None

    def admit(self, body: dict[str, Any], now: float) -> bool:
        """
        Before a new run is created from ``body`` at ``now`` (emulated): ``ApiFailure`` when a limit
        refuses it; ``True`` when it must wait in the queue (``queue.enabled``), else ``False``.
        """
        limits = self.limits
        with self._lock:
            if limits.runs_per_hour is not None:
                while self._created and self._created[0] <= now - _HOUR:
                    self._created.popleft()
                if len(self._created) >= limits.runs_per_hour:
                    message = HOURLY_LIMIT_MESSAGE.format(count=len(self._created), limit=limits.runs_per_hour)
                    raise ApiFailure(400, "INVALID_STATE", message)
            hold = False
            if self._counts_runs():
                why = self._fits(task_weight(body), parent_weight(body), self._active_weight())
                if self._held or why is not None:
                    if not queued(body):
                        why = why or "earlier runs wait in the queue"
                        raise ApiFailure(
                            429,
                            "RESOURCE_EXHAUSTED",
                            f"The run cannot start now: {why}. Enable queueing (queue.enabled) to have it wait, "
                            "or submit it again later.",
                        )
                    hold = True
            if limits.runs_per_hour is not None:
                self._created.append(now)
            return hold

    def track(self, run: Run, held: bool) -> None:
        """Count ``run`` (just created) against the active limits, or queue it when ``held``."""
        if not self._counts_runs():
            return
        entry = (run, task_weight(run.body), parent_weight(run.body))
        with self._lock:
            if held:
                self._held.append(entry)
            else:
                self._active[run.run_id] = entry

    def release(self, now: float) -> None:
        """Start the queued runs that fit now, oldest first."""
        if not self._counts_runs():
            return
        with self._lock:
            if not self._held:
                return
            tasks, parents = self._active_weight()
            while self._held:
                run, weight, parent = self._held[0]
                with run.lock:
                    gone = run.started or not run.is_active()  # cancelled while queued
                if not gone and self._fits(weight, parent, (tasks, parents)) is not None:
                    return
                self._held.popleft()
                if gone:
                    continue
                with run.lock:
                    run.release(now)
                    run.advance(now)
                self._active[run.run_id] = (run, weight, parent)
                tasks += weight
                parents += parent
