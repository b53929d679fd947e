"""Fault injection: make chosen requests fail the way a busy or flaky workspace does."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Fault", "Injection"]

_DEFAULT_ERRORS = {
    429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests. Please wait and try again."),
    500: ("INTERNAL_ERROR", "The server hit an internal error (injected by the runspec emulator)."),
    502: ("BAD_GATEWAY", "Bad gateway (injected by the runspec emulator)."),
    503: ("TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out upstream (injected by the runspec emulator)."),
}


@dataclass(frozen=True)
class Fault:
    """
    One way to answer a request wrongly. Build it with the class methods, then ``emulator.inject(...)``.

    - ``Fault.throttle(retry_after=1)``: 429 ``REQUEST_LIMIT_EXCEEDED`` with a ``Retry-After`` header.
    - ``Fault.unavailable(retry_after=None)``: 503 ``TEMPORARILY_UNAVAILABLE``.
    - ``Fault.error(status, error_code=None, message=None)``: any error status in the workspace's format.
    - ``Fault.delay(seconds)``: answer normally, but only after ``seconds`` of real time.
    - ``Fault.drop()``: close the connection without an answer, after the request took effect
      (``after_handling=False``: before it did).

    With ``after_handling=True`` an error status is sent after the request took effect (the run exists
    although the client saw a 503): the case an idempotency token is for.
    """

    kind: str  # "status", "delay" or "drop"
    status: int = 0
    error_code: str | None = None
    message: str | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    after_handling: bool = False

    @classmethod
    def error(
        cls,
        status: int,
        error_code: str | None = None,
        message: str | None = None,
        *,
        retry_after: float | str | None = None,
        after_handling: bool = False,
    ) -> Fault:
        """Answer ``status`` with ``{"error_code", "message"}``; defaults suit the status."""
        if not 400 <= status <= 599:
            raise ValueError(f"an injected error needs a 4xx or 5xx status, got {status}")
        code, text = _DEFAULT_ERRORS.get(status, ("UNKNOWN", f"Injected HTTP {status}."))
        return cls(
            kind="status",
            status=status,
            error_code=error_code or code,
            message=message or text,
            retry_after=_retry_after(retry_after),
            after_handling=after_handling,
        )

    @classmethod
    def throttle(cls, retry_after: float | str | None = 1, *, after_handling: bool = False) -> Fault:
        """429 ``REQUEST_LIMIT_EXCEEDED`` with ``Retry-After: retry_after`` (seconds or an HTTP date)."""
        return cls.error(429, retry_after=retry_after, after_handling=after_handling)

    @classmethod
    def unavailable(cls, retry_after: float | str | None = None, *, after_handling: bool = False) -> Fault:
        """503 ``TEMPORARILY_UNAVAILABLE``, with ``Retry-After`` when given."""
        return cls.error(503, retry_after=retry_after, after_handling=after_handling)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Answer normally after ``seconds`` of real (not emulated) time: for client timeout tests."""
        if seconds < 0:
            raise ValueError("a delay cannot be negative")
        return cls(kind="delay", seconds=float(seconds))

    @classmethod
    def drop(cls, *, after_handling: bool = True) -> Fault:
        """
        Close the connection without answering.

        By default the request takes effect first (a submitted run exists, its response is lost);
        ``after_handling=False`` drops it before anything happens.
        """
        return cls(kind="drop", after_handling=after_handling)

    def pause(self, patience: float | None = None) -> bool:
        """
        A delay's wait, in the calling thread (nothing for other faults), cut short at ``patience``
        seconds when given: the time a client waits for an answer. True when it was cut short.
        """
        if self.kind != "delay":
            return False
        late = patience is not None and self.seconds > patience
        time.sleep(max(0.0, patience) if patience is not None and late else self.seconds)
        return late

    @property
    def label(self) -> str:
        """A short name for the request log: ``"429"``, ``"delay 2s"``, ``"drop after handling"``."""
        when = " after handling" if self.after_handling else ""
        if self.kind == "status":
            return f"{self.status}{when}"
        if self.kind == "delay":
            return f"delay {self.seconds:g}s"
        return f"drop{when or ' before handling'}"


def _retry_after(value: float | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


class Injection:
    """
    A fault attached to some endpoints, returned by ``emulator.inject``.

    ``fired`` counts the requests it answered; ``remove()`` detaches it. Matching requests are those whose
    endpoint (``"runs/submit"``, ``"runs/get"``, ...; API version ignored) is in ``endpoints``, or all
    requests for ``"*"``.
    """

    def __init__(
        self,
        fault: Fault,
        endpoints: Iterable[str],
        *,
        times: int | None,
        rate: float | None,
        seed: int | None,
        skip: int,
        owner: list[Injection],
        lock: threading.Lock,
    ) -> None:
        if times is not None and times < 0:
            raise ValueError("times must be zero or more")
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if skip < 0:
            raise ValueError("skip must be zero or more")
        self.fault = fault
        self.endpoints = frozenset(_normalize(e) for e in endpoints)
        self.times = times
        self.rate = rate
        self.skip = skip
        self.seen = 0
        self.fired = 0
        self._random = random.Random(seed)
        self._owner = owner
        self._lock = lock

    def matches(self, endpoint: str) -> bool:
        return "*" in self.endpoints or endpoint in self.endpoints

    def fire(self) -> bool:
        """Decide (under the injector's lock) whether this request gets the fault."""
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.rate is not None and self._random.random() >= self.rate:
            return False
        self.fired += 1
        return True

    @property
    def exhausted(self) -> bool:
        """True once a ``times`` limit has been used up."""
        return self.times is not None and self.fired >= self.times

    def remove(self) -> None:
        """Stop injecting this fault."""
        with self._lock:
            if self in self._owner:
                self._owner.remove(self)

    def __repr__(self) -> str:
        where = ", ".join(sorted(self.endpoints))
        return f"<Injection {self.fault.label} on {where}: fired {self.fired}>"


def _normalize(endpoint: str) -> str:
    endpoint = endpoint.strip()
    for prefix in ("/api/2.2/jobs/", "/api/2.1/jobs/", "jobs/"):
        if endpoint.startswith(prefix):
            return endpoint[len(prefix) :]
    return endpoint
