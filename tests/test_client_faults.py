"""
The client against misbehaving servers and settings on 127.0.0.1: a closed port, a name that does
not resolve, a host without a scheme, a server that never answers, one that trickles, endless page
tokens, ``Retry-After: 0``, servers echoing secrets, a recording proxy, a broken config file, an
OAuth token endpoint counting its calls.
"""

from __future__ import annotations

import contextlib
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
)
from runspec.client import Workspace, clear_token_cache, prepare
from runspec.spec import RunSpec

try:
    from tests.support import (
        Delay,
        FakeClock,
        FakeWorkspace,
        Recorded,
        Reply,
        run_json,
        task_json,
    )
    from tests.wire_server import recording_proxy, silent_server, trickling_server
except ImportError:  # tests/ run as a plain directory
    from support import (  # type: ignore[no-redef]
        Delay,
        FakeClock,
        FakeWorkspace,
        Recorded,
        Reply,
        run_json,
        task_json,
    )
    from wire_server import recording_proxy, silent_server, trickling_server  # type: ignore[no-redef]

TOKEN = "dapi-faults-0123456789abcdef"


def spec() -> RunSpec:
    return RunSpec.from_dict(
        {"run_name": "faults", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}]}
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a wrong host fails fast, and says no run was created --------------------------------------------


@pytest.mark.socket
def test_refused_port_fails_within_seconds_naming_the_host_and_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("DATABRICKS_HOST", host)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    started = time.monotonic()
    with pytest.raises(WorkspaceUnreachable) as error:
        submit(spec())
    assert time.monotonic() - started < 15
    text = str(error.value)
    assert text.startswith(f"cannot connect to {host} (host from DATABRICKS_HOST): the connection was refused")
    assert "no run was created" in text and "may exist" not in text
    assert error.value.idempotency_token is None
    assert "\n" not in text and TOKEN not in text


def test_name_that_does_not_resolve_fails_within_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "nonexistent.invalid":  # answered here: no DNS query leaves the machine
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    started = time.monotonic()
    with pytest.raises(WorkspaceUnreachable) as error:
        RunHandle.attach(5, "https://nonexistent.invalid", TOKEN).get()
    assert time.monotonic() - started < 15
    assert "cannot connect to https://nonexistent.invalid (host from host=)" in str(error.value)
    assert "the host name does not resolve (DNS)" in str(error.value)
    assert error.value.reason.startswith("the host name does not resolve")


@pytest.mark.socket
def test_failures_after_the_workspace_answered_keep_the_patient_retries(clock: FakeClock) -> None:
    ws = FakeWorkspace(http=True)  # a real server that goes away
    handle = submit(spec(), ws.url, TOKEN, sleep=clock.sleep, clock=clock)
    port = ws.port
    ws.close()  # the workspace goes away after it answered once: not a wrong host
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
            submit(spec(), server.url, TOKEN, deadline=2)
        elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed
    # The request reached the server: the run may exist, and the token says how to find it.
    assert error.value.idempotency_token is not None
    assert not isinstance(error.value, WorkspaceUnreachable)
    assert "did not answer in time" in str(error.value)


@pytest.mark.socket
def test_submit_deadline_holds_against_a_trickling_answer() -> None:
    with trickling_server(interval=0.1) as server:
        started = time.monotonic()
        with pytest.raises(TransportError) as error:
            submit(spec(), server.url, TOKEN, deadline=1.5)
        elapsed = time.monotonic() - started
    assert elapsed < 3.5, elapsed
    assert "still arriving when the deadline passed" in str(error.value)


@pytest.mark.socket
def test_wait_timeout_holds_when_a_poll_hangs() -> None:
    with silent_server() as server:
        handle = RunHandle.attach(42, server.url, TOKEN)
        started = time.monotonic()
        with pytest.raises(WaitTimeout) as error:
            handle.wait(timeout=1.5)
        elapsed = time.monotonic() - started
    assert elapsed < 3.5, elapsed
    assert error.value.run_id == 42
    assert "runspec cancel 42" in str(error.value)


def test_cancel_on_interrupt_keeps_its_limit(monkeypatch: pytest.MonkeyPatch, ws: FakeWorkspace) -> None:
    import runspec.client.follow as follow

    monkeypatch.setattr(follow, "INTERRUPT_CANCEL_DEADLINE", 1.0)
    ws.runs[7] = run_json(7, "RUNNING")
    ws.script("POST", "runs/cancel", Delay(10))  # the cancel gets no answer in time

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt  # Ctrl-C while waiting

    handle = RunHandle.attach(7, ws.url, TOKEN, sleep=interrupt)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        handle.wait()
    elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
    assert handle.interrupt_outcome is not None
    assert handle.interrupt_outcome.startswith("cancel failed: ")


