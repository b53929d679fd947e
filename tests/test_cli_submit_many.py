"""``runspec submit-many FILE|DIR``: many keyed runs from the shell, called in-process through ``main()``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runspec.cli._main import main
from runspec.testing import Emulator, Limits, Outcome

TOKEN = "submit-many-token"


def body(i: int, task: str = "main") -> dict[str, Any]:
    return {
        "run_name": f"backfill-{i}",
        "tasks": [{"task_key": task, "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"}],
    }


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(token=TOKEN, speed=100, limits=Limits(max_active_tasks=20)) as emulator:
        emulator.script("boom", Outcome.fail("kaboom"))
        monkeypatch.setenv("DATABRICKS_HOST", emulator.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
        yield emulator


def test_bodies_of_a_file_show_progress_a_summary_and_exit_1_when_one_failed(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [body(i, "boom" if i == 9 else "main") for i in range(60)]  # 500: benchmarks/scale.py
    lines[7]["key"] = "special"
    source = tmp_path / "backfill.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    code = main(["submit-many", str(source), "--wait", "--requests-per-second", "1000"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "submitted 60/60 · held 0 · running 0 · succeeded 59 · failed 1 ·" in err
    assert "60 items in " in out and "59 succeeded, 1 failed" in out
    assert "backfill-10  failed" in out and "boom: TERMINATED RUN_EXECUTION_ERROR: kaboom" in out
    names = Counter(emu.run(run_id)["run_name"] for run_id in emu.run_ids())
    assert len(names) == 60 and set(names.values()) == {1}


def test_a_folder_of_bodies_resumes_and_exits_0_when_all_succeeded(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "nightly"
    folder.mkdir()
    for i in range(3):
        (folder / f"part{i}.json").write_text(json.dumps(body(i)))
    (folder / "part3.json").write_text(json.dumps({**body(3, "boom"), "key": "special"}))
    assert main(["submit-many", str(folder), "--wait", "--key-prefix", "n", "--requests-per-second", "500"]) == 1
    out, _ = capsys.readouterr()
    assert "4 items in " in out and "3 succeeded, 1 failed" in out
    runs = [emu.run(run_id) for run_id in emu.run_ids()]
    assert sorted(r["run_name"] for r in runs) == ["backfill-0", "backfill-1", "backfill-2", "backfill-3"]

    (folder / "part3.json").unlink()  # the same folder again: every run is reached, none started
    assert main(["submit-many", str(folder), "--json", "--key-prefix", "n", "--requests-per-second", "500"]) == 0
    out, _ = capsys.readouterr()
    items = [json.loads(line) for line in out.splitlines()]
    assert [(i["key"], i["status"], i["reattached"]) for i in items] == [
        ("n-part0", "succeeded", True),
        ("n-part1", "succeeded", True),
        ("n-part2", "succeeded", True),
    ]
    assert len(emu.run_ids()) == 4


def test_invalid_bodies_exit_2_before_anything_is_sent(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(json.dumps(body(0)) + "\n{not json\n" + json.dumps({"run_name": "x", "tasks": []}) + "\n")
    assert main(["submit-many", str(source)]) == 2
    _, err = capsys.readouterr()
    assert "[line 2]" in err and "invalid-json" in err
    source.write_text(json.dumps(body(0)) + "\n" + json.dumps({"run_name": "x", "tasks": []}) + "\n")
    assert main(["submit-many", str(source)]) == 2
    _, err = capsys.readouterr()
    assert "['bad-2']$" in err
    assert emu.requests_to("runs/submit") == []


def test_a_workspace_that_refuses_the_credentials_exits_3(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", "wrong")
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(body(0)) + "\n")
    assert main(["submit-many", str(source), "--wait"]) == 3
    _, err = capsys.readouterr()
    assert "403" in err and "wrong" not in err
