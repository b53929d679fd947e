"""The emulator enforces a workspace's budgets when asked (``Emulator(limits=Limits(...))``), as the service answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from runspec.testing import Emulator, Limits, ManualClock

TOKEN = "limits-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def body(name: str, *, tasks: int = 1, queue: bool | None = None, token: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_name": name,
        "tasks": [
            {"task_key": f"t{i}", "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"}
            for i in range(tasks)
        ],
    }
    if queue is not None:
        out["queue"] = {"enabled": queue}
    if token is not None:
        out["idempotency_token"] = token
    return out


def submit(emu: Emulator, payload: dict[str, Any]) -> requests.Response:
    return requests.post(f"{emu.url}/api/2.2/jobs/runs/submit", json=payload, headers=HEADERS, timeout=10)


def state(emu: Emulator, run_id: int) -> str:
    answer = requests.get(f"{emu.url}/api/2.2/jobs/runs/get", params={"run_id": run_id}, headers=HEADERS, timeout=10)
    return str(answer.json()["status"]["state"])


@pytest.fixture
def manual() -> Iterator[Emulator]:
    with Emulator(token=TOKEN, clock=ManualClock(), stall_after=None, limits=Limits(max_active_tasks=3)) as emu:
        yield emu


def test_a_run_past_the_active_task_limit_gets_429_and_a_queued_one_waits(manual: Emulator) -> None:
    first = submit(manual, body("two", tasks=2)).json()["run_id"]
    refused = submit(manual, body("two more", tasks=2))
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "RESOURCE_EXHAUSTED"
    assert "2 of the workspace's 3 concurrent task runs" in refused.json()["message"]
    assert "queue.enabled" in refused.json()["message"]
    fits = submit(manual, body("one", tasks=1))
    assert fits.status_code == 200
    queued = submit(manual, body("queued", tasks=2, queue=True))
    assert queued.status_code == 200
    waiting = queued.json()["run_id"]
    assert state(manual, waiting) == "QUEUED"
    manual.wait(first)
    manual.wait(fits.json()["run_id"])
    assert state(manual, waiting) in ("PENDING", "RUNNING")
    assert manual.wait(waiting)["state"]["result_state"] == "SUCCESS"  # type: ignore[index]


def test_the_hourly_limit_answers_invalid_state_and_the_hour_rolls() -> None:
    clock = ManualClock()
    with Emulator(token=TOKEN, clock=clock, limits=Limits(runs_per_hour=2)) as emu:
        assert submit(emu, body("a", token="tok-a")).status_code == 200
        clock.advance(1800)
        assert submit(emu, body("b")).status_code == 200
        refused = submit(emu, body("c"))
        assert refused.status_code == 400
        assert refused.json() == {
            "error_code": "INVALID_STATE",
            "message": "There were already 2 jobs created in past 3600 seconds, exceeding rate limit: "
            "2 job creations per 3600 seconds",
        }
        again = submit(emu, body("a", token="tok-a"))  # an existing run's token creates nothing
        assert again.status_code == 200
        clock.advance(1801)
        assert submit(emu, body("c")).status_code == 200


def test_past_the_request_rate_the_answer_is_429_with_retry_after() -> None:
    with Emulator(token=TOKEN, limits=Limits(requests_per_second=2)) as emu:
        session = requests.Session()
        answers = [session.get(f"{emu.url}/api/2.2/jobs/runs/list", headers=HEADERS, timeout=10) for _ in range(6)]
        throttled = [a for a in answers if a.status_code == 429]
        assert throttled, [a.status_code for a in answers]
        assert throttled[0].json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
        assert throttled[0].headers["Retry-After"] == "1"
        assert [r.status for r in emu.requests_to("runs/list")].count(429) == len(throttled)


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_active_tasks"):
        Limits(max_active_tasks=0)
    with pytest.raises(ValueError, match="requests_per_second"):
        Limits(requests_per_second=-1)


def test_the_official_sdk_meets_the_same_answers() -> None:
    sdk = pytest.importorskip("databricks.sdk")
    from databricks.sdk import errors as sdk_errors
    from databricks.sdk.service import jobs

    task = jobs.SubmitTask(task_key="t", notebook_task=jobs.NotebookTask(notebook_path="/x"), existing_cluster_id="c")
    clock = ManualClock()
    limits = Limits(max_active_tasks=1, runs_per_hour=2)  # (the SDK retries a 429 until its timeout: not shown)
    with Emulator(token=TOKEN, clock=clock, stall_after=None, limits=limits) as emu:
        w = sdk.WorkspaceClient(host=emu.url, token=TOKEN)
        w.jobs.submit(run_name="one", tasks=[task])
        queued = w.jobs.submit(run_name="queued", tasks=[task], queue=jobs.QueueSettings(enabled=True))
        assert w.jobs.get_run(queued.run_id).status.state == jobs.RunLifecycleStateV2State.QUEUED
        with pytest.raises(sdk_errors.InvalidState, match="exceeding rate limit"):
            w.jobs.submit(run_name="three", tasks=[task])
    assert [r.status for r in emu.requests_to("runs/submit")] == [200, 200, 400]


def test_the_emulator_command_takes_the_same_limits() -> None:
    from runspec.cli._main import build_parser

    args = build_parser().parse_args(
        ["emulator", "--max-active-tasks", "20", "--runs-per-hour", "500", "--requests-per-second", "7.5"]
    )
    assert (args.max_active_tasks, args.runs_per_hour, args.requests_per_second) == (20, 500, 7.5)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["emulator", "--max-active-tasks", "0"])
