"""Clocks that drive the emulator's runs: a manual one for exact tests, a scaled real one otherwise."""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "InstantClock", "ManualClock", "ScaledClock"]

# 2026-01-01T00:00:00Z: a fixed, realistic epoch so that manual-clock timestamps are reproducible.
_DEFAULT_EPOCH = 1_767_225_600.0


@runtime_checkable
class Clock(Protocol):
    """
    Anything with ``now()`` returning the emulated time in epoch seconds.

    The emulator reads the clock on every request and moves its runs forward to that moment, so a clock
    only has to be monotonic; nothing runs in the background.
    """

    def now(self) -> float: ...


class ManualClock:
    """
    A clock that moves only when the test says so: ``advance(seconds)`` or ``set(epoch_seconds)``.

    Starts at 2026-01-01T00:00:00Z unless ``start`` is given, so run timestamps are the same on every
    test run. Thread-safe.
    """

    def __init__(self, start: float = _DEFAULT_EPOCH) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """
        Move the clock forward by ``seconds`` (not negative).

        Fits where a ``sleep`` function is expected: ``submit(..., sleep=clock.advance,
        clock=clock.now)`` makes a client's waits move the emulator's time instead of taking real time.
        """
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds!r})")
        with self._lock:
            self._now += seconds

    def advance_to(self, epoch_seconds: float) -> None:
        """Move forward to ``epoch_seconds`` if that is later than now (else nothing happens)."""
        with self._lock:
            self._now = max(self._now, float(epoch_seconds))

    def set(self, epoch_seconds: float) -> None:
        """Jump to ``epoch_seconds``, which must not be earlier than the current time."""
        with self._lock:
            if epoch_seconds < self._now:
                raise ValueError("a clock cannot go back")
            self._now = float(epoch_seconds)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(now={self.now()!r})"


class InstantClock(ManualClock):
    """
    A manual clock the emulator moves itself: before it answers a request, time jumps to the moment the
    runs can go no further without a client (every run has ended, or waits on something that never
    comes, such as a task that hangs with no timeout: that task is then ``RUNNING``, its setup over).
    Each run the emulator creates starts at least a millisecond after the one created before it.

    The default of ``Emulator()``: a run is finished by the first ``runs/get`` after its submit, with the
    timings, retries, timeouts and results it would have had in real time, so a submit-and-wait test
    costs milliseconds. Cancelling a running run needs a clock that leaves it running: ``ManualClock``
    or ``speed=``.
    """


class ScaledClock:
    """
    Real time, sped up: ``speed=10`` makes one real second count as ten emulated seconds.

    Starts at the real wall-clock time, so timestamps look like the present.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = float(speed)
        self._wall_start = time.time()
        self._mono_start = time.monotonic()

    def now(self) -> float:
        return self._wall_start + (time.monotonic() - self._mono_start) * self.speed

    def __repr__(self) -> str:
        return f"ScaledClock(speed={self.speed!r})"
