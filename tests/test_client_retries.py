"""Retries: which failures, how many attempts, how long between them, and never a second run."""

from __future__ import annotations

import email.utils
import logging
import socket
from typing import Any

import pytest

from runspec import (
    ApiError,
    BadRequest,
    NotFound,
    PermissionDenied,
    PreparedRequest,
    RateLimited,
    ResourceConflict,
    RunHandle,
    ServerError,
    SubmitError,
    TransportError,
    Unauthenticated,
    WorkspaceUnreachable,
    submit,
)
from runspec.spec import RunSpec

try:
    from tests.support import (
        Delay,
        Drop,
        DropAfter,
        FakeClock,
        FakeWorkspace,
        Reply,
        run_json,
    )
except ImportError:  # tests/ run as a plain directory
    from support import (  # type: ignore[no-redef]
        Delay,
        Drop,
        DropAfter,
        FakeClock,
        FakeWorkspace,
        Reply,
        run_json,
    )

TOKEN = "dapi-retry-secret-token"


BODY: dict[str, Any] = {
    "run_name": "r",
    "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}],
}


def make_spec() -> RunSpec:
    return RunSpec.from_dict(BODY)


def do_submit(ws: FakeWorkspace, clock: FakeClock, **kwargs: Any) -> RunHandle:
    handle = submit(make_spec(), ws.url, TOKEN, sleep=clock.sleep, clock=clock, **kwargs)
    assert isinstance(handle, RunHandle)
    return handle


def attach(ws: FakeWorkspace, clock: FakeClock, run_id: int = 7, **kwargs: Any) -> RunHandle:
    return RunHandle.attach(run_id, ws.url, TOKEN, sleep=clock.sleep, clock=clock, **kwargs)


def error_reply(status: int, code: str = "TEMPORARILY_UNAVAILABLE", **headers: str) -> Reply:
    return Reply(status, {"error_code": code, "message": f"status {status}"}, headers=dict(headers))


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retried_statuses_on_submit(ws: FakeWorkspace, clock: FakeClock, status: int) -> None:
    ws.script("POST", "runs/submit", error_reply(status), error_reply(status))
    handle = do_submit(ws, clock)
    tokens = {r.json["idempotency_token"] for r in ws.calls("runs/submit")}
    assert len(ws.calls("runs/submit")) == 3
    assert tokens == {handle.idempotency_token}
    assert len(ws.created) == 1
    # Backoff: 1 s then 2 s ceilings, jitter in the upper half.
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 2.0
    handle.close()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retried_statuses_on_get(ws: FakeWorkspace, clock: FakeClock, status: int) -> None:
    ws.runs[7] = run_json(7)
    ws.script("GET", "runs/get", error_reply(status))
    handle = attach(ws, clock)
    assert handle.get().run_id == 7
    assert len(ws.calls("runs/get")) == 2
    handle.close()


