"""
runspec.picture drawing a RunSpec as it is: the same pictures as its body as a dict, without
serialising it, and from the body alone (two equal specs draw the same picture).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from runspec import NewCluster, NotebookTask, Run, RunSpec
from runspec.errors import SpecError
from runspec.picture import FORMATS, markdown, render, summary, to_dot, to_mermaid, to_text

HERE = Path(__file__).resolve().parent
SMALL = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2)


def bench() -> Any:
    spec = importlib.util.spec_from_file_location("_bench_picture", HERE.parent / "benchmarks" / "picture.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def valid_bodies() -> list[tuple[str, dict[str, Any]]]:
    """Every body of the test corpus that RunSpec accepts, plus the benchmark's large run."""
    found = []
    for path in sorted(HERE.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not (isinstance(data, dict) and isinstance(data.get("tasks"), list)):
                continue  # not a request body (a job definition, a picture golden, ...)
            RunSpec.from_dict(data)
        except (UnicodeDecodeError, ValueError, SpecError):
            continue
        else:
            found.append((str(path.relative_to(HERE)), data))
    found.append(("benchmark large_body", bench().large_body()))
    return found


BODIES = valid_bodies()


def test_the_corpus_has_bodies_of_every_kind() -> None:
    assert len(BODIES) >= 5
    kinds = {key for _, body in BODIES for task in body["tasks"] for key in task if key.endswith("_task")}
    assert {"notebook_task", "condition_task", "for_each_task", "run_job_task", "sql_task"} <= kinds


@pytest.mark.parametrize(("name", "body"), BODIES, ids=[name for name, _ in BODIES])
def test_a_runspec_draws_exactly_as_its_body(name: str, body: dict[str, Any]) -> None:
    spec = RunSpec.from_dict(body)
    state = {task["task_key"]: "succeeded" for task in body["tasks"][::2]}
    for kind in FORMATS:
        for options in ({}, {"max_nodes": 5}, {"state": state}, {"direction": "LR"} if kind != "text" else {}):
            assert render(spec, kind, **options) == render(body, kind, **options), (kind, options)
    assert summary(spec, state=state) == summary(body, state=state)


def test_a_runspec_is_drawn_without_being_serialised(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = bench().chain_spec(50)
    expected = {kind: render(spec.to_dict(), kind) for kind in FORMATS}

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the picture serialised the spec")

    monkeypatch.setattr(RunSpec, "to_dict", refuse)
    monkeypatch.setattr(RunSpec, "to_json", refuse)
    monkeypatch.setattr(json, "dumps", refuse)
    for kind in FORMATS:
        assert render(spec, kind) == expected[kind]


def test_equal_specs_draw_the_same_picture_and_boxes_are_titled_by_the_cluster() -> None:
    compiled = (
        Run("nightly")
        .cluster("etl", SMALL)
        .task(NotebookTask("/Repos/etl/ingest"))
        .task(NotebookTask("/Repos/etl/transform"), depends_on=["ingest"])
        .task(NotebookTask("/Repos/etl/report"), depends_on=["transform"], existing_cluster_id="0101-abc")
        .compile()
    )
    loaded = RunSpec.from_dict(json.loads(compiled.to_json()))
    assert loaded == compiled
    for draw in (to_mermaid, to_dot, to_text, markdown):
        assert draw(compiled) == draw(loaded)
    text = to_mermaid(compiled)
    assert 'subgraph c1["i3.xlarge, 2 workers"]' in text
    assert 'subgraph c2["existing cluster 0101-abc"]' in text
    # Names for the boxes are an explicit choice of the caller.
    named = to_mermaid(compiled, cluster_names={"ingest": "etl"})
    assert 'subgraph c1["etl (i3.xlarge, 2 workers)"]' in named


def test_equal_cluster_objects_share_a_box_whether_shared_or_loaded() -> None:
    body = {
        "tasks": [
            {"task_key": f"t{i}", "notebook_task": {"notebook_path": "/x"}, "new_cluster": SMALL.to_dict()}
            for i in range(4)
        ]
    }
    body["tasks"][3]["new_cluster"]["num_workers"] = 3
    spec = RunSpec.from_dict(body)
    assert spec.tasks is not None and spec.tasks[0].new_cluster is not spec.tasks[1].new_cluster
    text = to_mermaid(spec)
    assert text.count("subgraph") == 2
    assert 'subgraph c1["i3.xlarge, 2 workers"]' in text and 'subgraph c2["i3.xlarge, 3 workers"]' in text
    assert text == to_mermaid(body)


def test_drawing_a_1000_task_chain_costs_a_few_to_jsons() -> None:
    # The ratio target lives in benchmarks/run.py; this bound only catches accidental quadratic work.
    results = bench().measure_spec(tasks=1000, repeats=3)
    for name in ("mermaid", "dot", "text"):
        assert results[f"{name}_ratio"] < 40, (name, results)
