"""Fidelity: the official databricks-sdk client works against the emulator as against a workspace."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from runspec.testing import Emulator, Fault, ManualClock, Outcome

sdk = pytest.importorskip("databricks.sdk")
from databricks.sdk import errors as sdk_errors  # noqa: E402
from databricks.sdk.service import jobs  # noqa: E402

TOKEN = "sdk-test-token"


@pytest.fixture
def manual() -> Iterator[Emulator]:
    with Emulator(token=TOKEN, clock=ManualClock()) as emulator:
        yield emulator


def client(emulator: Emulator, token: str = TOKEN) -> Any:
    return sdk.WorkspaceClient(host=emulator.url, token=token)


def notebook(key: str, *deps: str) -> Any:
    return jobs.SubmitTask(
        task_key=key,
        depends_on=[jobs.TaskDependency(task_key=d) for d in deps] or None,
        notebook_task=jobs.NotebookTask(notebook_path=f"/Workspace/sdk/{key}"),
    )


def test_sdk_submits_and_waits_for_a_run_in_real_time() -> None:
    with Emulator(token=TOKEN, speed=10) as emulator:
        emulator.script("report", Outcome.success(result="42 rows"))
        w = client(emulator)
        run = w.jobs.submit(run_name="sdk-fidelity", tasks=[notebook("ingest"), notebook("report", "ingest")]).result()
        assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
        assert run.state.result_state == jobs.RunResultState.SUCCESS
        assert run.status.state == jobs.RunLifecycleStateV2State.TERMINATED
        assert run.status.termination_details.type == jobs.TerminationTypeType.SUCCESS
        report = next(t for t in run.tasks if t.task_key == "report")
        output = w.jobs.get_run_output(report.run_id)
        assert output.notebook_output.result == "42 rows"
        assert output.metadata.run_id == report.run_id
        paths = [r.path for r in emulator.requests]
        assert paths[0] == "/.well-known/databricks-config"
        assert set(paths[1:]) <= {
            "/api/2.2/jobs/runs/submit",
            "/api/2.2/jobs/runs/get",
            "/api/2.2/jobs/runs/get-output",
        }
        assert all(r.status == 200 for r in emulator.requests)


def test_sdk_reads_failures_and_task_outputs(manual: Emulator) -> None:
    manual.script("transform", Outcome.fail("KeyError: 'id'", trace="Traceback (most recent call last): ..."))
    manual.script("ingest", Outcome.success(logs="read 10 files\n"))
    w = client(manual)
    waiter = w.jobs.submit(
        run_name="sdk-failure",
        tasks=[
            jobs.SubmitTask(
                task_key="ingest",
                spark_python_task=jobs.SparkPythonTask(python_file="/Workspace/sdk/ingest.py"),
                existing_cluster_id="0101-000000-sdk",
            ),
            notebook("transform", "ingest"),
            notebook("publish", "transform"),
        ],
    )
    manual.wait(waiter.run_id)
    run = waiter.result()
    assert run.state.result_state == jobs.RunResultState.FAILED
    assert run.status.termination_details.code == jobs.TerminationCodeCode.RUN_EXECUTION_ERROR
    by_key = {t.task_key: t for t in w.jobs.get_run(waiter.run_id).tasks}
    assert by_key["publish"].state.result_state == jobs.RunResultState.UPSTREAM_FAILED
    assert by_key["publish"].state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED
    failed = w.jobs.get_run_output(by_key["transform"].run_id)
    assert failed.error == "KeyError: 'id'"
    assert failed.error_trace.startswith("Traceback")
    assert w.jobs.get_run_output(by_key["ingest"].run_id).logs == "read 10 files\n"


def test_sdk_cancels_a_run(manual: Emulator) -> None:
    manual.script("forever", Outcome.hang())
    w = client(manual)
    run_id = w.jobs.submit(run_name="sdk-cancel", tasks=[notebook("forever")]).run_id
    manual.advance(1)
    cancel = w.jobs.cancel_run(run_id)
    manual.wait(run_id)
    run = cancel.result()
    assert run.state.result_state == jobs.RunResultState.CANCELED
    assert run.state.user_cancelled_or_timedout is True
    assert run.status.termination_details.code == jobs.TerminationCodeCode.USER_CANCELED


def test_sdk_pages_tasks_and_iterations(manual: Emulator) -> None:
    w = client(manual)
    many = [notebook(f"t{i:03d}") for i in range(130)]
    loop = jobs.SubmitTask(
        task_key="loop",
        for_each_task=jobs.ForEachTask(
            inputs=str(list(range(120))),
            concurrency=50,
            task=jobs.Task(
                task_key="loop_item",
                notebook_task=jobs.NotebookTask(notebook_path="/Workspace/sdk/item"),
            ),
        ),
    )
    run_id = w.jobs.submit(run_name="sdk-paging", tasks=[*many, loop]).run_id
    manual.wait(run_id)
    run = w.jobs.get_run(run_id)
    assert len(run.tasks) == 131
    loop_run = next(t for t in run.tasks if t.task_key == "loop")
    assert loop_run.for_each_task.stats.task_run_stats.succeeded_iterations == 120
    assert len(w.jobs.get_run(loop_run.run_id).iterations) == 120
    listed = list(w.jobs.list_runs(run_type=jobs.RunType.SUBMIT_RUN, limit=5))
    assert [r.run_id for r in listed] == [run_id]


def test_sdk_maps_the_emulator_errors(manual: Emulator) -> None:
    w = client(manual)
    with pytest.raises(sdk_errors.ResourceDoesNotExist):
        w.jobs.get_run(123)
    run_id = w.jobs.submit(run_name="two", tasks=[notebook("a"), notebook("b")]).run_id
    with pytest.raises(sdk_errors.InvalidParameterValue, match="multiple tasks"):
        w.jobs.get_run_output(run_id)
    shared = {
        "run_name": "shared",
        "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}, "job_cluster_key": "c"}],
    }
    with pytest.raises(sdk_errors.InvalidParameterValue, match="Shared job cluster"):
        w.api_client.do("POST", "/api/2.2/jobs/runs/submit", body=shared)
    with pytest.raises(sdk_errors.PermissionDenied):
        client(manual, token="wrong").jobs.get_run(run_id)


def test_sdk_retries_a_throttled_submit(manual: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    manual.inject(Fault.throttle(retry_after=0), "runs/submit", times=1)
    w = client(manual)
    with caplog.at_level(logging.CRITICAL):
        run_id = w.jobs.submit(run_name="throttled", tasks=[notebook("a")]).run_id
    assert manual.run_ids() == [run_id]
    assert [r.status for r in manual.requests_to("runs/submit")] == [429, 200]


def test_sdk_authenticates_as_a_service_principal() -> None:
    with Emulator(token=TOKEN, clock=ManualClock(), service_principals={"sp-ci": "sp-secret"}) as emulator:
        w = sdk.WorkspaceClient(host=emulator.url, client_id="sp-ci", client_secret="sp-secret")
        assert w.config.auth_type == "oauth-m2m"
        run_id = w.jobs.submit(run_name="as-sp", tasks=[notebook("a")]).run_id
        assert emulator.run_ids() == [run_id]
        assert [r.endpoint for r in emulator.requests][:3] == [
            "/.well-known/databricks-config",
            "/oidc/.well-known/oauth-authorization-server",
            "/oidc/v1/token",
        ]
