"""outputs(), output(), get() views and attach(): task run ids resolved, for-each iterations named."""

from __future__ import annotations

from typing import Any

import pytest

from runspec import NotFound, RunHandle, submit
from runspec.client import OutputView, RunView
from runspec.testing import Emulator, ManualClock, Outcome

try:
    from tests.support import Tap
except ImportError:  # tests/ run as a plain directory
    from support import Tap  # type: ignore[no-redef]

TOKEN = "dapi-outputs-secret-token"


def notebook(key: str, **task: Any) -> dict[str, Any]:
    return {"task_key": key, "notebook_task": {"notebook_path": f"/Workspace/{key}"}, **task}


def script(key: str, **task: Any) -> dict[str, Any]:
    return {
        "task_key": key,
        "spark_python_task": {"python_file": f"dbfs:/{key}.py"},
        "existing_cluster_id": "0101-abcdef",
        **task,
    }


def send(host: str, *tasks: dict[str, Any], **options: Any) -> RunHandle:
    return submit({"run_name": "outputs", "tasks": list(tasks)}, host, TOKEN, **options)


def task_runs(emulator: Emulator, run_id: int) -> dict[str, int]:
    return {t["task_key"]: t["run_id"] for t in emulator.run(run_id)["tasks"]}


def output_runs(emulator: Emulator) -> list[int]:
    return [int(r.query["run_id"]) for r in emulator.requests_to("runs/get-output")]


def test_outputs_of_a_multi_task_run(host: str, emulator: Emulator, tap: Tap) -> None:
    emulator.script("ingest", Outcome.success(result="42 rows"))
    emulator.script("score", Outcome.success(logs="scored\n"))
    emulator.script("publish", Outcome.fail("boom", trace="Traceback\nboom"))
    # Logs are cut to their last 5 MB only when the task's own code ran: the score's answer says so here.
    tap.change("runs/get-output", lambda output: "logs" in output and output.update(logs_truncated=True), times=3)
    handle = send(host, notebook("ingest"), script("score"), notebook("publish"))
    ids = task_runs(emulator, handle.run_id)
    outputs = handle.outputs()
    assert list(outputs) == ["ingest", "score", "publish"]
    assert all(isinstance(o, OutputView) for o in outputs.values())
    assert outputs["ingest"].notebook_result == "42 rows"
    assert outputs["ingest"].notebook_truncated is False
    assert outputs["ingest"].run_id == ids["ingest"]
    assert outputs["score"].logs == "scored\n" and outputs["score"].logs_truncated
    assert (outputs["publish"].error, outputs["publish"].error_trace) == ("boom", "Traceback\nboom")
    assert outputs["publish"].raw["error"] == "boom" and outputs["publish"].raw["metadata"]["run_id"] == ids["publish"]
    assert outputs["publish"].task_key == "publish"
    assert output_runs(emulator) == [ids["ingest"], ids["score"], ids["publish"]]
    assert handle.run_id not in output_runs(emulator)


def test_outputs_of_for_each_iterations(host: str, emulator: Emulator) -> None:
    emulator.script("loop_iteration", lambda ctx: Outcome.success(result=f"item {ctx.input}"))
    loop = {
        "task_key": "loop",
        "depends_on": [{"task_key": "prepare"}],
        "for_each_task": {
            "inputs": str(list(range(130))),
            "concurrency": 100,
            "task": notebook(
                "loop_iteration", notebook_task={"notebook_path": "/item", "base_parameters": {"i": "{{input}}"}}
            ),
        },
    }
    handle = send(host, notebook("prepare"), loop)
    loop_run = task_runs(emulator, handle.run_id)["loop"]
    outputs = handle.outputs()
    assert list(outputs)[:3] == ["prepare", "loop[0]", "loop[1]"]
    assert len(outputs) == 131
    assert outputs["loop[129]"].notebook_result == "item 129"
    asked = set(output_runs(emulator))
    assert handle.run_id not in asked and loop_run not in asked
    # The for-each task's own run was read page by page.
    pages = [r.query.get("page_token") for r in emulator.requests_to("runs/get") if r.query["run_id"] == str(loop_run)]
    assert len(pages) == 2 and pages[0] is None and pages[1] is not None
    assert handle.output("loop[7]").notebook_result == "item 7"
    with pytest.raises(KeyError, match="loop\\[999\\]"):
        handle.output("loop[999]")


