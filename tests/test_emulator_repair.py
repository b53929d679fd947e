"""runs/repair in the emulator: what it re-runs, its history, what it refuses; tokens of deleted runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from runspec import ApiError, NotebookTask, Run, RunFailed, submit
from runspec.testing import Emulator, ManualClock, Outcome

TOKEN = "repair-token"


class Jobs:
    def __init__(self, emulator: Emulator, version: str = "2.2") -> None:
        self.base = f"{emulator.url}/api/{version}/jobs"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {TOKEN}"

    def submit(self, body: dict[str, Any]) -> int:
        return int(self.http.post(f"{self.base}/runs/submit", json=body).json()["run_id"])

    def repair(self, **body: Any) -> requests.Response:
        return self.http.post(f"{self.base}/runs/repair", json=body)

    def get(self, run_id: int) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.get(
            f"{self.base}/runs/get", params={"run_id": run_id, "include_history": "true"}
        ).json()
        return answer


def chain(*keys: str, **task_settings: Any) -> dict[str, Any]:
    tasks = []
    for i, key in enumerate(keys):
        task: dict[str, Any] = {"task_key": key, "notebook_task": {"notebook_path": f"/{key}"}, **task_settings}
        if i:
            task["depends_on"] = [{"task_key": keys[i - 1]}]
        tasks.append(task)
    return {"run_name": "repairable", "tasks": tasks}


def attempts(run: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(t["task_key"], t["attempt_number"], t["state"].get("result_state", "")) for t in run["tasks"]]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def jobs(emu: Emulator) -> Jobs:
    return Jobs(emu)


def test_a_failed_task_re_scripted_and_repaired_ends_the_run_succeeded(emu: Emulator, jobs: Jobs) -> None:
    emu.script("transform", Outcome.fail("table locked"))
    run_id = jobs.submit(chain("ingest", "transform", "publish"))
    failed = jobs.get(run_id)
    assert failed["state"]["result_state"] == "FAILED"
    emu.script("transform", Outcome.success())
    answer = jobs.repair(run_id=run_id, rerun_all_failed_tasks=True, rerun_dependent_tasks=True)
    assert answer.status_code == 200, answer.text
    repair_id = answer.json()["repair_id"]
    run = jobs.get(run_id)
    assert run["state"]["result_state"] == "SUCCESS"
    assert attempts(run) == [
        ("ingest", 0, "SUCCESS"),
        ("transform", 0, "FAILED"),
        ("transform", 1, "SUCCESS"),
        ("publish", 0, "UPSTREAM_FAILED"),
        ("publish", 1, "SUCCESS"),
    ]
    original, repaired = run["repair_history"]
    assert original["type"] == "ORIGINAL" and "id" not in original
    assert original["state"]["result_state"] == "FAILED"
    assert original["task_run_ids"] == [t["run_id"] for t in failed["tasks"]]
    assert repaired["type"] == "REPAIR" and repaired["id"] == repair_id
    assert repaired["state"]["result_state"] == "SUCCESS"
    assert repaired["task_run_ids"] == [t["run_id"] for t in run["tasks"] if t["attempt_number"] == 1]
    assert repaired["start_time"] >= original["end_time"]
    assert run["end_time"] == repaired["end_time"] and run["start_time"] == original["start_time"]


def test_every_repair_after_the_first_must_name_the_latest(emu: Emulator, jobs: Jobs) -> None:
    emu.script("a", Outcome.fail("still broken"))
    run_id = jobs.submit(chain("a"))
    wrong_first = jobs.repair(run_id=run_id, rerun_tasks=["a"], latest_repair_id=12345)
    assert wrong_first.status_code == 400 and "it has none" in wrong_first.json()["message"]
    first = jobs.repair(run_id=run_id, rerun_tasks=["a"]).json()["repair_id"]
    assert jobs.get(run_id)["state"]["result_state"] == "FAILED"
    missing = jobs.repair(run_id=run_id, rerun_tasks=["a"])
    assert missing.status_code == 400
    assert missing.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert f"latest repair is {first}" in missing.json()["message"]
    stale = jobs.repair(run_id=run_id, rerun_tasks=["a"], latest_repair_id=str(first + 1))
    assert stale.status_code == 400
    emu.script("a", Outcome.success())
    second = jobs.repair(run_id=run_id, rerun_tasks=["a"], latest_repair_id=str(first))  # a string, as Airflow sends
    assert second.status_code == 200, second.text
    history = jobs.get(run_id)["repair_history"]
    assert [h["type"] for h in history] == ["ORIGINAL", "REPAIR", "REPAIR"]
    assert [h.get("id") for h in history] == [None, first, second.json()["repair_id"]]
    assert [h["state"]["result_state"] for h in history] == ["FAILED", "FAILED", "SUCCESS"]


def test_an_active_run_cannot_be_repaired() -> None:
    with Emulator(token=TOKEN, clock=ManualClock()) as emulator:
        jobs = Jobs(emulator)
        run_id = jobs.submit(chain("a"))
        refused = jobs.repair(run_id=run_id, rerun_tasks=["a"])
        assert refused.status_code == 400
        assert refused.json()["error_code"] == "INVALID_STATE"
        assert "still active" in refused.json()["message"]
        emulator.wait(run_id)
        assert jobs.repair(run_id=run_id, rerun_tasks=["a"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"rerun_tasks": ["a", "a"]}, "rerun_tasks cannot contain duplicate task keys"),
        ({"rerun_tasks": ["nope"]}, "'nope' is not a task of run"),
        ({"rerun_tasks": ["a"], "rerun_all_failed_tasks": True}, "Only one of rerun_tasks and rerun_all_failed_tasks"),
        ({}, "Give the tasks to repair in rerun_tasks"),
        ({"rerun_all_failed_tasks": True}, "has no failed tasks to repair"),
    ],
)
def test_bad_repair_requests_are_400(jobs: Jobs, body: dict[str, Any], message: str) -> None:
    run_id = jobs.submit(chain("a", "b"))
    answer = jobs.repair(run_id=run_id, **body)
    assert answer.status_code == 400
    assert message in answer.json()["message"]
    assert [h["type"] for h in jobs.get(run_id)["repair_history"]] == ["ORIGINAL"]


def test_a_task_that_had_retries_is_re_run_once(emu: Emulator, jobs: Jobs) -> None:
    emu.script("load", Outcome.fail("connection reset"))
    run_id = jobs.submit(chain("load", max_retries=2))
    assert [a[1:] for a in attempts(jobs.get(run_id))] == [(0, "FAILED"), (1, "FAILED"), (2, "FAILED")]
    emu.script("load", [Outcome.fail("x")] * 3 + [Outcome.fail("still"), Outcome.success()])
    assert jobs.repair(run_id=run_id, rerun_tasks=["load"]).status_code == 200
    run = jobs.get(run_id)
    # the repair gets its own retries: attempt 3 fails, attempt 4 (its first retry) succeeds
    assert [a[1:] for a in attempts(run)][3:] == [(3, "FAILED"), (4, "SUCCESS")]
    assert run["repair_history"][1]["task_run_ids"] == [run["tasks"][3]["run_id"]]


def test_without_dependents_only_the_named_tasks_run_again(emu: Emulator, jobs: Jobs) -> None:
    run_id = jobs.submit(chain("a", "b", "c"))
    assert jobs.repair(run_id=run_id, rerun_tasks=["b"], rerun_dependent_tasks=False).status_code == 200
    assert attempts(jobs.get(run_id)) == [
        ("a", 0, "SUCCESS"),
        ("b", 0, "SUCCESS"),
        ("b", 1, "SUCCESS"),
        ("c", 0, "SUCCESS"),
    ]
    repair_id = jobs.get(run_id)["repair_history"][-1]["id"]
    assert jobs.repair(run_id=run_id, rerun_tasks=["a"], rerun_dependent_tasks=True, latest_repair_id=repair_id)
    assert [key for key, number, _ in attempts(jobs.get(run_id)) if number > 0] == ["a", "b", "b", "c"]


def test_outcomes_scripted_per_attempt_fail_first_and_succeed_on_the_repair(emu: Emulator, jobs: Jobs) -> None:
    emu.script("flaky", [Outcome.fail("first attempt fails"), Outcome.success(result="second")])
    run_id = jobs.submit(chain("flaky"))
    assert jobs.get(run_id)["state"]["result_state"] == "FAILED"
    jobs.repair(run_id=run_id, rerun_all_failed_tasks=True)
    run = jobs.get(run_id)
    assert run["state"]["result_state"] == "SUCCESS"
    output = jobs.http.get(f"{jobs.base}/runs/get-output", params={"run_id": run["tasks"][-1]["run_id"]}).json()
    assert output["notebook_output"]["result"] == "second"


def test_repair_is_served_on_2_1_but_not_2_0(emu: Emulator) -> None:
    v21 = Jobs(emu, "2.1")
    run_id = v21.submit(chain("a"))
    assert v21.repair(run_id=run_id, rerun_tasks=["a"]).status_code == 200
    assert Jobs(emu, "2.0").repair(run_id=run_id, rerun_tasks=["a"]).status_code == 404


def test_runspec_handle_repair_follows_the_repaired_run_to_success(emu: Emulator) -> None:
    spec = Run("r").task(NotebookTask("/a"), key="a").task(NotebookTask("/b"), key="b", depends_on=["a"]).compile()
    emu.script("a", [Outcome.fail("transient"), Outcome.success()])
    handle = submit(spec, host=emu.url, token=TOKEN)
    with pytest.raises(RunFailed):
        handle.wait()
    handle.repair()
    assert handle.wait().state.result_state == "SUCCESS"
    assert emu.requests_to("runs/repair")[0].body == {
        "run_id": handle.run_id,
        "rerun_dependent_tasks": True,
        "rerun_all_failed_tasks": True,
    }


def test_a_workspace_that_refuses_to_repair_one_time_runs() -> None:
    with Emulator(token=TOKEN, repair_one_time_runs=False) as emulator:
        emulator.script("a", Outcome.fail("boom"))
        jobs = Jobs(emulator)
        run_id = jobs.submit(chain("a"))
        refused = jobs.repair(run_id=run_id, rerun_all_failed_tasks=True)
        assert refused.status_code == 400
        assert "SUBMIT_RUN" in refused.json()["message"]
        spec = Run("r").task(NotebookTask("/a"), key="a").compile()
        handle = submit(spec, host=emulator.url, token=TOKEN)
        with pytest.raises(RunFailed):
            handle.wait()
        with pytest.raises(ApiError) as caught:
            handle.repair()
        assert "does not repair one-time runs" in str(caught.value)
        assert "attempt" in str(caught.value)


def test_sdk_repair_run() -> None:
    sdk = pytest.importorskip("databricks.sdk")
    from databricks.sdk.service import jobs

    with Emulator(token=TOKEN) as emulator:
        emulator.script("a", [Outcome.fail("once"), Outcome.success()])
        w = sdk.WorkspaceClient(host=emulator.url, token=TOKEN)
        task = jobs.SubmitTask(task_key="a", notebook_task=jobs.NotebookTask(notebook_path="/a"))
        run_id = w.jobs.submit(run_name="sdk-repair", tasks=[task]).run_id
        assert w.jobs.get_run(run_id).state.result_state == jobs.RunResultState.FAILED
        repaired = w.jobs.repair_run(run_id, rerun_tasks=["a"]).result()
        assert repaired.state.result_state == jobs.RunResultState.SUCCESS
        history = w.jobs.get_run(run_id, include_history=True).repair_history
        assert [h.type for h in history] == [jobs.RepairHistoryItemType.ORIGINAL, jobs.RepairHistoryItemType.REPAIR]


# -- idempotency tokens of deleted runs ----------------------------------------------------------------


def test_a_token_whose_run_was_deleted_is_an_error_and_stays_reserved(jobs: Jobs) -> None:
    body = {**chain("a"), "idempotency_token": "orders-2026-12-01"}
    run_id = jobs.submit(body)
    assert jobs.submit(body) == run_id
    assert jobs.http.post(f"{jobs.base}/runs/delete", json={"run_id": run_id}).json() == {}
    for _ in range(2):
        again = jobs.http.post(f"{jobs.base}/runs/submit", json=body)
        assert again.status_code == 400
        assert again.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "was deleted" in again.json()["message"]
    fresh = jobs.http.post(f"{jobs.base}/runs/submit", json={**body, "idempotency_token": "orders-2026-12-01-b"})
    assert fresh.status_code == 200


def test_a_key_whose_run_was_deleted_tells_the_caller_the_way_out(emu: Emulator) -> None:
    spec = Run("keyed").task(NotebookTask("/a"), key="a").compile()
    handle = submit(spec, host=emu.url, token=TOKEN, key="orders/2026-12-01")
    handle.wait()
    requests.post(
        f"{emu.url}/api/2.2/jobs/runs/delete",
        json={"run_id": handle.run_id},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with pytest.raises(ApiError) as caught:
        submit(spec, host=emu.url, token=TOKEN, key="orders/2026-12-01")
    assert "was deleted" in str(caught.value) and "attempt=2" in str(caught.value)
    assert submit(spec, host=emu.url, token=TOKEN, key="orders/2026-12-01", attempt=2).run_id != handle.run_id
