"""
The client against misbehaving servers and settings on 127.0.0.1: a closed port, a name that does
not resolve, a host without a scheme, a server that never answers, one that trickles, endless page
tokens, ``Retry-After: 0``, servers echoing secrets, a recording proxy, a broken config file, an
OAuth token endpoint counting its calls.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from runspec import (
    ConfigError,
    HostError,
    PermissionDenied,
    RunHandle,
    SubmitError,
    TransportError,
    WaitTimeout,
    WorkspaceUnreachable,
    submit,
    wire,
)
from runspec.client import Workspace, clear_token_cache, prepare
from runspec.spec import RunSpec
from runspec.testing import Emulator, Fault, ManualClock, Outcome

try:
    from tests.support import FakeClock, Tap, forget, in_process, refused_port
    from tests.wire_server import recording_proxy, silent_server, trickling_server
except ImportError:  # tests/ run as a plain directory
    from support import FakeClock, Tap, forget, in_process, refused_port  # type: ignore[no-redef]
    from wire_server import recording_proxy, silent_server, trickling_server  # type: ignore[no-redef]

TOKEN = "dapi-faults-0123456789abcdef"


def spec() -> RunSpec:
    return RunSpec.from_dict(
        {"run_name": "faults", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}]}
    )


def running(host: str, emulator: Emulator) -> int:
    """The id of a run at ``host`` that goes on until cancelled."""
    emulator.script("a", Outcome.hang())
    return submit(spec(), host, TOKEN).run_id


# -- a wrong host fails fast, and says no run was created --------------------------------------------


@pytest.mark.socket
def test_refused_port_fails_within_seconds_naming_the_host_and_its_source(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    with refused_port() as port, pytest.raises(WorkspaceUnreachable) as error:
        host = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("DATABRICKS_HOST", host)
        monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
        started = time.monotonic()
        submit(spec(), sleep=clock.sleep, clock=clock)
    # Its pauses between tries (on the fake clock) and the tries themselves: seconds, not minutes.
    assert time.monotonic() - started + sum(clock.sleeps) < 15
    text = str(error.value)
    assert text.startswith(f"cannot connect to {host} (host from DATABRICKS_HOST): the connection was refused")
    assert "no run was created" in text and "may exist" not in text
    assert error.value.idempotency_token is None
    assert "\n" not in text and TOKEN not in text


def test_name_that_does_not_resolve_fails_within_seconds(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "nonexistent.invalid":  # answered here: no DNS query leaves the machine
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    started = time.monotonic()
    with pytest.raises(WorkspaceUnreachable) as error:
        RunHandle.attach(5, "https://nonexistent.invalid", TOKEN, sleep=clock.sleep, clock=clock).get()
    assert time.monotonic() - started + sum(clock.sleeps) < 15
    assert "cannot connect to https://nonexistent.invalid (host from host=)" in str(error.value)
    assert "the host name does not resolve (DNS)" in str(error.value)
    assert error.value.reason.startswith("the host name does not resolve")


@pytest.mark.socket
def test_failures_after_the_workspace_answered_keep_the_patient_retries(clock: FakeClock) -> None:
    emulator = Emulator(token=None).start()  # a real server that goes away
    handle = submit(spec(), emulator.url, TOKEN, sleep=clock.sleep, clock=clock)
    port = int(emulator.url.rsplit(":", 1)[1])
    emulator.stop()  # the workspace goes away after it answered once: not a wrong host
    handle.close()  # no kept-alive connection to the old server either
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    with pytest.raises(TransportError) as error:
        handle.get()
    assert not isinstance(error.value, WorkspaceUnreachable)
    assert error.value.attempts is not None and error.value.attempts > 3
    assert sum(clock.sleeps) <= 300


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("127.0.0.1:8811", "has no scheme; write it as http://127.0.0.1:8811"),
        ("adb 123", "contains spaces"),
        ("https://adb-1.azuredatabricks.net/some/prefix", "has the path /some/prefix, which is not a workspace page"),
        ("https://adb-1.azuredatabricks.net/?token=x", "has the query ?token=x"),
        ("http://adb-1.azuredatabricks.net", "write it as https://adb-1.azuredatabricks.net"),
    ],
)
def test_bad_host_values_are_settings_errors_with_the_fix(host: str, words: str) -> None:
    calls: list[str] = []

    class Recording(requests.Session):
        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            calls.append(url)
            raise AssertionError("nothing may be sent")

    with pytest.raises(HostError) as error:
        submit(spec(), host, TOKEN, session=Recording())
    assert isinstance(error.value, ValueError) and isinstance(error.value, ConfigError)
    assert words in str(error.value)
    assert str(error.value).startswith("host= ")
    assert calls == []


def test_host_error_names_the_profile_it_came_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "cfg"
    cfg.write_text("[dev]\nhost = 127.0.0.1:8811\ntoken = t\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    with pytest.raises(
        HostError, match=r"host in \[dev\] of .*cfg '127.0.0.1:8811' has no scheme; write it as http://"
    ):
        Workspace.resolve(profile="dev")


# -- every deadline bounds the whole call -----------------------------------------------------------


@pytest.mark.socket
def test_submit_deadline_holds_against_a_server_that_never_answers() -> None:
    with silent_server() as server:
        started = time.monotonic()
        with pytest.raises(TransportError) as error:
            submit(spec(), server.url, TOKEN, deadline=1)
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
    # The request reached the server: the run may exist, and the token says how to find it.
    assert error.value.idempotency_token is not None
    assert not isinstance(error.value, WorkspaceUnreachable)
    assert "did not answer in time" in str(error.value)


@pytest.mark.socket
def test_submit_deadline_holds_against_a_trickling_answer() -> None:
    with trickling_server(interval=0.1) as server:
        started = time.monotonic()
        with pytest.raises(TransportError) as error:
            submit(spec(), server.url, TOKEN, deadline=1)
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
    assert "still arriving when the deadline passed" in str(error.value)


@pytest.mark.socket
def test_wait_timeout_holds_when_a_poll_hangs() -> None:
    with silent_server() as server:
        handle = RunHandle.attach(42, server.url, TOKEN)
        started = time.monotonic()
        with pytest.raises(WaitTimeout) as error:
            handle.wait(timeout=1)
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
    assert error.value.run_id == 42
    assert "runspec cancel 42" in str(error.value)


def test_cancel_on_interrupt_keeps_its_limit(monkeypatch: pytest.MonkeyPatch, host: str, emulator: Emulator) -> None:
    import runspec.client.follow as follow

    monkeypatch.setattr(follow, "INTERRUPT_CANCEL_DEADLINE", 0.3)
    run_id = running(host, emulator)
    emulator.inject(Fault.delay(10), "runs/cancel", times=1)  # the cancel gets no answer in time

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt  # Ctrl-C while waiting

    handle = RunHandle.attach(run_id, host, TOKEN, sleep=interrupt)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        handle.wait()
    elapsed = time.monotonic() - started
    assert elapsed < 2, elapsed
    assert handle.interrupt_outcome is not None
    assert handle.interrupt_outcome.startswith("cancel failed: ")


# -- paging and Retry-After cannot loop forever -------------------------------------------------------


def test_a_repeated_page_token_stops_with_a_clear_error(host: str, emulator: Emulator, tap: Tap) -> None:
    page = emulator.run(running(host, emulator))
    tap.answer("runs/get", *[wire.Response.json(200, {**page, "next_page_token": "same"})] * 5)
    with pytest.raises(SubmitError, match="sent the page token 'same' twice; stopped after 2 pages"):
        RunHandle.attach(page["run_id"], host, TOKEN).get()
    assert len(tap.calls("runs/get")) == 2


def test_endless_page_tokens_stop_with_a_clear_error(host: str, emulator: Emulator, tap: Tap) -> None:
    run_id = running(host, emulator)
    page = emulator.run(run_id)
    counter = iter(range(100_000))

    def endless(request: wire.Request) -> wire.Response:
        return wire.Response.json(200, {**page, "tasks": [], "next_page_token": f"p{next(counter)}"})

    tap.answer("runs/get", *[endless] * 50)
    started = time.monotonic()
    with pytest.raises(SubmitError, match="pages in a row with nothing on them"):
        RunHandle.attach(run_id, host, TOKEN).get()
    assert time.monotonic() - started < 10
    assert len(tap.calls("runs/get")) <= 5


def test_runaway_pages_with_items_stop_at_the_page_limit(host: str, emulator: Emulator, tap: Tap) -> None:
    from runspec.client.pages import MAX_PAGES

    run_id = running(host, emulator)
    page = emulator.run(run_id)
    counter = iter(range(100_000))

    def endless(request: wire.Request) -> wire.Response:
        n = next(counter)
        task = {"task_key": f"t{n}", "run_id": n, "status": {"state": "RUNNING"}}
        return wire.Response.json(200, {**page, "tasks": [task], "next_page_token": f"p{n}"})

    tap.answer("runs/get", *[endless] * (MAX_PAGES + 10))
    with pytest.raises(SubmitError, match=f"kept sending page tokens past {MAX_PAGES} pages"):
        RunHandle.attach(run_id, host, TOKEN).get()
    assert len(tap.calls("runs/get")) == MAX_PAGES


@pytest.mark.parametrize("retry_after", ["0", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_retry_after_zero_or_past_cannot_make_a_tight_loop(
    host: str, emulator: Emulator, clock: FakeClock, retry_after: str
) -> None:
    emulator.inject(Fault.unavailable(retry_after=retry_after), "runs/get")
    with pytest.raises(SubmitError):
        RunHandle.attach(9, host, TOKEN, sleep=clock.sleep, clock=clock, deadline=20).get()
    assert clock.sleeps and min(clock.sleeps) >= 1.0
    assert len(emulator.requests_to("runs/get")) <= 21


def test_retry_after_zero_in_real_time_is_not_a_tight_loop(host: str, emulator: Emulator) -> None:
    emulator.inject(Fault.throttle(retry_after=0), "runs/get")
    with pytest.raises(SubmitError):
        RunHandle.attach(9, host, TOKEN, deadline=1.5).get()
    # Pauses of at least a second: a tight loop would have sent hundreds.
    assert len(emulator.requests_to("runs/get")) <= 3


# -- secrets: one redaction for everything a server says ----------------------------------------------


def test_an_answer_without_run_id_that_echoes_headers_is_redacted(host: str, tap: Tap) -> None:
    tap.answer("runs/submit", lambda request: wire.Response.json(200, {"echo": dict(request.headers)}))
    with pytest.raises(SubmitError) as error:
        submit(spec(), host, TOKEN)
    text = str(error.value)
    assert "answered without a run_id" in text
    assert TOKEN not in text and TOKEN not in repr(error.value.args)


def test_error_fields_from_the_server_are_redacted(host: str, tap: Tap) -> None:
    echoed = f"Bearer {TOKEN}"
    body = {
        "error_code": f"BAD_{TOKEN}",
        "message": f"header was {echoed}",
        "details": [{"@type": "x", "reason": TOKEN, "metadata": {"auth": echoed}}, {"request_id": f"id-{TOKEN}"}],
    }
    tap.answer("runs/get", wire.Response.json(400, body, {"X-Request-Id": TOKEN}))
    with pytest.raises(SubmitError) as error:
        RunHandle.attach(9, host, TOKEN).get()
    err = error.value
    everything = json.dumps([str(err), err.error_code, err.message, err.details, err.request_id], default=str)  # type: ignore[attr-defined]
    assert TOKEN not in everything
    assert "<redacted>" in everything


def test_a_token_shaped_echo_of_someone_else_is_redacted_too(host: str, emulator: Emulator) -> None:
    other = "dapi0123456789abcdef0123456789abcdef"
    emulator.inject(Fault.error(403, "PERMISSION_DENIED", f"token {other} revoked"), "runs/get", times=1)
    with pytest.raises(PermissionDenied) as error:
        RunHandle.attach(9, host, TOKEN).get()
    assert other not in str(error.value)


@pytest.mark.socket
def test_plain_http_to_loopback_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A real emulator on 127.0.0.1, and a real proxy.
    with recording_proxy() as proxy, Emulator(token=None) as ws:
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        # The proxy is live: a plain requests call to the workspace goes through it.
        assert requests.get(ws.url + "/api/2.2/jobs/runs/get?run_id=1", timeout=5).status_code == 502
        assert len(proxy.received) == 1
        handle = submit(spec(), ws.url, TOKEN)
        handle.get()
        handle.cancel()
    assert len(proxy.received) == 1
    assert all(TOKEN.encode() not in r for r in proxy.received)
    assert len(ws.requests_to("runs/submit")) == 1


def test_config_file_parse_errors_give_file_and_line_never_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "databrickscfg"
    cfg.write_text(f"[DEFAULT]\nhost = https://x.cloud.databricks.com\n{TOKEN}\ntoken = {TOKEN}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    with pytest.raises(ConfigError) as error:
        Workspace.resolve()
    text = str(error.value)
    assert text.startswith(f"config file {cfg} cannot be read at line 3:")
    assert TOKEN not in text and TOKEN not in repr(error.value)
    # Nothing that quotes the line travels with the error, not even as its context.
    assert error.value.__cause__ is None and error.value.__context__ is None


def test_config_file_without_a_section_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "databrickscfg"
    cfg.write_text(f"token = {TOKEN}\n[DEFAULT]\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    with pytest.raises(
        ConfigError, match=r"cannot be read at line 1: a line before the first \[section\] header"
    ) as error:
        Workspace.resolve()
    assert TOKEN not in str(error.value)


def test_403_says_where_the_token_came_from(
    host: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    emulator.inject(Fault.error(403, "PERMISSION_DENIED", "no access"), "runs/submit", times=2)
    monkeypatch.setenv("DATABRICKS_HOST", host)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    with pytest.raises(PermissionDenied) as error:
        submit(spec())
    assert error.value.message == "no access"
    assert "no access (pat credentials from DATABRICKS_TOKEN)" in str(error.value)
    cfg = tmp_path / "cfg"
    cfg.write_text(f"[dev]\nhost = {host}\ntoken = {TOKEN}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    with pytest.raises(PermissionDenied) as error:
        submit(spec(), profile="dev")
    assert f"(pat credentials from token in [dev] of {cfg})" in str(error.value)


# -- OAuth tokens are shared by every call in the process ---------------------------------------------


def test_oauth_token_is_fetched_once_for_many_calls_and_handles(host: str, emulator: Emulator) -> None:
    clear_token_cache()
    tokens = lambda: emulator.requests_to("/oidc/v1/token")  # noqa: E731
    handles = [submit(spec(), host, client_id="sp", client_secret="sp-secret") for _ in range(3)]
    for handle in handles:
        handle.get()
    RunHandle.attach(handles[0].run_id, host, client_id="sp", client_secret="sp-secret").get()
    assert len(tokens()) == 1
    assert len(emulator.requests_to("runs/submit")) == 3
    # Another client id (or another secret) is another token.
    submit(spec(), host, client_id="sp2", client_secret="sp-secret")
    submit(spec(), host, client_id="sp", client_secret="another-secret")
    assert len(tokens()) == 3


def test_oauth_token_is_renewed_shortly_before_it_expires(host: str, emulator: Emulator) -> None:
    clear_token_cache()
    clock = FakeClock()
    first = submit(spec(), host, client_id="sp", client_secret="s", sleep=clock.sleep, clock=clock)
    clock.now += 3000  # the emulator's tokens last an hour
    submit(spec(), host, client_id="sp", client_secret="s", sleep=clock.sleep, clock=clock)
    assert len(emulator.requests_to("/oidc/v1/token")) == 1
    clock.now += 560  # 3560 s in: within a minute of expiry
    first.get()
    assert len(emulator.requests_to("/oidc/v1/token")) == 2


# -- what a resubmission says -------------------------------------------------------------------------


def test_a_token_the_workspace_had_seen_returns_the_existing_run(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()  # the runs start a minute apart, as the workspace's start times say
    emulator = Emulator(token=None, clock=clock)
    host = in_process(emulator.transport())
    first = submit(spec(), host, TOKEN, idempotency_token="nightly-2026-12-01")
    assert first.reattached is False
    clock.advance(60)
    submit(spec(), host, TOKEN)  # another run in between
    clock.advance(60)
    with caplog.at_level(logging.INFO, logger="runspec"):
        again = submit(spec(), host, TOKEN, idempotency_token="nightly-2026-12-01")
    assert again.run_id == first.run_id and again.reattached is True
    assert f"runs/submit returned the existing run {first.run_id}" in caplog.text
    assert len(emulator.run_ids()) == 2
    # A token minted by the call itself cannot have been used: no extra request is made for it.
    before = len(emulator.requests)
    fresh = submit(spec(), host, TOKEN)
    assert fresh.reattached is False
    assert [r.endpoint for r in emulator.requests[before:]] == ["runs/submit"]
    forget(host)


def test_a_prepared_request_sent_twice_reports_the_second_as_existing(host: str, emulator: Emulator) -> None:
    request = prepare(spec(), host, TOKEN)
    assert request.send().reattached is False
    assert request.send().reattached is True
    assert len(emulator.run_ids()) == 1


def test_retry_log_lines_are_one_short_line_each(
    host: str, emulator: Emulator, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = running(host, emulator)
    emulator.inject(Fault.error(503, "TEMPORARILY_UNAVAILABLE", "busy " * 100), "runs/get", times=2)
    with refused_port() as port, caplog.at_level(logging.WARNING, logger="runspec"):
        refused = f"http://127.0.0.1:{port}"
        RunHandle.attach(run_id, host, TOKEN, sleep=clock.sleep, clock=clock).get()
        with pytest.raises(WorkspaceUnreachable):
            RunHandle.attach(run_id, refused, TOKEN, sleep=clock.sleep, clock=clock).get()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:2] == [
        f"GET /api/2.2/jobs/runs/get: HTTP 503; retrying in {clock.sleeps[0]:.1f} s (attempt 2)",
        f"GET /api/2.2/jobs/runs/get: HTTP 503; retrying in {clock.sleeps[1]:.1f} s (attempt 3)",
    ]
    assert lines[2:] == [
        "GET /api/2.2/jobs/runs/get: the connection was refused; trying again in 0.5 s",
        "GET /api/2.2/jobs/runs/get: the connection was refused; trying again in 1.0 s",
    ]
    assert all(len(line) < 100 and "\n" not in line for line in lines)
