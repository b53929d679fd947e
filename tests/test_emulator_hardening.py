"""
The emulator under load and bad HTTP: every malformed request gets a 4xx in the service's error shape,
large bodies are refused unread, stalled clients are dropped, big runs do not hold up other clients.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from runspec.testing import Emulator, ManualClock, Outcome, TaskContext

TOKEN = "hardening-token"
SUBMIT = "/api/2.2/jobs/runs/submit"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(token=TOKEN, clock=ManualClock()) as emulator:
        yield emulator


def raw(emulator: Emulator, request: bytes, *, timeout: float = 10.0) -> tuple[int, dict[str, Any], bytes]:
    """Send ``request`` bytes on a fresh connection; the status, JSON body and the raw answer."""
    host, port = emulator.url.rsplit("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as conn:
        conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
    status = int(head.split(b" ")[1])
    return status, json.loads(rest[:length]), data


def post(path: str, body: bytes, *extra: str) -> bytes:
    headers = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {TOKEN}", *extra]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in extra):
        headers.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def a_run(**top: Any) -> dict[str, Any]:
    task = {"task_key": "a", "notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": "c"}
    return {"run_name": "r", "tasks": [task], **top}


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (post(SUBMIT, b"{}", "Content-Length: abc"), 400, "BAD_REQUEST"),
        (post(SUBMIT, b"{}", "Content-Length: -5"), 400, "BAD_REQUEST"),
        (post(SUBMIT, b"5\r\n{}{}{\r\n0\r\n\r\n", "Transfer-Encoding: chunked"), 411, "BAD_REQUEST"),
        (post(SUBMIT, b"\xff\xfe{not utf-8}"), 400, "MALFORMED_REQUEST"),
        (post(SUBMIT, b'{"run_name": '), 400, "MALFORMED_REQUEST"),
        (post(SUBMIT, b'{"timeout_seconds": ' + b"9" * 5000 + b"}"), 400, "MALFORMED_REQUEST"),
        (post(SUBMIT, json.dumps(a_run(timeout_seconds=int("9" * 400))).encode()), 400, "INVALID_PARAMETER_VALUE"),
        (post(SUBMIT, json.dumps(a_run(timeout_seconds="9" * 400)).encode()), 400, "INVALID_PARAMETER_VALUE"),
        (post(SUBMIT, b'{"timeout_seconds": 1e999}'), 400, "MALFORMED_REQUEST"),
        (post("/api/2.2/jobs/runs/cancel", b'{"run_id": "99999999999999999999999"}'), 400, "INVALID_PARAMETER_VALUE"),
        (b"GET /api/2.2/jobs/runs/get?run_id=%FF HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n", 400, None),
        (b"NONSENSE\r\n\r\n", 400, "BAD_REQUEST"),
    ],
)
def test_malformed_requests_get_a_4xx_in_the_service_error_shape(
    emu: Emulator, request_bytes: bytes, status: int, code: str | None
) -> None:
    answered, payload, _ = raw(emu, request_bytes)
    assert answered == status
    assert {"error_code", "message"} <= set(payload) <= {"error_code", "message", "details"}
    assert payload["message"]
    if code is not None:
        assert payload["error_code"] == code
    assert emu.run_ids() == []


def test_a_body_over_10_mb_is_refused_before_it_is_read(emu: Emulator) -> None:
    head = post(SUBMIT, b"", f"Content-Length: {50 * 1024 * 1024}")
    status, payload, _ = raw(emu, head + b'{"run_name": "' + b"x" * 4096)  # 50 MB announced, 4 KB sent
    assert status == 413
    assert "10485760" in payload["message"]
    logged = emu.requests_to("runs/submit")[0]
    assert logged.status == 413 and isinstance(logged.body, str) and len(logged.body) < 1200


def test_refused_bodies_are_kept_short_in_the_request_log(emu: Emulator) -> None:
    big = json.dumps({"run_name": "x" * 200_000}).encode()
    response = requests.post(emu.url + SUBMIT, data=big, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 400
    logged = emu.requests_to("runs/submit")[0].body
    assert isinstance(logged, str) and len(logged) < 1200 and logged.endswith(f"({len(big)} bytes)")


def test_the_request_log_is_bounded() -> None:
    with Emulator(token=TOKEN, request_log_size=5) as emulator:
        http = requests.Session()
        for _ in range(12):
            http.get(emulator.url + "/api/2.2/jobs/runs/list", headers={"Authorization": f"Bearer {TOKEN}"})
        assert len(emulator.requests) == 5


def test_the_next_request_on_a_connection_after_a_good_one_is_read_whole(emu: Emulator) -> None:
    body = json.dumps(a_run()).encode()
    two = post(SUBMIT, body) + post(SUBMIT, body)
    host, port = emu.url.rsplit("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(two)
        data = b""
        while data.count(b"HTTP/1.1 200") < 2:
            chunk = conn.recv(65536)
            assert chunk, data
            data += chunk
    assert len(emu.run_ids()) == 2


def test_a_client_killed_mid_connection_leaves_no_traceback(
    emu: Emulator, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A client killed with its connection kept alive (``kill -9``) resets it; the emulator says nothing."""
    caplog.set_level(logging.DEBUG, logger="runspec.testing")
    host, port = emu.url.rsplit("//", 1)[1].rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=10)
    conn.sendall(post(SUBMIT, json.dumps(a_run()).encode()))
    assert conn.recv(65536).startswith(b"HTTP/1.1 200")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # a reset, as the kernel sends for a killed process's open connection
    deadline = time.monotonic() + 10
    while not any("ended" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any("ConnectionResetError" in r.getMessage() for r in caplog.records)
    assert "Traceback" not in capsys.readouterr().err
    assert emu.run_ids()  # and the emulator goes on answering
    assert requests.get(emu.url + "/api/2.2/jobs/runs/list", headers={"Authorization": f"Bearer {TOKEN}"}).ok


def test_a_stalled_client_is_dropped() -> None:
    with Emulator(token=TOKEN, socket_timeout=0.3) as emulator:
        host, port = emulator.url.rsplit("//", 1)[1].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(b"POST " + SUBMIT.encode() + b" HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")  # then nothing
            closed = conn.recv(65536)  # the server gives up on the body and answers, or closes
        assert closed == b"" or closed.startswith(b"HTTP/1.1 400")
        response = requests.get(
            emulator.url + "/api/2.2/jobs/runs/list", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert response.status_code == 200


def test_many_clients_opening_connections_at_once_all_get_answers() -> None:
    with Emulator(token=TOKEN) as emulator:

        def one(_: int) -> int:
            response = requests.get(
                emulator.url + "/api/2.2/jobs/runs/list",
                headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"},
                timeout=30,
            )
            return response.status_code

        with ThreadPoolExecutor(64) as pool:
            statuses = list(pool.map(one, range(256)))
    assert statuses == [200] * 256


def test_a_busy_run_holds_up_no_other_client() -> None:
    """A run whose work is in progress (here: a script that waits) leaves every other run answering."""
    release = threading.Event()
    entered = threading.Event()

    def slow(ctx: TaskContext) -> Outcome:
        entered.set()
        release.wait(30)
        return Outcome.success()

    with Emulator(token=TOKEN) as emulator:
        emulator.script("slow", slow)
        http = requests.Session()
        auth = {"Authorization": f"Bearer {TOKEN}"}
        other = http.post(emulator.url + SUBMIT, json=a_run(), headers=auth, timeout=10).json()["run_id"]
        busy_body = {"run_name": "busy", "tasks": [{"task_key": "slow", "notebook_task": {"notebook_path": "/s"}}]}
        busy = threading.Thread(
            target=lambda: requests.post(emulator.url + SUBMIT, json=busy_body, headers=auth, timeout=60)
        )
        busy.start()
        try:
            assert entered.wait(10)
            got = http.get(emulator.url + "/api/2.2/jobs/runs/get", params={"run_id": other}, headers=auth, timeout=5)
            assert got.status_code == 200 and got.json()["state"]["result_state"] == "SUCCESS"
        finally:
            release.set()
            busy.join(30)


def test_a_for_each_of_10000_iterations_finishes() -> None:
    inputs = json.dumps(list(range(10_000)))
    nested = {"task_key": "item", "notebook_task": {"notebook_path": "/i"}, "existing_cluster_id": "c"}
    big = {
        "run_name": "big",
        "tasks": [{"task_key": "each", "for_each_task": {"inputs": inputs, "concurrency": 100, "task": nested}}],
    }
    with Emulator(token=TOKEN) as emulator:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        run_id = requests.post(emulator.url + SUBMIT, json=big, headers=auth, timeout=60).json()["run_id"]
        run = requests.get(
            emulator.url + "/api/2.2/jobs/runs/get", params={"run_id": run_id}, headers=auth, timeout=60
        ).json()
        assert run["state"]["result_state"] == "SUCCESS"
        stats = run["tasks"][0]["for_each_task"]["stats"]["task_run_stats"]
        assert stats["total_iterations"] == stats["succeeded_iterations"] == 10_000


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_ipv6_loopback() -> None:
    with Emulator(token=TOKEN, host="::1") as emulator:
        assert emulator.url.startswith("http://[::1]:")
        submitted = requests.post(
            emulator.url + SUBMIT, json=a_run(), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert submitted.status_code == 200


def test_binding_beyond_loopback_warns_and_loopback_does_not() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Emulator(host="localhost").start().stop()
    with pytest.warns(RuntimeWarning, match="beyond loopback"):
        emulator = Emulator(host="0.0.0.0")
        emulator.start()
    emulator.stop()
