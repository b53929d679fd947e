"""
Every failure of a submit says whether a run exists, against a real server misbehaving on the wire.

* Ctrl-C inside ``submit()`` raises ``SubmitInterrupted`` (a ``KeyboardInterrupt``) with the token;
* a keyed submit whose read-back fails raises a ``SubmitError`` with the run id and the token, and a
  failing side lookup (runs/list) does not stop it from sending;
* a redirect to an unreachable target is not "nothing reached the workspace"; a reply cut inside its
  headers is retried with the same token; an unparseable ``Location`` is a ``SubmitError``;
* no error keeps the token in its exception context.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runspec import RunSpec, SubmitError, SubmitInterrupted, TransportError, WorkspaceUnreachable, submit
from runspec.cli import main
from tests.wire_server import Reply, Seen, WireServer, unreachable_url

TOKEN = "wire-token-4c1f"
SUBMIT = "/api/2.2/jobs/runs/submit"
BODY = {
    "run_name": "nightly",
    "tasks": [{"task_key": "t", "existing_cluster_id": "c", "notebook_task": {"notebook_path": "/n"}}],
}


def spec() -> RunSpec:
    return RunSpec.from_dict(BODY)


class FakeTime:
    """A clock that moves only when the client sleeps between retries (real sockets, no real waits)."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run_json(run_id: int, token: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "run_name": "nightly",
        "start_time": 1_700_000_000_000,
        "state": {"life_cycle_state": "RUNNING"},
        "status": {"state": "RUNNING"},
        "tasks": [{"task_key": "t", "run_id": run_id + 1, "state": {"life_cycle_state": "RUNNING"}}],
    }


def submits(server: WireServer) -> list[Seen]:
    return [s for s in server.seen if s.path.startswith(SUBMIT)]


# -- 3. Ctrl-C inside submit() ---------------------------------------------------------------------


@pytest.fixture
def sigint_after() -> Iterator[Any]:
    timers: list[threading.Timer] = []

    def arm(seconds: float) -> None:
        timer = threading.Timer(seconds, os.kill, args=(os.getpid(), signal.SIGINT))
        timers.append(timer)
        timer.start()

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield arm
    finally:
        for timer in timers:
            timer.cancel()
            timer.join(timeout=5)
        signal.signal(signal.SIGINT, previous)
        for thread in threading.enumerate():  # the exchange the interrupt left behind ends with the server
            if thread.name == "runspec-request":
                thread.join(timeout=5)


def test_ctrl_c_while_the_workspace_answers_raises_submit_interrupted_with_the_token(sigint_after: Any) -> None:
    with WireServer(lambda seen: Reply.trickle(200, {"run_id": 5}, delay=0.2)) as server:
        sigint_after(0.5)
        started = time.monotonic()
        with pytest.raises(SubmitInterrupted) as info:
            submit(spec(), host=server.url, token=TOKEN, deadline=20)
    assert time.monotonic() - started < 5
    exc = info.value
    assert isinstance(exc, KeyboardInterrupt)
    assert exc.may_exist is True
    assert exc.run_id is None
    sent = submits(server)
    assert len(sent) == 1
    assert exc.idempotency_token == sent[0].json()["idempotency_token"]
    assert exc.idempotency_token in str(exc)
    assert TOKEN not in str(exc)


# -- 4. a created run hidden behind a later error ----------------------------------------------------


