"""Emulator run life cycle over HTTP: states, timings, idempotency, outputs, paging, list and delete."""

from __future__ import annotations

import time
from typing import Any

import pytest

from runspec.testing import Emulator, ManualClock, Outcome, Timing

try:
    from tests.emulator_support import TOKEN, Api, api, body, check_shape, emu, python_task, state_of, task
except ImportError:  # tests/ run as a plain directory
    from emulator_support import (  # type: ignore[no-redef,import-not-found]  # noqa: F401 - api and emu are fixtures
        TOKEN,
        Api,
        api,
        body,
        check_shape,
        emu,
        python_task,
        state_of,
        task,
    )


def states(run: dict[str, Any]) -> tuple[str, str]:
    return run["status"]["state"], run["state"]["life_cycle_state"]


def distinct(values: list[Any]) -> list[Any]:
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


def test_a_run_moves_through_the_documented_states() -> None:
    timing = Timing(queue=1.0, setup=1.0, duration=2.0, cleanup=0.5, run_cleanup=0.5)
    with Emulator(token=TOKEN, clock=ManualClock(), timing=timing) as slow:
        client = Api(slow)
        run_id = client.submit(body(task("only")))
        runs, tasks = [], []
        for _ in range(24):
            run = client.get(run_id)
            runs.append(states(run))
            tasks.append(states(run["tasks"][0]))
            slow.advance(0.25)
        client.close()
    lifecycle = ["QUEUED", "PENDING", "RUNNING", "TERMINATING", "TERMINATED"]
    assert distinct(runs) == [(s, s) for s in lifecycle]
    assert distinct(tasks) == [(s, s) for s in lifecycle]


def test_queued_run_reports_queue_details(emu: Emulator) -> None:
    with Emulator(token=TOKEN, clock=ManualClock(), timing=Timing(queue=5)) as queued:
        client = Api(queued)
        run = client.get(client.submit(body(task("a"))))
        client.close()
    assert run["status"]["queue_details"]["code"] == "ACTIVE_RUNS_LIMIT_REACHED"
    assert run["state"]["queue_reason"]


def test_terminated_run_has_both_status_and_legacy_state(emu: Emulator, api: Api) -> None:
    run_id = api.submit(body(task("a"), task("b", "a")))
    emu.wait(run_id)
    run = api.get(run_id)
    assert run["state"] == {
        "life_cycle_state": "TERMINATED",
        "result_state": "SUCCESS",
        "state_message": "",
        "user_cancelled_or_timedout": False,
    }
    assert run["status"] == {
        "state": "TERMINATED",
        "termination_details": {"code": "SUCCESS", "type": "SUCCESS", "message": ""},
    }
    assert run["run_type"] == "SUBMIT_RUN"
    assert run["trigger"] == "ONE_TIME"
    assert run["run_name"] == "emulator-test"
    assert run["run_page_url"].startswith(emu.url)
    assert str(run_id) in run["run_page_url"]
    ids = [t["run_id"] for t in run["tasks"]]
    assert len({*ids, run_id}) == 3
    for t in run["tasks"]:
        assert t["run_page_url"].endswith(f"/run/{t['run_id']}")
        assert t["end_time"] >= t["start_time"] > 0


def test_timestamps_and_durations_follow_the_clock(emu: Emulator, api: Api) -> None:
    emu.script("a", Outcome.success(seconds=10))
    start = emu.clock.now()
    run_id = api.submit(body(task("a"), task("b", "a")))
    run = emu.wait(run_id)
    assert run is not None
    a, b = run["tasks"]
    timing = Timing()
    assert a["start_time"] == round(start * 1000)
    assert a["setup_duration"] == round(timing.setup * 1000)
    assert a["execution_duration"] == 10_000
    assert a["cleanup_duration"] == round(timing.cleanup * 1000)
    assert b["start_time"] == a["end_time"]
    assert run["end_time"] == b["end_time"] + round(timing.run_cleanup * 1000)
    assert run["run_duration"] == run["end_time"] - run["start_time"]


def test_default_four_task_run_finishes_within_a_few_real_seconds() -> None:
    with Emulator(token=TOKEN) as real:
        client = Api(real)
        started = time.monotonic()
        run_id = client.submit(body(task("a"), task("b", "a"), task("c", "b"), task("d", "c")))
        while state_of(client.get(run_id)) not in ("SUCCESS", "FAILED"):
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        client.close()
    assert elapsed < 3.0


def test_speed_makes_scripted_durations_pass_faster() -> None:
    with Emulator(token=TOKEN, speed=100) as fast:
        fast.script("slow", Outcome.success(seconds=60))
        client = Api(fast)
        run_id = client.submit(body(task("slow")))
        started = time.monotonic()
        final = fast.wait(run_id, timeout=10)
        client.close()
    assert final is not None and state_of(final) == "SUCCESS"
    assert time.monotonic() - started < 3


