"""
The end of following a run, as text or as the ``--json`` object: final picture, outputs, failed tasks, verdict.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from runspec._outputs import clip, output_lines
from runspec.cli._follow import Outcome, follow
from runspec.cli._output import echo, elapsed, error, note, use_color

if TYPE_CHECKING:  # pragma: no cover - the client layer is imported only by the commands that use it
    from runspec.cli._options import Settings
    from runspec.client import OutputView, RunHandle, RunView, TaskView
    from runspec.spec import RunSpec


def output_entry(output: OutputView) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for name in ("notebook_result", "logs", "error", "error_trace", "sql_output", "dbt_output", "run_job_output"):
        value = getattr(output, name)
        if value is not None:
            entry[name] = value
    return entry


def task_entry(task: TaskView) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": task.key, "state": task.state.label}
    if task.attempt_number:
        entry["attempt"] = task.attempt_number + 1
    if task.error:
        entry["error"] = task.error
    if task.error_trace:
        entry["error_trace"] = task.error_trace
    if task.run_page_url:
        entry["run_page_url"] = task.run_page_url
    if task.failed_iterations:
        entry["failed_iterations"] = [task_entry(item) for item in task.failed_iterations]
    return entry


def print_outputs(outputs: Mapping[str, OutputView], stream: TextIO, *, header: str = "outputs:") -> None:
    """Each task's output under its key (``runspec._outputs.output_lines``), after ``header``."""
    echo(header, file=stream)
    for line in output_lines(outputs):
        echo(line, file=stream)


def print_failed(tasks: Sequence[TaskView], stream: TextIO) -> None:
    """
    Each failed task with its error and the end of its trace; a for-each task's failed iterations under it.

    Tasks cancelled, and tasks not run because of a failure or a cancel, are named on their own
    lines; a task the run chose not to run (a condition branch not taken) is no failure and not shown.
    """
    shown = [t for t in tasks if not t.state.excluded]
    canceled = [t for t in shown if t.state.canceled]
    after_cancel = [t for t in shown if t.state.knock_on and t.state.upstream_canceled]
    after_failure = [t for t in shown if t.state.knock_on and not t.state.upstream_canceled]
    own = [t for t in shown if not t.state.knock_on and not t.state.canceled]
    if own:
        echo("failed tasks:", file=stream)
    for task in own:
        _print_failed_task(task, stream, indent="  ")
        for item in task.failed_iterations:
            _print_failed_task(item, stream, indent="    ")
    if canceled:
        echo(f"cancelled: {', '.join(t.key for t in canceled)}", file=stream)
    if after_failure:
        echo(f"not run because of an upstream failure: {', '.join(t.key for t in after_failure)}", file=stream)
    if after_cancel:
        echo(f"not run because the run was cancelled: {', '.join(t.key for t in after_cancel)}", file=stream)


def _print_failed_task(task: TaskView, stream: TextIO, *, indent: str) -> None:
    echo(f"{indent}{task.describe()}", file=stream)
    if task.error_trace:
        for line in clip(task.error_trace, tail=True):
            echo(f"{indent}    {line}", file=stream)


def picture_of(run: RunView, spec: RunSpec | None, *, color: bool) -> str:
    """The text picture of the run with each task's state; drawn from the run itself when there is no spec."""
    from runspec.picture import to_text

    body: Any = spec if spec is not None else run.raw
    return to_text(body, state=run, color=color).rstrip("\n")


