"""``runspec demo``: a multi-task run submitted to an in-process emulator and followed, in seconds."""

from __future__ import annotations

import argparse
import inspect
from typing import TYPE_CHECKING, Any

from runspec.build import Run
from runspec.cli._options import FORMATTER, Settings, positive
from runspec.cli._output import EXIT_OK, echo
from runspec.cli.submit import submit_and_follow

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands


def demo_run() -> Run:
    """
    The run ``runspec demo`` submits: ingest, a condition branch, a transform, and a for_each over regions.

    ``ingest`` counts rows; the condition ``has_rows`` sends the run to ``transform`` (true) or
    ``report_empty`` (false); ``publish`` repeats a notebook for each region, two at a time. The
    notebooks run on serverless compute; the Python file uses a serverless environment. Try
    ``runspec render runspec.cli:demo_run --graph mermaid``.
    """
    from runspec import (
        ConditionTask,
        ForEachTask,
        NotebookTask,
        SparkPythonTask,
        Task,
        TaskDependency,
    )

    return (
        Run("runspec-demo")
        .environment("default", environment_version="2", dependencies=["pandas"])
        .task(NotebookTask("/Workspace/demo/ingest"), key="ingest")
        .task(
            ConditionTask(left="{{tasks.ingest.values.rows}}", op="GREATER_THAN", right="0"),
            key="has_rows",
            depends_on=["ingest"],
        )
        .task(
            SparkPythonTask("/Workspace/demo/transform.py"),
            key="transform",
            depends_on=[TaskDependency("has_rows", outcome="true")],
            environment_key="default",
        )
        .task(
            NotebookTask("/Workspace/demo/report_empty"),
            key="report_empty",
            depends_on=[TaskDependency("has_rows", outcome="false")],
        )
        .task(
            ForEachTask(
                inputs='["emea", "amer", "apac"]',
                task=Task(
                    "publish_region",
                    notebook_task=NotebookTask("/Workspace/demo/publish", base_parameters={"region": "{{input}}"}),
                ),
                concurrency=2,
            ),
            key="publish",
            depends_on=["transform"],
        )
        .timeout(3600)
    )


def script_demo(emulator: Any) -> None:
    """What the demo's tasks do in the emulator: the values and outputs a real workspace would return."""
    from runspec.testing import Outcome, TaskContext

    def publish(ctx: TaskContext) -> Outcome:
        return Outcome.success(result=f"published the {ctx.input} report")

    emulator.script("ingest", Outcome.success(result="ingested 1200 rows", values={"rows": 1200}))
    emulator.script("transform", Outcome.success(logs="read 1200 rows\nwrote 1180 rows to main.demo.sales\n"))
    emulator.script("publish_region", publish)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    if args.code:
        # A program that runs as pasted: the import the function needs, the function, and a call.
        echo("from runspec import Run\n\n")
        echo(inspect.getsource(demo_run).rstrip("\n"))
        echo("\n\nspec = demo_run().compile()\nprint(spec.to_text())")
        return EXIT_OK
    import secrets

    from runspec.testing import Emulator

    token = secrets.token_hex(16)
    spec = demo_run().compile()
    with Emulator(token=token, speed=args.speed) as emu:
        script_demo(emu)
        echo(f"runspec demo: a local Jobs API emulator is serving on {emu.url} (nothing leaves this machine)")
        echo("")
        echo("The run, built with runspec.Run (its code: runspec demo --code):")
        echo(spec.to_text().rstrip("\n"))
        echo("")
        code = submit_and_follow(
            spec,
            Settings(host=emu.url, deadline=30.0, poll_interval=0.2),
            token=token,
            idempotency_token=None,
            wait=True,
            as_json=False,
            picture=False,
        )
    if code != EXIT_OK:
        return code
    echo("")
    echo("The same run against your workspace: set the host and a token (or use a ~/.databrickscfg profile)")
    echo("  export DATABRICKS_HOST=https://<your-workspace>.cloud.databricks.com")
    echo("  export DATABRICKS_TOKEN=<a personal access token>")
    echo("then, from the shell (with your own notebooks and files in the run):")
    echo("  runspec validate my_pipeline:run")
    echo("  runspec submit my_pipeline:run --wait          # or --profile NAME")
    echo("or from Python:")
    echo("  handle = runspec.submit(run)                   # host and token from the environment")
    echo("  handle.wait()")
    return EXIT_OK


def add_parser(commands: Commands) -> None:
    """Register ``runspec demo``."""
    demo = commands.add_parser(
        "demo",
        help="submit a multi-task run to an in-process emulator and follow it (a few seconds)",
        description=(
            "Start an emulator in this process, build a run with the builder (a condition branch and a\n"
            "for_each over regions), submit it, follow it with progress, print its outputs, and show how\n"
            "to send the same run to a workspace. Nothing leaves this machine."
        ),
        formatter_class=FORMATTER,
    )
    demo.add_argument("--code", action="store_true", help="print a Python program that builds the demo run, and exit")
    demo.add_argument(
        "--speed", type=positive, default=1.0, metavar="X", help="how much faster than real time runs move (default 1)"
    )
    demo.set_defaults(handler=cmd_demo)
