"""No token or client secret in any string the client layer produces: reprs, messages, logs, previews."""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

import pytest

from runspec import ConfigError, RunFailed, RunHandle, RunspecError, WaitTimeout, submit, wire
from runspec.client import resolve_workspace
from runspec.spec import RunSpec
from runspec.testing import Emulator, Fault, Outcome

try:
    from tests.support import FakeClock, Tap
except ImportError:  # tests/ run as a plain directory
    from support import FakeClock, Tap  # type: ignore[no-redef]

TOKEN = "dapiSECRETpat0123456789"
CLIENT_SECRET = "doseSECRETclient987"


def spec(key: str = "a") -> RunSpec:
    return RunSpec.from_dict({"run_name": "s", "tasks": [{"task_key": key, "notebook_task": {"notebook_path": "/x"}}]})


def script_task(key: str) -> dict[str, Any]:
    return {"task_key": key, "spark_python_task": {"python_file": f"dbfs:/{key}.py"}, "existing_cluster_id": "0101-x"}


def oauth_tokens(tap: Tap) -> set[str]:
    """The access tokens the client got from the emulator's token endpoint, as it sent them."""
    sent = (r.header("Authorization") or "" for r in tap.sent)
    return {value.removeprefix("Bearer ") for value in sent if value.startswith("Bearer emulator-oauth-")}


def strings_of(obj: Any) -> list[str]:
    """Every way a user might turn an object into text."""
    found = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        found.append("".join(traceback.format_exception(obj)))
        found.extend(str(a) for a in obj.args)
        found.extend(f"{k}={v!r}" for k, v in vars(obj).items())
    return found


