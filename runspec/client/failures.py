"""
What went wrong with a request, in words: a connection that could not be opened at all (nothing
was sent), a timeout, an answer cut off by the deadline.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time

import requests

__all__ = ["DeadlinePassed", "Watchdog", "connect_failure", "timeout_words", "transient"]


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (``reason``, ``__cause__``, ``__context__``, args)."""
    found: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(found) < 20:
        current = todo.pop(0)
        if current in found:
            continue
        found.append(current)
        for nxt in (getattr(current, "reason", None), current.__cause__, current.__context__, *current.args):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return found


def connect_failure(exc: requests.RequestException) -> str | None:
    """
    What went wrong, in words, when a connection could not be opened at all (so nothing was
    sent); ``None`` when the request may have reached the server.
    """
    chain = _causes(exc)
    names = {type(c).__name__ for c in chain}
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            "the TLS handshake failed (is it a plain http:// server? For a private CA, pass session= "
            "a requests.Session whose verify= is the CA bundle)"
        )
    if "NameResolutionError" in names or any(isinstance(c, socket.gaierror) for c in chain):
        return "the host name does not resolve (DNS)"
    if any(isinstance(c, ConnectionRefusedError) for c in chain):
        return "the connection was refused (nothing listens on that port)"
    if isinstance(exc, requests.ConnectTimeout):
        return "connecting timed out (no route to the host, or a firewall drops the connection)"
    if any(isinstance(c, OSError) and c.errno in (101, 113, 65, 51) for c in chain):
        return "there is no route to the host"
    if "NewConnectionError" in names:
        return "the connection could not be opened"
    return None


def transient(exc: requests.RequestException) -> bool:
    """Worth another try: connection failures and timeouts, but not a failed TLS check."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError))


class _Reaper:
    """
    One daemon thread for the whole process that fires the watchdogs whose time has come (a
    thread per request would cost more than the request on loopback).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, when: float, dog: Watchdog) -> None:
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._count), dog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="runspec-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is dog:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, _, dog = self._heap[0]
                now = time.monotonic()
                if when > now:
                    self._cond.wait(when - now)
                    continue
                heapq.heappop(self._heap)
            if not dog.cancelled:
                dog.fire()


_REAPER = _Reaper()


class Watchdog:
    """Shuts a response's socket when the call's deadline passes, so a trickled body ends."""

    __slots__ = ("_response", "cancelled", "fired")

    def __init__(self, response: requests.Response, seconds: float) -> None:
        self.fired = False
        self.cancelled = False
        self._response = response
        _REAPER.add(time.monotonic() + max(seconds, 0.0), self)

    def fire(self) -> None:
        """Shut the response's socket now (the reaper calls this at the deadline)."""
        self.fired = True
        connection = getattr(self._response.raw, "connection", None) or getattr(self._response.raw, "_connection", None)
        sock = getattr(connection, "sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        """The body arrived in time: never fire."""
        self.cancelled = True


class DeadlinePassed(requests.Timeout):
    """The call's deadline passed while an answer was still arriving."""


def timeout_words(exc: requests.RequestException) -> str:
    if isinstance(exc, DeadlinePassed):
        return "the answer was still arriving when the deadline passed"
    if isinstance(exc, requests.Timeout):
        return "the workspace did not answer in time"
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return "the connection was lost before the answer came"
    return "the request failed"
