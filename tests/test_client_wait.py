"""wait(): every way a run can end, unknown states, paging, progress, time limits and Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from runspec import RunFailed, RunHandle, WaitTimeout, submit
from runspec.client import Progress, RunView
from runspec.testing import Emulator, Fault, ManualClock, Outcome, Timing

try:
    from tests.support import FakeClock, Tap
except ImportError:  # tests/ run as a plain directory
    from support import FakeClock, Tap  # type: ignore[no-redef]

TOKEN = "dapi-wait-secret-token"


def notebook(key: str, **task: Any) -> dict[str, Any]:
    return {"task_key": key, "notebook_task": {"notebook_path": f"/Workspace/{key}"}, **task}


class Paced:
    """
    An emulator on a manual clock and a client whose sleeps move it (``clock.sleeps`` records them), so
    a wait goes through the states a workspace shows, in no real time. ``tap`` sees every request.
    """

    def __init__(self, timing: Timing | None = None) -> None:
        self.time = ManualClock()
        self.emulator = Emulator(token=TOKEN, clock=self.time, timing=timing or Timing(), stall_after=None)
        self.tap = Tap(self.emulator)
        self.clock = FakeClock(start=0.0)

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)
        self.time.advance(seconds)

    def submit(self, *tasks: dict[str, Any], **options: Any) -> RunHandle:
        spec = {"run_name": "wait", "tasks": list(tasks or [notebook("a")])}
        return submit(spec, token=TOKEN, transport=self.tap, sleep=self.sleep, clock=self.clock, **options)

    def gets(self) -> list[Any]:
        return self.emulator.requests_to("runs/get")


@pytest.fixture
def paced() -> Paced:
    return Paced()


def with_termination(code: str, kind: str, message: str) -> Any:
    """A change to a runs/get answer: the run ended with this termination code instead."""

    def change(run: dict[str, Any]) -> None:
        if run["status"]["state"] == "TERMINATED":
            run["status"]["termination_details"] = {"code": code, "type": kind, "message": message}

    return change


def test_success_returns_the_run_and_reports_progress(caplog: pytest.LogCaptureFixture) -> None:
    paced = Paced(Timing(queue=0.5))
    paced.emulator.script("a", Outcome.success(seconds=2))
    handle = paced.submit()
    url = paced.emulator.run(handle.run_id)["run_page_url"]
    events: list[Progress] = []
    with caplog.at_level(logging.INFO, logger="runspec"):
        run = handle.wait(on_progress=events.append)
    assert isinstance(run, RunView)
    assert run.run_id == handle.run_id
    assert run.state.finished and run.succeeded()
    assert run.state.label == "TERMINATED SUCCESS"
    assert [e.kind for e in events] == ["url", "run", "task", "run", "task", "run", "task"]
    name = f"run {handle.run_id}"
    assert [e.message for e in events] == [
        f"{name}: {url}",
        f"{name}: QUEUED (The run is queued (emulated queue time).)",
        f"{name}: task a: QUEUED",
        f"{name}: RUNNING",
        f"{name}: task a: RUNNING",
        f"{name}: TERMINATED SUCCESS",
        f"{name}: task a: TERMINATED SUCCESS",
    ]
    assert events[3].previous == "QUEUED" and events[3].state == "RUNNING"
    assert events[4].task is not None and events[4].task.task_key == "a"
    logged = [r.getMessage() for r in caplog.records if r.name == "runspec"]
    assert logged == [e.message for e in events]
    assert len(paced.gets()) == 4
    # The pause grows by half each poll; state changes do not reset it.
    assert paced.clock.sleeps == [1.0, 1.5, 2.25]
    assert handle.run_page_url == url


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
def test_every_other_outcome_raises_run_failed(paced: Paced, code: str, kind: str) -> None:
    handle = paced.submit()
    # Every way a run can end, as the run's termination details say it (codes a workspace may add too).
    paced.tap.change("runs/get", with_termination(code, kind, "the reason"), times=10)
    with pytest.raises(RunFailed) as error:
        handle.wait()
    err = error.value
    assert err.run.run_id == handle.run_id
    assert err.run.state.outcome == code
    assert f"TERMINATED {code}: the reason" in str(err)
    assert paced.emulator.run(handle.run_id)["run_page_url"] in str(err)


def test_success_with_failures_can_be_accepted(paced: Paced) -> None:
    paced.emulator.script("b", Outcome.fail("not needed"))
    handle = paced.submit(
        notebook("a"), notebook("b"), notebook("c", depends_on=[{"task_key": "b"}], run_if="ALL_DONE")
    )
    with pytest.raises(RunFailed, match="allow_success_with_failures=True"):
        handle.wait()
    run = handle.wait(allow_success_with_failures=True)
    assert run.state.outcome == "SUCCESS_WITH_FAILURES"


def test_future_success_code_with_success_type_is_success(paced: Paced) -> None:
    handle = paced.submit()
    paced.tap.change("runs/get", with_termination("SUCCESS_SOMEHOW_NEW", "SUCCESS", ""), times=10)
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
def test_legacy_state_when_there_is_no_status(paced: Paced, legacy: dict[str, Any], ok: bool) -> None:
    paced.emulator.script("a", Outcome.success(seconds=1.2))
    handle = paced.submit()

    def legacy_only(run: dict[str, Any]) -> None:  # a workspace that sends no V2 status
        for item in (run, *run.get("tasks", ())):
            item.pop("status", None)
        if run["state"]["life_cycle_state"] == "TERMINATED":
            run["state"] = legacy

    paced.tap.change("runs/get", legacy_only, times=10)
    if ok:
        assert handle.wait().succeeded()
    else:
        with pytest.raises(RunFailed) as error:
            handle.wait()
        assert error.value.run.state.life_cycle_state == legacy["life_cycle_state"]
        if "state_message" in legacy:
            assert legacy["state_message"] in str(error.value)
    assert len(paced.gets()) == 3  # PENDING, RUNNING, then the end


def test_unknown_states_are_not_finished(paced: Paced) -> None:
    paced.emulator.script("a", Outcome.success(seconds=10))
    handle = paced.submit()

    def status(state: str) -> Any:
        return lambda run: run["status"].update(state=state)

    def legacy(state: str) -> Any:
        return lambda run: (run.pop("status"), run["state"].update(life_cycle_state=state))

    def neither(run: dict[str, Any]) -> None:
        run.pop("status")
        run.pop("state")

    for change in (status("HIBERNATING"), legacy("SOMETHING_NEW"), neither, status("WAITING"), status("BLOCKED")):
        paced.tap.change("runs/get", change)
    assert handle.wait().succeeded()
    assert len(paced.gets()) == 6


def test_failed_tasks_carry_error_and_trace(paced: Paced) -> None:
    trace = "Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero"
    paced.emulator.script("transform", Outcome.fail("ZeroDivisionError: division by zero", trace=trace))
    handle = paced.submit(
        notebook("ingest"),
        notebook("transform", depends_on=[{"task_key": "ingest"}]),
        notebook("report", depends_on=[{"task_key": "transform"}]),
    )
    with pytest.raises(RunFailed) as error:
        handle.wait()
    err = error.value
    assert [t.task_key for t in err.failed_tasks] == ["transform", "report"]
    transform, report = err.failed_tasks
    assert transform.run_id == err.run.task("transform").run_id
    assert transform.state.label == "TERMINATED RUN_EXECUTION_ERROR"
    assert transform.error == "ZeroDivisionError: division by zero"
    assert transform.error_trace is not None and transform.error_trace.startswith("Traceback")
    assert report.error_trace is None
    lines = str(err).splitlines()
    assert lines[1] == "  transform: TERMINATED RUN_EXECUTION_ERROR: ZeroDivisionError: division by zero"
    assert lines[2] == "  report: TERMINATED SKIPPED: Upstream task(s) did not succeed: transform."
    assert "2 tasks did not succeed" in lines[0]
    # get-output is asked for the failed task's own run, then for the task that succeeded (its output is
    # in the report), never for the run itself.
    asked = [r.query["run_id"] for r in paced.emulator.requests_to("runs/get-output")]
    assert asked == [str(transform.run_id), str(err.run.task("ingest").run_id)]


def test_failed_for_each_iterations_are_listed(paced: Paced) -> None:
    paced.emulator.script(
        "step",
        lambda ctx: Outcome.fail("ValueError: bad input 2", trace="trace 2") if ctx.input == 2 else Outcome.success(),
    )
    loop = {"task_key": "loop", "for_each_task": {"inputs": "[1, 2, 3]", "task": notebook("step")}}
    handle = paced.submit(loop)
    with pytest.raises(RunFailed) as error:
        handle.wait()
    # The for-each task counts once; its failed iteration is listed under it.
    (loop_task,) = error.value.failed_tasks
    assert loop_task.key == "loop"
    assert [t.key for t in loop_task.failed_iterations] == ["loop[1]"]
    assert loop_task.failed_iterations[0].error == "ValueError: bad input 2"
    text = str(error.value)
    assert "; 1 task did not succeed, with 1 failed for-each iteration" in text
    lines = text.splitlines()
    assert lines[1].startswith("  loop: TERMINATED RUN_EXECUTION_ERROR")
    assert lines[2] == "    loop[1]: TERMINATED RUN_EXECUTION_ERROR: ValueError: bad input 2"
    asked = [r.query["run_id"] for r in paced.emulator.requests_to("runs/get-output")]
    assert asked == [str(loop_task.failed_iterations[0].run_id)]


def test_paginated_tasks_are_all_followed() -> None:
    paced = Paced(Timing(setup=0, duration=0.5, cleanup=0, run_cleanup=0))
    paced.emulator.script("t230", Outcome.fail("driver died", code="DRIVER_ERROR", type="INTERNAL_ERROR"))
    handle = paced.submit(*[notebook(f"t{i:03d}") for i in range(250)])
    paced.emulator.clear_requests()
    events: list[Progress] = []
    with pytest.raises(RunFailed) as error:
        handle.wait(on_progress=events.append)
    assert len(error.value.run.tasks) == 250
    assert [t.task_key for t in error.value.failed_tasks] == ["t230"]
    assert sum(1 for e in events if e.kind == "task" and e.state == "RUNNING") == 250
    pages = [r.query.get("page_token") for r in paced.gets()]
    assert len(pages) == 6 and pages[0] is None and pages[3] is None
    assert pages[1:3] == pages[4:6] and None not in pages[1:3]
    assert len(handle.get().tasks) == 250


def test_no_time_limit_by_default(paced: Paced) -> None:
    paced.emulator.script("a", Outcome.success(seconds=3 * 3600))
    assert paced.submit().wait(poll_interval=60).succeeded()
    # Hours of waiting, polls backing off to the cap.
    sleeps = paced.clock.sleeps
    assert sum(sleeps) > 2 * 3600 and len(sleeps) > 150
    assert max(sleeps) == 60
    assert sleeps[:4] == [1.0, 1.5, 2.25, 3.375]


def test_timeout_leaves_the_run_going(paced: Paced) -> None:
    paced.emulator.script("a", Outcome.hang())
    handle = paced.submit()
    with pytest.raises(WaitTimeout) as error:
        handle.wait(timeout=100, poll_interval=30)
    err = error.value
    assert isinstance(err, TimeoutError)
    assert err.run_id == handle.run_id
    text = str(err)
    assert "still RUNNING after waiting 100 s" in text
    assert "goes on" in text and f"RunHandle.attach({handle.run_id}).cancel()" in text
    assert sum(paced.clock.sleeps) == pytest.approx(100)
    assert paced.emulator.requests_to("runs/cancel") == []
    assert paced.emulator.run(handle.run_id)["status"]["state"] == "RUNNING"


def test_transient_errors_while_polling_are_retried(paced: Paced) -> None:
    paced.emulator.script("a", Outcome.success(seconds=5))
    handle = paced.submit()
    paced.emulator.inject(Fault.unavailable(), "runs/get", skip=1, times=1)
    paced.emulator.inject(Fault.error(504), "runs/get", skip=1, times=1)
    assert handle.wait().succeeded()
    assert [r.status for r in paced.gets()][:3] == [200, 503, 504]


def interrupted(seconds: float) -> None:
    raise KeyboardInterrupt


def hanging(emulator: Emulator, **options: Any) -> RunHandle:
    """A run that goes on until cancelled, attached with ``options``."""
    emulator.script("a", Outcome.hang())
    run_id = submit({"run_name": "wait", "tasks": [notebook("a")]}, token=TOKEN, transport=emulator.transport()).run_id
    return RunHandle.attach(run_id, token=TOKEN, transport=emulator.transport(), **options)


def cancelled(emulator: Emulator) -> list[int]:
    return [r.body["run_id"] for r in emulator.requests_to("runs/cancel") if r.status == 200]


def test_ctrl_c_cancels_the_run_and_reraises(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    handle = hanging(emulator, sleep=interrupted)
    with caplog.at_level(logging.WARNING, logger="runspec"), pytest.raises(KeyboardInterrupt):
        handle.wait()
    assert cancelled(emulator) == [handle.run_id]
    assert emulator.run(handle.run_id)["state"]["result_state"] == "CANCELED"
    assert any("cancelling" in r.getMessage() for r in caplog.records)
    assert handle.interrupt_outcome == "cancel requested"
    handle.close()


def test_a_termination_signal_raised_as_an_interrupt_cancels_too(emulator: Emulator) -> None:
    class Terminated(KeyboardInterrupt):
        """What a SIGTERM or SIGHUP handler can raise to get the same cancel."""

    def terminated(seconds: float) -> None:
        raise Terminated

    handle = hanging(emulator, sleep=terminated)
    with pytest.raises(Terminated):
        handle.wait()
    assert cancelled(emulator) == [handle.run_id]
    handle.close()


def test_a_second_interrupt_during_the_cancel_says_so(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    handle = hanging(emulator, sleep=interrupted)
    # The cancel gets a 503: Ctrl-C again while it waits to retry.
    emulator.inject(Fault.unavailable(), "runs/cancel", times=1)
    with caplog.at_level(logging.WARNING, logger="runspec"), pytest.raises(KeyboardInterrupt):
        handle.wait()
    assert handle.interrupt_outcome == "cancel interrupted"
    assert "interrupted again before the cancel went through; it may still be running" in caplog.text
    assert "could not cancel ()" not in caplog.text
    handle.close()


def test_ctrl_c_without_cancelling(emulator: Emulator) -> None:
    handle = hanging(emulator, sleep=interrupted)
    with pytest.raises(KeyboardInterrupt):
        handle.wait(cancel_on_interrupt=False)
    assert emulator.requests_to("runs/cancel") == []
    assert "result_state" not in emulator.run(handle.run_id)["state"]  # it goes on
    handle.close()


def test_ctrl_c_when_cancel_fails_still_reraises(emulator: Emulator) -> None:
    handle = hanging(emulator, sleep=interrupted)
    emulator.inject(Fault.error(403, "PERMISSION_DENIED", "no"), "runs/cancel", times=1)
    with pytest.raises(KeyboardInterrupt):
        handle.wait()
    assert len(emulator.requests_to("runs/cancel")) == 1
    assert handle.interrupt_outcome is not None
    assert handle.interrupt_outcome.startswith("cancel failed: POST /api/2.2/jobs/runs/cancel -> 403")
    handle.close()


def test_wait_after_submit(paced: Paced) -> None:
    paced.emulator.script("a", Outcome.success(seconds=2))
    handle = paced.submit()
    assert handle.wait().run_id == handle.run_id
    states = [r.status for r in paced.gets()]
    assert len(states) > 1 and paced.emulator.run(handle.run_id)["state"]["result_state"] == "SUCCESS"
    handle.close()


def test_queued_run_says_why() -> None:
    paced = Paced(Timing(queue=2))
    handle = paced.submit()
    events: list[Progress] = []
    handle.wait(on_progress=events.append)
    assert f"run {handle.run_id}: QUEUED (The run is queued (emulated queue time).)" in [e.message for e in events]


@contextlib.contextmanager
def _wide_run(seconds: Callable[[int], float]) -> Iterator[tuple[Emulator, ManualClock, RunHandle]]:
    """A 250-task run (three pages of runs/get) on an emulator with a manual clock; task i takes ``seconds(i)``."""
    clock = ManualClock()
    body = {
        "run_name": "wide",
        "tasks": [{"task_key": f"t{i}", "notebook_task": {"notebook_path": f"/t{i}"}} for i in range(250)],
    }
    emu = Emulator(token="t", clock=clock)
    for i in range(250):
        emu.script(f"t{i}", Outcome.success(seconds=seconds(i)))
    handle = submit(body, token="t", transport=emu.transport(), sleep=clock.advance, clock=clock.now)
    emu.clear_requests()
    yield emu, clock, handle


def test_wait_reads_one_page_per_poll_and_every_page_once_at_the_end() -> None:
    with _wide_run(lambda i: 30 + i % 7) as (emu, clock, handle):
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            clock.advance(seconds)

        handle = RunHandle.attach(handle.run_id, token="t", transport=emu.transport(), sleep=sleep, clock=clock.now)
        run = handle.wait()
        gets = emu.requests_to("runs/get")
    assert run.succeeded() and len(run.tasks) == 250
    paged = [r for r in gets if "page_token" in r.query]
    # 250 tasks are three pages: the two others are read once, at the end.
    assert len(paged) == 2 and gets[-2:] == paged
    assert len(gets) == len(sleeps) + 3
    # The pause grows from 1 s by half each poll up to poll_interval, and never shrinks.
    assert sleeps[0] == 1.0 and sleeps == sorted(sleeps) and max(sleeps) == 7.5


def test_wait_honours_a_longer_poll_interval(paced: Paced) -> None:
    paced.emulator.script("a", Outcome.success(seconds=150))
    paced.submit().wait(poll_interval=30)
    sleeps = paced.clock.sleeps
    assert max(sleeps) == 30 and sleeps[-1] == 30 and sleeps.count(30) == 3
    assert len(paced.gets()) == len(sleeps) + 1 == 13


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