# -- paging and Retry-After cannot loop forever -------------------------------------------------------


def test_a_repeated_page_token_stops_with_a_clear_error(ws: FakeWorkspace) -> None:
    page = run_json(9, "RUNNING", tasks=[task_json("a", 1)], next_page_token="same")
    ws.script("GET", "runs/get", *[Reply(200, page)] * 5)
    with pytest.raises(SubmitError, match="sent the page token 'same' twice; stopped after 2 pages"):
        RunHandle.attach(9, ws.url, TOKEN).get()
    assert len(ws.calls("runs/get")) == 2


def test_endless_page_tokens_stop_with_a_clear_error(ws: FakeWorkspace) -> None:
    counter = iter(range(100_000))

    def endless(record: Recorded) -> Reply:
        return Reply(200, run_json(9, "RUNNING", tasks=[], next_page_token=f"p{next(counter)}"))

    ws.script("GET", "runs/get", *[endless] * 50)
    started = time.monotonic()
    with pytest.raises(SubmitError, match="pages in a row with nothing on them"):
        RunHandle.attach(9, ws.url, TOKEN).get()
    assert time.monotonic() - started < 10
    assert len(ws.calls("runs/get")) <= 5


def test_runaway_pages_with_items_stop_at_the_page_limit(ws: FakeWorkspace) -> None:
    from runspec.client.pages import MAX_PAGES

    counter = iter(range(100_000))

    def endless(record: Recorded) -> Reply:
        n = next(counter)
        return Reply(200, run_json(9, "RUNNING", tasks=[task_json(f"t{n}", n)], next_page_token=f"p{n}"))

    ws.script("GET", "runs/get", *[endless] * (MAX_PAGES + 10))
    with pytest.raises(SubmitError, match=f"kept sending page tokens past {MAX_PAGES} pages"):
        RunHandle.attach(9, ws.url, TOKEN).get()
    assert len(ws.calls("runs/get")) == MAX_PAGES