def test_same_idempotency_token_returns_the_same_run_whatever_the_payload(api: Api) -> None:
    first = api.submit(body(task("a"), idempotency_token="tok-1"))
    again = api.submit(body(task("different"), idempotency_token="tok-1", run_name="other"))
    other = api.submit(body(task("a"), idempotency_token="tok-2"))
    no_token = {api.submit(body(task("a"))) for _ in range(2)}
    assert first == again
    assert other != first
    assert len(no_token) == 2
    assert api.get(first)["run_name"] == "emulator-test"


def test_deleted_run_token_is_an_error_from_then_on(emu: Emulator, api: Api) -> None:
    run_id = api.submit(body(task("a"), idempotency_token="kept"))
    emu.wait(run_id)
    assert api.ok("POST", "runs/delete", json={"run_id": run_id}) == {}
    response = api.call("POST", "runs/submit", json=body(task("a"), idempotency_token="kept"))
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "kept" in response.json()["message"]
    missing = api.call("GET", "runs/get", params={"run_id": run_id})
    assert missing.status_code == 400
    assert missing.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": f"Run {run_id} does not exist.",
    }


def test_active_runs_cannot_be_deleted(emu: Emulator, api: Api) -> None:
    run_id = api.submit(body(task("a")))
    response = api.call("POST", "runs/delete", json={"run_id": run_id})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_STATE"
    emu.wait(run_id)
    assert api.ok("POST", "runs/delete", json={"run_id": run_id}) == {}
    assert emu.run_ids() == []


def test_missing_run_answers_400_like_the_workspace(api: Api) -> None:
    for endpoint, method in (
        ("runs/get", "GET"),
        ("runs/get-output", "GET"),
        ("runs/cancel", "POST"),
        ("runs/delete", "POST"),
    ):
        kwargs: dict[str, Any] = {"params": {"run_id": 42}} if method == "GET" else {"json": {"run_id": 42}}
        response = api.call(method, endpoint, **kwargs)
        assert response.status_code == 400, endpoint
        assert response.json() == {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "Run 42 does not exist.",
        }


def test_bad_run_id_parameters(api: Api) -> None:
    assert api.call("GET", "runs/get").status_code == 400
    assert api.call("GET", "runs/get", params={"run_id": "x"}).status_code == 400
    assert api.call("POST", "runs/cancel", json={"run_id": "7"}).status_code == 400
    bad_json = api.call("POST", "runs/cancel", data=b"{not json", headers={})
    assert bad_json.status_code == 400
    assert bad_json.json()["error_code"] == "MALFORMED_REQUEST"


def test_get_output_of_notebook_and_python_tasks(emu: Emulator, api: Api) -> None:
    emu.script("nb", Outcome.success(result='{"rows": 3}'))
    emu.script("py", Outcome.success(logs="hello from python\n"))
    run_id = api.submit(body(task("nb"), python_task("py"), task("silent")))
    emu.wait(run_id)
    tasks = api.tasks(run_id)
    nb = api.output(tasks["nb"]["run_id"])
    assert nb["notebook_output"] == {"result": '{"rows": 3}', "truncated": False}
    assert nb["metadata"]["run_id"] == tasks["nb"]["run_id"]
    assert nb["metadata"]["job_run_id"] == run_id
    assert "logs" not in nb
    py = api.output(tasks["py"]["run_id"])
    assert py["logs"] == "hello from python\n"
    assert py["logs_truncated"] is False
    assert "notebook_output" not in py
    assert api.output(tasks["silent"]["run_id"])["notebook_output"] == {}


def test_get_output_of_a_failed_task_has_error_and_trace(emu: Emulator, api: Api) -> None:
    emu.script("bad", Outcome.fail("ZeroDivisionError: division by zero", trace="Traceback: ..."))
    run_id = api.submit(body(task("bad")))
    emu.wait(run_id)
    out = api.output(api.tasks(run_id)["bad"]["run_id"])
    assert out["error"] == "ZeroDivisionError: division by zero"
    assert out["error_trace"] == "Traceback: ..."


def test_get_output_needs_a_task_run_id_for_multi_task_runs(emu: Emulator, api: Api) -> None:
    run_id = api.submit(body(task("a"), task("b")))
    response = api.call("GET", "runs/get-output", params={"run_id": run_id})
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Retrieving the output of runs with multiple tasks is not supported. "
        "Please retrieve the output of each individual task run instead.",
    }
    emu.script("one", Outcome.success(result="done"))
    single = api.submit(body(task("one")))
    emu.wait(single)
    assert api.output(single)["notebook_output"]["result"] == "done"


def test_output_of_an_unfinished_task_has_only_metadata(api: Api) -> None:
    run_id = api.submit(body(task("a")))
    out = api.output(api.tasks(run_id)["a"]["run_id"])
    assert set(out) == {"metadata"}
    assert out["metadata"]["state"]["life_cycle_state"] == "PENDING"


