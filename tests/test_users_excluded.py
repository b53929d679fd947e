"""
A condition branch not taken (``EXCLUDED``) is part of a run that went as planned, never a failure:
not in ``RunFailed.failed_tasks``, not counted or named by the command line, not a reason for
``repair()`` to send anything; and a cancel is worded as a cancel.

Each test drives the public names against an in-process emulator (instant or manual clock); the
command line runs in-process through ``runspec.cli.main``.
"""

from __future__ import annotations

import pytest

from runspec import ConditionTask, NotebookTask, Run, RunFailed, SparkPythonTask, TaskDependency, submit
from runspec.cli import main
from runspec.testing import Emulator, InstantClock, ManualClock, Outcome

TOKEN = "users-excluded-token"


def branching_run() -> Run:
    """``ingest`` → ``has_rows`` → ``transform`` (true) or ``report_empty`` (false)."""
    return (
        Run("branching")
        .task(NotebookTask("/w/ingest"), key="ingest", existing_cluster_id="0101-abc")
        .task(
            ConditionTask(left="{{tasks.ingest.values.rows}}", op="GREATER_THAN", right="0"),
            key="has_rows",
            depends_on=["ingest"],
        )
        .task(
            SparkPythonTask("/w/transform.py"),
            key="transform",
            depends_on=[TaskDependency("has_rows", outcome="true")],
            existing_cluster_id="0101-abc",
        )
        .task(
            NotebookTask("/w/report_empty"),
            key="report_empty",
            depends_on=[TaskDependency("has_rows", outcome="false")],
            existing_cluster_id="0101-abc",
        )
    )


@pytest.fixture
def emu() -> Emulator:
    with Emulator(token=TOKEN, clock=InstantClock()) as emulator:
        emulator.script("ingest", Outcome.success(values={"rows": 12}))
        yield emulator


@pytest.fixture
def on_emu(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("DATABRICKS_HOST", emu.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    return emu


def test_excluded_branch_is_not_in_failed_tasks(emu: Emulator) -> None:
    emu.script("transform", Outcome.fail("division by zero"))
    handle = submit(branching_run().compile(), host=emu.url, token=TOKEN)
    with pytest.raises(RunFailed) as failed:
        handle.wait(poll_interval=0.01)
    assert [task.task_key for task in failed.value.failed_tasks] == ["transform"]
    assert "1 task did not succeed" in str(failed.value)
    states = {task.task_key: task.state for task in handle.get().tasks}
    assert states["report_empty"].excluded and not states["transform"].excluded


def test_excluded_branch_is_not_counted_as_a_failure_by_the_cli(
    on_emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    on_emu.script("transform", Outcome.fail("division by zero"))
    code = main(["submit", "tests.test_users_excluded:branching_run", "--wait", "--poll-interval", "0.05"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "upstream failure" not in out + err
    assert "report_empty" not in out.split("failed tasks:")[-1]
    assert "1 task did not succeed" in err
    assert "3 tasks" not in err and "2 tasks" not in err


def test_excluded_branch_run_succeeds_in_the_cli(on_emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["submit", "tests.test_users_excluded:branching_run", "--wait", "--poll-interval", "0.05"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "succeeded" in out
    assert "1 excluded" in out
    assert "failed" not in out + err


def test_excluded_branch_repair_refuses_before_sending(emu: Emulator) -> None:
    handle = submit(branching_run().compile(), host=emu.url, token=TOKEN)
    handle.wait(poll_interval=0.01)
    before = len(emu.requests)
    with pytest.raises(ValueError, match="nothing to re-run"):
        handle.repair()
    assert not emu.requests_to("runs/repair")
    assert [r.method for r in emu.requests[before:]] == ["GET"]


def test_excluded_branch_status_shows_success(on_emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    handle = submit(branching_run().compile(), host=on_emu.url, token=TOKEN)
    handle.wait(poll_interval=0.01)
    capsys.readouterr()
    assert main(["status", str(handle.run_id)]) == 0
    out, err = capsys.readouterr()
    assert "excluded" in out and "report_empty" in out
    assert "failed" not in out + err


def test_cancel_is_worded_as_a_cancel_not_an_upstream_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ManualClock()
    with Emulator(token=TOKEN, clock=clock) as emu:
        emu.script("ingest", Outcome.success(values={"rows": 12}, seconds=100))
        handle = submit(branching_run().compile(), host=emu.url, token=TOKEN)
        clock.advance(10)
        handle.cancel()
        clock.advance(10)
        monkeypatch.setenv("DATABRICKS_HOST", emu.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
        code = main(["wait", str(handle.run_id), "--poll-interval", "0.05"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "upstream failure" not in out + err
    assert "cancelled: ingest" in out
    assert "not run because the run was cancelled: has_rows, transform, report_empty" in out
