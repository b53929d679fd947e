"""outputs(), output(), get() views and attach(): task run ids resolved, for-each iterations named."""

from __future__ import annotations

from typing import Any

import pytest

from runspec import NotFound, RunHandle
from runspec.client import OutputView, RunView

try:
    from tests.support import FakeWorkspace, run_json, task_json
except ImportError:  # tests/ run as a plain directory
    from support import (  # type: ignore[no-redef]
        FakeWorkspace,
        run_json,
        task_json,
    )

TOKEN = "dapi-outputs-secret-token"
RUN = 55


@pytest.fixture
def handle(ws: FakeWorkspace) -> Any:
    h = RunHandle.attach(RUN, ws.url, TOKEN)
    yield h
    h.close()


def done(key: str, run_id: int, **extra: Any) -> dict[str, Any]:
    return task_json(key, run_id, "TERMINATED", code="SUCCESS", kind="SUCCESS", **extra)


def test_outputs_of_a_multi_task_run(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.runs[RUN] = run_json(
        RUN,
        "TERMINATED",
        code="RUN_EXECUTION_ERROR",
        kind="CLIENT_ERROR",
        tasks=[
            done("ingest", 501),
            done("score", 502),
            task_json("publish", 503, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR"),
        ],
    )
    ws.outputs[501] = {"notebook_output": {"result": "42 rows", "truncated": False}, "metadata": {"run_id": 501}}
    ws.outputs[502] = {"logs": "scored\n", "logs_truncated": True, "metadata": {"run_id": 502}}
    ws.outputs[503] = {"error": "boom", "error_trace": "Traceback\nboom", "metadata": {"run_id": 503}}
    outputs = handle.outputs()
    assert list(outputs) == ["ingest", "score", "publish"]
    assert all(isinstance(o, OutputView) for o in outputs.values())
    assert outputs["ingest"].notebook_result == "42 rows"
    assert outputs["ingest"].notebook_truncated is False
    assert outputs["ingest"].run_id == 501
    assert outputs["score"].logs == "scored\n" and outputs["score"].logs_truncated
    assert (outputs["publish"].error, outputs["publish"].error_trace) == ("boom", "Traceback\nboom")
    assert outputs["publish"].raw == ws.outputs[503]
    assert outputs["publish"].task_key == "publish"
    asked = [r.query["run_id"] for r in ws.calls("runs/get-output")]
    assert asked == ["501", "502", "503"]
    assert str(RUN) not in asked


def test_outputs_of_for_each_iterations(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.runs[RUN] = run_json(
        RUN,
        "TERMINATED",
        code="SUCCESS",
        kind="SUCCESS",
        tasks=[done("prepare", 601), done("loop", 602, for_each_task={"inputs": "[]", "task": {}})],
    )
    iterations = [done("loop_iteration", 7000 + i) for i in range(130)]
    ws.runs[602] = run_json(602, "TERMINATED", code="SUCCESS", kind="SUCCESS", iterations=iterations)
    for i in range(130):
        ws.outputs[7000 + i] = {"notebook_output": {"result": f"item {i}"}}
    outputs = handle.outputs()
    assert list(outputs)[:3] == ["prepare", "loop[0]", "loop[1]"]
    assert len(outputs) == 131
    assert outputs["loop[129]"].notebook_result == "item 129"
    asked = {int(r.query["run_id"]) for r in ws.calls("runs/get-output")}
    assert RUN not in asked and 602 not in asked
    # The for-each task's own run was read page by page.
    assert [r.query.get("page_token") for r in ws.calls("runs/get") if r.query["run_id"] == "602"] == [None, "100"]
    assert handle.output("loop[7]").notebook_result == "item 7"
    with pytest.raises(KeyError, match="loop\\[999\\]"):
        handle.output("loop[999]")


def test_latest_attempt_of_a_retried_task(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.runs[RUN] = run_json(
        RUN,
        "TERMINATED",
        code="SUCCESS",
        kind="SUCCESS",
        tasks=[
            task_json("flaky", 801, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR", attempt_number=0),
            done("flaky", 802, attempt_number=1),
        ],
    )
    ws.outputs[802] = {"notebook_output": {"result": "second time lucky"}}
    run = handle.get()
    assert [t.run_id for t in run.tasks] == [802]
    assert [t.run_id for t in run.all_attempts] == [801, 802]
    assert handle.outputs()["flaky"].notebook_result == "second time lucky"


def test_single_output_and_unknown_task(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.runs[RUN] = run_json(RUN, "RUNNING", tasks=[done("a", 901), task_json("b", 902, "PENDING")])
    ws.outputs[901] = {"notebook_output": {"result": "A"}}
    assert handle.output("a").notebook_result == "A"
    with pytest.raises(KeyError, match="tasks: a, b"):
        handle.output("c")


def test_legacy_single_task_run_uses_its_own_id(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.runs[RUN] = run_json(RUN, "TERMINATED", code="SUCCESS", kind="SUCCESS", run_name="old")
    ws.outputs[RUN] = {"notebook_output": {"result": "legacy"}}
    outputs = handle.outputs()
    assert list(outputs) == ["old"]
    assert outputs["old"].notebook_result == "legacy"
    assert [r.query["run_id"] for r in ws.calls("runs/get-output")] == [str(RUN)]


def test_get_returns_a_typed_read_only_view(ws: FakeWorkspace, handle: RunHandle) -> None:
    ws.runs[RUN] = run_json(
        RUN,
        "RUNNING",
        tasks=[done("a", 1, start_time=1700000000000, end_time=1700000060000, run_duration=60000)],
        start_time=1700000000000,
    )
    run = handle.get()
    assert isinstance(run, RunView)
    assert (run.run_id, run.run_name, run.state.state) == (RUN, "test-run", "RUNNING")
    assert not run.state.finished
    task = run.task("a")
    assert (task.task_key, task.run_id, task.run_duration) == ("a", 1, 60000)
    assert (task.start_time, task.end_time) == (1700000000000, 1700000060000)
    assert task.state.succeeded()
    assert run.raw["run_id"] == RUN
    with pytest.raises(AttributeError):
        run.run_id = 3  # type: ignore[misc]
    assert repr(run) == "RunView(run_id=55, run_name='test-run', state='RUNNING', tasks=1)"
    assert task.describe() == "a: TERMINATED SUCCESS"


def test_attach_uses_environment(ws: FakeWorkspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", ws.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    ws.runs[RUN] = run_json(RUN, "RUNNING")
    attached = RunHandle.attach(RUN)
    assert (attached.run_id, attached.host, attached.idempotency_token) == (RUN, ws.url, None)
    assert attached.get().run_id == RUN
    assert ws.calls("runs/get")[0].query == {"run_id": str(RUN)}
    attached.cancel()
    assert ws.calls("runs/cancel")[0].json == {"run_id": RUN}
    attached.close()


def test_attach_to_a_missing_run(ws: FakeWorkspace) -> None:
    with RunHandle.attach(4040, ws.url, TOKEN) as handle, pytest.raises(NotFound):
        handle.get()
