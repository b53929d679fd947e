"""
Following a run to its end with as few requests as possible: ``RunHandle.wait()``.

How it polls:

* Each poll reads only the first page of ``runs/get``: it carries the run's state (and its first
  100 tasks). The other pages are read only when something needs them: an ``on_progress``
  callback (it is told about every task; the other pages are then read at most once per two
  ``poll_interval``), and the end (the finished run, with every task, is what ``wait()`` returns
  or puts in ``RunFailed``, with the outputs of the tasks that succeeded).
* The pause between polls starts at 1 s and grows by half each poll up to ``poll_interval``
  (7.5 s by default); task changes do not reset it (a run of 300 tasks changes every few seconds,
  and the run's end is what matters). ``poll_interval`` is the longest pause, and is honoured. A
  run seen in ``TERMINATING`` is looked at again after 1 s.
* Every request of a poll is bounded by what is left of ``timeout``, so one hung request cannot
  stretch the wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from runspec._text import plural
from runspec.client.pages import first_page, more_pages
from runspec.client.results import OutputView, RunState, RunView, TaskView
from runspec.client.tracked import Tracked
from runspec.errors import RunFailed, RunspecError, WaitTimeout

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "INTERRUPT_CANCEL_DEADLINE",
    "MAX_ERROR_FETCHES",
    "MAX_OUTPUT_FETCHES",
    "Progress",
    "follow",
    "task_outputs",
]

log = logging.getLogger("runspec")

#: Most get-output calls ``wait()`` makes to explain a failure; further failed tasks keep their
#: state message only.
MAX_ERROR_FETCHES = 100
#: Most get-output calls ``wait()`` makes for the outputs of a failed run's tasks that succeeded
#: (``RunFailed.outputs``); ``RunHandle.outputs()`` reads them all.
MAX_OUTPUT_FETCHES = 100
#: How long cancelling on Ctrl-C may take, every request included, before giving up.
INTERRUPT_CANCEL_DEADLINE = 30.0
#: The longest pause between two polls unless ``poll_interval`` says otherwise. At 7.5 s, reading one
#: page a poll, following a 300-task run costs under half the requests of the official SDK's waiter
#: (10 s plus jitter, every page each poll) and notices the end sooner on average
#: (``benchmarks/wait.py``).
DEFAULT_POLL_INTERVAL = 7.5
_FIRST_POLL = 1.0
_POLL_GROWTH = 1.5
#: With ``on_progress``, the pages after the first are read at most once per this many ``poll_interval``.
_PROGRESS_PAGES = 2.0


@dataclass(frozen=True)
class Progress:
    """
    One thing ``wait()`` noticed, passed to its ``on_progress`` callback and logged at INFO.

    ``kind`` is ``"url"`` (the run page URL, once), ``"run"`` (the run's state changed) or
    ``"task"`` (a task's state changed; ``task`` is set). ``message`` is a ready-to-print line;
    ``state`` the new state label and ``previous`` the one before (``None`` the first time).
    """

    kind: Literal["url", "run", "task"]
    message: str
    run: RunView
    state: str | None = None
    previous: str | None = None
    task: TaskView | None = None


def _queue_note(run: RunView) -> str:
    """`` (why it waits)`` for a queued run, else nothing."""
    reason = run.state.queue_reason
    return f" ({reason})" if reason and run.state.state == "QUEUED" else ""


def iteration_key(parent: str, index: int) -> str:
    """The key an iteration of for-each task ``parent`` is filed under: ``loop[3]``."""
    return f"{parent}[{index}]"


class _Watcher:
    """The state ``wait()`` keeps between polls, to report only what changed."""

    def __init__(self, run_id: int, on_progress: Callable[[Progress], None] | None) -> None:
        self.run_id = run_id
        self.on_progress = on_progress
        self.seen_url = False
        self.run_label: str | None = None
        self.task_labels: dict[str, str] = {}

    def report(self, event: Progress) -> None:
        log.info("%s", event.message)
        if self.on_progress is not None:
            self.on_progress(event)

    def look(self, run: RunView) -> None:
        if not self.seen_url and run.run_page_url:
            self.seen_url = True
            self.report(Progress("url", f"run {self.run_id}: {run.run_page_url}", run))
        label = run.state.label
        if label != self.run_label:
            message = f"run {self.run_id}: {label}{_queue_note(run)}"
            self.report(Progress("run", message, run, state=label, previous=self.run_label))
            self.run_label = label
        for task in run.tasks:
            task_label = task.state.label
            before = self.task_labels.get(task.key)
            if task_label != before:
                self.task_labels[task.key] = task_label
                message = f"run {self.run_id}: task {task.key}: {task_label}"
                self.report(Progress("task", message, run, state=task_label, previous=before, task=task))


def follow(
    tracked: Tracked,
    timeout: float | None,
    *,
    poll_interval: float,
    on_progress: Callable[[Progress], None] | None,
    cancel_on_interrupt: bool,
    allow_success_with_failures: bool,
) -> RunView:
    """The body of ``RunHandle.wait()`` (see there)."""
    if poll_interval <= 0:
        raise ValueError("poll_interval must be > 0 seconds")
    transport = tracked.transport
    clock = transport.clock
    start = clock()
    interval = min(_FIRST_POLL, poll_interval)
    watcher = _Watcher(tracked.run_id, on_progress)
    last_full: float | None = None

    def remaining() -> float | None:
        return None if timeout is None else timeout - (clock() - start)

    def bound() -> float | None:
        left = remaining()
        return None if left is None else max(min(left, transport.deadline), 0.0)

    try:
        while True:
            awaiting = tracked.awaiting_repair
            page = first_page(transport, tracked.run_id, deadline=bound(), history=awaiting is not None)
            run = RunView(page)
            finished = run.state.finished and (awaiting is None or _repair_finished(page, awaiting))
            # Progress needs every task, but not on every poll: the other pages are read at most
            # once per two longest pauses (the first page, read each poll, has the run's state).
            progress_due = on_progress is not None and (
                last_full is None or clock() - last_full >= _PROGRESS_PAGES * poll_interval
            )
            if finished or progress_due:
                run = RunView(more_pages(transport, tracked.run_id, page, deadline=bound()))
                last_full = clock()
            tracked.seen(run)
            watcher.look(run)
            if finished:
                tracked.awaiting_repair = None
                return _finish(tracked, run, allow_success_with_failures)
            left = remaining()
            if left is not None and left <= 0:
                raise _timeout(tracked.run_id, run, timeout or 0.0)
            # A run in TERMINATING is about to end: look again soon, without changing the schedule.
            pause = min(interval, _FIRST_POLL) if run.state.state == "TERMINATING" else interval
            pause = pause if left is None else min(pause, left)
            transport.sleep(pause)
            interval = min(poll_interval, interval * _POLL_GROWTH)
    except KeyboardInterrupt:
        _interrupted(tracked, cancel_on_interrupt)
        raise
    except RunspecError as exc:
        if timeout is not None and not isinstance(exc, (RunFailed, WaitTimeout)) and (remaining() or 0) <= 0:
            raise _timeout(tracked.run_id, None, timeout) from exc
        raise


def _repair_finished(page: dict[str, Any], repair_id: int) -> bool:
    """
    After ``repair()``: whether the run's finished state belongs to that repair (its entry in
    ``repair_history`` has finished), not to the run before it. A history that does not list the
    repair yet means not yet; no history at all, or an entry without a state, leaves the run's own
    state to decide.
    """
    history = page.get("repair_history")
    if not isinstance(history, list):
        return True
    for entry in history:
        if isinstance(entry, dict) and entry.get("id") == repair_id:
            state = RunState.of(entry)
            return state.finished if state.state is not None else True
    return False


def _interrupted(tracked: Tracked, cancel_on_interrupt: bool) -> None:
    """Cancel on Ctrl-C (within ``INTERRUPT_CANCEL_DEADLINE``), and say what actually happened."""
    if not cancel_on_interrupt:
        tracked.interrupt_outcome = "left running"
        log.warning("run %d: interrupted; the run goes on", tracked.run_id)
        return
    log.warning("run %d: interrupted; cancelling the run", tracked.run_id)
    try:
        tracked.cancel(deadline=INTERRUPT_CANCEL_DEADLINE)
    except KeyboardInterrupt:
        tracked.interrupt_outcome = "cancel interrupted"
        log.error("run %d: interrupted again before the cancel went through; it may still be running", tracked.run_id)
    except RunspecError as exc:
        tracked.interrupt_outcome = f"cancel failed: {exc}"
        log.error("run %d: could not cancel (%s); it may still be running", tracked.run_id, exc)
    else:
        tracked.interrupt_outcome = "cancel requested"


def _timeout(run_id: int, run: RunView | None, timeout: float) -> WaitTimeout:
    where = f" ({run.run_page_url})" if run is not None and run.run_page_url else ""
    state = f"still {run.state.label}" if run is not None else "not finished as far as runspec could tell"
    return WaitTimeout(
        f"run {run_id} is {state} after waiting {timeout:g} s{where}; it goes on in the workspace. "
        f"Cancel it with RunHandle.attach({run_id}).cancel(), `runspec cancel {run_id}`, or from the run page",
        run_id=run_id,
    )


def _output_of(tracked: Tracked, task: TaskView) -> TaskView:
    """The task with its get-output attached, or as it is when that cannot be read."""
    if task.run_id is None:
        return task
    try:
        return task.with_output(tracked.output(task.run_id, task.key))
    except RunspecError as exc:
        log.warning("run %d: could not read the output of %s: %s", tracked.run_id, task.key, exc)
        return task


def failed_tasks(tracked: Tracked, run: RunView, allow_success_with_failures: bool) -> list[TaskView]:
    """
    The tasks that did not succeed, each with its get-output; a for-each task once, with its
    failed iterations (and theirs) in ``failed_iterations``.
    """
    failed: list[TaskView] = []
    budget = MAX_ERROR_FETCHES
    for task in run.tasks:
        state = task.state
        if state.succeeded(allow_success_with_failures=allow_success_with_failures):
            continue
        if state.excluded:
            # A condition branch not taken or a disabled task: the run went as planned there.
            continue
        if task.is_for_each:
            iterations: list[TaskView] = []
            if task.run_id is not None:
                try:
                    inner = RunView(tracked.read(task.run_id))
                except RunspecError as exc:
                    log.warning("run %d: could not read for-each task %s: %s", tracked.run_id, task.key, exc)
                    inner = RunView({})
                for index, item in enumerate(inner.iterations):
                    if item.state.succeeded() or item.state.excluded:
                        continue
                    view = TaskView(item.raw, key=iteration_key(task.key, index))
                    if not view.state.knock_on and budget > 0:
                        budget -= 1
                        view = _output_of(tracked, view)
                    iterations.append(view)
            failed.append(task.with_failed_iterations(iterations))
            continue
        if not state.knock_on and budget > 0:
            budget -= 1
            task = _output_of(tracked, task)
        failed.append(task)
    return failed


def expand(tracked: Tracked, tasks: list[TaskView]) -> Iterator[TaskView]:
    """``tasks``, a for-each task replaced by its iterations (``loop[0]``, ...), read as they are reached."""
    for task in tasks:
        if task.is_for_each and task.run_id is not None:
            inner = RunView(tracked.read(task.run_id))
            for index, item in enumerate(inner.iterations):
                yield TaskView(item.raw, key=iteration_key(task.key, index))
        else:
            yield task


def task_outputs(tracked: Tracked, tasks: list[TaskView], limit: int | None = None) -> dict[str, OutputView]:
    """
    ``{key: output}`` of ``tasks`` (for-each tasks as their iterations) from get-output of each task
    run; tasks that never started are left out, and so is everything past ``limit`` outputs.
    """
    result: dict[str, OutputView] = {}
    for task in expand(tracked, tasks):
        if task.run_id is None:
            continue
        if limit is not None and len(result) >= limit:
            break
        result[task.key] = tracked.output(task.run_id, task.key)
    return result


def _succeeded_outputs(tracked: Tracked, run: RunView) -> tuple[dict[str, OutputView], bool]:
    """
    The outputs of a failed run's tasks that succeeded, at most ``MAX_OUTPUT_FETCHES`` (and whether
    some were left out); none when they cannot be read.
    """
    succeeded = [task for task in run.tasks if task.state.succeeded()]
    try:
        outputs = task_outputs(tracked, succeeded, MAX_OUTPUT_FETCHES + 1)
    except RunspecError as exc:
        log.warning("run %d: could not read the outputs of the tasks that succeeded: %s", tracked.run_id, exc)
        return {}, False
    if len(outputs) <= MAX_OUTPUT_FETCHES:
        return outputs, False
    return dict(list(outputs.items())[:MAX_OUTPUT_FETCHES]), True


def _finish(tracked: Tracked, run: RunView, allow_success_with_failures: bool) -> RunView:
    if run.succeeded(allow_success_with_failures=allow_success_with_failures):
        return run
    failed = failed_tasks(tracked, run, allow_success_with_failures)
    outputs, more = _succeeded_outputs(tracked, run)
    state = run.state
    text = run.describe()
    if state.outcome == "SUCCESS_WITH_FAILURES":
        text += " (its last tasks succeeded but others failed; pass allow_success_with_failures=True to accept this)"
    if failed:
        text += f"; {plural(len(failed), 'task')} did not succeed"
        iterations = sum(len(t.failed_iterations) for t in failed)
        if iterations:
            text += f", with {plural(iterations, 'failed for-each iteration')}"
    if run.run_page_url:
        text += f" - {run.run_page_url}"
    raise RunFailed(
        tracked.transport.redactor.text(text), run=run, failed_tasks=failed, outputs=outputs, more_outputs=more
    )
