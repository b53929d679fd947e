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
    wire,
)
from runspec.spec import RunSpec
from runspec.testing import Emulator, Fault, Outcome

try:
    from tests.support import FakeClock, Tap, forget, in_process
except ImportError:  # tests/ run as a plain directory
    from support import FakeClock, Tap, forget, in_process  # type: ignore[no-redef]

TOKEN = "dapi-retry-secret-token"


BODY: dict[str, Any] = {
    "run_name": "r",
    "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}],
}


def make_spec() -> RunSpec:
    return RunSpec.from_dict(BODY)


def do_submit(host: str, clock: FakeClock, **kwargs: Any) -> RunHandle:
    handle = submit(make_spec(), host, TOKEN, sleep=clock.sleep, clock=clock, **kwargs)
    assert isinstance(handle, RunHandle)
    return handle


def a_run(host: str) -> int:
    """The id of a run on the workspace at ``host``."""
    return submit(make_spec(), host, TOKEN).run_id


def attach(host: str, clock: FakeClock, run_id: int = 7, **kwargs: Any) -> RunHandle:
    return RunHandle.attach(run_id, host, TOKEN, sleep=clock.sleep, clock=clock, **kwargs)


def fault(status: int, code: str = "TEMPORARILY_UNAVAILABLE", retry_after: float | None = None) -> Fault:
    return Fault.error(status, code, f"status {status}", retry_after=retry_after)


def submits(emulator: Emulator) -> list[Any]:
    return emulator.requests_to("runs/submit")


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retried_statuses_on_submit(host: str, emulator: Emulator, clock: FakeClock, status: int) -> None:
    emulator.inject(fault(status), "runs/submit", times=2)
    handle = do_submit(host, clock)
    tokens = {r.body["idempotency_token"] for r in submits(emulator)}
    assert [r.status for r in submits(emulator)] == [status, status, 200]
    assert tokens == {handle.idempotency_token}
    assert emulator.run_ids() == [handle.run_id]
    # Backoff: 1 s then 2 s ceilings, jitter in the upper half.
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 2.0
    handle.close()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retried_statuses_on_get(host: str, emulator: Emulator, clock: FakeClock, status: int) -> None:
    run_id = a_run(host)
    emulator.inject(fault(status), "runs/get", times=1)
    handle = attach(host, clock, run_id)
    assert handle.get().run_id == run_id
    assert [r.status for r in emulator.requests_to("runs/get")] == [status, 200]
    handle.close()


def test_retry_after_seconds(host: str, emulator: Emulator, clock: FakeClock) -> None:
    emulator.inject(fault(429, "REQUEST_LIMIT_EXCEEDED", retry_after=17), "runs/submit", times=1)
    emulator.inject(fault(503, retry_after=3), "runs/submit", times=1)
    do_submit(host, clock).close()
    assert clock.sleeps == [17.0, 3.0]


def test_retry_after_http_date(host: str, tap: Tap, clock: FakeClock) -> None:
    # The date is read against the response's own Date header, so local clock skew does not matter.
    date = "Wed, 21 Oct 2026 07:28:00 GMT"
    later = "Wed, 21 Oct 2026 07:28:42 GMT"
    run_id = a_run(host)
    tap.answer("runs/get", wire.Response.json(503, {"message": "busy"}, {"Retry-After": later, "Date": date}))
    attach(host, clock, run_id).get()
    assert clock.sleeps == [42.0]


def test_retry_after_http_date_without_date_header(host: str, emulator: Emulator, clock: FakeClock) -> None:
    import time

    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    run_id = a_run(host)
    emulator.inject(Fault.unavailable(retry_after=when), "runs/get", times=1)
    attach(host, clock, run_id).get()
    assert len(clock.sleeps) == 1
    assert 110 <= clock.sleeps[0] <= 121


def test_connection_errors_are_retried(host: str, emulator: Emulator, clock: FakeClock) -> None:
    run_id = a_run(host)
    emulator.inject(Fault.drop(after_handling=False), "runs/get", times=2)
    assert attach(host, clock, run_id).get().run_id == run_id
    assert [r.status for r in emulator.requests_to("runs/get")] == [None, None, 200]
    assert len(clock.sleeps) == 2


def test_read_timeouts_are_retried(host: str, emulator: Emulator, clock: FakeClock) -> None:
    run_id = a_run(host)
    emulator.inject(Fault.delay(0.5), "runs/get", times=1)
    handle = attach(host, clock, run_id, timeout=(2, 0.1))
    assert handle.get().run_id == run_id
    assert [(r.status, r.fault) for r in emulator.requests_to("runs/get")] == [(None, "delay 0.5s"), (200, None)]
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


