"""
The example run: a notebook sets task values, a condition branches on one, a for_each runs a Python
file per region the notebook found, a report reads a task value as its parameter, an audit fails.

    runspec submit pipeline:run --local --path /Workspace/Shared/orders=src --wait        (from this folder)

``--path`` maps the workspace folder the tasks name (/Workspace/Shared/orders) to ``src/`` here. The
audit fails on purpose: the command shows its traceback and exits 1.
"""

from runspec import ConditionTask, ForEachTask, NotebookTask, Run, SparkPythonTask, Task, TaskDependency

WORKSPACE = "/Workspace/Shared/orders"

run = (
    Run("orders-local")
    .environment("default", environment_version="2")
    .task(NotebookTask(f"{WORKSPACE}/ingest", base_parameters={"day": "2026-12-06"}), key="ingest")
    .task(
        ConditionTask(left="{{tasks.ingest.values.rows}}", op="GREATER_THAN", right="100"),
        key="big_day",
        depends_on=["ingest"],
    )
    .task(
        NotebookTask(f"{WORKSPACE}/report", base_parameters={"rows": "{{tasks.ingest.values.rows}}"}),
        key="report",
        depends_on=[TaskDependency("big_day", outcome="true")],
        environment_key="default",
    )
    .task(
        NotebookTask(f"{WORKSPACE}/quiet_day"),
        key="quiet_day",
        depends_on=[TaskDependency("big_day", outcome="false")],
        environment_key="default",
    )
    .task(
        ForEachTask(
            inputs="{{tasks.ingest.values.regions}}",
            concurrency=3,
            task=Task(
                task_key="transform_region",
                spark_python_task=SparkPythonTask(
                    f"{WORKSPACE}/transform.py",
                    parameters=["--region", "{{input}}", "--rows", "{{tasks.ingest.values.rows}}"],
                ),
                environment_key="default",
            ),
        ),
        key="transform",
        depends_on=["ingest"],
    )
    .task(SparkPythonTask(f"{WORKSPACE}/audit.py"), key="audit", depends_on=["ingest"], environment_key="default")
)
