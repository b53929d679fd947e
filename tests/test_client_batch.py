"""
``Workspace.submit_many``: many keyed runs within the workspace's budgets, resumable, followed cheaply.

Every test runs the client against the emulator in-process (``Emulator.transport()``) on a ``ManualClock``
that the batch's own pauses move: no socket, no real waiting. The kill-and-resume test, which needs real
processes, is in ``test_client_batch_kill.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from runspec import KeyConflict, SpecError
from runspec.client import Workspace
from runspec.client.batch import BatchProgress
from runspec.testing import Emulator, Fault, Limits, ManualClock, Outcome, TaskContext, Timing

TOKEN = "batch-token"


def body(name: str, *keys: str, queue: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_name": name,
        "tasks": [
            {"task_key": key, "notebook_task": {"notebook_path": f"/x/{key}"}, "existing_cluster_id": "c"}
            for key in (keys or ("main",))
        ],
    }
    if queue:
        out["queue"] = {"enabled": True}
    return out


def items(n: int, prefix: str = "day") -> dict[str, dict[str, Any]]:
    return {f"{prefix}/{i:03d}": body(f"{prefix}-{i}") for i in range(n)}


def emulator(**options: Any) -> Emulator:
    """An emulator on a manual clock that only the client's pauses move."""
    return Emulator(token=TOKEN, clock=ManualClock(), stall_after=None, **options)


def workspace(emu: Emulator) -> Workspace:
    clock = emu.clock
    assert isinstance(clock, ManualClock)
    return Workspace.resolve(token=TOKEN, transport=emu.transport(), sleep=clock.advance, clock=clock.now)


FAST = 200.0  # requests per second (emulated time); the default (20) is for workspaces


def one_run_per_key(emu: Emulator) -> Counter[str]:
    return Counter(emu.run(run_id)["run_name"] for run_id in emu.run_ids())


def test_a_batch_stays_inside_the_active_limit_and_every_item_succeeds() -> None:
    limits = Limits(max_active_tasks=4)
    with emulator(limits=limits) as emu:
        seen: list[BatchProgress] = []
        batch = workspace(emu).submit_many(
            items(24), max_active_tasks=100, progress=seen.append, requests_per_second=FAST
        )
        assert batch.summary() == {"succeeded": 24}
        assert set(one_run_per_key(emu).values()) == {1} and len(emu.run_ids()) == 24
        statuses = Counter(r.status for r in emu.requests_to("runs/submit"))
        assert statuses[200] == 24  # the workspace's 429s were held, never failures
        assert set(statuses) <= {200, 429}
        assert seen[-1].succeeded == 24 and seen[-1].running == 0
        assert "succeeded 24" in seen[-1].line
        assert set(batch.handles) == set(batch.results)


def test_the_batch_keeps_its_own_budget_of_active_tasks() -> None:
    with emulator(timing=Timing(duration=2.0)) as emu:
        batch = workspace(emu).submit_many(
            {f"k{i}": body(f"r{i}", "a", "b") for i in range(6)}, max_active_tasks=4, requests_per_second=FAST
        )
        assert batch.summary() == {"succeeded": 6}
        runs = [emu.run(run_id) for run_id in emu.run_ids()]
        spans = [(r["start_time"], r["end_time"]) for r in runs]
        most = max(sum(1 for s, e in spans if s <= moment < e) for moment, _ in spans)
        assert most <= 2  # two runs of two tasks each at most, never three


def test_queued_runs_count_as_active_and_all_end_well() -> None:
    with emulator(limits=Limits(max_active_tasks=2)) as emu:
        queued = {f"q{i}": body(f"q{i}", queue=True) for i in range(6)}
        batch = workspace(emu).submit_many(queued, max_active_tasks=4, requests_per_second=FAST)
        assert batch.summary() == {"succeeded": 6}
        assert {r.status for r in emu.requests_to("runs/submit")} == {200}  # queued by the workspace, never refused
        assert any(r["queue_duration"] > 0 for r in (emu.run(i) for i in emu.run_ids()))


def test_wait_false_returns_once_everything_was_sent_and_wait_follows_the_rest() -> None:
    with emulator(timing=Timing(duration=30)) as emu:
        batch = workspace(emu).submit_many(items(5), wait=False, requests_per_second=FAST)
        assert len(emu.run_ids()) == 5
        assert set(batch.summary()) == {"running"}
        assert batch.wait() is batch
        assert batch.summary() == {"succeeded": 5}


def test_following_many_runs_takes_at_most_half_the_request_rate_while_items_are_sent() -> None:
    with emulator(timing=Timing(duration=60)) as emu:
        batch = workspace(emu).submit_many(items(300), requests_per_second=20)
        assert batch.summary() == {"succeeded": 300}
        sent = [r.endpoint for r in emu.requests]
        while_sending = sent[: max(i for i, e in enumerate(sent) if e == "runs/submit") + 1]
        assert while_sending.count("runs/submit") == 300
        assert while_sending.count("runs/list") <= 150  # each poll of many pages waits its turn


def test_running_the_batch_again_reattaches_and_starts_nothing_twice() -> None:
    with emulator() as emu:
        ws = workspace(emu)
        first = ws.submit_many(items(10), requests_per_second=FAST)
        again = ws.submit_many(items(12), requests_per_second=FAST)
        assert again.summary() == {"succeeded": 12}
        assert len(emu.run_ids()) == 12
        reattached = {key for key, o in again.results.items() if o.reattached}
        assert reattached == set(first.results)
        assert all(again.results[k].run_id == first.results[k].run_id for k in first.results)


