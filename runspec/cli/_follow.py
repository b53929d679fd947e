"""
Following a run to its end (``submit --wait``, ``wait``, ``demo``), and cancelling it when interrupted.

``follow`` never raises for what the workspace says or for an interrupt: it returns an ``Outcome``
holding the final state, the outputs or failed tasks, the exit code and the message, which
``_report`` prints as text or as the ``--json`` object. An interrupt (Ctrl-C, or SIGTERM / SIGHUP
inside ``signals_as_interrupts``) during ``wait()`` cancels the run there, and the message says what
happened: the cancel was requested, it failed (and why), a second interrupt stopped it, or the run
had already finished.
"""

from __future__ import annotations

import contextlib
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from runspec.cli._output import EXIT_FAILED, EXIT_OK, EXIT_SUBMIT_ERROR, elapsed, submit_error_line
from runspec.cli._progress import ProgressPrinter
from runspec.cli._signals import interrupt_code, interrupt_words

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
    #: A failed run: more tasks succeeded than ``outputs`` holds (``RunFailed.more_outputs``).
    more_outputs: bool = False
    failed_tasks: list[TaskView] = field(default_factory=list)
    message: str | None = None
    elapsed: float | None = None
    error: dict[str, Any] | None = None
    #: Commands to run next (after ``--timeout``): follow the run again, or cancel it.
    next_steps: list[str] = field(default_factory=list)
    #: After an interrupt: ``requested``, ``failed``, ``stopped`` (a second interrupt) or ``already_finished``.
    cancel: str | None = None


def command(words: Sequence[str], workspace: Sequence[str]) -> str:
    """A ``runspec`` command line to print, with the workspace options the user gave (quoted for a shell)."""
    return shlex.join(["runspec", *words, *workspace])


def describe_interrupt(
    handle: RunHandle, exc: BaseException, last: RunView | None, workspace: Sequence[str]
) -> tuple[str, str]:
    """
    What came of an interrupt while following the run: ``(what, the message saying so)``.

    ``wait()`` itself cancels the run on an interrupt and records what happened in
    ``handle.interrupt_outcome``; an interrupt outside ``wait()`` (reading the outputs after the
    end) found the run finished (``last``), with nothing to cancel.
    """
    words = interrupt_words(exc)
    run_id = handle.run_id
    again = command(["cancel", str(run_id)], workspace)
    happened = handle.interrupt_outcome
    if happened is None:
        if last is not None and last.state.finished:
            return (
                "already_finished",
                f"{words}: run {run_id} had already finished ({last.state.label}); nothing to cancel",
            )
        return "left_running", f"{words}: run {run_id} goes on; to cancel it: {again}"
    if happened == "cancel requested":
        return "requested", f"{words}: asked the workspace to cancel run {run_id}"
    if happened == "cancel interrupted":
        return (
            "stopped",
            f"{words}, then interrupted again while cancelling run {run_id}: the cancel may not have reached "
            f"the workspace and the run may still be going; to cancel it: {again}",
        )
    if happened.startswith("cancel failed: "):
        reason = " ".join(happened.removeprefix("cancel failed: ").split())
        return (
            "failed",
            f"{words}: could not cancel run {run_id} ({reason}); it may still be going; to cancel it: {again}",
        )
    return "left_running", f"{words}: run {run_id} goes on; to cancel it: {again}"


def follow(
    handle: RunHandle,
    *,
    keys: Sequence[str],
    wait: bool,
    timeout: float | None,
    poll_interval: float | None,
    progress: TextIO | None,
    start: float,
    workspace: Sequence[str] = (),
) -> Outcome:
    """
    Wait for the run (when asked) and gather what the report needs.

    Never raises a ``RunspecError`` or ``KeyboardInterrupt``: an interrupt cancels the run and ends
    the outcome as ``interrupted`` with the exit code of the signal.
    """
    from runspec.client.follow import DEFAULT_POLL_INTERVAL
    from runspec.errors import RunFailed, SubmitError, WaitTimeout

    outcome = Outcome(handle)
    if not wait:
        try:
            outcome.run = handle.get()
        except SubmitError as exc:
            outcome.message = f"submitted, but reading the run failed: {exc}"
        return outcome
    printer = ProgressPrinter(progress, keys, start, show_url=True)
    try:
        try:
            try:
                pause = poll_interval if poll_interval is not None else DEFAULT_POLL_INTERVAL
                run = handle.wait(timeout=timeout, poll_interval=pause, on_progress=printer)
            finally:
                printer.flush()
        except RunFailed as exc:
            outcome.status, outcome.exit_code = "failed", EXIT_FAILED
            outcome.run, outcome.failed_tasks = exc.run, list(exc.failed_tasks)
            outcome.outputs, outcome.more_outputs = dict(exc.outputs), exc.more_outputs  # of the tasks that succeeded
            outcome.message = exc.message
        except WaitTimeout as exc:
            outcome.status, outcome.exit_code = "timed_out", EXIT_FAILED
            with contextlib.suppress(SubmitError):
                outcome.run = handle.get()
            label = outcome.run.state.label if outcome.run is not None else "not finished"
            outcome.message = (
                f"stopped waiting after {elapsed(timeout or 0)}: run {exc.run_id} is still {label} and goes on"
            )
            outcome.next_steps = [
                command(["wait", str(exc.run_id)], workspace),
                command(["cancel", str(exc.run_id)], workspace),
            ]
        except SubmitError as exc:
            outcome.status, outcome.exit_code = "error", EXIT_SUBMIT_ERROR
            outcome.message = f"following run {handle.run_id} failed: {exc}"
            outcome.error = {"type": type(exc).__name__, "message": submit_error_line(exc, None)}
        else:
            outcome.status, outcome.run = "succeeded", run
            printer.last = run
            try:
                outcome.outputs = handle.outputs()
            except SubmitError as exc:
                outcome.message = f"the run succeeded, but reading its outputs failed: {exc}"
    except KeyboardInterrupt as exc:
        outcome.status, outcome.exit_code = "interrupted", interrupt_code(exc)
        outcome.run = printer.last
        outcome.cancel, outcome.message = describe_interrupt(handle, exc, printer.last, workspace)
    outcome.elapsed = time.monotonic() - start
    return outcome