def test_runs_get_pages_tasks_past_100(emu: Emulator, api: Api) -> None:
    keys = [f"t{i:03d}" for i in range(250)]
    run_id = api.submit(body(*(task(k) for k in keys)))
    emu.wait(run_id)
    pages = [api.get(run_id)]
    while "next_page_token" in pages[-1]:
        pages.append(api.get(run_id, page_token=pages[-1]["next_page_token"]))
    assert [len(p["tasks"]) for p in pages] == [100, 100, 50]
    assert [t["task_key"] for p in pages for t in p["tasks"]] == keys
    assert {p["run_id"] for p in pages} == {run_id}
    assert {p["state"]["result_state"] for p in pages} == {"SUCCESS"}
    bad = api.call("GET", "runs/get", params={"run_id": run_id, "page_token": "nope"})
    assert bad.status_code == 400


def test_api_21_paths_work_and_reject_more_than_100_tasks(api: Api) -> None:
    small = api.call("POST", "runs/submit", json=body(task("a")), version="2.1")
    assert small.status_code == 200
    run_id = small.json()["run_id"]
    assert api.call("GET", "runs/get", params={"run_id": run_id}, version="2.1").status_code == 200
    big = body(*(task(f"t{i}") for i in range(101)))
    response = api.call("POST", "runs/submit", json=big, version="2.1")
    assert response.status_code == 400
    assert response.json()["message"] == ("Resources with more than 100 tasks can only be handled by API 2.2 and above")
    assert api.call("POST", "runs/submit", json=big).status_code == 200


def test_runs_list_filters_and_pages(emu: Emulator, api: Api) -> None:
    emu.script("long", Outcome.success(seconds=100))
    done = [api.submit(body(task("a"), run_name=f"done-{i}")) for i in range(5)]
    emu.wait()
    active = [api.submit(body(task("long"), run_name=f"active-{i}")) for i in range(3)]
    everything = api.ok("GET", "runs/list", params={"limit": 24})
    check_shape("ListRunsResponse", everything)
    assert [r["run_id"] for r in everything["runs"]] == list(reversed(done + active))
    assert everything["has_more"] is False
    assert "tasks" not in everything["runs"][0]
    only_active = api.ok("GET", "runs/list", params={"active_only": "true"})
    assert [r["run_id"] for r in only_active["runs"]] == list(reversed(active))
    completed = api.ok("GET", "runs/list", params={"completed_only": "true", "run_type": "SUBMIT_RUN"})
    assert [r["run_id"] for r in completed["runs"]] == list(reversed(done))
    assert api.ok("GET", "runs/list", params={"run_type": "JOB_RUN"}) == {"has_more": False}
    first = api.ok("GET", "runs/list", params={"limit": 3})
    assert first["has_more"] is True
    second = api.ok("GET", "runs/list", params={"limit": 3, "page_token": first["next_page_token"]})
    third = api.ok("GET", "runs/list", params={"limit": 3, "page_token": second["next_page_token"]})
    paged = [r["run_id"] for page in (first, second, third) for r in page["runs"]]
    assert paged == list(reversed(done + active))
    assert third["has_more"] is False and "prev_page_token" in third
    expanded = api.ok("GET", "runs/list", params={"limit": 1, "expand_tasks": "true"})
    assert expanded["runs"][0]["tasks"][0]["task_key"] == "long"
    assert expanded["runs"][0]["has_more"] is False


@pytest.mark.parametrize(
    "params",
    [{"limit": 26}, {"limit": -1}, {"active_only": "true", "completed_only": "true"}, {"limit": "x"}],
)
def test_runs_list_rejects_bad_parameters(api: Api, params: dict[str, Any]) -> None:
    response = api.call("GET", "runs/list", params=params)
    assert response.status_code == 400
    check_shape("ErrorResponse", response.json())


def test_cancel_all_cancels_the_run_of_a_job(emu: Emulator, api: Api) -> None:
    emu.script("long", Outcome.hang())
    run_id = api.submit(body(task("long")))
    job_id = api.get(run_id)["job_id"]
    assert api.ok("POST", "runs/cancel-all", json={"job_id": job_id}) == {}
    final = emu.wait(run_id)
    assert final is not None and state_of(final) == "CANCELED"


def test_submit_response_is_only_the_run_id(api: Api) -> None:
    response = api.ok("POST", "runs/submit", json=body(task("a")))
    check_shape("SubmitRunResponse", response)
    assert set(response) == {"run_id"}


def test_wait_raises_when_a_run_can_never_end(emu: Emulator, api: Api) -> None:
    emu.script("stuck", Outcome.hang())
    run_id = api.submit(body(task("stuck")))
    with pytest.raises(TimeoutError):
        emu.wait(run_id, timeout=100)
    assert state_of(api.get(run_id)) == "RUNNING"


def test_emulator_run_view_matches_runs_get(emu: Emulator, api: Api) -> None:
    run_id = api.submit(body(task("a")))
    emu.wait(run_id)
    assert emu.run(run_id) == api.get(run_id)
    task_run = api.tasks(run_id)["a"]["run_id"]
    assert emu.run(task_run) == api.get(task_run)
