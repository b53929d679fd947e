"""One task run's process: started with the task's JSON, watched for its end and its timeouts, killed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["OUTPUT_LIMIT", "TaskProcess"]

OUTPUT_LIMIT = 5 * 1024 * 1024
"""What ``runs/get-output`` keeps: the last 5 MB of logs, the first 5 MB of a notebook's result."""

_CHILD = Path(__file__).resolve().parent / "_child.py"


class TaskProcess:
    """
    The process running one task attempt's code: its stdout and stderr go to a file in ``folder`` (so a
    task that prints gigabytes costs disk, not the emulator's memory), its result to a JSON file.

    ``deadlines``: ``(monotonic time, reason)`` pairs; the process is killed at the earliest, and
    ``reason`` says why. ``on_exit`` is called from the watching thread once the process has ended.
    """

    def __init__(
        self,
        task: dict[str, Any],
        folder: Path,
        *,
        cwd: Path,
        deadlines: list[tuple[float, str]],
        on_exit: Callable[[TaskProcess], None],
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.log_file = folder / "output.log"
        self.result_file = folder / "result.json"
        task_file = folder / "task.json"
        task = {**task, "result_file": str(self.result_file)}
        fd = os.open(task_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it may hold secrets
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(task, handle)
        env = dict(os.environ)
        env["RUNSPEC_LOCAL_TASK"] = str(task_file)
        env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr interleave in the logs as they were written
        self.reason: str | None = None
        self.started = time.monotonic()
        self.ended: float | None = None
        self._on_exit = on_exit
        with open(self.log_file, "wb") as log:
            self.popen = subprocess.Popen(
                [sys.executable, str(_CHILD)],
                cwd=str(cwd),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a kill reaches what it started too
            )
        self._deadline = min(deadlines, default=None)
        self._thread = threading.Thread(target=self._watch, name=f"runspec-task-{self.popen.pid}", daemon=True)
        self._thread.start()

    @property
    def elapsed(self) -> float:
        """Real seconds the process ran (so far)."""
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    def _watch(self) -> None:
        try:
            if self._deadline is None:
                self.popen.wait()
            else:
                when, reason = self._deadline
                try:
                    self.popen.wait(timeout=max(0.0, when - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.kill(reason)
        finally:
            self.ended = time.monotonic()
            self._kill_group()  # whatever the task left running in the background goes with it
            self._on_exit(self)

    def kill(self, reason: str) -> None:
        """Kill the process and everything it started; ``reason`` is kept (the first one given)."""
        if self.reason is None and self.popen.poll() is None:
            self.reason = reason
        self._kill_group()
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL does not wait for the process
            self.popen.wait(timeout=10)

    def _kill_group(self) -> None:
        with contextlib.suppress(OSError):  # ProcessLookupError: nothing of it is left
            os.killpg(self.popen.pid, signal.SIGKILL)

    def logs(self) -> tuple[bytes, bool]:
        """The tail of stdout and stderr (at most ``OUTPUT_LIMIT`` bytes plus a margin) and whether it was cut."""
        try:
            size = self.log_file.stat().st_size
        except OSError:
            return b"", False
        keep = OUTPUT_LIMIT + 64 * 1024  # a margin for redacting a secret cut by the limit
        with open(self.log_file, "rb") as handle:
            if size > keep:
                handle.seek(size - keep)
            return handle.read(), size > OUTPUT_LIMIT

    def result(self) -> dict[str, Any] | None:
        """What the task process reported, or ``None`` when it was killed before it could."""
        try:
            with open(self.result_file, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