def test_latest_attempt_of_a_retried_task(host: str, emulator: Emulator) -> None:
    emulator.script("flaky", [Outcome.fail("connection reset"), Outcome.success(result="second time lucky")])
    handle = send(host, notebook("flaky", max_retries=1))
    first, second = (t["run_id"] for t in emulator.run(handle.run_id)["tasks"])
    run = handle.get()
    assert [t.run_id for t in run.tasks] == [second]
    assert [t.run_id for t in run.all_attempts] == [first, second]
    assert handle.outputs()["flaky"].notebook_result == "second time lucky"


def test_single_output_and_unknown_task() -> None:
    clock = ManualClock()
    emulator = Emulator(token=None, clock=clock)
    emulator.script("a", Outcome.success(seconds=1, result="A"))
    emulator.script("b", Outcome.hang())
    handle = send(
        emulator.transport().host,
        notebook("a"),
        notebook("b", depends_on=[{"task_key": "a"}]),
        transport=emulator.transport(),
    )
    clock.advance(5)  # a has ended, b runs on
    assert handle.get().state.state == "RUNNING"
    assert handle.output("a").notebook_result == "A"
    with pytest.raises(KeyError, match="tasks: a, b"):
        handle.output("c")


def test_legacy_single_task_run_uses_its_own_id(host: str, emulator: Emulator, tap: Tap) -> None:
    # A run of Jobs API 2.0's single-task form, read by a client that gets no task list for it.
    emulator.script("old", Outcome.success(result="legacy"))
    handle = submit({"run_name": "old", "notebook_task": {"notebook_path": "/Workspace/old"}}, host, TOKEN)
    tap.change("runs/get", lambda run: run.pop("tasks"))
    outputs = handle.outputs()
    assert list(outputs) == ["old"]
    assert outputs["old"].notebook_result == "legacy"
    assert output_runs(emulator) == [handle.run_id]


def test_get_returns_a_typed_read_only_view() -> None:
    clock = ManualClock(start=1_700_000_000.0)
    emulator = Emulator(token=None, clock=clock)
    emulator.script("a", Outcome.success(seconds=60))
    emulator.script("b", Outcome.hang())
    spec = {"run_name": "view", "tasks": [notebook("a"), notebook("b", depends_on=[{"task_key": "a"}])]}
    handle = submit(spec, token=TOKEN, transport=emulator.transport())
    clock.advance(120)
    run = handle.get()
    assert isinstance(run, RunView)
    assert (run.run_id, run.run_name, run.state.state) == (handle.run_id, "view", "RUNNING")
    assert not run.state.finished
    task = run.task("a")
    shown = emulator.run(handle.run_id)["tasks"][0]
    assert (task.task_key, task.run_id, task.run_duration) == ("a", shown["run_id"], shown["run_duration"])
    assert task.run_duration is not None and task.run_duration >= 60_000
    assert (task.start_time, task.end_time) == (shown["start_time"], shown["end_time"])
    assert task.state.succeeded()
    assert run.raw["run_id"] == handle.run_id
    with pytest.raises(AttributeError):
        run.run_id = 3  # type: ignore[misc]
    assert repr(run) == f"RunView(run_id={handle.run_id}, run_name='view', state='RUNNING', tasks=2)"
    assert task.describe() == "a: TERMINATED SUCCESS"


def test_attach_uses_environment(host: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = send(host, notebook("a")).run_id
    monkeypatch.setenv("DATABRICKS_HOST", host)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    emulator.clear_requests()
    attached = RunHandle.attach(run_id)
    assert (attached.run_id, attached.host, attached.idempotency_token) == (run_id, host, None)
    assert attached.get().run_id == run_id
    assert emulator.requests_to("runs/get")[0].query == {"run_id": str(run_id)}
    attached.cancel()
    assert emulator.requests_to("runs/cancel")[0].body == {"run_id": run_id}
    attached.close()


def test_attach_to_a_missing_run(host: str) -> None:
    with RunHandle.attach(4040, host, TOKEN) as handle, pytest.raises(NotFound):
        handle.get()
