"""
The emulator stays bounded against clients that misbehave on the wire: odd Content-Length values, bodies
refused before ``100 Continue``, clients that trickle their request, and a long life of submits.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from runspec.testing import Emulator, ManualClock, Outcome

TOKEN = "safety-token"
SUBMIT = "/api/2.2/jobs/runs/submit"
BODY = {"run_name": "r", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/n"}}]}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(token=TOKEN, clock=ManualClock(), socket_timeout=0.5) as emulator:
        yield emulator


def connect(emulator: Emulator) -> socket.socket:
    host, port = emulator.url.rsplit("//", 1)[1].rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=5)


def head(lines: list[str]) -> bytes:
    """A request's head; Latin-1, as HTTP headers are read."""
    return ("\r\n".join([*lines, "Host: 127.0.0.1", f"Authorization: Bearer {TOKEN}"]) + "\r\n\r\n").encode("latin-1")


def read_answer(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection or goes quiet for 2 s."""
    conn.settimeout(2)
    data = b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def test_a_content_length_of_non_ascii_digits_gets_a_400(emu: Emulator) -> None:
    with connect(emu) as conn:
        conn.sendall(head([f"POST {SUBMIT} HTTP/1.1", "Content-Length: \u00b2"]) + b"{}")
        answer = read_answer(conn)
    assert answer.startswith(b"HTTP/1.1 400 ")
    payload = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert payload["error_code"] == "BAD_REQUEST"
    assert "Content-Length" in payload["message"]
    assert emu.run_ids() == []


def test_a_body_over_the_limit_is_refused_before_100_continue(emu: Emulator) -> None:
    with connect(emu) as conn:
        started = time.monotonic()
        conn.sendall(head([f"POST {SUBMIT} HTTP/1.1", f"Content-Length: {50 * 1024 * 1024}", "Expect: 100-continue"]))
        conn.settimeout(5)
        first = conn.recv(65536)
        elapsed = time.monotonic() - started
    assert first.startswith(b"HTTP/1.1 413 "), first[:40]
    assert b"100 Continue" not in first
    assert elapsed < 1.0
    assert emu.requests[-1].status == 413


def test_a_body_within_the_limit_still_gets_100_continue(emu: Emulator) -> None:
    body = json.dumps(BODY).encode()
    with connect(emu) as conn:
        conn.sendall(head([f"POST {SUBMIT} HTTP/1.1", f"Content-Length: {len(body)}", "Expect: 100-continue"]))
        conn.settimeout(5)
        assert conn.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        conn.sendall(body)
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert len(emu.run_ids()) == 1


def test_a_client_trickling_its_headers_is_dropped_after_the_socket_timeout(emu: Emulator) -> None:
    request = head(["GET /api/2.2/jobs/runs/list HTTP/1.1"])
    with connect(emu) as conn:
        started = time.monotonic()
        closed_after = None
        for byte in request[:-2]:  # one byte every 50 ms, each well within the 0.5 s socket timeout
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                closed_after = time.monotonic() - started
                break
            conn.settimeout(0.05)
            try:
                if conn.recv(65536) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                pass
            if time.monotonic() - started > 3:
                break
    assert closed_after is not None, "the server kept a trickling connection open for 3 s"
    assert closed_after < 1.5


def test_an_idle_kept_alive_connection_is_closed_after_the_socket_timeout(emu: Emulator) -> None:
    with connect(emu) as conn:
        conn.sendall(head(["GET /api/2.2/jobs/runs/list HTTP/1.1"]))
        conn.settimeout(5)
        assert conn.recv(65536).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert conn.recv(65536) == b""  # closed by the server, not by our 5 s timeout
        assert time.monotonic() - started < 1.5


def submit(emulator: Emulator, token: str) -> int:
    response = requests.post(
        emulator.url + SUBMIT,
        json={**BODY, "idempotency_token": token},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    run_id: int = response.json()["run_id"]
    return run_id


def test_finished_runs_past_the_cap_are_dropped_oldest_first_and_their_tokens_still_find_them() -> None:
    with Emulator(token=TOKEN, max_finished_runs=3) as emulator:
        ids = [submit(emulator, f"token-{i}") for i in range(6)]
        kept = emulator.run_ids()
        assert kept == ids[-3:]
        gone = requests.get(
            emulator.url + "/api/2.2/jobs/runs/get",
            params={"run_id": ids[0]},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        assert gone.status_code == 400
        assert gone.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": f"Run {ids[0]} does not exist."}
        assert submit(emulator, "token-0") == ids[0]  # the token still names its run: no second run
        assert emulator.run_ids() == ids[-3:]


def test_active_runs_are_never_dropped() -> None:
    with Emulator(token=TOKEN, max_finished_runs=1, clock=ManualClock()) as emulator:
        emulator.script("t", Outcome.hang())
        ids = [submit(emulator, f"token-{i}") for i in range(4)]
        assert emulator.run_ids() == ids


def test_the_default_cap_is_10000_finished_runs() -> None:
    assert Emulator().max_finished_runs == 10_000
