"""
Run keys (the same key reaches the same run from any process) and repair of a finished run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import runspec
from runspec import ApiError, KeyConflict, RunFailed, RunHandle, SubmitError, submit, wire
from runspec.client.keys import key_token
from runspec.testing import Emulator, ManualClock, Outcome

try:
    from tests.support import FakeClock, Tap, call
except ImportError:  # tests/ run as a plain directory
    from support import FakeClock, Tap, call  # type: ignore[no-redef]

TOKEN = "dapi-keys-0123456789abcdef"
ROOT = Path(runspec.__file__).resolve().parent.parent


def body(name: str = "orders", keys: tuple[str, ...] = ("ingest", "load")) -> dict[str, Any]:
    return {"run_name": name, "tasks": [{"task_key": k, "notebook_task": {"notebook_path": f"/{k}"}} for k in keys]}


# -- keys ---------------------------------------------------------------------------------------------


def test_the_token_is_derived_from_the_key_as_documented() -> None:
    token = key_token("orders/2026-12-01")
    expected = hashlib.sha256(b"runspec key v1\norders/2026-12-01\n1").hexdigest()[:56]
    assert token == "rskey1-" + expected
    assert len(token) <= 64
    assert key_token("orders/2026-12-01", 1) == token
    assert key_token("orders/2026-12-01", 2) != token
    assert key_token("orders/2026-12-02") != token
    with pytest.raises(ValueError):
        key_token("")
    with pytest.raises(ValueError):
        key_token("k", 0)


def test_the_same_key_reaches_the_same_run_and_says_so(
    host: str, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    first = submit(body(), host, TOKEN, key="orders/2026-12-01")
    assert first.reattached is False
    assert emulator.requests_to("runs/submit")[0].body["idempotency_token"] == key_token("orders/2026-12-01")
    with caplog.at_level(logging.INFO, logger="runspec"):
        again = submit(body(), host, TOKEN, key="orders/2026-12-01")
    assert (again.run_id, again.reattached) == (first.run_id, True)
    assert f"key 'orders/2026-12-01': reattached to run {first.run_id}" in caplog.text
    assert emulator.run_ids() == [first.run_id]
    # A deliberate re-run: a new attempt under the same key.
    second = submit(body(), host, TOKEN, key="orders/2026-12-01", attempt=2)
    assert second.run_id != first.run_id and second.reattached is False
    assert len(emulator.run_ids()) == 2


def test_a_key_with_another_spec_is_a_conflict_and_starts_nothing(host: str, emulator: Emulator) -> None:
    run = submit(body(), host, TOKEN, key="k1")
    with pytest.raises(KeyConflict) as error:
        submit(body(name="orders-v2", keys=("ingest", "transform")), host, TOKEN, key="k1")
    err = error.value
    assert isinstance(err, SubmitError)
    assert (err.key, err.run_id) == ("k1", run.run_id)
    text = str(err)
    assert f"key 'k1' already names run {run.run_id}" in text
    assert "its run name is 'orders', this spec's is 'orders-v2'" in text
    assert "tasks only in this spec: transform" in text and "tasks only in the run: load" in text
    assert "attempt=2" in text
    assert emulator.run_ids() == [run.run_id]


def test_key_and_token_cannot_both_be_given(host: str, emulator: Emulator) -> None:
    with pytest.raises(runspec.SpecError, match="key= derives the idempotency token"):
        submit(body(), host, TOKEN, key="k", idempotency_token="t")
    with pytest.raises(ValueError, match="attempt= needs key="):
        submit(body(), host, TOKEN, attempt=2)
    assert emulator.requests == []


def test_a_deleted_runs_key_says_the_way_out(host: str, emulator: Emulator) -> None:
    run = submit(body(), host, TOKEN, key="gone")
    call(emulator, "POST", "runs/delete", {"run_id": run.run_id})
    with pytest.raises(ApiError) as error:
        submit(body(), host, TOKEN, key="gone")
    assert "the run of key 'gone' was deleted" in str(error.value)
    assert "use a new key, or attempt=2" in str(error.value)


def test_a_failed_run_stays_the_keys_run(host: str, emulator: Emulator, clock: FakeClock) -> None:
    emulator.script("ingest", Outcome.fail("no input"))
    run = submit(body(), host, TOKEN, key="nightly", sleep=clock.sleep, clock=clock)
    assert emulator.run(run.run_id)["state"]["result_state"] == "FAILED"
    again = submit(body(), host, TOKEN, key="nightly", sleep=clock.sleep, clock=clock)
    assert (again.run_id, again.reattached) == (run.run_id, True)
    with pytest.raises(RunFailed):
        again.wait()
    assert emulator.run_ids() == [run.run_id]


_CHILD = """
import logging, sys
logging.basicConfig(format="%(message)s")  # runspec itself prints nothing; the application shows its warnings
from runspec import submit
handle = submit({body!r}, sys.argv[1], "t", key="cross-process/1")
print(handle.run_id, handle.reattached)
"""


@pytest.mark.process
def test_two_processes_with_the_same_key_reach_one_run() -> None:
    with Emulator(token="t", speed=1.0) as emu:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        code = _CHILD.format(body=body())
        outs = [
            subprocess.run([sys.executable, "-c", code, emu.url], capture_output=True, text=True, env=env, timeout=60)
            for _ in range(2)
        ]
        for out in outs:
            assert out.returncode == 0, out.stderr
        (first_id, first_again), (second_id, second_again) = (o.stdout.split() for o in outs)
        assert first_id == second_id
        assert (first_again, second_again) == ("False", "True")
        assert "reattached to run" in outs[1].stderr
        assert len(emu.requests_to("runs/submit")) == 2
        assert len({r.body["idempotency_token"] for r in emu.requests_to("runs/submit")}) == 1
        RunHandle.attach(int(first_id), emu.url, "t").cancel()


# -- repair ---------------------------------------------------------------------------------------


class Repairs:
    """
    An emulator on a manual clock, and handles whose sleeps move it; ``failed()`` is a finished run of
    ``ingest`` (succeeded) and ``load`` (failed: on its first run and its first repair, then it succeeds).
    """

    def __init__(self, fails: int = 2, **options: Any) -> None:
        self.clock = ManualClock()
        self.emulator = Emulator(token=TOKEN, clock=self.clock, stall_after=None, **options)
        self.tap = Tap(self.emulator)
        self.emulator.script("load", [*[Outcome.fail("locked")] * fails, Outcome.success()])

    def attach(self, run_id: int) -> RunHandle:
        return RunHandle.attach(run_id, token=TOKEN, transport=self.tap, sleep=self.clock.advance, clock=self.clock.now)

    def failed(self) -> int:
        run_id = submit(body(), token=TOKEN, transport=self.tap).run_id
        self.emulator.wait(run_id)
        assert self.emulator.run(run_id)["state"]["result_state"] == "FAILED"
        return run_id

    def repairs(self) -> list[Any]:
        return [r.body for r in self.emulator.requests_to("runs/repair")]


def test_repair_reruns_failed_tasks_tracks_the_latest_repair_and_wait_follows_it() -> None:
    repairs = Repairs()
    run_id = repairs.failed()
    handle = repairs.attach(run_id)
    first = handle.repair()
    assert repairs.repairs()[-1] == {"run_id": run_id, "rerun_dependent_tasks": True, "rerun_all_failed_tasks": True}
    # The run fails again, then a repair of one task (named twice) succeeds.
    with pytest.raises(RunFailed):
        handle.wait()
    second = handle.repair(["load", "load"], dependents=False)
    assert repairs.repairs()[-1] == {
        "run_id": run_id,
        "rerun_dependent_tasks": False,
        "rerun_tasks": ["load"],
        "latest_repair_id": first,
    }
    assert second != first
    run = handle.wait()
    assert run.succeeded()
    attempts = [t for t in repairs.emulator.run(run_id)["tasks"] if t["task_key"] == "load"]
    assert run.task("load").run_id == attempts[-1]["run_id"] and attempts[-1]["attempt_number"] == 2


def test_a_handle_attached_elsewhere_reads_the_latest_repair_from_the_history() -> None:
    repairs = Repairs()
    run_id = repairs.failed()
    first = repairs.attach(run_id).repair()
    repairs.emulator.wait(run_id)  # it fails again
    repairs.emulator.clear_requests()
    repairs.attach(run_id).repair()
    assert repairs.repairs()[-1]["latest_repair_id"] == first
    assert repairs.emulator.requests_to("runs/get")[-1].query["include_history"] == "true"


def test_repair_refuses_an_active_run_before_sending(host: str, emulator: Emulator) -> None:
    emulator.script("load", Outcome.hang())
    run_id = submit(body(), host, TOKEN).run_id
    with pytest.raises(SubmitError, match=f"run {run_id} is still RUNNING; a run can be repaired once it has finished"):
        RunHandle.attach(run_id, host, TOKEN).repair()
    assert emulator.requests_to("runs/repair") == []


def test_repair_of_an_unknown_task_is_refused() -> None:
    repairs = Repairs()
    run_id = repairs.failed()
    with pytest.raises(ValueError, match=f"run {run_id} has no task 'nope'"):
        repairs.attach(run_id).repair(["nope"])
    assert repairs.repairs() == []


def test_a_workspace_that_does_not_repair_one_time_runs_says_so() -> None:
    repairs = Repairs(repair_one_time_runs=False)
    run_id = repairs.failed()
    with pytest.raises(ApiError) as error:
        repairs.attach(run_id).repair()
    text = str(error.value)
    assert "the workspace does not repair one-time runs" in text
    assert "new attempt" in text and "attempt=N+1" in text
    assert len(repairs.repairs()) == 1


def test_wait_after_repair_is_not_fooled_by_the_state_before_it() -> None:
    repairs = Repairs(fails=1)
    run_id = repairs.failed()
    handle = repairs.attach(run_id)
    stale = call(repairs.emulator, "GET", "runs/get", run_id=run_id, include_history=True)
    repair_id = handle.repair()
    # The workspace has not listed the repair yet: the first poll still shows the failed run before it.
    repairs.tap.answer("runs/get", wire.Response.json(200, stale))
    repairs.emulator.clear_requests()
    assert handle.wait().succeeded()
    polls = repairs.tap.calls("runs/get")
    assert len(polls) >= 3 and all("include_history=true" in r.url for r in polls)
    history = call(repairs.emulator, "GET", "runs/get", run_id=run_id, include_history=True)["repair_history"]
    assert history[-1]["id"] == repair_id


_FOLLOWER = """
import sys
from runspec import submit
handle = submit({body!r}, sys.argv[1], "t", key="killed/1")
print("reattached" if handle.reattached else "created", handle.run_id, flush=True)
run = handle.wait(poll_interval=0.2)
print("finished", run.state.label, flush=True)
"""


@pytest.mark.process
def test_a_process_killed_mid_wait_is_replaced_by_one_that_reattaches() -> None:
    import signal
    import time

    # The run moves only when the test moves the clock: it is surely going when the first process dies, and
    # it ends while the second one waits, without waiting for it in real time.
    with Emulator(token="t", clock=ManualClock(), stall_after=None) as emu:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        code = _FOLLOWER.format(body=body())
        first = subprocess.Popen(
            [sys.executable, "-c", code, emu.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert first.stdout is not None
        line = first.stdout.readline().split()
        assert line[0] == "created"
        run_id = int(line[1])
        polled = time.monotonic() + 30
        while not [r for r in emu.requests_to("runs/get") if r.query.get("run_id") == str(run_id)]:
            assert time.monotonic() < polled, "the first process never polled"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)  # mid-wait
        first.communicate(timeout=10)
        assert emu.run(run_id)["state"]["life_cycle_state"] in ("PENDING", "RUNNING")
        second = subprocess.Popen(
            [sys.executable, "-c", code, emu.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert second.stdout is not None
        assert second.stdout.readline().split() == ["reattached", str(run_id)]
        emu.advance(60)  # the run ends while the second process follows it
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        assert out.splitlines() == ["finished TERMINATED SUCCESS"]
        assert len({r.body["idempotency_token"] for r in emu.requests_to("runs/submit")}) == 1
        assert emu.run_ids() == [run_id], "one run for the key, followed to its end by the second process"
        assert emu.run(run_id)["state"]["result_state"] == "SUCCESS"
        assert len(emu.requests_to("runs/list")) == 2


# -- against the emulator's runs/repair ---------------------------------------------------------------


def _emulated(**kwargs: Any) -> tuple[Emulator, ManualClock]:
    clock = ManualClock()
    return Emulator(token="t", clock=clock, **kwargs), clock


def test_repair_against_the_emulator_reruns_what_failed_once_and_ends_succeeded() -> None:
    emu, clock = _emulated()
    # load fails on its first attempt and its retry, and succeeds when repaired.
    emu.script("load", [Outcome.fail("flaky"), Outcome.fail("flaky again"), Outcome.success()])
    spec = {
        "run_name": "orders",
        "tasks": [
            {"task_key": "ingest", "notebook_task": {"notebook_path": "/i"}},
            {
                "task_key": "load",
                "depends_on": [{"task_key": "ingest"}],
                "notebook_task": {"notebook_path": "/l"},
                "max_retries": 1,
            },
            {"task_key": "report", "depends_on": [{"task_key": "load"}], "notebook_task": {"notebook_path": "/r"}},
        ],
    }
    handle = submit(
        spec, token="t", transport=emu.transport(), key="orders/repair", sleep=clock.advance, clock=clock.now
    )
    with pytest.raises(RunFailed) as failed:
        handle.wait()
    assert [t.key for t in failed.value.failed_tasks] == ["load", "report"]
    first = handle.repair(["load", "load"])
    (sent,) = [r.body for r in emu.requests_to("runs/repair")]
    assert sent == {"run_id": handle.run_id, "rerun_dependent_tasks": True, "rerun_tasks": ["load"]}
    run = handle.wait()
    assert run.succeeded()
    assert run.task("load").state.label == "TERMINATED SUCCESS"
    # A second repair names the first.
    handle.repair(["report"], dependents=False)
    assert emu.requests_to("runs/repair")[-1].body["latest_repair_id"] == first
    handle.wait()
    history = call(emu, "GET", "runs/get", run_id=handle.run_id, include_history=True)["repair_history"]
    assert [h["type"] for h in history] == ["ORIGINAL", "REPAIR", "REPAIR"]
    assert len(emu.requests_to("runs/submit")) == 1
    # Nothing failed now: a repair of "every failed task" is refused before anything is sent.
    with pytest.raises(ValueError, match=r"succeeded: no task failed.*--task KEY"):
        handle.repair()
    assert len(emu.requests_to("runs/repair")) == 2


def test_the_emulator_refusing_one_time_repairs_gives_the_way_out() -> None:
    emu, clock = _emulated(repair_one_time_runs=False)
    emu.script("load", Outcome.fail("boom"))
    handle = submit(
        body(keys=("load",)), token="t", transport=emu.transport(), key="refused", sleep=clock.advance, clock=clock.now
    )
    with pytest.raises(RunFailed):
        handle.wait()
    with pytest.raises(ApiError) as error:
        handle.repair()
    text = str(error.value)
    assert "the workspace does not repair one-time runs" in text
    assert "attempt=N+1" in text


def test_the_emulator_answers_a_deleted_runs_key_and_runspec_adds_the_way_out() -> None:
    emu, clock = _emulated()
    handle = submit(body(), token="t", transport=emu.transport(), key="deleted/1", sleep=clock.advance, clock=clock.now)
    handle.wait()
    assert call(emu, "POST", "runs/delete", {"run_id": handle.run_id}) == {}
    with pytest.raises(ApiError) as error:
        submit(body(), token="t", transport=emu.transport(), key="deleted/1", sleep=clock.advance, clock=clock.now)
    assert "was deleted" in str(error.value)
    assert "use a new key, or attempt=2" in str(error.value)
