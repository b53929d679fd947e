"""
Converting jobs and drawing runs from the command line, as a shell user meets them: messages name
the command's options, job tags are not said to reach clusters, a builder's cluster names survive
``convert --to job`` and ``render --graph``, an environment no task uses is dropped with a warning,
an invalid run is still drawn, per-task clusters are counted as such, and a for_each's cluster is said
to start once per iteration.

The command runs in-process through ``runspec.cli.main``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from runspec import ForEachTask, NewCluster, NotebookTask, Run, RunSpec, Task
from runspec.cli import main

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}
JOB: dict[str, Any] = {
    "name": "nightly",
    "tags": {"team": "data"},
    "parameters": [{"name": "day", "default": "2026-01-01"}],
    "job_clusters": [{"job_cluster_key": "etl", "new_cluster": CLUSTER}],
    "tasks": [
        {
            "task_key": "ingest",
            "job_cluster_key": "etl",
            "notebook_task": {"notebook_path": "/x", "base_parameters": {"d": "{{job.parameters.day}}"}},
        },
        {
            "task_key": "load",
            "depends_on": [{"task_key": "ingest"}],
            "job_cluster_key": "etl",
            "notebook_task": {"notebook_path": "/y"},
        },
    ],
}
PIPELINE = """
from runspec import NewCluster, NotebookTask, Run

run = (
    Run("nightly")
    .cluster("etl", NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2))
    .task(NotebookTask("/Repos/etl/ingest"))
    .task(NotebookTask("/Repos/etl/load"), depends_on=["ingest"])
)
"""


def _job(tmp_path: Path, **changes: Any) -> str:
    path = tmp_path / "job.json"
    path.write_text(json.dumps({**JOB, **changes}), encoding="utf-8")
    return str(path)


@pytest.fixture
def pipeline_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module ``users_pipeline`` importable from the current directory, holding a builder ``run``."""
    (tmp_path / "users_pipeline.py").write_text(PIPELINE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "users_pipeline", raising=False)
    return "users_pipeline:run"


@pytest.mark.parametrize("command", [["convert", "{job}", "--to", "run"], ["submit", "{job}", "--from-job"]])
def test_convert_and_from_job_errors_suggest_lenient_which_they_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    job = _job(tmp_path, bogus=1)
    assert main([part.format(job=job) for part in command]) == 2
    _, err = capsys.readouterr()
    assert "$.bogus: JobSettings has no field 'bogus'" in err
    assert "--lenient" not in err
    assert "remove it" in err
    assert main([*(part.format(job=job) for part in command), "--lenient"]) == 2  # the option they refuse
    capsys.readouterr()


def test_convert_warnings_tell_cli_users_parameters_instead_of_param(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", _job(tmp_path), "--to", "run"]) == 0
    _, err = capsys.readouterr()
    assert "pass --param NAME=VALUE to change them [job-parameters-inlined]" in err
    assert "parameters={" not in err
    no_default = [{"name": "day"}]
    assert main(["convert", _job(tmp_path, parameters=no_default), "--to", "run"]) == 2
    _, err = capsys.readouterr()
    assert "give one with --param day=VALUE" in err and "parameters={" not in err


def test_tags_warning_says_tags_still_reach_the_clusters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", _job(tmp_path), "--to", "run"]) == 0
    _, err = capsys.readouterr()
    (line,) = [line for line in err.splitlines() if line.startswith("  warning: $.tags:")]
    assert "still reach" not in line
    assert "reach neither the run nor its clusters" in line
    spec = RunSpec.from_job_settings(JOB)
    assert all(t.new_cluster is not None and not t.new_cluster.custom_tags for t in spec.tasks or ())


def test_convert_to_job_renames_the_job_cluster_etl_to_ingest_cluster(
    pipeline_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", pipeline_module, "--to", "job"]) == 0
    out, _ = capsys.readouterr()
    job = json.loads(out)
    assert [c["job_cluster_key"] for c in job["job_clusters"]] == ["etl"]
    assert {t["job_cluster_key"] for t in job["tasks"]} == {"etl"}


def test_job_with_an_environment_no_task_uses_is_refused_unused_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environments = [{"environment_key": "spare", "spec": {"environment_version": "2"}}]
    assert main(["convert", _job(tmp_path, environments=environments), "--to", "run"]) == 0
    out, err = capsys.readouterr()
    assert "environments" not in json.loads(out)
    assert "warning: $.environments[0]: environment 'spare' is used by no task" in err
    assert "[job-field-dropped]" in err and "unused-environment" not in err
    spec = RunSpec.from_job_settings({**JOB, "environments": environments})
    assert spec.environments is None


def test_render_graph_text_drops_the_builders_cluster_names(
    pipeline_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind, shown in (("text", "on etl (i3.xlarge, 2 workers)"), ("mermaid", 'subgraph c1["etl (i3.xlarge')):
        assert main(["render", pipeline_module, "--graph", kind]) == 0
        out, _ = capsys.readouterr()
        assert shown in out, out


def test_render_graph_text_refuses_an_invalid_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = {
        "run_name": "bad",
        "tasks": [
            {
                "task_key": "a",
                "notebook_task": {"notebook_path": "/a"},
                "existing_cluster_id": "c",
                "depends_on": [{"task_key": "zz"}],
            }
        ],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert main(["render", str(path), "--graph", "text"]) == 2
    out, err = capsys.readouterr()
    assert "after zz (not in this run)" in out
    assert "[unknown-dependency]" in err


def test_render_graph_text_calls_per_task_clusters_one_job_cluster(
    pipeline_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", pipeline_module, "--graph", "text"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[0] == "nightly: 2 tasks, 2 new clusters (one per task)"
    assert "job cluster" not in out


def test_cluster_per_task_warning_does_not_say_a_for_each_starts_a_cluster_per_iteration() -> None:
    cluster = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2)
    loop = ForEachTask(inputs='["a", "b"]', task=Task("one", notebook_task=NotebookTask("/one")))
    alone = Run("loop").cluster("etl", cluster).task(loop, key="per_region").compile()
    (warning,) = [w for w in alone.warnings if w.code == "cluster-per-task"]
    assert "for_each task 'per_region'" in warning.message and "each iteration" in warning.message
    shared = (
        Run("both").cluster("etl", cluster).task(NotebookTask("/a"), key="a").task(loop, key="per_region").compile()
    )
    (warning,) = [w for w in shared.warnings if w.code == "cluster-per-task"]
    assert "one for each iteration" in warning.message
