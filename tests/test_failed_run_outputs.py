"""
A failed run's report keeps the outputs of the tasks that did succeed: ``RunFailed.outputs`` and its text,
and ``runspec submit --wait`` / ``runspec wait`` (text and ``--json``), shown as a succeeded run's are.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runspec import RunFailed, RunSpec, submit
from runspec.cli import main
from runspec.testing import Emulator, Outcome

TOKEN = "outputs-token"


def body(name: str) -> dict[str, Any]:
    """ingest -> transform -> report, plus a for-each of two iterations beside them."""
    notebook = {"existing_cluster_id": "c"}
    return {
        "run_name": name,
        "tasks": [
            {"task_key": "ingest", "notebook_task": {"notebook_path": "/etl/ingest"}, **notebook},
            {
                "task_key": "transform",
                "depends_on": [{"task_key": "ingest"}],
                "notebook_task": {"notebook_path": "/etl/transform"},
                **notebook,
            },
            {
                "task_key": "report",
                "depends_on": [{"task_key": "transform"}],
                "notebook_task": {"notebook_path": "/etl/report"},
                **notebook,
            },
            {
                "task_key": "each",
                "for_each_task": {
                    "inputs": '["a", "b"]',
                    "task": {"task_key": "each_it", "spark_python_task": {"python_file": "/x.py"}, **notebook},
                },
            },
        ],
    }


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(token=TOKEN) as running:
        running.script("ingest", Outcome.success(result="1200 rows"))
        running.script("transform", Outcome.fail("ZeroDivisionError: division by zero"))
        running.script("each_it", Outcome.success(logs="line one\nwrote part"))
        yield running


def test_run_failed_holds_and_shows_the_outputs_of_the_tasks_that_succeeded(emu: Emulator) -> None:
    handle = submit(RunSpec.from_dict(body("outputs-python")), emu.url, TOKEN)
    with pytest.raises(RunFailed) as info:
        handle.wait(poll_interval=0.1)
    failed = info.value
    assert [task.key for task in failed.failed_tasks] == ["transform", "report"]
    assert {key: out.notebook_result for key, out in failed.outputs.items()} == {
        "ingest": "1200 rows",
        "each[0]": None,
        "each[1]": None,
    }
    assert failed.outputs["each[1]"].logs == "line one\nwrote part"
    text = str(failed)
    assert text.index("  transform: ") < text.index("outputs of the tasks that succeeded:")
    assert (
        "outputs of the tasks that succeeded:\n"
        "  ingest   1200 rows\n"
        "  each[0]  logs: line one\n"
        "           wrote part\n"
        "  each[1]  logs: line one\n"
        "           wrote part"
    ) in text


def run(argv: list[str], emu: Emulator, home: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {"HOME": str(home), "DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": TOKEN, "NO_COLOR": "1"}
    code = main(argv, stdout=out, stderr=err, env=env)
    return code, out.getvalue(), err.getvalue()


def test_the_command_shows_them_after_the_failed_tasks(emu: Emulator, tmp_path: Path) -> None:
    spec = tmp_path / "run.json"
    spec.write_text(json.dumps(body("outputs-cli")), encoding="utf-8")
    code, out, _ = run(["submit", str(spec), "--wait", "--poll-interval", "0.1"], emu, tmp_path)
    assert code == 1
    assert out.index("failed tasks:") < out.index("outputs of the tasks that succeeded:\n  ingest   1200 rows\n")
    assert "  each[1]  logs: line one\n           wrote part\n" in out

    run_id = emu.run_ids()[-1]
    code, out, _ = run(["wait", str(run_id), "--poll-interval", "0.1"], emu, tmp_path)
    assert code == 1
    assert "outputs of the tasks that succeeded:\n  ingest   1200 rows\n" in out

    code, out, _ = run(["wait", str(run_id), "--json"], emu, tmp_path)
    data = json.loads(out)
    assert (data["status"], data["exit_code"]) == ("failed", 1)
    assert data["outputs"] == {
        "ingest": {"notebook_result": "1200 rows"},
        "each[0]": {"logs": "line one\nwrote part"},
        "each[1]": {"logs": "line one\nwrote part"},
    }
    assert [task["key"] for task in data["failed_tasks"]] == ["transform", "report"]


def test_past_the_outputs_read_the_text_says_more_tasks_succeeded(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runspec.client.follow as follow

    monkeypatch.setattr(follow, "MAX_OUTPUT_FETCHES", 2)  # 100 in use: three tasks succeed here
    handle = submit(RunSpec.from_dict(body("outputs-capped")), emu.url, TOKEN)
    with pytest.raises(RunFailed) as info:
        handle.wait(poll_interval=0.1)
    assert list(info.value.outputs) == ["ingest", "each[0]"]
    assert info.value.more_outputs is True
    assert str(info.value).endswith(
        "  each[0]  logs: line one\n           wrote part\n  (more tasks succeeded than the 2 shown)"
    )
    assert {"ingest", "each[0]", "each[1]"} <= set(handle.outputs())  # outputs() reads them all