def test_lost_response_after_the_run_was_created_gives_one_run(host: str, emulator: Emulator, clock: FakeClock) -> None:
    emulator.inject(Fault.drop(), "runs/submit", times=2)
    handle = do_submit(host, clock)
    assert [r.status for r in submits(emulator)] == [None, None, 200]
    assert emulator.run_ids() == [handle.run_id]
    assert {r.body["idempotency_token"] for r in submits(emulator)} == {handle.idempotency_token}
    handle.close()


def test_request_without_token_is_not_retried_once_it_may_have_arrived(
    host: str, emulator: Emulator, clock: FakeClock
) -> None:
    body = dict(BODY)
    prepared = PreparedRequest(
        "POST",
        host + "/api/2.2/jobs/runs/submit",
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        body,
    )
    emulator.inject(Fault.drop(), "runs/submit", times=1)
    with pytest.raises(TransportError) as dropped:
        prepared.send(sleep=clock.sleep, clock=clock)
    assert dropped.value.attempts == 1
    emulator.inject(fault(503), "runs/submit", times=1)
    with pytest.raises(ServerError):
        prepared.send(sleep=clock.sleep, clock=clock)
    assert len(submits(emulator)) == 2
    assert len(emulator.run_ids()) == 1
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
    host: str, emulator: Emulator, clock: FakeClock, status: int, code: str, cls: type[ApiError]
) -> None:
    emulator.inject(Fault.error(status, code, "nope"), "runs/submit", times=1)
    with pytest.raises(cls) as error:
        do_submit(host, clock)
    err = error.value
    assert type(err) is cls
    assert (err.status, err.error_code, err.message) == (status, code, "nope")
    assert (err.method, err.path) == ("POST", "/api/2.2/jobs/runs/submit")
    assert err.attempts == 1
    assert err.idempotency_token == submits(emulator)[0].body["idempotency_token"]
    assert str(err).startswith(f"POST /api/2.2/jobs/runs/submit -> {status} {code}: nope")
    assert len(submits(emulator)) == 1
    assert clock.sleeps == []


def test_error_code_decides_the_class(host: str, emulator: Emulator, clock: FakeClock) -> None:
    emulator.inject(Fault.error(400, "INVALID_STATE", "too many"), "runs/submit", times=1)
    with pytest.raises(BadRequest):
        do_submit(host, clock)
    emulator.inject(Fault.error(400, "RESOURCE_DOES_NOT_EXIST", "x"), "runs/submit", times=1)
    with pytest.raises(NotFound):
        do_submit(host, clock)


def test_missing_run_is_not_found(host: str, clock: FakeClock) -> None:
    with pytest.raises(NotFound) as error:
        attach(host, clock, 424242).get()
    assert error.value.status == 400
    assert "424242 does not exist" in str(error.value)
    assert clock.sleeps == []


def test_capacity_429_on_submit_says_so(host: str, emulator: Emulator, clock: FakeClock) -> None:
    emulator.inject(fault(429, "RESOURCE_EXHAUSTED", retry_after=60), "runs/submit", times=10)
    with pytest.raises(RateLimited) as error:
        do_submit(host, clock, deadline=150)
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


def test_retry_after_past_the_deadline_stops_at_once(host: str, emulator: Emulator, clock: FakeClock) -> None:
    emulator.inject(fault(503, retry_after=3600), "runs/get", times=1)
    with pytest.raises(ServerError) as error:
        attach(host, clock, deadline=300).get()
    assert clock.sleeps == []
    assert "asked to wait 3600 s" in str(error.value)


def test_deadline_zero_means_one_attempt(host: str, emulator: Emulator, clock: FakeClock) -> None:
    emulator.inject(fault(503), "runs/get", times=1)
    with pytest.raises(ServerError) as error:
        attach(host, clock, deadline=0).get()
    assert error.value.attempts == 1
    assert len(emulator.requests_to("runs/get")) == 1


def test_cancel_is_retried(host: str, emulator: Emulator, clock: FakeClock) -> None:
    emulator.script("a", Outcome.hang())
    run_id = a_run(host)
    emulator.inject(Fault.drop(after_handling=False), "runs/cancel", times=1)
    emulator.inject(fault(502), "runs/cancel", times=1)
    attach(host, clock, run_id).cancel()
    cancels = emulator.requests_to("runs/cancel")
    assert [r.status for r in cancels] == [None, 502, 200]
    assert cancels[0].body == {"run_id": run_id}
    assert emulator.run(run_id)["state"]["result_state"] == "CANCELED"