def test_no_secret_in_any_string(host: str, emulator: Emulator, tap: Tap, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    seen: list[Any] = []

    # The preview.
    prepared = submit(spec(), host, TOKEN, perform_request=False)
    seen += [prepared, json.dumps(prepared.redacted())]

    # A submit through a lost response and a 503, then progress and a failure.
    emulator.inject(Fault.drop(), "runs/submit", times=1)
    emulator.inject(Fault.unavailable(), "runs/submit", times=1)
    emulator.script("a", Outcome.fail("failed", trace="trace"))
    handle = submit(spec(), host, TOKEN, sleep=clock.sleep, clock=clock)
    seen.append(handle)
    run_id = handle.run_id
    events: list[Any] = []
    with pytest.raises(RunFailed) as failure:
        handle.wait(on_progress=events.append)
    seen += [failure.value, *failure.value.failed_tasks, failure.value.run, *events]
    seen += [e.message for e in events]
    seen += [handle.get(), *handle.get().tasks, *handle.outputs().values()]

    # The workspace echoing the token back in an error message.
    emulator.inject(Fault.error(400, "BAD_REQUEST", f"token {TOKEN} is odd"), "runs/get", times=1)
    with pytest.raises(RunspecError) as echoed:
        handle.get()
    seen.append(echoed.value)
    assert "token <redacted> is odd" in str(echoed.value)

    # Giving up on a connection that keeps failing.
    emulator.inject(Fault.drop(after_handling=False), "runs/get", times=3)
    with pytest.raises(RunspecError) as dropped:
        RunHandle.attach(run_id, host, TOKEN, sleep=clock.sleep, clock=clock, deadline=2).get()
    seen.append(dropped.value)

    # A wait that times out.
    emulator.script("b", Outcome.hang())
    going = submit(spec("b"), host, TOKEN, sleep=clock.sleep, clock=clock)
    with pytest.raises(WaitTimeout) as timed_out:
        going.wait(timeout=5)
    seen.append(timed_out.value)

    # Configuration errors and resolved workspaces.
    with pytest.raises(ConfigError) as two:
        submit(spec(), host, TOKEN, client_id="id", client_secret=CLIENT_SECRET)
    seen.append(two.value)
    with pytest.raises(ConfigError) as insecure:
        submit(spec(), "http://example.com", TOKEN)
    seen.append(insecure.value)
    workspace = resolve_workspace(host, TOKEN)
    seen += [workspace, workspace.credentials]

    # OAuth: the client secret and the access token it buys.
    oauth = submit(spec(), host, client_id="sp", client_secret=CLIENT_SECRET)
    seen += [oauth, oauth.get(), resolve_workspace(host, client_id="sp", client_secret=CLIENT_SECRET)]
    oauth_prepared = submit(spec(), host, client_id="sp", client_secret=CLIENT_SECRET, perform_request=False)
    seen.append(oauth_prepared)
    handle.close()
    going.close()
    oauth.close()

    texts = [t for obj in seen for t in (strings_of(obj) if not isinstance(obj, str) else [obj])]
    texts += [r.getMessage() for r in caplog.records]
    texts += [str(r.args) for r in caplog.records]
    secrets = [TOKEN, CLIENT_SECRET, *oauth_tokens(tap)]
    assert oauth_tokens(tap), "the OAuth flow ran"
    assert len(caplog.records) > 5
    leaks = [(secret, text) for text in texts for secret in secrets if secret in text]
    assert leaks == []


def test_a_workspace_echoing_the_token_in_its_answers_leaks_it_nowhere(host: str, emulator: Emulator, tap: Tap) -> None:
    """Successful answers are the server's text too: run and task messages, outputs, page tokens, run names."""
    from runspec import KeyConflict, SubmitError

    clock = FakeClock()
    echo = f"Authorization: Bearer {TOKEN}"
    seen: list[Any] = []

    # A failed run whose messages, error, trace and logs all carry the token, with a JSON-escaped copy too.
    escaped = "".join(f"\\u{ord(c):04x}" for c in TOKEN)
    emulator.script("a", Outcome.fail(f"boom {echo}", trace=f"trace {TOKEN}", logs=f"escaped {escaped}"))
    body = {"run_name": "s", "tasks": [script_task("a")]}
    handle = submit(body, host, TOKEN, sleep=clock.sleep, clock=clock)
    with pytest.raises(RunFailed) as failure:
        handle.wait()
    error = failure.value
    assert echo in emulator.run(handle.run_id)["state"]["state_message"]  # the run's own message echoes it
    seen += [error, *error.failed_tasks, error.run, handle.get(), *handle.get().tasks]
    task = error.failed_tasks[0]
    seen += [task.error, task.error_trace, error.run.state.message]
    outputs = handle.outputs()
    seen += [*outputs.values(), *(o.logs for o in outputs.values())]
    assert "<redacted>" in str(error) and "<redacted>" in (task.error or "")
    assert any(o.logs and "escaped" in o.logs for o in outputs.values())

    # A page token that echoes the header: the message shows a cut of the redacted text, not of the token.
    page = {**emulator.run(handle.run_id), "next_page_token": echo}
    tap.answer("runs/get", wire.Response.json(200, page), wire.Response.json(200, page))
    with pytest.raises(SubmitError) as paging:
        RunHandle.attach(handle.run_id, host, TOKEN).get()
    assert "Bearer <redacted>" in str(paging.value)
    seen.append(paging.value)

    # A key whose run carries the token in its name: the conflict names the run without it.
    emulator.unscript()
    submit(spec(), host, TOKEN, key="echo/1")
    tap.change("runs/get", lambda run: run.update(run_name=f"named {TOKEN}"), times=5)
    with pytest.raises(KeyConflict) as conflict:
        submit({"run_name": "s", "tasks": [script_task("a")]}, host, TOKEN, key="echo/1")
    assert "named <redacted>" in str(conflict.value)
    seen.append(conflict.value)

    texts = [t for obj in seen for t in (strings_of(obj) if not isinstance(obj, str) else [obj])]
    leaks = [text for text in texts if TOKEN in text or "SECRETpat" in text]
    assert leaks == []


def test_answers_without_secrets_are_returned_as_sent(host: str, emulator: Emulator) -> None:
    """Prose that merely looks like an Authorization header is not taken for one."""
    clock = FakeClock()
    logs = "basic statistics computed\nBearer of good news: 3 rows"
    emulator.script("a", Outcome.success(result="dapi is not a token on its own"))
    emulator.script("b", Outcome.success(logs=logs))
    body = {"run_name": "s", "tasks": [spec().to_dict()["tasks"][0], script_task("b")]}
    handle = submit(body, host, TOKEN, sleep=clock.sleep, clock=clock)
    handle.wait()
    outputs = handle.outputs()
    assert outputs["b"].logs == logs
    assert outputs["a"].notebook_result == "dapi is not a token on its own"


@pytest.mark.parametrize(("status", "cut"), [(400, 500), (200, 120)])
def test_a_long_plain_text_answer_cut_to_length_keeps_no_part_of_the_token(
    host: str, tap: Tap, status: int, cut: int
) -> None:
    """Error bodies and non-JSON answers are shortened for the message: redaction comes first."""
    for offset in (4, 9, 14):  # the cut falls inside the token, wherever it starts
        text = "x" * (cut - offset) + TOKEN + " and more"
        tap.answer("runs/get", wire.Response(status, {"Content-Type": "text/plain"}, text.encode()))
        with pytest.raises(RunspecError) as error:
            RunHandle.attach(9, host, TOKEN).get()
        shown = " ".join(strings_of(error.value))
        assert TOKEN[:offset] not in shown.replace("x" * (cut - offset), ""), shown[-200:]
