"""Progress lines while a run is followed: one line per change, with the time since submitting."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from runspec.cli._output import echo, elapsed

if TYPE_CHECKING:  # pragma: no cover - the client layer is imported only by the commands that use it
    from runspec.client import Progress, RunView


class ProgressPrinter:
    """
    Prints each change ``wait()`` reports as one line: elapsed time, task (or ``run``), state.

    With ``stream=None`` it prints nothing and only keeps ``last``, the run as last seen (what a
    cancel after an interrupt needs to know). Without ``keys`` the key column takes the width of
    the task keys in the first change seen.
    """

    def __init__(self, stream: TextIO | None, keys: Sequence[str], start: float, show_url: bool) -> None:
        self.stream = stream
        self.width = max([3, *(len(k) for k in keys)]) if keys else 0
        self.start = start
        self.show_url = show_url
        self.last: RunView | None = None
        self._held: str | None = None

    def __call__(self, event: Progress) -> None:
        self.last = event.run
        if self.stream is None:
            return
        if not self.width:
            self.width = max([3, *(len(t.key) for t in event.run.tasks)])
        if event.kind == "url":
            if self.show_url and event.run.run_page_url:
                echo(f"  {event.run.run_page_url}", file=self.stream)
            return
        if event.kind == "task" and event.task is not None:
            task = event.task
            if event.previous is None and event.state == "BLOCKED":
                return  # every downstream task starts blocked: not news
            name = task.key
            state = event.state or task.state.label
            if task.attempt_number:
                state += f" (attempt {task.attempt_number + 1})"
            message = task.state.message if task.state.finished and not task.state.succeeded() else None
        else:
            name = "run"
            state = event.state or event.run.state.label
            message = None
        line = f"  {elapsed(time.monotonic() - self.start):>7}  {name:<{self.width}}  {state}"
        if message:
            line += f": {' '.join(message.split())[:200]}"
        if event.kind == "run" and event.run.state.finished:
            self._held = line  # the run's end reads best after its tasks' last changes
            return
        echo(line, file=self.stream)

    def flush(self) -> None:
        """Print the line held back (the run's final state)."""
        if self._held is not None and self.stream is not None:
            echo(self._held, file=self.stream)
        self._held = None
