"""
``runspec.Workspace``: the connection held once, its calls, and the transport seam (no socket here).
"""

from __future__ import annotations

import inspect
import threading

import pytest

import runspec
from runspec import NotebookTask, Run, RunFailed, RunHandle, TransportError, Workspace, prepare, submit
from runspec.client.auth import WORKSPACE_SETTINGS
from runspec.testing import Emulator, Fault, Outcome
from runspec.wire import MockTransport, Request, Response, SendFailed


def run() -> Run:
    return Run("nightly").task(NotebookTask("/a"), key="a").task(NotebookTask("/b"), key="b", depends_on=["a"])


def test_the_workspace_settings_agree_between_resolve_and_the_module_functions() -> None:
    resolve = inspect.signature(Workspace.resolve).parameters
    for function in (submit, prepare, RunHandle.attach):
        parameters = inspect.signature(function).parameters
        for name in WORKSPACE_SETTINGS:
            mine, theirs = parameters[name], resolve[name]
            assert (mine.default, mine.annotation) == (theirs.default, theirs.annotation), (function, name)
            assert mine.kind == theirs.kind or {mine.kind, theirs.kind} <= {
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                inspect.Parameter.KEYWORD_ONLY,
            }, (function, name)
    assert [p for p in resolve if p in ("host", "token")] == ["host", "token"]


def test_workspace_is_public_at_the_top_and_from_env_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runspec.Workspace is Workspace
    monkeypatch.setenv("DATABRICKS_HOST", "https://adb-1.azuredatabricks.net")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-from-env")
    workspace = Workspace.from_env()
    assert isinstance(workspace, Workspace)
    assert (workspace.host, workspace.host_source, workspace.credentials_source) == (
        "https://adb-1.azuredatabricks.net",
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
    )
    assert "dapi-from-env" not in repr(workspace)


def test_submit_wait_outputs_and_repair_run_in_process_against_the_emulator() -> None:
    emu = Emulator(token="t")
    emu.script("b", [Outcome.fail("boom"), Outcome.success(result="fixed")])
    workspace = Workspace.resolve(token="t", transport=emu.transport())
    threads = threading.active_count()
    handle = workspace.submit(run(), key="nightly-1")
    with pytest.raises(RunFailed) as failed:
        handle.wait()
    assert [task.task_key for task in failed.value.failed_tasks] == ["b"]
    handle.repair()
    assert handle.wait().state.result_state == "SUCCESS"
    assert handle.outputs()["b"].notebook_result == "fixed"
    # The same key from a second Workspace reaches the same run.
    again = Workspace.resolve(token="t", transport=emu.transport()).submit(run(), key="nightly-1")
    assert (again.run_id, again.reattached) == (handle.run_id, True)
    assert len(emu.requests_to("runs/submit")) == 2 and len(emu.run_ids()) == 1
    assert threading.active_count() == threads  # no thread was started
    assert workspace.attach(handle.run_id).get().run_id == handle.run_id


def test_retries_and_lost_connections_go_through_any_transport() -> None:
    emu = Emulator(token="t")
    emu.inject(Fault.throttle(retry_after=3), "runs/submit", times=1)
    emu.inject(Fault.drop(after_handling=True), "runs/submit", times=1)
    sleeps: list[float] = []
    workspace = Workspace.resolve(token="t", transport=emu.transport(), sleep=sleeps.append)
    handle = workspace.submit(run())
    assert sleeps[0] == 3  # Retry-After honoured
    assert len(emu.run_ids()) == 1  # the dropped answer was retried with the same token: one run
    assert handle.run_id == emu.run_ids()[0]


def test_a_handler_function_is_a_transport_and_failures_say_whether_anything_was_sent() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        raise SendFailed("the connection was lost before the answer came", sent=True)

    workspace = Workspace.resolve("https://adb-1.azuredatabricks.net", "t", transport=MockTransport(handler))
    with pytest.raises(TransportError) as error:
        workspace.submit(run(), deadline=0)
    assert "the request may have reached the workspace" in str(error.value)
    assert error.value.idempotency_token is not None
    assert seen[0].method == "POST" and seen[0].url.endswith("/api/2.2/jobs/runs/submit")
    assert seen[0].header("authorization") == "Bearer t"
    assert "Bearer t" not in repr(seen[0])


def test_module_functions_take_the_transport_as_a_setting_too() -> None:
    emu = Emulator(token="t")
    handle = submit(run(), token="t", transport=emu.transport(), key="k")
    assert handle.host == "http://emulator.localhost"
    assert RunHandle.attach(handle.run_id, token="t", transport=emu.transport()).get().run_name == "nightly"
    assert prepare(run(), token="t", transport=emu.transport(), key="k").send().run_id == handle.run_id


def test_module_functions_take_a_workspace_with_per_call_settings() -> None:
    emu = Emulator(token="t")
    workspace = Workspace.resolve(token="t", transport=emu.transport())
    request = prepare(run(), workspace=workspace, key="k", attempt=2)
    assert request.url == "http://emulator.localhost/api/2.2/jobs/runs/submit"
    handle = request.send()
    assert submit(run(), workspace=workspace, key="k", attempt=2).run_id == handle.run_id
    assert RunHandle.attach(handle.run_id, workspace=workspace).get().run_name == "nightly"
