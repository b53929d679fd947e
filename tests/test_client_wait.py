"""wait(): every way a run can end, unknown states, paging, progress, time limits and Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from runspec import RunFailed, RunHandle, WaitTimeout, submit
from runspec.client import Progress, RunView
from runspec.testing import Emulator, ManualClock, Outcome

try:
    from tests.support import (
        FakeClock,
        FakeWorkspace,
        Reply,
        run_json,
        task_json,
    )
except ImportError:  # tests/ run as a plain directory
    from support import (  # type: ignore[no-redef]
        FakeClock,
        FakeWorkspace,
        Reply,
        run_json,
        task_json,
    )

TOKEN = "dapi-wait-secret-token"
RUN = 77


@pytest.fixture
def handle(ws: FakeWorkspace, clock: FakeClock) -> Any:
    h = RunHandle.attach(RUN, ws.url, TOKEN, sleep=clock.sleep, clock=clock)
    yield h
    h.close()


def finished(code: str, kind: str, message: str = "", tasks: Any = None) -> dict[str, Any]:
    return run_json(RUN, "TERMINATED", code=code, kind=kind, message=message or None, tasks=tasks)


def test_success_returns_the_run_and_reports_progress(
    ws: FakeWorkspace, handle: RunHandle, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    ws.timeline(
        RUN,
        run_json(RUN, "QUEUED", tasks=[task_json("a", 1, "PENDING")]),
        run_json(RUN, "RUNNING", tasks=[task_json("a", 1, "RUNNING")]),
        run_json(RUN, "RUNNING", tasks=[task_json("a", 1, "RUNNING")]),
        finished("SUCCESS", "SUCCESS", tasks=[task_json("a", 1, "TERMINATED", code="SUCCESS", kind="SUCCESS")]),
    )
    events: list[Progress] = []
    with caplog.at_level(logging.INFO, logger="runspec"):
        run = handle.wait(on_progress=events.append)
    assert isinstance(run, RunView)
    assert run.run_id == RUN
    assert run.state.finished and run.succeeded()
    assert run.state.label == "TERMINATED SUCCESS"
    assert [e.kind for e in events] == ["url", "run", "task", "run", "task", "run", "task"]
    assert [e.message for e in events] == [
        f"run {RUN}: https://example.invalid/#job/runs/{RUN}",
        f"run {RUN}: QUEUED",
        f"run {RUN}: task a: PENDING",
        f"run {RUN}: RUNNING",
        f"run {RUN}: task a: RUNNING",
        f"run {RUN}: TERMINATED SUCCESS",
        f"run {RUN}: task a: TERMINATED SUCCESS",
    ]
    assert events[3].previous == "QUEUED" and events[3].state == "RUNNING"
    assert events[4].task is not None and events[4].task.task_key == "a"
    logged = [r.getMessage() for r in caplog.records if r.name == "runspec"]
    assert logged == [e.message for e in events]
    assert len(ws.calls("runs/get")) == 4
    # The pause grows by half each poll; state changes do not reset it.
    assert clock.sleeps == [1.0, 1.5, 2.25]
    assert handle.run_page_url == f"https://example.invalid/#job/runs/{RUN}"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
        ("INTERNAL_ERROR", "INTERNAL_ERROR"),
        ("CLOUD_FAILURE", "CLOUD_FAILURE"),
        ("DRIVER_ERROR", "INTERNAL_ERROR"),
        ("USER_CANCELED", "SUCCESS"),
        ("CANCELED", "CLIENT_ERROR"),
        ("SKIPPED", "SUCCESS"),
        ("DISABLED", "SUCCESS"),
        ("SUCCESS_WITH_FAILURES", "SUCCESS"),
        ("SOME_FUTURE_CODE", "CLIENT_ERROR"),
    ],
)
def test_every_other_outcome_raises_run_failed(ws: FakeWorkspace, handle: RunHandle, code: str, kind: str) -> None:
    ws.timeline(RUN, finished(code, kind, "the reason"))
    with pytest.raises(RunFailed) as error:
        handle.wait()
    err = error.value
    assert err.run.run_id == RUN
    assert err.run.state.outcome == code
    assert f"TERMINATED {code}: the reason" in str(err)
    assert f"https://example.invalid/#job/runs/{RUN}" in str(err)


def test_success_with_failures_can_be_accepted(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.timeline(RUN, finished("SUCCESS_WITH_FAILURES", "SUCCESS"))
    with pytest.raises(RunFailed, match="allow_success_with_failures=True"):
        handle.wait()
    run = handle.wait(allow_success_with_failures=True)
    assert run.state.outcome == "SUCCESS_WITH_FAILURES"


def test_future_success_code_with_success_type_is_success(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.timeline(RUN, finished("SUCCESS_SOMEHOW_NEW", "SUCCESS"))
    assert handle.wait().state.outcome == "SUCCESS_SOMEHOW_NEW"


@pytest.mark.parametrize(
    ("legacy", "ok"),
    [
        ({"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}, True),
        ({"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": "boom"}, False),
        ({"life_cycle_state": "TERMINATED", "result_state": "TIMEDOUT"}, False),
        ({"life_cycle_state": "TERMINATED", "result_state": "CANCELED"}, False),
        ({"life_cycle_state": "TERMINATED", "result_state": "SUCCESS_WITH_FAILURES"}, False),
        ({"life_cycle_state": "INTERNAL_ERROR", "state_message": "cluster died"}, False),
        ({"life_cycle_state": "SKIPPED", "state_message": "concurrent runs"}, False),
    ],
)
def test_legacy_state_when_there_is_no_status(
    ws: FakeWorkspace, handle: RunHandle, legacy: dict[str, Any], ok: bool
) -> None:
    ws.timeline(
        RUN,
        run_json(RUN, status=False, legacy={"life_cycle_state": "PENDING"}),
        run_json(RUN, status=False, legacy={"life_cycle_state": "RUNNING"}),
        run_json(RUN, status=False, legacy=legacy),
    )
    if ok:
        assert handle.wait().succeeded()
    else:
        with pytest.raises(RunFailed) as error:
            handle.wait()
        assert error.value.run.state.life_cycle_state == legacy["life_cycle_state"]
        if "state_message" in legacy:
            assert legacy["state_message"] in str(error.value)
    assert len(ws.calls("runs/get")) == 3


def test_unknown_states_are_not_finished(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.timeline(
        RUN,
        run_json(RUN, "HIBERNATING"),
        run_json(RUN, status=False, legacy={"life_cycle_state": "SOMETHING_NEW"}),
        run_json(RUN, status=False),
        run_json(RUN, "WAITING"),
        run_json(RUN, "BLOCKED"),
        finished("SUCCESS", "SUCCESS"),
    )
    assert handle.wait().succeeded()
    assert len(ws.calls("runs/get")) == 6


def test_failed_tasks_carry_error_and_trace(ws: FakeWorkspace, handle: RunHandle) -> None:
    tasks = [
        task_json("ingest", 11, "TERMINATED", code="SUCCESS", kind="SUCCESS"),
        task_json(
            "transform", 12, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR", message="Workload failed"
        ),
        {
            "task_key": "report",
            "run_id": 13,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "UPSTREAM_FAILED"},
            "status": {"state": "TERMINATED", "termination_details": {"code": "SKIPPED", "type": "SUCCESS"}},
        },
    ]
    ws.timeline(RUN, finished("RUN_EXECUTION_ERROR", "CLIENT_ERROR", "Task transform failed", tasks))
    ws.outputs[12] = {
        "error": "ZeroDivisionError: division by zero",
        "error_trace": "Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero",
        "metadata": {"run_id": 12},
    }
    with pytest.raises(RunFailed) as error:
        handle.wait()
    err = error.value
    assert [t.task_key for t in err.failed_tasks] == ["transform", "report"]
    transform, report = err.failed_tasks
    assert transform.run_id == 12
    assert transform.state.label == "TERMINATED RUN_EXECUTION_ERROR"
    assert transform.error == "ZeroDivisionError: division by zero"
    assert transform.error_trace is not None and transform.error_trace.startswith("Traceback")
    assert report.error_trace is None
    lines = str(err).splitlines()
    assert lines[1] == "  transform: TERMINATED RUN_EXECUTION_ERROR: ZeroDivisionError: division by zero"
    assert lines[2] == "  report: TERMINATED SKIPPED"
    assert "2 tasks did not succeed" in lines[0]
    # get-output is asked for the failed task's own run, then for the task that succeeded (its output is
    # in the report), never for the run itself.
    assert [r.query["run_id"] for r in ws.calls("runs/get-output")] == ["12", "11"]


def test_failed_for_each_iterations_are_listed(ws: FakeWorkspace, handle: RunHandle) -> None:
    loop = task_json(
        "loop", 20, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR", for_each_task={"inputs": "[1,2,3]"}
    )
    ws.timeline(RUN, finished("RUN_EXECUTION_ERROR", "CLIENT_ERROR", tasks=[loop]))
    ws.runs[20] = run_json(
        20,
        "TERMINATED",
        code="RUN_EXECUTION_ERROR",
        kind="CLIENT_ERROR",
        iterations=[
            task_json("loop_iteration", 201, "TERMINATED", code="SUCCESS", kind="SUCCESS"),
            task_json("loop_iteration", 202, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR"),
            task_json("loop_iteration", 203, "TERMINATED", code="SUCCESS", kind="SUCCESS"),
        ],
    )
    ws.outputs[202] = {"error": "ValueError: bad input 2", "error_trace": "trace 2"}
    with pytest.raises(RunFailed) as error:
        handle.wait()
    # The for-each task counts once; its failed iteration is listed under it.
    (loop_task,) = error.value.failed_tasks
    assert loop_task.key == "loop"
    assert [t.key for t in loop_task.failed_iterations] == ["loop[1]"]
    assert loop_task.failed_iterations[0].error == "ValueError: bad input 2"
    text = str(error.value)
    assert "; 1 task did not succeed, with 1 failed for-each iteration" in text
    assert (
        "\n  loop: TERMINATED RUN_EXECUTION_ERROR\n    loop[1]: TERMINATED RUN_EXECUTION_ERROR: ValueError: bad input 2"
        in text
    )
    assert [r.query["run_id"] for r in ws.calls("runs/get-output")] == ["202"]


def test_paginated_tasks_are_all_followed(ws: FakeWorkspace, handle: RunHandle) -> None:
    tasks = [task_json(f"t{i:03d}", 1000 + i, "TERMINATED", code="SUCCESS", kind="SUCCESS") for i in range(250)]
    tasks[230] = task_json("t230", 1230, "TERMINATED", code="DRIVER_ERROR", kind="INTERNAL_ERROR")
    running = [dict(t, status={"state": "RUNNING"}) for t in tasks]
    ws.timeline(
        RUN, run_json(RUN, "RUNNING", tasks=running), finished("RUN_EXECUTION_ERROR", "CLIENT_ERROR", tasks=tasks)
    )
    events: list[Progress] = []
    with pytest.raises(RunFailed) as error:
        handle.wait(on_progress=events.append)
    assert len(error.value.run.tasks) == 250
    assert [t.task_key for t in error.value.failed_tasks] == ["t230"]
    assert sum(1 for e in events if e.kind == "task" and e.state == "RUNNING") == 250
    pages = [r.query.get("page_token") for r in ws.calls("runs/get")]
    assert pages == [None, "100", "200", None, "100", "200"]
    assert len(handle.get().tasks) == 250


def test_no_time_limit_by_default(ws: FakeWorkspace, handle: RunHandle, clock: FakeClock) -> None:
    ws.timeline(RUN, *[run_json(RUN, "RUNNING")] * 150, finished("SUCCESS", "SUCCESS"))
    assert handle.wait(poll_interval=60).succeeded()
    # Two hours and more of waiting, polls backing off to the cap.
    assert sum(clock.sleeps) > 2 * 3600
    assert max(clock.sleeps) == 60
    assert clock.sleeps[:4] == [1.0, 1.5, 2.25, 3.375]


def test_timeout_leaves_the_run_going(ws: FakeWorkspace, handle: RunHandle, clock: FakeClock) -> None:
    ws.timeline(RUN, run_json(RUN, "RUNNING"))
    with pytest.raises(WaitTimeout) as error:
        handle.wait(timeout=100, poll_interval=30)
    err = error.value
    assert isinstance(err, TimeoutError)
    assert err.run_id == RUN
    text = str(err)
    assert "still RUNNING after waiting 100 s" in text
    assert "goes on" in text and f"RunHandle.attach({RUN}).cancel()" in text
    assert sum(clock.sleeps) == pytest.approx(100)
    assert ws.cancelled == []


def test_transient_errors_while_polling_are_retried(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.timeline(RUN, run_json(RUN, "RUNNING"), finished("SUCCESS", "SUCCESS"))
    ws.script("GET", "runs/get", Reply(200, run_json(RUN, "RUNNING")), Reply(503, {"message": "busy"}), Reply(504, {}))
    assert handle.wait().succeeded()


def test_ctrl_c_cancels_the_run_and_reraises(ws: FakeWorkspace, caplog: pytest.LogCaptureFixture) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    ws.timeline(RUN, run_json(RUN, "RUNNING"))
    handle = RunHandle.attach(RUN, ws.url, TOKEN, sleep=interrupted)
    with caplog.at_level(logging.WARNING, logger="runspec"), pytest.raises(KeyboardInterrupt):
        handle.wait()
    assert ws.cancelled == [RUN]
    assert any("cancelling" in r.getMessage() for r in caplog.records)
    assert handle.interrupt_outcome == "cancel requested"
    handle.close()


def test_a_termination_signal_raised_as_an_interrupt_cancels_too(ws: FakeWorkspace) -> None:
    class Terminated(KeyboardInterrupt):
        """What a SIGTERM or SIGHUP handler can raise to get the same cancel."""

    def terminated(seconds: float) -> None:
        raise Terminated

    ws.timeline(RUN, run_json(RUN, "RUNNING"))
    handle = RunHandle.attach(RUN, ws.url, TOKEN, sleep=terminated)
    with pytest.raises(Terminated):
        handle.wait()
    assert ws.cancelled == [RUN]
    handle.close()


def test_a_second_interrupt_during_the_cancel_says_so(ws: FakeWorkspace, caplog: pytest.LogCaptureFixture) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    ws.timeline(RUN, run_json(RUN, "RUNNING"))
    handle = RunHandle.attach(RUN, ws.url, TOKEN, sleep=interrupted)
    # The cancel gets a 503: Ctrl-C again while it waits to retry.
    ws.script("POST", "runs/cancel", Reply(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}))
    with caplog.at_level(logging.WARNING, logger="runspec"), pytest.raises(KeyboardInterrupt):
        handle.wait()
    assert handle.interrupt_outcome == "cancel interrupted"
    assert "interrupted again before the cancel went through; it may still be running" in caplog.text
    assert "could not cancel ()" not in caplog.text
    handle.close()


def test_ctrl_c_without_cancelling(ws: FakeWorkspace) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    ws.timeline(RUN, run_json(RUN, "RUNNING"))
    handle = RunHandle.attach(RUN, ws.url, TOKEN, sleep=interrupted)
    with pytest.raises(KeyboardInterrupt):
        handle.wait(cancel_on_interrupt=False)
    assert ws.cancelled == []
    handle.close()


def test_ctrl_c_when_cancel_fails_still_reraises(ws: FakeWorkspace) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    ws.timeline(RUN, run_json(RUN, "RUNNING"))
    ws.script("POST", "runs/cancel", Reply(403, {"error_code": "PERMISSION_DENIED", "message": "no"}))
    handle = RunHandle.attach(RUN, ws.url, TOKEN, sleep=interrupted)
    with pytest.raises(KeyboardInterrupt):
        handle.wait()
    assert len(ws.calls("runs/cancel")) == 1
    assert handle.interrupt_outcome is not None
    assert handle.interrupt_outcome.startswith("cancel failed: POST /api/2.2/jobs/runs/cancel -> 403")
    handle.close()


def test_wait_after_submit(ws: FakeWorkspace, clock: FakeClock) -> None:
    from runspec.spec import RunSpec

    spec = RunSpec.from_dict({"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}]})
    handle = submit(spec, ws.url, TOKEN, sleep=clock.sleep, clock=clock)
    ws.timeline(
        handle.run_id,
        run_json(handle.run_id, "RUNNING"),
        run_json(handle.run_id, "TERMINATED", code="SUCCESS", kind="SUCCESS"),
    )
    assert handle.wait().run_id == handle.run_id
    handle.close()


def test_queued_run_says_why(ws: FakeWorkspace, handle: RunHandle) -> None:
    queued = run_json(RUN, "QUEUED")
    queued["status"]["queue_details"] = {"code": "ACTIVE_RUNS_LIMIT_REACHED", "message": "Too many active runs"}
    ws.timeline(RUN, queued, finished("SUCCESS", "SUCCESS"))
    events: list[Progress] = []
    handle.wait(on_progress=events.append)
    assert f"run {RUN}: QUEUED (Too many active runs)" in [e.message for e in events]


@contextlib.contextmanager
def _wide_run(seconds: Callable[[int], float]) -> Iterator[tuple[Emulator, ManualClock, RunHandle]]:
    """A 250-task run (three pages of runs/get) on an emulator with a manual clock; task i takes ``seconds(i)``."""
    clock = ManualClock()
    body = {
        "run_name": "wide",
        "tasks": [{"task_key": f"t{i}", "notebook_task": {"notebook_path": f"/t{i}"}} for i in range(250)],
    }
    with Emulator(token="t", clock=clock) as emu:
        for i in range(250):
            emu.script(f"t{i}", Outcome.success(seconds=seconds(i)))
        handle = submit(body, emu.url, "t", sleep=clock.advance, clock=clock.now)
        emu.clear_requests()
        yield emu, clock, handle


def test_wait_reads_one_page_per_poll_and_every_page_once_at_the_end() -> None:
    with _wide_run(lambda i: 30 + i % 7) as (emu, clock, handle):
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            clock.advance(seconds)

        handle = RunHandle.attach(handle.run_id, emu.url, "t", sleep=sleep, clock=clock.now)
        run = handle.wait()
        gets = emu.requests_to("runs/get")
    assert run.succeeded() and len(run.tasks) == 250
    paged = [r for r in gets if "page_token" in r.query]
    # 250 tasks are three pages: the two others are read once, at the end.
    assert len(paged) == 2 and gets[-2:] == paged
    assert len(gets) == len(sleeps) + 3
    # The pause grows from 1 s by half each poll up to poll_interval, and never shrinks.
    assert sleeps[0] == 1.0 and sleeps == sorted(sleeps) and max(sleeps) == 7.5


def test_wait_honours_a_longer_poll_interval(ws: FakeWorkspace, handle: RunHandle, clock: FakeClock) -> None:
    running = run_json(RUN, "RUNNING", tasks=[task_json("a", 1, "RUNNING")])
    ws.timeline(RUN, *[running] * 12, finished("SUCCESS", "SUCCESS"))
    handle.wait(poll_interval=30)
    assert max(clock.sleeps) == 30 and clock.sleeps[-1] == 30
    assert len(ws.calls("runs/get")) == 13


def test_progress_reads_the_other_pages_at_most_once_per_two_poll_intervals() -> None:
    with _wide_run(lambda i: 60 + 3 * i) as (emu, _clock, handle):
        events: list[Progress] = []
        run = handle.wait(on_progress=events.append)
        gets = emu.requests_to("runs/get")
    assert run.succeeded()
    firsts = [r for r in gets if "page_token" not in r.query]
    paged = [r for r in gets if "page_token" in r.query]
    # Two further pages per full read; full reads on the first poll, then at most every 15 s, and at the end.
    duration = (run.end_time or 0) / 1000 - (run.start_time or 0) / 1000
    assert len(paged) <= 2 * (duration / 15 + 2)
    assert len(paged) < len(firsts)
    finals = {e.task.key for e in events if e.kind == "task" and e.task and e.state == "TERMINATED SUCCESS"}
    assert len(finals) == 250
