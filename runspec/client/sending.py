"""
The default transport: one HTTP exchange with ``requests``, the deadline kept on every byte.

``RequestsTransport.send`` does the exchange in a worker thread and waits for it at most
``deadline`` seconds, so connecting, the status line, the headers and the body all count: a server
that trickles any of them one byte at a time cannot stretch the call (each socket read is bounded by
``timeout`` too). When the deadline passes, the socket of an answer being read is shut and
``SendFailed`` says the request may have reached the workspace. Ctrl-C while waiting leaves the
worker to finish and discard what it gets.

Plain ``http://`` to a loopback host never goes through a proxy (``HTTP_PROXY`` would see the
token in clear text). Redirects are not followed here: the client's policy follows them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import requests

from runspec.client.failures import connect_failure, timeout_words, transient
from runspec.client.hosts import is_loopback, origin_of
from runspec.wire import Request, Response, SendFailed

__all__ = ["RequestsTransport"]

#: No single socket operation is given less than this (a deadline about to pass still gets a try).
_MIN_IO = 0.05
# ``None`` for a scheme tells requests to use no proxy for it, whatever the environment says.
_NO_PROXY: dict[str, Any] = {"http": None, "https": None, "all": None}


class _Exchange:
    """One request in a worker thread; ``abandon()`` lets the caller stop waiting for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.answer: requests.Response | None = None
        self.body: bytes | None = None
        self.error: BaseException | None = None
        self.abandoned = False

    def run(self, session: requests.Session, request: Request, timeout: tuple[float, float], proxies: Any) -> None:
        answer: requests.Response | None = None
        seen: list[requests.Response] = []

        def keep(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
            seen.append(response)
            return response

        try:
            try:
                answer = session.request(
                    request.method,
                    request.url,
                    headers=dict(request.headers),
                    data=request.body if request.body or request.method != "GET" else None,
                    timeout=timeout,
                    allow_redirects=False,
                    stream=True,
                    proxies=proxies,
                    hooks={"response": [keep]},
                )
            except ValueError:
                # requests reads a redirect's Location even when it does not follow it, and an
                # unparseable one (a port of 99999, "[::1") fails there: the answer itself came.
                if not seen:
                    raise
                answer = seen[-1]
            with self.lock:
                self.answer = answer
                if self.abandoned:
                    return
            self.body = answer.content
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc
        finally:
            if answer is not None:
                answer.close()
            self.done.set()

    def abandon(self) -> bool:
        """Stop the exchange where it is; True when the answer had begun to arrive."""
        with self.lock:
            self.abandoned = True
            answer = self.answer
        if answer is None:
            return False
        connection = getattr(answer.raw, "connection", None) or getattr(answer.raw, "_connection", None)
        sock = getattr(connection, "sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return True


class RequestsTransport:
    """
    The transport ``Workspace.resolve()`` uses unless given another: ``requests`` over ``session``
    (your own ``requests.Session`` for proxies or a CA bundle, else a new one that ``close()`` closes).
    """

    def __init__(self, session: requests.Session | None = None) -> None:
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._own_session:
            self.session.close()

    def __repr__(self) -> str:
        return "RequestsTransport()"

    def send(self, request: Request, *, timeout: tuple[float, float], deadline: float) -> Response:
        """One exchange within ``deadline`` seconds (see the module documentation)."""
        seconds = max(deadline, _MIN_IO)
        scheme, hostname, _ = origin_of(request.url)
        proxies = _NO_PROXY if scheme == "http" and is_loopback(hostname) else None
        limits = (max(min(timeout[0], seconds), _MIN_IO), max(min(timeout[1], seconds), _MIN_IO))
        exchange = _Exchange()
        worker = threading.Thread(
            target=exchange.run, args=(self.session, request, limits, proxies), name="runspec-request", daemon=True
        )
        worker.start()
        try:
            finished = exchange.done.wait(seconds)
        except BaseException:
            exchange.abandon()
            raise
        if not finished:
            began = exchange.abandon()
            what = (
                "the answer was still arriving when the deadline passed"
                if began
                else "the workspace did not answer in time (no status line and headers when the deadline passed)"
            )
            raise SendFailed(what, sent=True)
        error = exchange.error
        if isinstance(error, requests.RequestException):
            raise _failure(error) from error
        if error is not None:
            raise error
        answer = exchange.answer
        assert answer is not None and exchange.body is not None
        framed = any(name in answer.headers for name in ("Content-Length", "Transfer-Encoding"))
        if 200 <= answer.status_code < 300 and not exchange.body and not framed:
            # A status line, then the connection closed inside the headers: not an answer (the Jobs
            # API answers every success with a JSON body), so the request may be tried again.
            raise SendFailed("the answer was cut off in its headers", sent=True)
        return Response(answer.status_code, answer.headers, exchange.body, answer.reason or "")


def _failure(exc: requests.RequestException) -> SendFailed:
    """A failure of ``requests`` as ``SendFailed``: whether anything was sent, and in words."""
    failure = connect_failure(exc)
    if failure is not None:
        cause, words = failure
        return SendFailed(words, sent=False, retryable=transient(exc), cause=cause)
    return SendFailed(timeout_words(exc), sent=True, retryable=transient(exc))
