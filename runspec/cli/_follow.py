"""Following a submitted run and reporting its end: the text report and the ``--json`` object."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from runspec.cli._output import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SUBMIT_ERROR,
    clip,
    echo,
    elapsed,
    error,
    note,
    submit_error_line,
    use_color,
)
from runspec.cli._progress import ProgressPrinter
from runspec.spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover - the client layer is imported only by the commands that use it
    from runspec.client import OutputView, RunHandle, RunView, TaskView


@dataclass
class Outcome:
    """What ``follow`` found, for the text report and the JSON object."""

    handle: RunHandle
    exit_code: int = EXIT_OK
    status: str = "submitted"
    run: RunView | None = None
    outputs: dict[str, OutputView] = field(default_factory=dict)
    failed_tasks: list[TaskView] = field(default_factory=list)
    message: str | None = None
    elapsed: float | None = None
    error: dict[str, Any] | None = None


def _output_entry(output: OutputView) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for name in ("notebook_result", "logs", "error", "error_trace", "sql_output", "dbt_output", "run_job_output"):
        value = getattr(output, name)
        if value is not None:
            entry[name] = value
    return entry


def _task_entry(task: TaskView) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": task.key, "state": task.state.label}
    if task.attempt_number:
        entry["attempt"] = task.attempt_number + 1
    if task.error:
        entry["error"] = task.error
    if task.error_trace:
        entry["error_trace"] = task.error_trace
    if task.run_page_url:
        entry["run_page_url"] = task.run_page_url
    return entry


def follow(
    handle: RunHandle,
    spec: RunSpec,
    *,
    wait: bool,
    timeout: float | None,
    poll_interval: float,
    progress: TextIO | None,
    start: float,
) -> Outcome:
    """Wait for the run (when asked) and gather what the report needs. Never raises a RunspecError."""
    from runspec.errors import RunFailed, SubmitError, WaitTimeout

    outcome = Outcome(handle)
    if not wait:
        try:
            outcome.run = handle.get()
        except SubmitError as exc:
            outcome.message = f"submitted, but reading the run failed: {exc}"
        return outcome
    keys = spec.task_keys
    printer = ProgressPrinter(progress, keys, start, show_url=True) if progress is not None else None
    try:
        try:
            run = handle.wait(timeout=timeout, poll_interval=poll_interval, on_progress=printer)
        finally:
            if printer is not None:
                printer.flush()
    except RunFailed as exc:
        outcome.status, outcome.exit_code = "failed", EXIT_FAILED
        outcome.run, outcome.failed_tasks = exc.run, list(exc.failed_tasks)
        outcome.message = exc.message
    except WaitTimeout as exc:
        outcome.status, outcome.exit_code = "timed_out", EXIT_FAILED
        with contextlib.suppress(SubmitError):
            outcome.run = handle.get()
        label = outcome.run.state.label if outcome.run is not None else "not finished"
        url = (outcome.run.run_page_url if outcome.run is not None else None) or handle.run_page_url
        outcome.message = (
            f"stopped waiting after {elapsed(timeout or 0)}: run {exc.run_id} is still {label} and goes on"
            + (f"; cancel it from {url}" if url else "")
        )
    except SubmitError as exc:
        outcome.status, outcome.exit_code = "error", EXIT_SUBMIT_ERROR
        outcome.message = f"following run {handle.run_id} failed: {exc}"
        outcome.error = {"type": type(exc).__name__, "message": submit_error_line(exc, None)}
    else:
        outcome.status, outcome.run = "succeeded", run
        try:
            outcome.outputs = handle.outputs()
        except SubmitError as exc:
            outcome.message = f"the run succeeded, but reading its outputs failed: {exc}"
    outcome.elapsed = time.monotonic() - start
    return outcome


def _print_outputs(outputs: Mapping[str, OutputView], stream: TextIO) -> None:
    shown: list[tuple[str, str, str]] = []
    silent: list[str] = []
    for key, output in outputs.items():
        if output.error:
            shown.append((key, "error", output.error))
        elif output.notebook_result is not None:
            shown.append((key, "", output.notebook_result))
        elif output.logs:
            shown.append((key, "logs", output.logs))
        elif output.sql_output or output.dbt_output or output.run_job_output:
            value = output.sql_output or output.dbt_output or output.run_job_output
            shown.append((key, "", json.dumps(value, sort_keys=True)))
        else:
            silent.append(key)
    echo("outputs:", file=stream)
    if not shown:
        echo("  (no task returned output)", file=stream)
    width = max([0, *(len(k) for k, _, _ in shown)])
    for key, kind, text in shown:
        lines = clip(text, tail=kind == "logs")
        label = f"{kind}: " if kind else ""
        echo(f"  {key:<{width}}  {label}{lines[0]}", file=stream)
        for line in lines[1:]:
            echo(f"  {'':<{width}}  {line}", file=stream)
    if silent and shown:
        echo(f"  (no output: {', '.join(silent)})", file=stream)


def _print_failed(tasks: Sequence[TaskView], stream: TextIO) -> None:
    own = [t for t in tasks if not t.state.knock_on]
    knock_on = [t for t in tasks if t.state.knock_on]
    if own:
        echo("failed tasks:", file=stream)
    for task in own:
        echo(f"  {task.describe()}", file=stream)
        if task.error_trace:
            for line in clip(task.error_trace, tail=True):
                echo(f"      {line}", file=stream)
    if knock_on:
        keys = ", ".join(t.key for t in knock_on)
        echo(f"not run because of an upstream failure: {keys}", file=stream)


def report(outcome: Outcome, spec: RunSpec, stream: TextIO, *, picture: bool = True) -> None:
    """
    The end of ``submit --wait`` (and of ``demo``): the final state, outputs or errors, the verdict.

    The final state is the text picture of the run with each task's state, or (``picture=False``,
    when the picture was shown before) its one-line summary.
    """
    handle, run = outcome.handle, outcome.run
    if outcome.status in ("succeeded", "failed", "timed_out") and run is not None:
        echo("", file=stream)
        if picture:
            echo(spec.to_text(state=run, color=use_color(stream)).rstrip("\n"), file=stream)
        else:
            from runspec.picture import summary

            echo(summary(spec, state=run), file=stream)
    if outcome.status == "succeeded":
        echo("", file=stream)
        _print_outputs(outcome.outputs, stream)
    elif outcome.status == "failed" and outcome.failed_tasks:
        echo("", file=stream)
        _print_failed(outcome.failed_tasks, stream)
    took = f" in {elapsed(outcome.elapsed)}" if outcome.elapsed is not None else ""
    if outcome.status == "succeeded":
        echo("", file=stream)
        echo(f"run {handle.run_id} succeeded{took}", file=stream)
        if outcome.message:
            note(outcome.message)
    elif outcome.status == "failed":
        echo("", file=stream)
        error(outcome.message or f"run {handle.run_id} failed")
    elif outcome.status in ("timed_out", "error"):
        error(outcome.message or f"run {handle.run_id}: {outcome.status}")
    elif outcome.message:
        note(outcome.message)


def json_result(outcome: Outcome) -> dict[str, Any]:
    handle, run = outcome.handle, outcome.run
    result: dict[str, Any] = {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "run_id": handle.run_id,
        "run_page_url": (run.run_page_url if run is not None else None) or handle.run_page_url,
        "idempotency_token": handle.idempotency_token,
        "host": handle.host,
    }
    if run is not None:
        result["state"] = run.state.label
        result["tasks"] = {t.key: t.state.label for t in run.tasks}
    if outcome.elapsed is not None:
        result["elapsed_seconds"] = round(outcome.elapsed, 3)
    if outcome.status == "succeeded":
        result["outputs"] = {key: _output_entry(out) for key, out in outcome.outputs.items()}
    if outcome.failed_tasks:
        result["failed_tasks"] = [_task_entry(t) for t in outcome.failed_tasks]
    if outcome.message:
        result["message"] = outcome.message
    if outcome.error:
        result["error"] = outcome.error
    return result