def test_a_keyed_submit_whose_read_back_fails_carries_the_run_id_and_token() -> None:
    def answer(seen: Seen) -> Reply:
        if seen.path.startswith(SUBMIT):
            return Reply.json(200, {"run_id": 700})
        if seen.path.startswith("/api/2.2/jobs/runs/list"):
            return Reply.json(200, {"runs": [], "has_more": False})
        return Reply.json(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run not found"})

    with WireServer(answer) as server, pytest.raises(SubmitError) as info:
        submit(spec(), host=server.url, token=TOKEN, key="orders/2026-12-01", deadline=5)
    exc = info.value
    assert exc.run_id == 700
    assert exc.may_exist is True
    assert exc.idempotency_token == submits(server)[0].json()["idempotency_token"]
    assert "700" in str(exc)


def test_a_failing_side_lookup_does_not_stop_a_keyed_submit() -> None:
    fake = FakeTime()

    def answer(seen: Seen) -> Reply:
        if seen.path.startswith("/api/2.2/jobs/runs/list"):
            return Reply.close()  # the lookup that only tells whether the run existed before
        if seen.path.startswith(SUBMIT):
            return Reply.json(200, {"run_id": 800})
        token = submits(server)[0].json()["idempotency_token"]
        return Reply.json(200, run_json(800, token))

    with WireServer(answer) as server:
        handle = submit(
            spec(),
            host=server.url,
            token=TOKEN,
            key="orders/2026-12-02",
            deadline=30,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert handle.run_id == 800
    assert len(submits(server)) == 1


# -- 5. "nothing reached the workspace" only when that is known ------------------------------------


def test_a_redirect_to_an_unreachable_target_is_not_reported_as_nothing_sent() -> None:
    fake = FakeTime()
    target = unreachable_url() + SUBMIT
    with WireServer(lambda seen: Reply.redirect(target)) as server, pytest.raises(SubmitError) as info:
        submit(spec(), host=server.url, token=TOKEN, deadline=10, sleep=fake.sleep, clock=fake.clock)
    exc = info.value
    assert not isinstance(exc, WorkspaceUnreachable)
    assert isinstance(exc, TransportError)
    assert exc.may_exist is True
    assert "Nothing reached the workspace" not in str(exc)
    sent = submits(server)
    assert len(sent) >= 1
    assert exc.idempotency_token == sent[0].json()["idempotency_token"]


def test_a_reply_cut_inside_its_headers_is_retried_with_the_same_token() -> None:
    fake = FakeTime()
    replies = iter([Reply.cut(200), Reply.json(200, {"run_id": 900})])
    with WireServer(lambda seen: next(replies)) as server:
        handle = submit(spec(), host=server.url, token=TOKEN, deadline=30, sleep=fake.sleep, clock=fake.clock)
    assert handle.run_id == 900
    sent = submits(server)
    assert len(sent) == 2
    assert sent[0].json()["idempotency_token"] == sent[1].json()["idempotency_token"] == handle.idempotency_token


@pytest.mark.parametrize("location", ["http://127.0.0.1:99999/api/2.2/jobs/runs/submit", "http://[::1/x"])
def test_an_unparseable_location_is_a_submit_error(location: str) -> None:
    with WireServer(lambda seen: Reply.redirect(location)) as server, pytest.raises(SubmitError) as info:
        submit(spec(), host=server.url, token=TOKEN, deadline=5)
    assert "redirect" in str(info.value)
    assert info.value.may_exist is True


def test_a_refused_connection_is_still_nothing_sent() -> None:
    fake = FakeTime()
    with pytest.raises(WorkspaceUnreachable) as info:
        submit(spec(), host=unreachable_url(), token=TOKEN, deadline=10, sleep=fake.sleep, clock=fake.clock)
    assert info.value.may_exist is False


# -- 9. no token in exception contexts ---------------------------------------------------------------


def test_an_answer_that_is_not_json_leaves_no_token_in_the_exception_chain() -> None:
    def echo(seen: Seen) -> Reply:  # a broken proxy that echoes the request's headers as its page
        page = "not json: " + repr(dict(seen.headers))
        return Reply("answer", 200, page.encode(), {"Content-Type": "text/plain"})

    with WireServer(echo) as server, pytest.raises(SubmitError) as info:
        submit(spec(), host=server.url, token=TOKEN, deadline=5)
    chain: list[BaseException] = []
    current: BaseException | None = info.value
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = "".join(traceback.format_exception(info.value)) + "".join(
        repr(vars(e)) + repr(e.args) + repr(getattr(e, "doc", "")) for e in chain
    )
    assert TOKEN not in text


def test_the_command_names_the_run_and_the_key_when_the_read_back_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def answer(seen: Seen) -> Reply:
        if seen.path.startswith(SUBMIT):
            return Reply.json(200, {"run_id": 701})
        if seen.path.startswith("/api/2.2/jobs/runs/list"):
            return Reply.json(200, {"runs": [], "has_more": False})
        return Reply.json(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run not found"})

    body = tmp_path / "run.json"
    body.write_text(spec().to_json(), encoding="utf-8")
    with WireServer(answer) as server:
        monkeypatch.setenv("DATABRICKS_HOST", server.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
        monkeypatch.delenv("DATABRICKS_CONFIG_PROFILE", raising=False)
        code = main(["submit", str(body), "--key", "orders/2026-12-03", "--deadline", "5"])
    _, err = capsys.readouterr()
    assert code == 3
    assert err.count("\n") == 1, err
    assert "run 701" in err
    assert "--key orders/2026-12-03" in err
    assert TOKEN not in err


def test_submit_interrupted_pickles_with_what_finds_the_run() -> None:
    exc = SubmitInterrupted("interrupted", idempotency_token="runspec-abc", run_id=None, may_exist=True)
    back = pickle.loads(pickle.dumps(exc))
    assert isinstance(back, KeyboardInterrupt)
    assert (back.idempotency_token, back.run_id, back.may_exist) == ("runspec-abc", None, True)
