"""The one table of task types: derived from the schema, read by checks and key naming."""

from __future__ import annotations

from typing import Any

import pytest

from runspec import NewCluster, NotebookTask, Run, RunSpec, SparkPythonTask, SpecError
from runspec.spec import (
    ForEachTask,
    PipelineTask,
    PythonWheelTask,
    RunJobTask,
    SparkJarTask,
    SqlTask,
    SqlTaskFile,
    SqlTaskQuery,
    SubmitTask,
    Task,
)
from runspec.spec import task_types as tt
from runspec.spec.schema._schema import schema_fields


def test_every_task_field_of_the_schema_is_in_the_table() -> None:
    fields = [
        name
        for name, info in schema_fields("SubmitTask").items()
        if name.endswith("_task") and info.desc[0] == "object" and not info.rejected
    ]
    assert list(tt.TASK_TYPES) == fields
    for name, entry in tt.TASK_TYPES.items():
        assert entry.field == name
        assert entry.kind == name.removesuffix("_task")
        assert entry.cls.__name__ == entry.class_name
        assert entry.compute in ("cluster", "none", "optional")


def test_facts_read_from_the_schema() -> None:
    sourced = {name: e.source_path for name, e in tt.TASK_TYPES.items() if e.git_sourced}
    assert sourced == {
        "dbt_task": ("source",),
        "gen_ai_compute_task": ("source",),
        "notebook_task": ("source",),
        "spark_python_task": ("source",),
        "sql_task": ("file", "source"),
    }
    assert tt.TASK_TYPES["sql_task"].source(SqlTask("w", file=SqlTaskFile("q.sql", source="GIT"))) == "GIT"
    assert tt.TASK_TYPES["sql_task"].source({"file": {"path": "q.sql"}}) is None