@pytest.mark.parametrize("retry_after", ["0", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_retry_after_zero_or_past_cannot_make_a_tight_loop(
    ws: FakeWorkspace, clock: FakeClock, retry_after: str
) -> None:
    busy = Reply(
        503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}, headers={"Retry-After": retry_after}
    )
    ws.script("GET", "runs/get", *[busy] * 1000)
    with pytest.raises(SubmitError):
        RunHandle.attach(9, ws.url, TOKEN, sleep=clock.sleep, clock=clock, deadline=20).get()
    assert clock.sleeps and min(clock.sleeps) >= 1.0
    assert len(ws.calls("runs/get")) <= 21


def test_retry_after_zero_in_real_time_is_not_a_tight_loop(ws: FakeWorkspace) -> None:
    busy = Reply(429, {"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}, headers={"Retry-After": "0"})
    ws.script("GET", "runs/get", *[busy] * 1000)
    with pytest.raises(SubmitError):
        RunHandle.attach(9, ws.url, TOKEN, deadline=2.5).get()
    assert len(ws.calls("runs/get")) <= 4


# -- secrets: one redaction for everything a server says ----------------------------------------------


def test_an_answer_without_run_id_that_echoes_headers_is_redacted(ws: FakeWorkspace) -> None:
    def echo(record: Recorded) -> Reply:
        return Reply(200, {"echo": dict(record.headers.items())})

    ws.script("POST", "runs/submit", echo)
    with pytest.raises(SubmitError) as error:
        submit(spec(), ws.url, TOKEN)
    text = str(error.value)
    assert "answered without a run_id" in text
    assert TOKEN not in text and TOKEN not in repr(error.value.args)


def test_error_fields_from_the_server_are_redacted(ws: FakeWorkspace) -> None:
    echoed = f"Bearer {TOKEN}"
    body = {
        "error_code": f"BAD_{TOKEN}",
        "message": f"header was {echoed}",
        "details": [{"@type": "x", "reason": TOKEN, "metadata": {"auth": echoed}}, {"request_id": f"id-{TOKEN}"}],
    }
    ws.script("GET", "runs/get", Reply(400, body, headers={"X-Request-Id": TOKEN}))
    with pytest.raises(SubmitError) as error:
        RunHandle.attach(9, ws.url, TOKEN).get()
    err = error.value
    everything = json.dumps([str(err), err.error_code, err.message, err.details, err.request_id], default=str)  # type: ignore[attr-defined]
    assert TOKEN not in everything
    assert "<redacted>" in everything


def test_a_token_shaped_echo_of_someone_else_is_redacted_too(ws: FakeWorkspace) -> None:
    other = "dapi0123456789abcdef0123456789abcdef"
    ws.script("GET", "runs/get", Reply(403, {"error_code": "PERMISSION_DENIED", "message": f"token {other} revoked"}))
    with pytest.raises(PermissionDenied) as error:
        RunHandle.attach(9, ws.url, TOKEN).get()
    assert other not in str(error.value)


@pytest.mark.socket
def test_plain_http_to_loopback_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = FakeWorkspace(http=True)  # a real server on 127.0.0.1, and a real proxy
    with recording_proxy() as proxy, contextlib.closing(ws):
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
    assert len(ws.calls("runs/submit")) == 1


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


def test_403_says_where_the_token_came_from(ws: FakeWorkspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    denied = Reply(403, {"error_code": "PERMISSION_DENIED", "message": "no access"})
    ws.script("POST", "runs/submit", denied, denied)
    monkeypatch.setenv("DATABRICKS_HOST", ws.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    with pytest.raises(PermissionDenied) as error:
        submit(spec())
    assert error.value.message == "no access"
    assert "no access (pat credentials from DATABRICKS_TOKEN)" in str(error.value)
    cfg = tmp_path / "cfg"
    cfg.write_text(f"[dev]\nhost = {ws.url}\ntoken = {TOKEN}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    with pytest.raises(PermissionDenied) as error:
        submit(spec(), profile="dev")
    assert f"(pat credentials from token in [dev] of {cfg})" in str(error.value)


# -- OAuth tokens are shared by every call in the process ---------------------------------------------


def test_oauth_token_is_fetched_once_for_many_calls_and_handles(ws: FakeWorkspace) -> None:
    clear_token_cache()
    handles = [submit(spec(), ws.url, client_id="sp", client_secret="sp-secret") for _ in range(3)]
    for handle in handles:
        handle.get()
    RunHandle.attach(handles[0].run_id, ws.url, client_id="sp", client_secret="sp-secret").get()
    assert len(ws.calls("/oidc/v1/token")) == 1
    assert len(ws.calls("runs/submit")) == 3
    # Another client id (or another secret) is another token.
    submit(spec(), ws.url, client_id="sp2", client_secret="sp-secret")
    submit(spec(), ws.url, client_id="sp", client_secret="another-secret")
    assert len(ws.calls("/oidc/v1/token")) == 3


def test_oauth_token_is_renewed_shortly_before_it_expires(ws: FakeWorkspace) -> None:
    clear_token_cache()
    clock = FakeClock()
    ws.oauth_expires_in = 120
    first = submit(spec(), ws.url, client_id="sp", client_secret="s", sleep=clock.sleep, clock=clock)
    clock.now += 50
    submit(spec(), ws.url, client_id="sp", client_secret="s", sleep=clock.sleep, clock=clock)
    assert len(ws.calls("/oidc/v1/token")) == 1
    clock.now += 15  # 65 s in: within a minute of expiry
    first.get()
    assert len(ws.calls("/oidc/v1/token")) == 2


# -- what a resubmission says -------------------------------------------------------------------------


def test_a_token_the_workspace_had_seen_returns_the_existing_run(
    ws: FakeWorkspace, caplog: pytest.LogCaptureFixture
) -> None:
    first = submit(spec(), ws.url, TOKEN, idempotency_token="nightly-2026-12-01")
    assert first.reattached is False
    submit(spec(), ws.url, TOKEN)  # another run in between
    with caplog.at_level(logging.INFO, logger="runspec"):
        again = submit(spec(), ws.url, TOKEN, idempotency_token="nightly-2026-12-01")
    assert again.run_id == first.run_id and again.reattached is True
    assert f"runs/submit returned the existing run {first.run_id}" in caplog.text
    assert len(ws.created) == 2
    # A token minted by the call itself cannot have been used: no extra request is made for it.
    before = len(ws.requests)
    fresh = submit(spec(), ws.url, TOKEN)
    assert fresh.reattached is False
    assert [r.endpoint for r in ws.requests[before:]] == ["runs/submit"]


def test_a_prepared_request_sent_twice_reports_the_second_as_existing(ws: FakeWorkspace) -> None:
    request = prepare(spec(), ws.url, TOKEN)
    assert request.send().reattached is False
    assert request.send().reattached is True
    assert len(ws.created) == 1


def test_retry_log_lines_are_one_short_line_each(
    ws: FakeWorkspace, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    busy = Reply(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy " * 100})
    ws.script("GET", "runs/get", busy, busy)
    ws.runs[9] = run_json(9, "RUNNING")
    refused = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, logger="runspec"):
        RunHandle.attach(9, ws.url, TOKEN, sleep=clock.sleep, clock=clock).get()
        with pytest.raises(WorkspaceUnreachable):
            RunHandle.attach(9, refused, TOKEN, sleep=clock.sleep, clock=clock).get()
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
