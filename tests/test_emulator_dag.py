"""DAG semantics in the emulator, through HTTP: run_if, conditions, for_each, retries, timeouts, cancel."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runspec.testing import Emulator, ManualClock, Outcome, TaskContext, Timing

try:
    from tests.emulator_support import Api, api, body, condition, emu, python_task, state_of, task
except ImportError:  # tests/ run as a plain directory
    from emulator_support import (  # type: ignore[no-redef,import-not-found]  # noqa: F401 - api and emu are fixtures
        Api,
        api,
        body,
        condition,
        emu,
        python_task,
        state_of,
        task,
    )

TIMING = Timing()


def finish(emu: Emulator, api: Api, *tasks: dict[str, Any], **top: Any) -> tuple[int, dict[str, Any]]:
    run_id = api.submit(body(*tasks, **top))
    emu.wait(run_id)
    return run_id, api.get(run_id)


def by_key(run: dict[str, Any]) -> dict[str, str]:
    return {t["task_key"]: state_of(t) for t in run["tasks"]}


# -- upstream failures and run results ------------------------------------------------------------


def test_a_failure_skips_everything_downstream(emu: Emulator, api: Api) -> None:
    emu.script("extract", Outcome.fail("source table missing"))
    _, run = finish(emu, api, task("extract"), task("transform", "extract"), task("load", "transform"))
    assert by_key(run) == {
        "extract": "FAILED",
        "transform": "UPSTREAM_FAILED",
        "load": "UPSTREAM_FAILED",
    }
    skipped = run["tasks"][1]
    assert skipped["state"]["life_cycle_state"] == "SKIPPED"
    assert skipped["status"]["termination_details"]["code"] == "SKIPPED"
    assert skipped["start_time"] == 0
    assert state_of(run) == "FAILED"
    assert run["status"]["termination_details"] == {
        "code": "RUN_EXECUTION_ERROR",
        "type": "CLIENT_ERROR",
        "message": "Task extract failed: source table missing",
    }
    assert run["state"]["state_message"] == "Task extract failed: source table missing"


def test_handled_failure_with_successful_leaves_is_success_with_failures(emu: Emulator, api: Api) -> None:
    emu.script("risky", Outcome.fail("flaky source"))
    _, run = finish(emu, api, task("risky"), task("cleanup", "risky", run_if="ALL_DONE"))
    assert by_key(run) == {"risky": "FAILED", "cleanup": "SUCCESS"}
    assert state_of(run) == "SUCCESS_WITH_FAILURES"
    assert run["status"]["termination_details"]["code"] == "SUCCESS_WITH_FAILURES"
    assert run["status"]["termination_details"]["type"] == "SUCCESS"


def test_internal_error_failures_show_in_the_legacy_life_cycle(emu: Emulator, api: Api) -> None:
    emu.script("a", Outcome.fail("driver lost", code="DRIVER_ERROR", type="INTERNAL_ERROR"))
    _, run = finish(emu, api, task("a"))
    assert run["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    assert run["tasks"][0]["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    assert run["status"]["termination_details"]["code"] == "DRIVER_ERROR"
    assert run["status"]["termination_details"]["type"] == "INTERNAL_ERROR"


# -- run_if -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run_if", "deps", "expected"),
    [
        ("ALL_SUCCESS", ("ok", "bad"), "UPSTREAM_FAILED"),
        ("ALL_SUCCESS", ("ok",), "SUCCESS"),
        ("AT_LEAST_ONE_SUCCESS", ("ok", "bad"), "SUCCESS"),
        ("AT_LEAST_ONE_SUCCESS", ("bad",), "UPSTREAM_FAILED"),
        ("NONE_FAILED", ("ok", "bad"), "UPSTREAM_FAILED"),
        ("NONE_FAILED", ("ok",), "SUCCESS"),
        ("ALL_DONE", ("ok", "bad"), "SUCCESS"),
        ("ALL_DONE", ("bad",), "SUCCESS"),
        ("AT_LEAST_ONE_FAILED", ("ok", "bad"), "SUCCESS"),
        ("AT_LEAST_ONE_FAILED", ("ok",), "EXCLUDED"),
        ("ALL_FAILED", ("bad",), "SUCCESS"),
        ("ALL_FAILED", ("ok", "bad"), "EXCLUDED"),
    ],
)
def test_run_if(emu: Emulator, api: Api, run_if: str, deps: tuple[str, ...], expected: str) -> None:
    emu.script("bad", Outcome.fail("boom"))
    _, run = finish(emu, api, task("ok"), task("bad"), task("then", *deps, run_if=run_if))
    assert by_key(run)["then"] == expected


def test_upstream_failure_propagates_as_a_failure_to_failure_handlers(emu: Emulator, api: Api) -> None:
    emu.script("a", Outcome.fail("boom"))
    _, run = finish(emu, api, task("a"), task("b", "a"), task("alert", "b", run_if="AT_LEAST_ONE_FAILED"))
    assert by_key(run) == {"a": "FAILED", "b": "UPSTREAM_FAILED", "alert": "SUCCESS"}


# -- condition tasks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "left", "right", "outcome"),
    [
        ("EQUAL_TO", "12.0", "12", "false"),
        ("EQUAL_TO", "prod", "prod", "true"),
        ("NOT_EQUAL", "12.0", "12", "true"),
        ("NOT_EQUAL", "a", "a", "false"),
        ("GREATER_THAN_OR_EQUAL", "12.0", "12", "true"),
        ("GREATER_THAN_OR_EQUAL", "10.0", "12", "false"),
        ("GREATER_THAN", "3", "2.5", "true"),
        ("GREATER_THAN", "2", "2", "false"),
        ("LESS_THAN", "-1", "0", "true"),
        ("LESS_THAN", "1e3", "999", "false"),
        ("LESS_THAN_OR_EQUAL", "2", "2.0", "true"),
        ("LESS_THAN_OR_EQUAL", "2.1", "2", "false"),
    ],
)
def test_condition_ops(emu: Emulator, api: Api, op: str, left: str, right: str, outcome: str) -> None:
    _, run = finish(emu, api, condition("check", op, left, right))
    check = run["tasks"][0]
    assert state_of(check) == "SUCCESS"
    assert check["condition_task"] == {"op": op, "left": left, "right": right, "outcome": outcome}


def test_condition_runs_one_branch_and_excludes_the_other(emu: Emulator, api: Api) -> None:
    _, run = finish(
        emu,
        api,
        condition("is_prod", "EQUAL_TO", "prod", "prod"),
        task("deploy", ("is_prod", "true")),
        task("notify", "deploy"),
        task("dry_run", ("is_prod", "false")),
        task("report", "dry_run"),
        task("join", "notify", "report"),
    )
    assert by_key(run) == {
        "is_prod": "SUCCESS",
        "deploy": "SUCCESS",
        "notify": "SUCCESS",
        "dry_run": "EXCLUDED",
        "report": "EXCLUDED",
        "join": "SUCCESS",
    }
    excluded = run["tasks"][3]
    assert excluded["state"]["life_cycle_state"] == "SKIPPED"
    assert excluded["status"]["termination_details"]["type"] == "SUCCESS"
    assert state_of(run) == "SUCCESS"


def test_condition_reads_task_values(emu: Emulator, api: Api) -> None:
    emu.script("count", Outcome.success(values={"rows": 42}))
    _, run = finish(
        emu,
        api,
        task("count"),
        condition("many", "GREATER_THAN", "{{tasks.count.values.rows}}", "10", "count"),
        task("big", ("many", "true")),
        task("small", ("many", "false")),
    )
    assert by_key(run)["big"] == "SUCCESS"
    assert by_key(run)["small"] == "EXCLUDED"


def test_condition_that_cannot_compare_fails(emu: Emulator, api: Api) -> None:
    _, run = finish(
        emu,
        api,
        condition("check", "GREATER_THAN", "abc", "1"),
        task("yes", ("check", "true")),
    )
    assert by_key(run) == {"check": "FAILED", "yes": "UPSTREAM_FAILED"}
    assert "abc" in run["tasks"][0]["state"]["state_message"]


# -- disabled tasks -------------------------------------------------------------------------------


def test_disabled_tasks_and_their_dependents(emu: Emulator, api: Api) -> None:
    _, run = finish(
        emu,
        api,
        task("off", disabled=True),
        task("needs_off", "off"),
        task("after_off", "off", run_if="ALL_DONE"),
    )
    assert by_key(run) == {"off": "DISABLED", "needs_off": "DISABLED", "after_off": "SUCCESS"}
    off = run["tasks"][0]
    assert off["state"]["life_cycle_state"] == "SKIPPED"
    assert off["status"]["termination_details"]["code"] == "DISABLED"
    assert state_of(run) == "SUCCESS"


# -- retries --------------------------------------------------------------------------------------


def test_retries_show_every_attempt_with_its_own_run_id(emu: Emulator, api: Api) -> None:
    emu.script("flaky", [Outcome.fail("first"), Outcome.fail("second"), Outcome.success()])
    run_id = api.submit(body(task("flaky", max_retries=3, min_retry_interval_millis=5000)))
    emu.advance(TIMING.setup + TIMING.duration + TIMING.cleanup)
    waiting = api.get(run_id)["tasks"]
    assert [state_of(t) for t in waiting] == ["FAILED", "WAITING_FOR_RETRY"]
    assert waiting[1]["status"] == {"state": "WAITING"}
    assert state_of(api.get(run_id)) == "RUNNING"
    emu.wait(run_id)
    run = api.get(run_id)
    attempts = run["tasks"]
    assert [t["task_key"] for t in attempts] == ["flaky"] * 3
    assert [t["attempt_number"] for t in attempts] == [0, 1, 2]
    assert [state_of(t) for t in attempts] == ["FAILED", "FAILED", "SUCCESS"]
    assert len({t["run_id"] for t in attempts}) == 3
    assert attempts[1]["start_time"] - attempts[0]["start_time"] == 5000
    assert attempts[1]["state"]["state_message"] == "second"
    assert state_of(run) == "SUCCESS"


def test_retries_run_out(emu: Emulator, api: Api) -> None:
    emu.script("broken", Outcome.fail("always"))
    _, run = finish(emu, api, task("broken", max_retries=2), task("next", "broken"))
    assert [state_of(t) for t in run["tasks"]] == ["FAILED"] * 3 + ["UPSTREAM_FAILED"]
    assert state_of(run) == "FAILED"


def test_unlimited_retries_until_success(emu: Emulator, api: Api) -> None:
    emu.script("flaky", [Outcome.fail("no")] * 4 + [Outcome.success()])
    _, run = finish(emu, api, task("flaky", max_retries=-1))
    assert [t["attempt_number"] for t in run["tasks"]] == [0, 1, 2, 3, 4]
    assert state_of(run) == "SUCCESS"


def test_script_callable_sees_the_attempt(emu: Emulator, api: Api) -> None:
    seen: list[TaskContext] = []

    def script(ctx: TaskContext) -> Outcome:
        seen.append(ctx)
        return Outcome.fail("again") if ctx.attempt_number == 0 else Outcome.success(result="ok")

    emu.script("a", script)
    run_id, run = finish(emu, api, task("a", max_retries=1))
    assert [c.attempt_number for c in seen] == [0, 1]
    assert {c.run_id for c in seen} == {run_id}
    assert [c.task_run_id for c in seen] == [t["run_id"] for t in run["tasks"]]
    assert seen[0].task["notebook_task"] == {"notebook_path": "/Workspace/tests/a"}


def test_a_script_that_raises_fails_its_task_visibly(emu: Emulator, api: Api) -> None:
    def broken(ctx: TaskContext) -> Outcome:
        raise KeyError("oops")

    emu.script("a", broken)
    _, run = finish(emu, api, task("a"))
    message = run["tasks"][0]["state"]["state_message"]
    assert "KeyError" in message and "'a'" in message


# -- timeouts -------------------------------------------------------------------------------------


def test_task_timeout(emu: Emulator, api: Api) -> None:
    emu.script("slow", Outcome.success(seconds=100))
    _, run = finish(emu, api, task("slow", timeout_seconds=10), task("after", "slow"))
    slow = run["tasks"][0]
    assert state_of(slow) == "TIMEDOUT"
    assert slow["state"]["user_cancelled_or_timedout"] is True
    assert slow["status"]["termination_details"]["code"] == "CANCELED"
    assert slow["setup_duration"] + slow["execution_duration"] == 10_000
    assert by_key(run)["after"] == "UPSTREAM_FAILED"
    assert state_of(run) == "FAILED"


@pytest.mark.parametrize(("retry_on_timeout", "attempts"), [(True, 2), (False, 1)])
def test_retry_on_timeout(emu: Emulator, api: Api, retry_on_timeout: bool, attempts: int) -> None:
    emu.script("slow", [Outcome.success(seconds=100), Outcome.success(seconds=1)])
    _, run = finish(
        emu,
        api,
        task("slow", timeout_seconds=10, max_retries=1, retry_on_timeout=retry_on_timeout),
    )
    assert len(run["tasks"]) == attempts
    assert state_of(run) == ("SUCCESS" if retry_on_timeout else "FAILED")


def test_run_timeout_stops_everything(emu: Emulator, api: Api) -> None:
    emu.script("long", Outcome.hang())
    run_id = api.submit(body(task("long"), task("after", "long"), timeout_seconds=30))
    emu.advance(31)
    terminating = api.get(run_id)
    assert terminating["status"]["state"] in ("TERMINATING", "TERMINATED")
    emu.wait(run_id)
    run = api.get(run_id)
    assert state_of(run) == "TIMEDOUT"
    assert run["state"]["user_cancelled_or_timedout"] is True
    assert run["status"]["termination_details"]["code"] == "CANCELED"
    assert by_key(run) == {"long": "TIMEDOUT", "after": "UPSTREAM_CANCELED"}
    assert run["tasks"][0]["end_time"] - run["tasks"][0]["start_time"] == round((30 + TIMING.cleanup) * 1000)


# -- cancellation ---------------------------------------------------------------------------------


def test_cancel_a_run(emu: Emulator, api: Api) -> None:
    emu.script("long", Outcome.hang())
    run_id = api.submit(body(task("long"), task("other"), task("after", "long", "other")))
    emu.advance(1)
    api.cancel(run_id)
    run = api.get(run_id)
    assert run["status"]["state"] == "TERMINATING"
    assert run["status"]["termination_details"]["code"] == "USER_CANCELED"
    assert "result_state" not in run["state"]
    emu.wait(run_id)
    run = api.get(run_id)
    assert state_of(run) == "CANCELED"
    assert run["state"]["user_cancelled_or_timedout"] is True
    assert by_key(run) == {"long": "CANCELED", "other": "SUCCESS", "after": "UPSTREAM_CANCELED"}
    api.cancel(run_id)  # cancelling a finished run changes nothing
    assert api.get(run_id) == run


def test_cancel_one_task_run(emu: Emulator, api: Api) -> None:
    emu.script("long", Outcome.hang())
    run_id = api.submit(body(task("long"), task("needs", "long"), task("cleanup", "long", run_if="ALL_DONE")))
    long_run = api.tasks(run_id)["long"]["run_id"]
    api.cancel(long_run)
    emu.wait(run_id)
    run = api.get(run_id)
    assert by_key(run) == {"long": "CANCELED", "needs": "UPSTREAM_CANCELED", "cleanup": "SUCCESS"}
    assert state_of(run) == "CANCELED"


# -- for_each -------------------------------------------------------------------------------------


def loop(key: str, inputs: Any, *deps: str, concurrency: int = 1, **nested: Any) -> dict[str, Any]:
    inner = {
        "task_key": f"{key}_item",
        "notebook_task": {"notebook_path": "/Workspace/tests/item", "base_parameters": {"x": "{{input}}"}},
        **nested,
    }
    text = inputs if isinstance(inputs, str) else json.dumps(inputs)
    return task(key, *deps, for_each_task={"inputs": text, "concurrency": concurrency, "task": inner})


def test_for_each_iterates_its_inputs_with_its_concurrency(emu: Emulator, api: Api) -> None:
    emu.script("fan_item", lambda ctx: Outcome.success(result=f"done {ctx.input}"))
    run_id = api.submit(body(loop("fan", ["a", "b", "c", "d", "e"], concurrency=2), task("after", "fan")))
    fan_run = api.tasks(run_id)["fan"]["run_id"]
    most_active = 0
    while state_of(api.get(run_id)) not in ("SUCCESS", "FAILED"):
        fan = api.get(fan_run)
        active = [i for i in fan["iterations"] if i["state"]["life_cycle_state"] in ("PENDING", "RUNNING")]
        most_active = max(most_active, len(active))
        emu.advance(0.05)
    assert most_active == 2
    fan = api.get(fan_run)
    assert fan["job_run_id"] == run_id
    assert [t["task_key"] for t in fan["tasks"]] == ["fan"]
    iterations = fan["iterations"]
    assert [i["task_key"] for i in iterations] == ["fan_item"] * 5
    assert [i["notebook_task"]["base_parameters"]["x"] for i in iterations] == list("abcde")
    assert [state_of(i) for i in iterations] == ["SUCCESS"] * 5
    assert api.output(iterations[2]["run_id"])["notebook_output"]["result"] == "done c"
    stats = api.tasks(run_id)["fan"]["for_each_task"]["stats"]["task_run_stats"]
    assert stats == {
        "total_iterations": 5,
        "scheduled_iterations": 5,
        "active_iterations": 0,
        "completed_iterations": 5,
        "succeeded_iterations": 5,
        "failed_iterations": 0,
    }
    assert by_key(api.get(run_id)) == {"fan": "SUCCESS", "after": "SUCCESS"}


def test_a_failed_iteration_fails_the_for_each_task(emu: Emulator, api: Api) -> None:
    emu.script(
        "fan_item",
        lambda ctx: Outcome.fail(f"bad input {ctx.input}") if ctx.input == 3 else Outcome.success(),
    )
    _, run = finish(emu, api, loop("fan", [1, 2, 3, 4], concurrency=4), task("after", "fan"))
    assert by_key(run) == {"fan": "FAILED", "after": "UPSTREAM_FAILED"}
    fan = run["tasks"][0]
    stats = fan["for_each_task"]["stats"]
    assert stats["task_run_stats"]["failed_iterations"] == 1
    assert stats["task_run_stats"]["succeeded_iterations"] == 3
    assert stats["error_message_stats"][0]["error_message"] == "bad input 3"
    assert "bad input 3" in fan["state"]["state_message"]


def test_for_each_inputs_from_a_task_value_and_empty_inputs(emu: Emulator, api: Api) -> None:
    emu.script("list", Outcome.success(values={"items": [10, 20, 30]}))
    _, run = finish(
        emu,
        api,
        task("list"),
        loop("fan", "{{tasks.list.values.items}}", "list", concurrency=3),
        loop("none", [], concurrency=3),
    )
    fan = run["tasks"][1]["for_each_task"]["stats"]["task_run_stats"]
    assert fan["total_iterations"] == 3 and fan["succeeded_iterations"] == 3
    assert by_key(run)["none"] == "SUCCESS"


def test_for_each_iteration_retries(emu: Emulator, api: Api) -> None:
    emu.script("fan_item", [Outcome.fail("first try"), Outcome.success()])
    _, run = finish(emu, api, loop("fan", ["x", "y"], max_retries=1))
    iterations = api.get(run["tasks"][0]["run_id"])["iterations"]
    assert [(state_of(i), i["attempt_number"]) for i in iterations] == [
        ("FAILED", 0),
        ("SUCCESS", 1),
        ("FAILED", 0),
        ("SUCCESS", 1),
    ]
    assert state_of(run) == "SUCCESS"


def test_for_each_iterations_are_paged(emu: Emulator, api: Api) -> None:
    _, run = finish(emu, api, loop("fan", list(range(150)), concurrency=100))
    fan_run = run["tasks"][0]["run_id"]
    first = api.get(fan_run)
    second = api.get(fan_run, page_token=first["next_page_token"])
    assert len(first["iterations"]) == 100 and len(second["iterations"]) == 50
    assert "next_page_token" not in second
    inputs = [i["notebook_task"]["base_parameters"]["x"] for i in first["iterations"] + second["iterations"]]
    assert inputs == [str(n) for n in range(150)]


def test_cancel_a_for_each_task(emu: Emulator, api: Api) -> None:
    emu.script("fan_item", Outcome.hang())
    run_id = api.submit(body(loop("fan", [1, 2, 3], concurrency=2)))
    emu.advance(1)
    api.cancel(run_id)
    emu.wait(run_id)
    run = api.get(run_id)
    iterations = api.get(run["tasks"][0]["run_id"])["iterations"]
    assert [state_of(i) for i in iterations] == ["CANCELED", "CANCELED"]
    assert by_key(run) == {"fan": "CANCELED"}
    assert state_of(run) == "CANCELED"


def test_for_each_timeout_cuts_its_iterations(emu: Emulator, api: Api) -> None:
    emu.script("fan_item", Outcome.hang())
    _, run = finish(
        emu, api, loop("fan", [1, 2], concurrency=2, max_retries=3, retry_on_timeout=True) | {"timeout_seconds": 5}
    )
    fan = run["tasks"][0]
    assert state_of(fan) == "TIMEDOUT"
    iterations = api.get(fan["run_id"])["iterations"]
    assert [state_of(i) for i in iterations] == ["TIMEDOUT", "TIMEDOUT"]


def test_bad_for_each_inputs(emu: Emulator, api: Api) -> None:
    static = api.call("POST", "runs/submit", json=body(loop("fan", '{"not": "a list"}')))
    assert static.status_code == 400
    violation = static.json()["details"][0]["field_violations"][0]
    assert violation["field"] == "$.tasks[0].for_each_task.inputs"
    emu.script("src", Outcome.success(values={"items": "not a list"}))
    _, run = finish(emu, api, task("src"), loop("fan", "{{tasks.src.values.items}}", "src"))
    assert by_key(run) == {"src": "SUCCESS", "fan": "FAILED"}
    assert "not a JSON array" in run["tasks"][1]["state"]["state_message"]


def test_python_task_on_a_cluster_reports_its_cluster(emu: Emulator, api: Api) -> None:
    _, run = finish(emu, api, python_task("py"))
    assert run["tasks"][0]["cluster_instance"]["cluster_id"] == "0101-000000-tests"


def test_cancel_a_queued_run() -> None:
    with Emulator(token="t", clock=ManualClock(), timing=Timing(queue=60)) as queued:
        client = Api(queued, token="t")
        run_id = client.submit(body(task("a"), task("b", "a")))
        client.cancel(run_id)
        final = queued.wait(run_id)
        client.close()
    assert final is not None and state_of(final) == "CANCELED"
    assert by_key(final) == {"a": "CANCELED", "b": "UPSTREAM_CANCELED"}


def test_cancel_a_blocked_task_run(emu: Emulator, api: Api) -> None:
    run_id = api.submit(body(task("a"), task("b", "a"), task("c", "b", run_if="ALL_DONE")))
    api.cancel(api.tasks(run_id)["b"]["run_id"])
    emu.wait(run_id)
    assert by_key(api.get(run_id)) == {"a": "SUCCESS", "b": "CANCELED", "c": "SUCCESS"}


def test_cancel_deep_into_a_long_chain(emu: Emulator, api: Api) -> None:
    emu.script("t0", Outcome.hang())
    chain = [task("t0")] + [task(f"t{i}", f"t{i - 1}") for i in range(1, 1000)]
    run_id = api.submit(body(*chain))
    api.cancel(run_id)
    final = emu.wait(run_id)
    assert final is not None and state_of(final) == "CANCELED"
    assert set(by_key(final).values()) == {"CANCELED", "UPSTREAM_CANCELED"}