def test_a_changed_spec_under_the_same_key_is_a_key_conflict_for_that_item_only() -> None:
    with emulator() as emu:
        ws = workspace(emu)
        ws.submit_many(items(3), requests_per_second=FAST)
        changed = {**items(3), "day/001": body("day-1", "other")}
        batch = ws.submit_many(changed, requests_per_second=FAST)
        outcome = batch.results["day/001"]
        assert outcome.status == "not started"
        assert isinstance(outcome.error, KeyConflict)
        assert "tasks only in this spec: other" in str(outcome.error)
        assert batch.summary() == {"succeeded": 2, "not started": 1}
        assert len(emu.run_ids()) == 3


def test_every_spec_is_checked_before_the_first_is_sent() -> None:
    with emulator() as emu:
        bad = {"a": body("a"), "b": {"run_name": "b", "tasks": []}, "c": {"tasks": [{"task_key": "x"}]}}
        with pytest.raises(SpecError) as caught:
            workspace(emu).submit_many(bad, requests_per_second=FAST)
        paths = [p.path for p in caught.value.problems]
        assert any(path.startswith("['b']$") for path in paths)
        assert any(path.startswith("['c']$.tasks[0]") for path in paths)
        assert emu.requests_to("runs/submit") == []
        with pytest.raises(SpecError, match="given twice"):
            workspace(emu).submit_many([("a", body("a")), ("a", body("a"))], requests_per_second=FAST)


def test_the_hourly_limit_and_429s_hold_items_and_an_unrelated_400_fails_one_item_with_its_key() -> None:
    with emulator(limits=Limits(runs_per_hour=4)) as emu:
        emu.inject(Fault.throttle(retry_after=1), "runs/list", times=1)
        emu.inject(Fault.throttle(retry_after=2), "runs/submit", skip=1, times=2)
        emu.inject(
            Fault.error(400, "INVALID_PARAMETER_VALUE", "Cluster c does not exist"), "runs/submit", skip=2, times=1
        )
        batch = workspace(emu).submit_many(items(7), requests_per_second=FAST)
        assert batch.summary() == {"succeeded": 6, "not started": 1}
        (key,) = [k for k, o in batch.results.items() if o.status == "not started"]
        assert "Cluster c does not exist" in (batch.results[key].reason or "")
        statuses = Counter(r.status for r in emu.requests_to("runs/submit"))
        assert statuses[429] == 2 and statuses[400] >= 2  # the hourly limit's 400s, and the unrelated one
        assert len(emu.run_ids()) == 6


def test_a_failed_run_is_reported_with_its_task_and_repair_failed_reruns_it() -> None:
    with emulator() as emu:
        emu.script("flaky", [Outcome.fail("division by zero"), Outcome.success()])
        batch = workspace(emu).submit_many({"ok": body("ok"), "bad": body("bad", "flaky")}, requests_per_second=FAST)
        assert batch.summary() == {"succeeded": 1, "failed": 1}
        (failed,) = batch.failed().values()
        assert failed.key == "bad"
        assert [t.key for t in failed.failed_tasks] == ["flaky"]
        assert "division by zero" in (failed.failed_tasks[0].error or "")
        repairs = batch.repair_failed()
        assert set(repairs) == {"bad"}
        assert batch.summary() == {"succeeded": 2}


def test_a_run_skipped_by_a_limit_is_sent_again_under_the_next_attempt() -> None:
    calls: list[int] = []

    def first_run_skipped(ctx: TaskContext) -> Outcome:
        calls.append(ctx.run_id)
        if len(calls) == 1:
            return Outcome.fail("workspace limit", code="WORKSPACE_RUN_LIMIT_EXCEEDED", type="INTERNAL_ERROR")
        return Outcome.success()

    with emulator() as emu:
        emu.script("main", first_run_skipped)
        batch = workspace(emu).submit_many(items(1), requests_per_second=FAST)
        outcome = batch.results["day/000"]
        assert outcome.status == "succeeded"
        assert outcome.attempt == 2
        assert outcome.skipped_runs == [calls[0]]
        assert outcome.run_id != calls[0]
        again = workspace(emu).submit_many(items(1))  # resumed: reaches the same two runs, starts none
        assert again.results["day/000"].run_id == outcome.run_id
        assert len(emu.run_ids()) == 2


def test_ctrl_c_cancels_what_the_batch_started_unless_asked_to_keep_it_running() -> None:
    with emulator(timing=Timing(duration=60)) as emu:
        ws = workspace(emu)

        def stop_at_three(progress: BatchProgress) -> None:
            if progress.running >= 3:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt) as caught:
            ws.submit_many(items(6), progress=stop_at_three, requests_per_second=FAST)
        batch = caught.value.batch  # type: ignore[attr-defined]
        assert batch.summary() == {"cancelled": 3, "not started": 3}
        assert len(emu.run_ids()) == 3
        assert {emu.run(r)["status"]["state"] for r in emu.run_ids()} <= {"TERMINATING", "TERMINATED"}

        with pytest.raises(KeyboardInterrupt):
            ws.submit_many(
                items(6, "kept"), progress=stop_at_three, cancel_on_interrupt=False, requests_per_second=FAST
            )
        kept = [r for r in emu.run_ids() if emu.run(r)["run_name"].startswith("kept")]
        assert len(kept) == 3
        assert all(emu.run(r)["status"]["state"] in ("PENDING", "RUNNING") for r in kept)
        resumed = ws.submit_many(items(6, "kept"), wait=False, requests_per_second=FAST)
        assert sum(o.reattached for o in resumed.results.values()) == 3
        assert len([r for r in emu.run_ids() if emu.run(r)["run_name"].startswith("kept")]) == 6
        assert resumed.cancel()