def test_a_task_type_the_schema_gains_gets_default_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new *_task object field appears in the table with defaults, with no hand edit."""
    from runspec.spec.schema import _schema

    grown = {name: dict(fields) for name, fields in _schema.schema().items()}
    grown["SubmitTask"]["quantum_task"] = {"type": "NotebookTask"}
    monkeypatch.setattr(tt, "schema", lambda: grown)
    monkeypatch.setattr(
        tt, "schema_fields", lambda name: {**schema_fields(name), "quantum_task": schema_fields(name)["notebook_task"]}
    )
    table = tt._build()
    entry = table["quantum_task"]
    assert (entry.kind, entry.compute, entry.serverless_env_key, entry.deprecated, entry.output) == (
        "quantum",
        "optional",
        False,
        False,
        None,
    )
    assert entry.git_sourced  # a NotebookTask value has a source field
    assert entry.name({"notebook_path": "/x"}) == "quantum"
    assert entry.detail({"notebook_path": "/x"}, 40) == ""
    assert tt.task_type("unheard_of_task").kind == "unheard_of"


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("notebook_task", NotebookTask("/Repos/etl/ingest.py"), "ingest"),
        ("notebook_task", {"notebook_path": "/Repos/etl/ingest.py"}, "ingest"),
        ("spark_python_task", SparkPythonTask("dbfs:/a/transform.py"), "transform"),
        ("python_wheel_task", PythonWheelTask("pkg", "main"), "main"),
        ("spark_jar_task", SparkJarTask(main_class_name="com.x.Main"), "Main"),
        ("spark_jar_task", {}, "spark_jar"),
        ("pipeline_task", PipelineTask("p1"), "pipeline_p1"),
        ("run_job_task", RunJobTask(42), "run_job_42"),
        ("sql_task", SqlTask("w", query=SqlTaskQuery("q")), "sql_query"),
        ("sql_task", SqlTask("w", file=SqlTaskFile("/q/daily.sql")), "daily"),
        ("for_each_task", ForEachTask("[1]", Task("inner", notebook_task=NotebookTask("/n"))), "for_each_inner"),
        ("dashboard_task", {"dashboard_id": "d"}, "dashboard"),
    ],
)
def test_names(field: str, value: Any, name: str) -> None:
    assert tt.TASK_TYPES[field].name(value) == name


@pytest.mark.parametrize(
    ("field", "value", "width", "detail"),
    [
        ("notebook_task", {"notebook_path": "/Repos/team/etl/ingest"}, 12, "…/etl/ingest"),
        ("python_wheel_task", PythonWheelTask("pkg", "main"), 40, "pkg:main"),
        ("condition_task", {"op": "GREATER_THAN", "left": "1", "right": "2"}, 40, "1 > 2"),
        ("sql_task", SqlTask("w", query=SqlTaskQuery("q1")), 40, "query q1"),
        ("sql_task", {"file": {"path": "/a/b.sql"}}, 40, "/a/b.sql"),
        ("pipeline_task", {"pipeline_id": "p", "full_refresh": True}, 40, "p (full refresh)"),
        ("dbt_task", {"commands": ["dbt deps", "dbt run"]}, 40, "dbt deps; dbt run"),
        ("power_bi_task", {"power_bi_model": {"model_name": "m"}}, 40, "m"),
        ("for_each_task", {"inputs": "[1]"}, 40, ""),
    ],
)
def test_details(field: str, value: Any, width: int, detail: str) -> None:
    assert tt.TASK_TYPES[field].detail(value, width) == detail


def test_task_types_of_a_task() -> None:
    task = SubmitTask("a", notebook_task=NotebookTask("/n"), pipeline_task=PipelineTask("p"))
    assert tt.task_types(task) == ["notebook_task", "pipeline_task"]
    assert tt.task_types({"task_key": "a", "sql_task": {}}) == ["sql_task"]


def test_key_naming_and_the_one_cluster_read_the_table() -> None:
    cluster = NewCluster(spark_version="x", num_workers=1)
    spec = Run("r").cluster("c", cluster).task(SparkPythonTask("dbfs:/jobs/load.py")).task(PipelineTask("p7")).compile()
    assert spec.task_keys == ("load", "pipeline_p7")
    assert spec.tasks is not None
    assert spec.tasks[0].new_cluster == cluster  # a cluster task takes the run's one cluster
    assert spec.tasks[1].new_cluster is None  # a pipeline brings its own compute


def test_what_a_task_type_needs_is_one_table_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    The job converter's parameter push-down and single-task-format detection, the compute check and the
    builder's one cluster read the table: an OVERLAY entry alone changes what each does for a type.
    """
    from runspec.spec import AlertTask, DbtTask

    cluster = {"spark_version": "15.4.x-scala2.12", "num_workers": 1}
    job = {
        "name": "j",
        "parameters": [{"name": "day", "default": "mon"}],
        "tasks": [{"task_key": "a", "alert_task": {"alert_id": "x", "warehouse_id": "w"}}],
    }
    dbt = DbtTask(["dbt run"], warehouse_id="w")
    on_cluster = {"run_name": "r", "tasks": [{"task_key": "d", "dbt_task": dbt.to_dict(), "new_cluster": cluster}]}
    single = {"name": "j", "alert_task": {"alert_id": "x"}}

    def before() -> tuple[Any, ...]:
        spec = RunSpec.from_job_settings(job)
        try:
            RunSpec.from_dict(on_cluster)
            refused: list[str] = []
        except SpecError as exc:
            refused = [p.code for p in exc.problems]
        try:
            RunSpec.from_job_settings(single)
            single_codes: list[str] = []
        except SpecError as exc:
            single_codes = [p.code for p in exc.problems]
        built = (
            Run("r")
            .cluster("c", NewCluster.from_dict(cluster))
            .task(dbt, key="d")
            .task(SparkPythonTask("x.py"))
            .compile()
        )
        assert spec.tasks is not None and built.tasks is not None
        return spec.tasks[0].alert_task, refused, single_codes, built.tasks[0].new_cluster is None

    alert, refused, single_codes, no_cluster = before()
    assert alert == AlertTask(alert_id="x", warehouse_id="w")
    assert "compute-not-allowed" not in refused
    assert "single-task-format" not in single_codes
    assert not no_cluster

    monkeypatch.setitem(tt.OVERLAY, "alert_task", {**tt.OVERLAY["alert_task"], "job_parameters": lambda g: "parameters",
                                                   "api_2_0": True})  # fmt: skip
    monkeypatch.setitem(
        tt.OVERLAY, "dbt_task", {**tt.OVERLAY["dbt_task"], "elsewhere": ("warehouse_id", "on a warehouse")}
    )
    monkeypatch.setattr(tt.TASK_TYPES, "_d", tt._build())

    alert, refused, single_codes, no_cluster = before()
    assert alert == AlertTask(alert_id="x", warehouse_id="w", parameters={"day": "mon"})
    assert refused == ["compute-not-allowed"]
    assert single_codes == ["single-task-format"]
    assert no_cluster


def test_new_cluster_only_is_a_fact_of_the_table_that_the_check_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The warning about a task that runs only on a new job cluster follows the table, not a task-type name."""
    assert [name for name, e in tt.TASK_TYPES.items() if e.new_cluster_only] == ["spark_submit_task"]
    body = {"tasks": [{"task_key": "t", "spark_python_task": {"python_file": "/a.py"}, "existing_cluster_id": "c"}]}
    assert "spark-submit-needs-new-cluster" not in [w.code for w in RunSpec.from_dict(body).warnings]
    entry = tt.TASK_TYPES["spark_python_task"]
    marked = tt.TaskType(field=entry.field, kind=entry.kind, class_name=entry.class_name, new_cluster_only=True)
    monkeypatch.setitem(tt.table(), "spark_python_task", marked)
    found = [(w.path, w.code, w.message) for w in RunSpec.from_dict(body).warnings]
    assert ("$.tasks[0]", "spark-submit-needs-new-cluster", "spark_python_task runs only on a new job cluster") in found
