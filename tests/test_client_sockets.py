"""
The client against real sockets on 127.0.0.1, where a socket is the point: servers that trickle their
answer, never answer, or refuse. Everything else about the client is tested through the transport seam
(``Emulator.transport()``), without sockets.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from runspec import NotebookTask, Run, RunHandle, TransportError, WaitTimeout, submit
from runspec.spec import RunSpec

pytestmark = pytest.mark.socket

TOKEN = "dapi-socket-test-token"


def spec() -> RunSpec:
    return Run("sockets").task(NotebookTask("/n"), key="a").compile()


@contextlib.contextmanager
def raw_server(serve: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that hands each connection to ``serve`` in a thread; yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    closed = threading.Event()
    conns: list[socket.socket] = []

    def accept() -> None:
        while not closed.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=run, args=(conn,), daemon=True).start()

    def run(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            data = b""
            conn.settimeout(5)
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            serve(conn, closed)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        closed.set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        listener.close()


def trickle_head(interval: float, limit: int = 40) -> Callable[[socket.socket, threading.Event], None]:
    """Sends its status line and then a header one byte every ``interval`` seconds (``limit`` bytes at most)."""

    def serve(conn: socket.socket, closed: threading.Event) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"x" * 1000
        for byte in head[:limit]:
            if closed.wait(interval):
                return
            conn.sendall(bytes([byte]))
        closed.wait(30)

    return serve


def test_submit_deadline_counts_a_trickled_status_line_and_headers() -> None:
    with raw_server(trickle_head(0.2)) as url:
        started = time.monotonic()
        with pytest.raises(TransportError) as error:
            submit(spec(), url, TOKEN, deadline=1.5, timeout=(2, 3))
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
    message = str(error.value)
    assert "did not answer in time" in message
    assert "the request may have reached the workspace" in message
    assert error.value.idempotency_token is not None  # resubmitting with it cannot start a second run


def test_wait_timeout_counts_trickled_headers() -> None:
    with raw_server(trickle_head(0.2)) as url:
        handle = RunHandle.attach(42, url, TOKEN)
        started = time.monotonic()
        with pytest.raises((WaitTimeout, TransportError)):
            handle.wait(timeout=1.5)
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed


def test_attach_deadline_counts_trickled_headers_of_get() -> None:
    with raw_server(trickle_head(0.2)) as url:
        started = time.monotonic()
        with pytest.raises(TransportError):
            RunHandle.attach(42, url, TOKEN, deadline=1.5).get()
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
