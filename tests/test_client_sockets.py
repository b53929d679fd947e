"""
The client against real sockets on 127.0.0.1, where a socket is the point: servers that trickle their
answer, never answer, or refuse. Everything else about the client is tested through the transport seam
(``Emulator.transport()``), without sockets.
"""

from __future__ import annotations

import time

import pytest

from runspec import NotebookTask, Run, RunHandle, TransportError, WaitTimeout, submit
from runspec.spec import RunSpec

try:
    from tests.wire_server import trickling_head_server
except ImportError:  # tests/ run as a plain directory
    from wire_server import trickling_head_server  # type: ignore[no-redef]

pytestmark = pytest.mark.socket

TOKEN = "dapi-socket-test-token"


def spec() -> RunSpec:
    return Run("sockets").task(NotebookTask("/n"), key="a").compile()


def test_submit_deadline_counts_a_trickled_status_line_and_headers() -> None:
    with trickling_head_server(0.2) as server:
        url = server.url
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
    with trickling_head_server(0.2) as server:
        url = server.url
        handle = RunHandle.attach(42, url, TOKEN)
        started = time.monotonic()
        with pytest.raises((WaitTimeout, TransportError)):
            handle.wait(timeout=1.5)
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed


def test_attach_deadline_counts_trickled_headers_of_get() -> None:
    with trickling_head_server(0.2) as server:
        url = server.url
        started = time.monotonic()
        with pytest.raises(TransportError):
            RunHandle.attach(42, url, TOKEN, deadline=1.5).get()
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
