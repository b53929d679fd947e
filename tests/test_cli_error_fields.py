"""
The client's errors carry structured fields (the key and the attempt to use next, what failed to connect,
where the credentials came from, the run id), and the ``runspec`` command words its own lines from them:
``--attempt 2`` where Python says ``attempt=2``, ``REQUESTS_CA_BUNDLE`` where Python says ``session=``.
All in-process: the emulator answers through the transport seam.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runspec import ApiError, KeyConflict, Workspace, WorkspaceUnreachable, submit
from runspec.testing import Emulator
from runspec.wire import MockTransport, Request, Response, SendFailed
from tests.support import call, forget, in_process, run_cli

TOKEN = "error-fields-token-9d31"


def _body(*keys: str) -> dict[str, Any]:
    return {
        "run_name": "orders",
        "tasks": [{"task_key": k, "notebook_task": {"notebook_path": f"/n/{k}"}} for k in keys],
    }


def _write(path: Path, body: dict[str, Any]) -> str:
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("runspec: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_key_conflict_is_worded_from_its_fields(host: str, tmp_path: Path) -> None:
    env = {"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": TOKEN}
    first = run_cli(["submit", _write(tmp_path / "a.json", _body("load")), "--key", "orders"], env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    changed = _write(tmp_path / "b.json", _body("load", "report"))

    with pytest.raises(KeyConflict) as caught:
        submit(_body("load", "report"), host, TOKEN, key="orders")
    conflict = caught.value
    assert (conflict.key, conflict.next_attempt, conflict.resubmit) == ("orders", 2, True)
    assert conflict.differences and "attempt=2" in str(conflict)

    result = run_cli(["submit", changed, "--key", "orders"], env=env, cwd=tmp_path)
    assert result.returncode == 3
    line = _error_line(result.stderr)
    assert line == (
        f"runspec: error: key 'orders' already names run {conflict.run_id} ({conflict.run_page_url}), made from a "
        "different spec: "
        f"{'; '.join(conflict.differences)}. No second run was started. Use a new key, or --attempt 2 to run "
        "this spec under the same key"
    )
    as_json = run_cli(["submit", changed, "--key", "orders", "--json"], env=env, cwd=tmp_path)
    data = json.loads(as_json.stdout)
    assert data["error"]["type"] == "KeyConflict" and "--attempt 2" in data["error"]["message"]
    assert "attempt=" not in data["error"]["message"]


def test_a_deleted_keys_run_is_worded_from_the_note_and_the_next_attempt(
    host: str, emulator: Emulator, tmp_path: Path
) -> None:
    run_id = submit(_body("load"), host, TOKEN, key="gone", attempt=3).run_id
    call(emulator, "POST", "runs/delete", {"run_id": run_id})
    with pytest.raises(ApiError) as caught:
        submit(_body("load"), host, TOKEN, key="gone", attempt=3)
    error = caught.value
    assert (error.key, error.next_attempt, error.resubmit) == ("gone", 4, True)
    assert error.note == "the run of key 'gone' was deleted, and the workspace keeps its token reserved"
    assert "was deleted" in error.message and "attempt=" not in error.message  # the workspace's own words
    assert f"{error.message} ({error.note}: use a new key, or attempt=4)" in str(error)

    spec = _write(tmp_path / "a.json", _body("load"))
    env = {"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": TOKEN}
    result = run_cli(["submit", spec, "--key", "gone", "--attempt", "3"], env=env, cwd=tmp_path)
    assert result.returncode == 3
    line = _error_line(result.stderr)
    assert f"400 INVALID_PARAMETER_VALUE: {error.message} ({error.note}: use a new key, or --attempt 4)" in line
    assert "attempt=" not in line


def _no_tls_handshake(request: Request) -> Response:
    """A host whose TLS handshake fails, as the default transport reports it (no socket here)."""
    raise SendFailed(
        "the TLS handshake failed (is it a plain http:// server? For a private CA, pass session= "
        "a requests.Session whose verify= is the CA bundle)",
        sent=False,
        retryable=False,
        cause="tls",
    )


def test_a_failed_tls_handshake_is_worded_from_its_cause(tmp_path: Path) -> None:
    url = in_process(MockTransport(_no_tls_handshake))
    try:
        with pytest.raises(WorkspaceUnreachable) as caught:
            Workspace.resolve(url, TOKEN).attach(5).get()
        env = {"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": TOKEN}
        result = run_cli(["submit", _write(tmp_path / "a.json", _body("load"))], env=env, cwd=tmp_path)
    finally:
        forget(url)
    error = caught.value
    assert (error.cause, error.host, error.host_source) == ("tls", url, "host=")
    assert "session=" in error.reason

    assert result.returncode == 3
    assert _error_line(result.stderr) == (
        f"runspec: error: cannot connect to {url} (host from DATABRICKS_HOST): the TLS handshake failed "
        "(is it a plain http:// server? For a private CA, set REQUESTS_CA_BUNDLE to the CA bundle file); "
        "nothing reached the workspace, so no run was created. Check the host"
    )


def test_a_401_is_worded_from_where_the_credentials_came_from(tmp_path: Path) -> None:
    emulator = Emulator(token="another-token", invalid_token_status=401)  # it does not take this token
    host = in_process(emulator.transport())
    config = tmp_path / "databrickscfg"
    config.write_text(f"[dev]\nhost = {host}\ntoken = {TOKEN}\n", encoding="utf-8")
    with pytest.raises(ApiError) as caught:
        Workspace.resolve(profile="dev", environ={"DATABRICKS_CONFIG_FILE": str(config)}).attach(5).get()
    error = caught.value
    assert (error.status, error.host, error.auth_type) == (401, host, "pat")
    assert error.credentials_source is not None and "[dev]" in error.credentials_source

    env = {"DATABRICKS_CONFIG_FILE": str(config)}
    result = run_cli(["status", "5", "--profile", "dev"], env=env, cwd=tmp_path)
    assert result.returncode == 3
    line = _error_line(result.stderr)
    assert line.endswith(
        f"-> 401 UNAUTHENTICATED: Invalid access token. (pat credentials from {error.credentials_source})"
    )
    assert TOKEN not in result.stderr
    forget(host)


# -- spec problems: Problem.fix names the way out, and the command words it --------------------------


def test_problems_say_which_way_out_their_message_ends_with() -> None:
    import copy
    import pickle

    from runspec import RunSpec, SpecError
    from runspec.errors import Fix, Problem

    body = _body("a")
    body["tasks"][0]["notebook_task"]["notebook_pth"] = "/n"
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(body)
    [problem] = info.value.problems
    said = " (extra={...} or strict=False passes it through)"
    assert problem.fix == Fix("lenient", said)
    assert problem.message.endswith(said)  # the Python message is as it was
    # The fix is not part of the problem's value, and it survives a copy, a pickle and a move.
    assert problem == Problem(problem.path, problem.code, problem.message)
    assert hash(problem) == hash(Problem(problem.path, problem.code, problem.message))
    for same in (pickle.loads(pickle.dumps(problem)), copy.deepcopy(problem), problem.at("[0]" + problem.path)):
        assert same.fix == problem.fix
    with pytest.raises(SpecError) as job_error:
        RunSpec.from_job_settings({"tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/n"}}], "x": 1})
    [unknown] = job_error.value.problems
    assert unknown.fix == Fix("remove") and "strict=False" not in unknown.message
    settings = {
        "parameters": [{"name": "region"}],
        "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/n/{{job.parameters.region}}"}}],
    }
    with pytest.raises(SpecError) as missing:
        RunSpec.from_job_settings(settings)
    [parameter] = [p for p in missing.value.problems if p.code == "missing-job-parameter"]
    assert parameter.fix == Fix("parameter", "; give one with parameters={'region': ...}", "region")
    assert parameter.message.endswith(parameter.fix.said)


def test_the_command_words_the_way_out_from_the_fix_not_from_the_message() -> None:
    from runspec.cli._output import for_shell
    from runspec.errors import Fix, Problem

    fixed = Problem(
        "$.x",
        "unknown-field",
        "T has no field 'x' (strict=False passes it)",
        fix=Fix("lenient", " (strict=False passes it)"),
    )
    assert for_shell(fixed).message == "T has no field 'x' (--lenient passes it through)"
    assert for_shell(fixed, lenient=False).message == (
        "T has no field 'x' (a job is converted from the fields runspec knows: remove it)"
    )
    # A message that only looks like one (Python words, no fix) is shown as it is.
    plain = Problem("$.x", "some-code", "pass parameters={...} or strict=False")
    assert for_shell(plain) is plain
    named = Problem("$.p", "missing-job-parameter", "no value; give one with parameters={'r': ...}",
                    fix=Fix("parameter", "; give one with parameters={'r': ...}", "r"))  # fmt: skip
    assert for_shell(named).message == "no value; give one with --param r=VALUE"
