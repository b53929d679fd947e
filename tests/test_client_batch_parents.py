"""
The workspace's budget of 750 Run Job and For each parent tasks running at once, apart from its 2,000 task
runs: ``submit_many(max_active_parent_tasks=)`` keeps a batch inside it, and the emulator enforces it
(``Limits(max_active_parent_tasks=)``, ``runspec emulator --max-active-parent-tasks``).

The client runs against the emulator in-process on a ``ManualClock`` that the batch's own pauses move.
"""

from __future__ import annotations

from typing import Any

import requests

from runspec.cli._main import build_parser
from runspec.client import Workspace
from runspec.testing import Emulator, Limits, ManualClock, Timing

TOKEN = "parents-token"
NOTEBOOK = {"notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"}


def with_parents(name: str, *, run_jobs: int = 1, loop: dict[str, Any] | None = None) -> dict[str, Any]:
    """A run of one notebook task, ``run_jobs`` Run Job tasks and, when given, a For each task."""
    tasks: list[dict[str, Any]] = [{"task_key": "work", **NOTEBOOK}]
    tasks += [{"task_key": f"job{i}", "run_job_task": {"job_id": 11}} for i in range(run_jobs)]
    if loop is not None:
        tasks.append({"task_key": "each", "for_each_task": loop})
    return {"run_name": name, "tasks": tasks}


def most_at_once(emu: Emulator) -> int:
    spans = [(run["start_time"], run["end_time"]) for run in map(emu.run, emu.run_ids())]
    return max(sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans)


def test_a_batch_keeps_its_own_budget_of_parent_tasks_apart_from_task_runs() -> None:
    clock = ManualClock()
    limits = Limits(max_active_parent_tasks=4)
    with Emulator(token=TOKEN, clock=clock, stall_after=None, timing=Timing(duration=5.0), limits=limits) as emu:
        workspace = Workspace.resolve(token=TOKEN, transport=emu.transport(), sleep=clock.advance, clock=clock.now)
        items = {f"k{i}": with_parents(f"r{i}", run_jobs=2) for i in range(6)}
        batch = workspace.submit_many(items, max_active_parent_tasks=4, max_active_tasks=100, requests_per_second=200)
        assert batch.summary() == {"succeeded": 6}
        assert batch.max_active_parent_tasks == 4
        assert {r.status for r in emu.requests_to("runs/submit")} == {200}  # the batch never met the limit
        assert most_at_once(emu) == 2  # two runs of two Run Job tasks each; three tasks each fit the 100


def test_the_default_parent_budget_is_ninety_percent_of_750() -> None:
    with Emulator(token=TOKEN) as emu:
        workspace = Workspace.resolve(token=TOKEN, transport=emu.transport())
        batch = workspace.submit_many({"a": with_parents("a")}, requests_per_second=200)
        assert (batch.max_active_parent_tasks, batch.max_active_tasks) == (675, 1800)


def submit(emu: Emulator, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{emu.url}/api/2.2/jobs/runs/submit", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


def test_the_emulator_refuses_or_queues_a_run_past_the_parent_limit() -> None:
    clock = ManualClock()
    with Emulator(token=TOKEN, clock=clock, stall_after=None, limits=Limits(max_active_parent_tasks=3)) as emu:
        first = submit(emu, with_parents("two parents", run_jobs=2))
        assert first.status_code == 200
        # A For each whose iterations each run a job: the loop and its 2 concurrent iterations.
        loop = {"inputs": "[1, 2, 3]", "concurrency": 2, "task": {"task_key": "it", "run_job_task": {"job_id": 11}}}
        refused = submit(emu, with_parents("loop of jobs", run_jobs=0, loop=loop))
        assert refused.status_code == 429
        assert refused.json()["error_code"] == "RESOURCE_EXHAUSTED"
        assert (
            "2 of the workspace's 3 concurrent Run Job and For each parent tasks are in use and it needs 3"
            in (refused.json()["message"])
        )
        assert submit(emu, with_parents("one parent", run_jobs=1)).status_code == 200
        plain = {"run_name": "no parent", "tasks": [{"task_key": "t", **NOTEBOOK}]}
        assert submit(emu, plain).status_code == 200  # task runs are not counted against the parents
        queued = submit(emu, {**with_parents("queued", run_jobs=1), "queue": {"enabled": True}})
        assert queued.status_code == 200
        assert emu.run(queued.json()["run_id"])["status"]["state"] == "QUEUED"
        emu.wait(first.json()["run_id"])
        assert emu.wait(queued.json()["run_id"])["state"]["result_state"] == "SUCCESS"  # type: ignore[index]


def test_the_commands_take_the_parent_budget() -> None:
    parser = build_parser()
    assert parser.parse_args(["emulator", "--max-active-parent-tasks", "40"]).max_active_parent_tasks == 40
    assert parser.parse_args(["submit-many", "d/", "--max-active-parent-tasks", "9"]).max_active_parent_tasks == 9