def report(outcome: Outcome, spec: RunSpec | None, stream: TextIO, *, picture: bool = True) -> None:
    """
    The end of ``submit --wait``, ``wait`` and ``demo``: the final state, outputs or errors, the verdict.

    The final state is the text picture of the run with each task's state (of ``spec``, else drawn
    from the run as the workspace describes it), or (``picture=False``, when the picture was shown
    before) its one-line summary.
    """
    handle, run = outcome.handle, outcome.run
    if outcome.status in ("succeeded", "failed", "timed_out") and run is not None:
        echo("", file=stream)
        if picture:
            echo(picture_of(run, spec, color=use_color(stream)), file=stream)
        else:
            from runspec.picture import summary

            echo(summary(spec if spec is not None else run.raw, state=run), file=stream)
    if outcome.status == "succeeded":
        echo("", file=stream)
        print_outputs(outcome.outputs, stream)
    elif outcome.status == "failed" and outcome.failed_tasks:
        echo("", file=stream)
        print_failed(outcome.failed_tasks, stream)
    if outcome.status == "failed" and outcome.outputs:
        echo("", file=stream)
        print_outputs(outcome.outputs, stream, header="outputs of the tasks that succeeded:")
        if outcome.more_outputs:
            shown = len(outcome.outputs)
            echo(f"  (more tasks succeeded than the {shown} shown: runspec outputs {handle.run_id})", file=stream)
    took = f" in {elapsed(outcome.elapsed)}" if outcome.elapsed is not None else ""
    if outcome.status == "succeeded":
        echo("", file=stream)
        echo(f"run {handle.run_id} succeeded{took}", file=stream)
        if outcome.message:
            note(outcome.message)
    elif outcome.status == "failed":
        echo("", file=stream)
        error(outcome.message or f"run {handle.run_id} failed")
    elif outcome.status in ("timed_out", "error", "interrupted"):
        error(outcome.message or f"run {handle.run_id}: {outcome.status}")
    elif outcome.message:
        note(outcome.message)
    print_next_steps(outcome)


def print_next_steps(outcome: Outcome) -> None:
    """After ``--timeout``: the commands that follow the run again or cancel it (on standard error)."""
    if len(outcome.next_steps) == 2:
        follow_it, cancel_it = outcome.next_steps
        echo(f"  follow it:  {follow_it}", file=sys.stderr)
        echo(f"  cancel it:  {cancel_it}", file=sys.stderr)


def follow_by_id(
    handle: RunHandle, settings: Settings, *, as_json: bool, extra: Mapping[str, Any] | None = None
) -> int:
    """
    Follow a run known by id to its end (``runspec wait``, ``runspec repair --wait``), then print the end
    as text or, with ``--json``, as the result object with ``extra``; the exit code.
    """
    outcome = follow(
        handle,
        keys=(),
        wait=True,
        timeout=settings.timeout,
        poll_interval=settings.poll_interval,
        progress=sys.stderr if as_json else sys.stdout,
        start=time.monotonic(),
        workspace=settings.words(),
    )
    if as_json:
        print_json_result(outcome, extra)
    else:
        report(outcome, None, sys.stdout)
    return outcome.exit_code


def print_json_result(outcome: Outcome, extra: Mapping[str, Any] | None = None, file: TextIO | None = None) -> None:
    """``--json``: the result object (``json_result`` and ``extra``); a run that did not succeed also gets
    its one error line and, after ``--timeout``, the next commands, on standard error."""
    echo(json.dumps({**json_result(outcome), **(extra or {})}, indent=2, ensure_ascii=False), file=file)
    if outcome.exit_code:
        error(outcome.message or outcome.status)
        print_next_steps(outcome)


def json_result(outcome: Outcome) -> dict[str, Any]:
    """The ``--json`` object at the end of following a run."""
    handle, run = outcome.handle, outcome.run
    result: dict[str, Any] = {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "run_id": handle.run_id,
        "run_page_url": (run.run_page_url if run is not None else None) or handle.run_page_url,
        "host": handle.host,
    }
    if handle.idempotency_token is not None:  # None for a run attached to by id
        result["idempotency_token"] = handle.idempotency_token
    if handle.reattached:  # submit returned a run an earlier submit with the same token created
        result["reattached"] = True
    if run is not None:
        result["state"] = run.state.label
        result["tasks"] = {t.key: t.state.label for t in run.tasks}
    if outcome.elapsed is not None:
        result["elapsed_seconds"] = round(outcome.elapsed, 3)
    if outcome.status == "succeeded" or outcome.outputs:  # a failed run's: of the tasks that succeeded
        result["outputs"] = {key: output_entry(out) for key, out in outcome.outputs.items()}
    if outcome.failed_tasks:
        result["failed_tasks"] = [task_entry(t) for t in outcome.failed_tasks]
    if outcome.message:
        result["message"] = outcome.message
    if outcome.error:
        result["error"] = outcome.error
    if outcome.cancel:
        result["cancel"] = outcome.cancel
    if outcome.next_steps:
        result["next"] = list(outcome.next_steps)
    return result
