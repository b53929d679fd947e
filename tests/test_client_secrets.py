"""No token or client secret in any string the client layer produces: reprs, messages, logs, previews."""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

import pytest

from runspec import ConfigError, RunFailed, RunHandle, RunspecError, WaitTimeout, submit
from runspec.client import resolve_workspace
from runspec.spec import RunSpec

try:
    from tests.support import (
        Drop,
        DropAfter,
        FakeClock,
        FakeWorkspace,
        Reply,
        run_json,
        task_json,
    )
except ImportError:  # tests/ run as a plain directory
    from support import (  # type: ignore[no-redef]
        Drop,
        DropAfter,
        FakeClock,
        FakeWorkspace,
        Reply,
        run_json,
        task_json,
    )

TOKEN = "dapiSECRETpat0123456789"
CLIENT_SECRET = "doseSECRETclient987"


def spec() -> RunSpec:
    return RunSpec.from_dict({"run_name": "s", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}]})


def strings_of(obj: Any) -> list[str]:
    """Every way a user might turn an object into text."""
    found = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        found.append("".join(traceback.format_exception(obj)))
        found.extend(str(a) for a in obj.args)
        found.extend(f"{k}={v!r}" for k, v in vars(obj).items())
    return found


def test_no_secret_in_any_string(ws: FakeWorkspace, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    seen: list[Any] = []

    # The preview.
    prepared = submit(spec(), ws.url, TOKEN, perform_request=False)
    seen += [prepared, json.dumps(prepared.redacted())]

    # A submit through a lost response and a 503, then progress and a failure.
    ws.script("POST", "runs/submit", DropAfter(), Reply(503, {"message": "busy"}))
    handle = submit(spec(), ws.url, TOKEN, sleep=clock.sleep, clock=clock)
    seen.append(handle)
    run_id = handle.run_id
    failed_task = task_json("a", 9, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR")
    ws.timeline(
        run_id,
        run_json(run_id, "RUNNING", tasks=[task_json("a", 9, "RUNNING")]),
        run_json(run_id, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR", tasks=[failed_task]),
    )
    ws.outputs[9] = {"error": "failed", "error_trace": "trace"}
    events: list[Any] = []
    with pytest.raises(RunFailed) as failure:
        handle.wait(on_progress=events.append)
    seen += [failure.value, *failure.value.failed_tasks, failure.value.run, *events]
    seen += [e.message for e in events]
    seen += [handle.get(), *handle.get().tasks, *handle.outputs().values()]

    # The workspace echoing the token back in an error message.
    ws.script("GET", "runs/get", Reply(400, {"error_code": "BAD_REQUEST", "message": f"token {TOKEN} is odd"}))
    with pytest.raises(RunspecError) as echoed:
        handle.get()
    seen.append(echoed.value)
    assert "token <redacted> is odd" in str(echoed.value)

    # Giving up on a connection that keeps failing.
    ws.script("GET", "runs/get", *[Drop()] * 3)
    with pytest.raises(RunspecError) as dropped:
        RunHandle.attach(run_id, ws.url, TOKEN, sleep=clock.sleep, clock=clock, deadline=2).get()
    seen.append(dropped.value)

    # A wait that times out.
    ws.timeline(run_id, run_json(run_id, "RUNNING"))
    with pytest.raises(WaitTimeout) as timed_out:
        handle.wait(timeout=5)
    seen.append(timed_out.value)

    # Configuration errors and resolved workspaces.
    with pytest.raises(ConfigError) as two:
        submit(spec(), ws.url, TOKEN, client_id="id", client_secret=CLIENT_SECRET)
    seen.append(two.value)
    with pytest.raises(ConfigError) as insecure:
        submit(spec(), "http://example.com", TOKEN)
    seen.append(insecure.value)
    workspace = resolve_workspace(ws.url, TOKEN)
    seen += [workspace, workspace.credentials]

    # OAuth: the client secret and the access token it buys.
    oauth = submit(spec(), ws.url, client_id="sp", client_secret=CLIENT_SECRET)
    seen += [oauth, oauth.get(), resolve_workspace(ws.url, client_id="sp", client_secret=CLIENT_SECRET)]
    oauth_prepared = submit(spec(), ws.url, client_id="sp", client_secret=CLIENT_SECRET, perform_request=False)
    seen.append(oauth_prepared)
    handle.close()
    oauth.close()

    texts = [t for obj in seen for t in (strings_of(obj) if not isinstance(obj, str) else [obj])]
    texts += [r.getMessage() for r in caplog.records]
    texts += [str(r.args) for r in caplog.records]
    secrets = [TOKEN, CLIENT_SECRET, *ws.oauth_tokens]
    assert ws.oauth_tokens, "the OAuth flow ran"
    assert len(caplog.records) > 5
    leaks = [(secret, text) for text in texts for secret in secrets if secret in text]
    assert leaks == []


def test_a_workspace_echoing_the_token_in_its_answers_leaks_it_nowhere(ws: FakeWorkspace) -> None:
    """Successful answers are the server's text too: run and task messages, outputs, page tokens, run names."""
    from runspec import KeyConflict, SubmitError

    clock = FakeClock()
    echo = f"Authorization: Bearer {TOKEN}"
    seen: list[Any] = []

    # A failed run whose messages, error, trace and logs all carry the token, with a JSON-escaped copy too.
    handle = submit(spec(), ws.url, TOKEN, sleep=clock.sleep, clock=clock)
    run_id = handle.run_id
    failed_task = task_json(
        "a", 9, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR", message=f"task saw {TOKEN}"
    )
    ws.timeline(
        run_id,
        run_json(
            run_id, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR", message=echo, tasks=[failed_task]
        ),
    )
    escaped = "".join(f"\\u{ord(c):04x}" for c in TOKEN)
    ws.outputs[9] = {"error": f"boom {echo}", "error_trace": f"trace {TOKEN}", "logs": f"escaped {escaped}"}
    with pytest.raises(RunFailed) as failure:
        handle.wait()
    error = failure.value
    seen += [error, *error.failed_tasks, error.run, handle.get(), *handle.get().tasks]
    task = error.failed_tasks[0]
    seen += [task.error, task.error_trace, error.run.state.message]
    outputs = handle.outputs()
    seen += [*outputs.values(), *(o.logs for o in outputs.values())]
    assert "<redacted>" in str(error) and "<redacted>" in (task.error or "")

    # A page token that echoes the header: the message shows a cut of the redacted text, not of the token.
    page = run_json(77, "RUNNING", tasks=[task_json("a", 1)], next_page_token=echo)
    ws.script("GET", "runs/get", Reply(200, page), Reply(200, page))
    with pytest.raises(SubmitError) as paging:
        RunHandle.attach(77, ws.url, TOKEN).get()
    assert "Bearer <redacted>" in str(paging.value)
    seen.append(paging.value)

    # A key whose run carries the token in its name: the conflict names the run without it.
    first = submit(spec(), ws.url, TOKEN, key="echo/1")
    ws.runs[first.run_id]["run_name"] = f"named {TOKEN}"
    with pytest.raises(KeyConflict) as conflict:
        submit(spec(), ws.url, TOKEN, key="echo/1")
    assert "named <redacted>" in str(conflict.value)
    seen.append(conflict.value)

    texts = [t for obj in seen for t in (strings_of(obj) if not isinstance(obj, str) else [obj])]
    leaks = [text for text in texts if TOKEN in text or "SECRETpat" in text]
    assert leaks == []


def test_answers_without_secrets_are_returned_as_sent(ws: FakeWorkspace) -> None:
    """Prose that merely looks like an Authorization header is not taken for one."""
    clock = FakeClock()
    handle = submit(spec(), ws.url, TOKEN, sleep=clock.sleep, clock=clock)
    done = task_json("a", 9, "TERMINATED", code="SUCCESS", kind="SUCCESS")
    ws.timeline(handle.run_id, run_json(handle.run_id, "TERMINATED", code="SUCCESS", kind="SUCCESS", tasks=[done]))
    logs = "basic statistics computed\nBearer of good news: 3 rows"
    ws.outputs[9] = {"logs": logs, "notebook_output": {"result": "dapi is not a token on its own"}}
    handle.wait()
    output = handle.outputs()["a"]
    assert output.logs == logs
    assert output.notebook_result == "dapi is not a token on its own"


@pytest.mark.parametrize(("status", "cut"), [(400, 500), (200, 120)])
def test_a_long_plain_text_answer_cut_to_length_keeps_no_part_of_the_token(
    ws: FakeWorkspace, status: int, cut: int
) -> None:
    """Error bodies and non-JSON answers are shortened for the message: redaction comes first."""
    for offset in (4, 9, 14):  # the cut falls inside the token, wherever it starts
        text = "x" * (cut - offset) + TOKEN + " and more"
        ws.script("GET", "runs/get", Reply(status, body=text.encode(), headers={"Content-Type": "text/plain"}))
        with pytest.raises(RunspecError) as error:
            RunHandle.attach(9, ws.url, TOKEN).get()
        shown = " ".join(strings_of(error.value))
        assert TOKEN[:offset] not in shown.replace("x" * (cut - offset), ""), shown[-200:]