def test_retry_after_seconds(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script(
        "POST",
        "runs/submit",
        error_reply(429, "REQUEST_LIMIT_EXCEEDED", **{"Retry-After": "17"}),
        error_reply(503, **{"Retry-After": "3"}),
    )
    do_submit(ws, clock).close()
    assert clock.sleeps == [17.0, 3.0]


def test_retry_after_http_date(ws: FakeWorkspace, clock: FakeClock) -> None:
    # The date is read against the response's own Date header, so local clock skew does not matter.
    date = "Wed, 21 Oct 2026 07:28:00 GMT"
    later = "Wed, 21 Oct 2026 07:28:42 GMT"
    ws.script("GET", "runs/get", Reply(503, {"message": "busy"}, headers={"Retry-After": later, "Date": date}))
    ws.runs[7] = run_json(7)
    attach(ws, clock).get()
    assert clock.sleeps == [42.0]


def test_retry_after_http_date_without_date_header(ws: FakeWorkspace, clock: FakeClock) -> None:
    import time

    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    ws.script("GET", "runs/get", Reply(503, {"message": "busy"}, headers={"Retry-After": when}))
    ws.runs[7] = run_json(7)
    attach(ws, clock).get()
    assert len(clock.sleeps) == 1
    assert 110 <= clock.sleeps[0] <= 121


def test_connection_errors_are_retried(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.runs[7] = run_json(7)
    ws.script("GET", "runs/get", Drop(), Drop())
    assert attach(ws, clock).get().run_id == 7
    assert len(ws.calls("runs/get")) == 3
    assert len(clock.sleeps) == 2


def test_read_timeouts_are_retried(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.runs[7] = run_json(7)
    ws.script("GET", "runs/get", Delay(0.5))
    handle = attach(ws, clock, timeout=(2, 0.1))
    assert handle.get().run_id == 7
    assert len(ws.calls("runs/get")) == 2
    assert len(clock.sleeps) == 1


@pytest.mark.socket
def test_refused_connection_is_a_wrong_host_after_a_few_quick_tries(clock: FakeClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WorkspaceUnreachable) as error:
        submit(make_spec(), f"http://127.0.0.1:{port}", TOKEN, sleep=clock.sleep, clock=clock, deadline=20)
    err = error.value
    assert isinstance(err, TransportError)
    # Nothing was sent, so there is no token to resubmit with: no run exists.
    assert err.idempotency_token is None
    assert err.attempts == len(clock.sleeps) + 1 == 3
    assert sum(clock.sleeps) <= 2
    assert err.host == f"http://127.0.0.1:{port}"
    assert err.host_source == "host="
    assert f"cannot connect to http://127.0.0.1:{port} (host from host=)" in str(err)
    assert "the connection was refused" in str(err)
    assert "no run was created" in str(err)
    assert "may exist" not in str(err)
    # The underlying error is attached.
    import requests

    causes = [err.__cause__, getattr(err.__cause__, "__cause__", None)]
    assert any(isinstance(cause, requests.ConnectionError) for cause in causes)
    assert TOKEN not in str(err)


def test_lost_response_after_the_run_was_created_gives_one_run(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script("POST", "runs/submit", DropAfter(), DropAfter())
    handle = do_submit(ws, clock)
    assert len(ws.calls("runs/submit")) == 3
    assert len(ws.created) == 1
    assert handle.run_id == 1001
    assert {r.json["idempotency_token"] for r in ws.calls("runs/submit")} == {handle.idempotency_token}
    handle.close()


def test_request_without_token_is_not_retried_once_it_may_have_arrived(ws: FakeWorkspace, clock: FakeClock) -> None:
    body = dict(BODY)
    prepared = PreparedRequest(
        "POST",
        ws.url + "/api/2.2/jobs/runs/submit",
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        body,
    )
    ws.script("POST", "runs/submit", DropAfter())
    with pytest.raises(TransportError) as dropped:
        prepared.send(sleep=clock.sleep, clock=clock)
    assert dropped.value.attempts == 1
    ws.script("POST", "runs/submit", error_reply(503))
    with pytest.raises(ServerError):
        prepared.send(sleep=clock.sleep, clock=clock)
    assert len(ws.calls("runs/submit")) == 2
    assert len(ws.created) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "INVALID_PARAMETER_VALUE", BadRequest),
        (401, "UNAUTHENTICATED", Unauthenticated),
        (403, "PERMISSION_DENIED", PermissionDenied),
        (404, "ENDPOINT_NOT_FOUND", NotFound),
        (409, "RESOURCE_CONFLICT", ResourceConflict),
        (418, "TEAPOT", ApiError),
    ],
)
def test_other_4xx_are_not_retried(
    ws: FakeWorkspace, clock: FakeClock, status: int, code: str, cls: type[ApiError]
) -> None:
    ws.script("POST", "runs/submit", Reply(status, {"error_code": code, "message": "nope"}))
    with pytest.raises(cls) as error:
        do_submit(ws, clock)
    err = error.value
    assert type(err) is cls
    assert (err.status, err.error_code, err.message) == (status, code, "nope")
    assert (err.method, err.path) == ("POST", "/api/2.2/jobs/runs/submit")
    assert err.attempts == 1
    assert err.idempotency_token == ws.calls("runs/submit")[0].json["idempotency_token"]
    assert str(err).startswith(f"POST /api/2.2/jobs/runs/submit -> {status} {code}: nope")
    assert len(ws.calls("runs/submit")) == 1
    assert clock.sleeps == []


def test_error_code_decides_the_class(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script("POST", "runs/submit", Reply(400, {"error_code": "INVALID_STATE", "message": "too many"}))
    with pytest.raises(BadRequest):
        do_submit(ws, clock)
    ws.script("POST", "runs/submit", Reply(400, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "x"}))
    with pytest.raises(NotFound):
        do_submit(ws, clock)


def test_missing_run_is_not_found(ws: FakeWorkspace, clock: FakeClock) -> None:
    with pytest.raises(NotFound) as error:
        attach(ws, clock, 424242).get()
    assert error.value.status == 400
    assert "424242 does not exist" in str(error.value)
    assert clock.sleeps == []


def test_capacity_429_on_submit_says_so(ws: FakeWorkspace, clock: FakeClock) -> None:
    reply = error_reply(429, "RESOURCE_EXHAUSTED", **{"Retry-After": "60"})
    ws.script("POST", "runs/submit", *([reply] * 10))
    with pytest.raises(RateLimited) as error:
        do_submit(ws, clock, deadline=150)
    err = error.value
    assert "no capacity to start this run right now" in str(err)
    assert err.retry_after == 60
    assert clock.sleeps == [60.0, 60.0]
    assert err.attempts == 3
    assert "gave up after 3 attempts" in str(err)
    assert "deadline" in str(err)
    # The earlier attempts are chained behind the last one.
    assert isinstance(err.__cause__, RateLimited)
    assert err.idempotency_token in str(err)


def test_retry_after_past_the_deadline_stops_at_once(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script("GET", "runs/get", error_reply(503, **{"Retry-After": "3600"}))
    with pytest.raises(ServerError) as error:
        attach(ws, clock, deadline=300).get()
    assert clock.sleeps == []
    assert "asked to wait 3600 s" in str(error.value)


def test_deadline_zero_means_one_attempt(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script("GET", "runs/get", error_reply(503))
    with pytest.raises(ServerError) as error:
        attach(ws, clock, deadline=0).get()
    assert error.value.attempts == 1
    assert len(ws.calls("runs/get")) == 1


def test_cancel_is_retried(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script("POST", "runs/cancel", Drop(), error_reply(502))
    attach(ws, clock).cancel()
    assert len(ws.calls("runs/cancel")) == 3
    assert ws.cancelled == [7]
    assert ws.calls("runs/cancel")[0].json == {"run_id": 7}


def test_backoff_is_capped(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.runs[7] = run_json(7)
    ws.script("GET", "runs/get", *[error_reply(500)] * 8)
    attach(ws, clock, deadline=10_000).get()
    assert len(clock.sleeps) == 8
    assert all(s <= 30 for s in clock.sleeps)
    assert clock.sleeps[-1] >= 15


def test_error_bodies_of_every_shape(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script("GET", "runs/get", Reply(400, {"error": "legacy message"}))
    with pytest.raises(BadRequest, match="legacy message"):
        attach(ws, clock).get()
    ws.script(
        "GET", "runs/get", Reply(403, body=b"PERMISSION_DENIED: you may not", headers={"Content-Type": "text/plain"})
    )
    with pytest.raises(PermissionDenied) as plain:
        attach(ws, clock).get()
    assert (plain.value.error_code, plain.value.message) == ("PERMISSION_DENIED", "you may not")
    ws.script(
        "GET",
        "runs/get",
        Reply(401, body=b"<html><title>Sign in</title></html>", headers={"Content-Type": "text/html"}),
    )
    with pytest.raises(Unauthenticated, match="Sign in"):
        attach(ws, clock).get()
    ws.script("GET", "runs/get", Reply(404, body=b""))
    with pytest.raises(NotFound, match="Not Found"):
        attach(ws, clock).get()


def test_success_that_is_not_json(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script(
        "GET", "runs/get", Reply(200, body=b"<html><title>Login</title></html>", headers={"Content-Type": "text/html"})
    )
    with pytest.raises(SubmitError, match=r"not with JSON.*Login"):
        attach(ws, clock).get()


def test_redirect_to_another_host_drops_credentials(clock: FakeClock) -> None:
    home = FakeWorkspace()
    other = FakeWorkspace()
    try:
        other.runs[7] = run_json(7)
        target = other.url + "/api/2.2/jobs/runs/get?run_id=7"
        home.script("GET", "runs/get", Reply(302, headers={"Location": target}))
        handle = attach(home, clock)  # type: ignore[arg-type]
        assert handle.get().run_id == 7
        (forwarded,) = other.calls("runs/get")
        assert "Authorization" not in forwarded.headers
        assert home.calls("runs/get")[0].headers["Authorization"] == f"Bearer {TOKEN}"
    finally:
        home.close()
        other.close()


def test_redirect_within_the_workspace_keeps_credentials(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.runs[7] = run_json(7)
    ws.script("GET", "/moved", Reply(200, {"run_id": 7}))
    ws.script("GET", "runs/get", Reply(307, headers={"Location": "/moved"}))
    assert attach(ws, clock).get().run_id == 7
    assert ws.calls("/moved")[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_post_is_never_turned_into_get(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script("POST", "runs/submit", Reply(302, headers={"Location": "/login"}))
    with pytest.raises(SubmitError, match="does not turn a POST into a GET"):
        do_submit(ws, clock)
    assert ws.calls("/login") == []


def test_redirect_to_plain_http_is_refused(ws: FakeWorkspace, clock: FakeClock) -> None:
    ws.script("GET", "runs/get", Reply(301, headers={"Location": "http://example.com/x"}))
    with pytest.raises(SubmitError, match="not https"):
        attach(ws, clock).get()


def test_retries_are_logged_without_secrets(
    ws: FakeWorkspace, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    ws.script("POST", "runs/submit", Drop(), error_reply(503))
    with caplog.at_level(logging.DEBUG, logger="runspec"):
        do_submit(ws, clock).close()
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2
    assert all(r.name == "runspec.retries" for r in retries)
    assert "HTTP 503" in retries[1].getMessage()
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


@pytest.mark.socket
def test_tls_failure_is_not_retried(clock: FakeClock) -> None:
    # https:// to a plain-http server fails the TLS handshake: retrying cannot help.
    ws = FakeWorkspace(http=True)
    https_url = ws.url.replace("http://", "https://")
    with pytest.raises(WorkspaceUnreachable, match="TLS handshake failed") as error:
        RunHandle.attach(7, https_url, TOKEN, sleep=clock.sleep, clock=clock).get()
    ws.close()
    assert error.value.attempts == 1
    assert "no run was created" in str(error.value)
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        ("5", None, 5.0),
        ("2.5", None, 2.5),
        ("-3", None, 0.0),
        ("", None, None),
        ("soon", None, None),
        (None, None, None),
        ("Wed, 21 Oct 2026 07:28:30 GMT", "Wed, 21 Oct 2026 07:28:00 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", "Wed, 21 Oct 2026 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, date: str | None, expected: float | None) -> None:
    from runspec.client.transport import parse_retry_after

    assert parse_retry_after(value, date) == expected


def test_the_backoff_stays_at_its_maximum_however_many_attempts() -> None:
    from runspec.client.transport import RetryPolicy

    # A sleep that takes no time (a test's) lets a long deadline see thousands of attempts.
    assert [RetryPolicy().delay(attempt) <= 30.0 for attempt in (1, 64, 1100, 10**6)] == [True] * 4