def test_backoff_is_capped(host: str, emulator: Emulator, clock: FakeClock) -> None:
    run_id = a_run(host)
    emulator.inject(fault(500), "runs/get", times=8)
    attach(host, clock, run_id, deadline=10_000).get()
    assert len(clock.sleeps) == 8
    assert all(s <= 30 for s in clock.sleeps)
    assert clock.sleeps[-1] >= 15


def test_error_bodies_of_every_shape(host: str, tap: Tap, clock: FakeClock) -> None:
    # Shapes a workspace's proxies and older endpoints send, which the Jobs API itself does not.
    tap.answer("runs/get", wire.Response.json(400, {"error": "legacy message"}))
    with pytest.raises(BadRequest, match="legacy message"):
        attach(host, clock).get()
    tap.answer("runs/get", wire.Response(403, {"Content-Type": "text/plain"}, b"PERMISSION_DENIED: you may not"))
    with pytest.raises(PermissionDenied) as plain:
        attach(host, clock).get()
    assert (plain.value.error_code, plain.value.message) == ("PERMISSION_DENIED", "you may not")
    tap.answer("runs/get", wire.Response(401, {"Content-Type": "text/html"}, b"<html><title>Sign in</title></html>"))
    with pytest.raises(Unauthenticated, match="Sign in"):
        attach(host, clock).get()
    tap.answer("runs/get", wire.Response(404, {}, b"", "Not Found"))
    with pytest.raises(NotFound, match="Not Found"):
        attach(host, clock).get()


def test_success_that_is_not_json(host: str, tap: Tap, clock: FakeClock) -> None:
    tap.answer("runs/get", wire.Response(200, {"Content-Type": "text/html"}, b"<html><title>Login</title></html>"))
    with pytest.raises(SubmitError, match=r"not with JSON.*Login"):
        attach(host, clock).get()


def test_redirect_to_another_host_drops_credentials(host: str, tap: Tap, clock: FakeClock) -> None:
    other = Tap(Emulator(token=None))
    elsewhere = in_process(other)
    try:
        tap.answer("runs/get", wire.Response(302, {"Location": elsewhere + "/api/2.2/jobs/runs/get?run_id=7"}))
        # The other host gets no credentials, so it refuses, as a workspace refuses a request without them.
        with pytest.raises(Unauthenticated):
            attach(host, clock).get()
        (forwarded,) = other.calls("runs/get")
        assert forwarded.header("Authorization") is None
        assert tap.calls("runs/get")[0].header("Authorization") == f"Bearer {TOKEN}"
    finally:
        forget(elsewhere)


def test_redirect_within_the_workspace_keeps_credentials(
    host: str, tap: Tap, emulator: Emulator, clock: FakeClock
) -> None:
    run_id = a_run(host)
    moved = f"/api/2.1/jobs/runs/get?run_id={run_id}"
    tap.answer("runs/get", wire.Response(307, {"Location": moved}))
    assert attach(host, clock, run_id).get().run_id == run_id
    first, second = tap.calls("runs/get")
    assert second.url == host + moved
    assert first.header("Authorization") == second.header("Authorization") == f"Bearer {TOKEN}"
    assert emulator.requests_to("runs/get")[0].path == "/api/2.1/jobs/runs/get"


def test_post_is_never_turned_into_get(host: str, tap: Tap, emulator: Emulator, clock: FakeClock) -> None:
    tap.answer("runs/submit", wire.Response(302, {"Location": "/login"}))
    with pytest.raises(SubmitError, match="does not turn a POST into a GET"):
        do_submit(host, clock)
    assert tap.calls("/login") == []
    assert emulator.run_ids() == []


def test_redirect_to_plain_http_is_refused(host: str, tap: Tap, clock: FakeClock) -> None:
    tap.answer("runs/get", wire.Response(301, {"Location": "http://example.com/x"}))
    with pytest.raises(SubmitError, match="not https"):
        attach(host, clock).get()


def test_retries_are_logged_without_secrets(
    host: str, emulator: Emulator, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.inject(Fault.drop(after_handling=False), "runs/submit", times=1)
    emulator.inject(fault(503), "runs/submit", times=1)
    with caplog.at_level(logging.DEBUG, logger="runspec"):
        do_submit(host, clock).close()
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2
    assert all(r.name == "runspec.retries" for r in retries)
    assert "HTTP 503" in retries[1].getMessage()
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


@pytest.mark.socket
def test_tls_failure_is_not_retried(clock: FakeClock) -> None:
    # https:// to a plain-http server fails the TLS handshake: retrying cannot help.
    with Emulator(token=None) as emulator:
        https_url = emulator.url.replace("http://", "https://")
        with pytest.raises(WorkspaceUnreachable, match="TLS handshake failed") as error:
            RunHandle.attach(7, https_url, TOKEN, sleep=clock.sleep, clock=clock).get()
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
