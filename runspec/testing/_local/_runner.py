"""
``LocalRunner``: the emulator's one object for running tasks' own code. The life cycle (``_run``) asks it
at the start of each task attempt; it answers with a running process, an outcome, or "use the script".
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from runspec.testing._clock import Clock
from runspec.testing._dag import resolve
from runspec.testing._local._code import LocalCode
from runspec.testing._local._plan import RUNNABLE, Missing, NotRunnable, plan_task
from runspec.testing._local._process import OUTPUT_LIMIT, TaskProcess
from runspec.testing._script import Outcome, Script, Timing
from runspec.testing._state import FAILED, TIMEDOUT, Attempt, Node


class RunView(Protocol):
    """What the runner needs of a run (``_run.Run``)."""

    run_id: int
    body: dict[str, Any]
    nodes: dict[str, Node]
    lock: threading.RLock
    deadline: float | None

    def _find(self, node: Node) -> Callable[[str], Any]: ...

    def abort(self, t: float, reason: str) -> None: ...


class Site(Protocol):
    """What the runner needs of the engine that holds the runs (``_engine.Engine``)."""

    scripts: dict[str, Script]
    clock: Clock
    timing: Timing

    def catch_up(self, run: Any) -> float: ...


__all__ = ["REDACTED", "LocalRunner", "NoCode"]

log = logging.getLogger("runspec.testing")

REDACTED = "[REDACTED]"


class NoCode:
    """The emulator without code to run: every task plays its scripted (or default) outcome."""

    def start(self, run: RunView, attempt: Attempt) -> Outcome | Literal[True] | None:
        return None

    def stop(self, run: RunView, attempt: Attempt) -> None:
        return None

    def busy(self) -> bool:
        return False

    def pause(self, until: float) -> None:
        return None

    def close(self) -> None:
        return None


class LocalRunner(NoCode):
    """
    Runs the code of the tasks of ``code``'s runs, each task attempt in a process of its own.

    ``fallback``: a task whose file is missing plays the default outcome (or the ``"*"`` script) instead
    of failing.
    """

    def __init__(self, code: LocalCode, engine: Site, *, fallback: bool = False) -> None:
        if not isinstance(code, LocalCode):
            raise TypeError(f"code must be a runspec.testing.LocalCode, got {type(code).__name__}")
        self.code = code
        self.engine = engine
        self.fallback = fallback
        self._secrets = code.secret_values()
        self._lock = threading.Lock()  # the maps below
        self._processes: dict[int, tuple[TaskProcess, RunView]] = {}  # by task run id
        self._run_started: dict[int, float] = {}  # real (monotonic) time a run first ran code
        self._held: dict[int, float] = {}  # run timeouts (on the clock) that wait while code runs
        self._warned: set[str] = set()
        self._folder: Path | None = None
        self._closed = False

    # -- what the life cycle asks ------------------------------------------------------------------

    def start(self, run: RunView, attempt: Attempt) -> Outcome | Literal[True] | None:
        """
        At the start of ``attempt``: ``True`` when its code now runs in a process, an ``Outcome`` when it
        is decided here (a missing file, a reference that cannot be resolved), ``None`` when its script
        (or the default outcome) decides it.
        """
        node = attempt.node
        if node.key in self.engine.scripts or self._closed:
            return None
        try:
            plan = plan_task(node.spec, self.code, lambda value: resolve(value, run._find(node)))
        except ValueError as exc:
            return Outcome.fail(
                f"Task {node.key}: a parameter's reference cannot be resolved: {exc}",
                seconds=0,
                code="INVALID_RUN_CONFIGURATION",
            )
        if isinstance(plan, NotRunnable):
            if plan.task_type not in self._warned:
                self._warned.add(plan.task_type)
                log.warning(
                    "runspec emulator: %s tasks do not run locally (only %s); they keep scripted outcomes",
                    plan.task_type,
                    ", ".join(RUNNABLE),
                )
            return None
        if isinstance(plan, Missing):
            if self.fallback or "*" in self.engine.scripts:
                return None
            return Outcome.fail(self._redact(plan.message(node.key)), seconds=0, code="RESOURCE_NOT_FOUND")
        for wheel in plan.missing_wheels:
            log.warning("runspec emulator: task %s: no local file for the wheel %s", node.key, wheel)
        task: dict[str, Any] = {
            "kind": plan.kind,
            "file": str(plan.file) if plan.file is not None else None,
            "argv": plan.argv,
            "widgets": plan.widgets,
            "package": plan.package,
            "entry_point": plan.entry_point,
            "wheels": plan.wheels,
            "task_key": node.key,
            "run_id": run.run_id,
            "task_run_id": attempt.run_id,
            "tasks": list(run.nodes),
            "values": {key: dict(other.values) for key, other in run.nodes.items() if other.values},
            "fs_root": str(self._run_folder(run) / "fs"),
            "code": self.code.to_json(),
        }
        with self._lock:
            begun = self._run_started.setdefault(run.run_id, time.monotonic())
        deadlines: list[tuple[float, str]] = []
        if node.timeout is not None:
            deadlines.append((time.monotonic() + node.timeout, "timeout"))
        run_timeout = run.body.get("timeout_seconds")
        if isinstance(run_timeout, (int, float)) and run_timeout > 0:
            deadlines.append((begun + float(run_timeout), "run-timeout"))
        folder = self._run_folder(run) / f"task-{attempt.run_id}"
        try:
            (self._run_folder(run) / "fs").mkdir(parents=True, exist_ok=True)
            process = TaskProcess(
                task,
                folder,
                cwd=plan.cwd,
                deadlines=deadlines,
                on_exit=lambda proc: self._ended(run, attempt, proc),
            )
        except OSError as exc:  # no process, no crash: the task fails and says why
            return Outcome.fail(f"Task {node.key}: could not start its process: {exc}", seconds=0)
        with self._lock:
            if not self.running(run) and run.deadline is not None:
                # While its code runs, the run's timeout counts real seconds (the process is killed then);
                # the clock's deadline waits, so that no clock ends the run before its code does.
                self._held[run.run_id] = run.deadline
                run.deadline = None
            self._processes[attempt.run_id] = (process, run)
        attempt.setup = 0.0  # no cluster to start: RUNNING at once
        return True

    def running(self, run: RunView) -> bool:
        """Whether code of ``run`` is running now; the caller holds ``_lock``."""
        return any(owner is run for _, owner in self._processes.values())

    def _release(self, run: RunView, attempt: Attempt) -> TaskProcess | None:
        """Forget ``attempt``'s process; the last of the run's gives the run its clock's deadline back."""
        with self._lock:
            found = self._processes.pop(attempt.run_id, None)
            if run.run_id in self._held and not self.running(run):
                run.deadline = self._held.pop(run.run_id)
        return found[0] if found is not None else None

    def busy(self) -> bool:
        """Whether any task's code is running."""
        with self._lock:
            return bool(self._processes)

    def pause(self, until: float) -> None:
        """A short real wait for running code; ``TimeoutError`` once ``until`` (monotonic) has passed."""
        if time.monotonic() > until:
            raise TimeoutError("a task's code is still running at the end of the wait's timeout")
        time.sleep(0.005)

    def stop(self, run: RunView, attempt: Attempt) -> None:
        """``attempt`` was cancelled or timed out from outside: kill its process, keep the logs it wrote."""
        process = self._release(run, attempt)
        if process is None:
            return
        process.kill("cut")
        logs, truncated = self._logs(process)
        shutil.rmtree(process.folder, ignore_errors=True)  # what the run keeps is in the attempt now
        attempt.outcome = Outcome(logs=logs)
        attempt.logs_truncated = truncated

    def close(self) -> None:
        """Kill every task process and remove the runs' folders (the emulator stopped)."""
        self._closed = True
        with self._lock:
            found = list(self._processes.values())
        for process, _ in found:
            process.kill("stopped")
        for process, _ in found:
            process._thread.join(timeout=5)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # -- a process ended -----------------------------------------------------------------------------

    def _ended(self, run: RunView, attempt: Attempt, process: TaskProcess) -> None:
        try:
            self._end(run, attempt, process)
        except Exception:  # pragma: no cover - a bug here must not pass unseen in a thread
            log.exception("runspec emulator: ending the task run %s failed", attempt.run_id)

    def _end(self, run: RunView, attempt: Attempt, process: TaskProcess) -> None:
        with run.lock:
            with self._lock:
                mine = self._processes.get(attempt.run_id)
            if mine is None or mine[0] is not process:
                return  # stopped from outside (a cancel, a run timeout): already decided
            self._release(run, attempt)
            if attempt.finalized or attempt.cut or attempt.started is None:
                return
            outcome, truncated = self._outcome(process)
            shutil.rmtree(process.folder, ignore_errors=True)
            attempt.outcome = outcome  # its logs and output, whatever ended it
            attempt.logs_truncated, attempt.result_truncated = truncated
            clock_now = self.engine.clock.now()
            end = max(attempt.started + process.elapsed, clock_now)
            reason = process.reason
            if reason in ("timeout", "run-timeout"):
                limit = attempt.node.timeout if reason == "timeout" else run.body.get("timeout_seconds")
                which = "the task's" if reason == "timeout" else "the run's"
                attempt.result = TIMEDOUT
                attempt.message = f"Timed out after {float(limit or 0):g} seconds ({which} timeout_seconds)."
                attempt.termination_code, attempt.termination_type = "CANCELED", "CLIENT_ERROR"
            elif reason == "stopped":
                attempt.result = FAILED
                attempt.message = "The emulator stopped while the task's code was running."
                attempt.termination_code, attempt.termination_type = "INTERNAL_ERROR", "INTERNAL_ERROR"
            else:
                attempt.take(outcome)
            if reason == "run-timeout":
                end = clock_now
            attempt.end_exec = end
            attempt.end = end + self.engine.timing.cleanup
            if reason == "run-timeout":
                run.abort(end, TIMEDOUT)
            if not self._closed:
                self.engine.catch_up(run)

    def _outcome(self, process: TaskProcess) -> tuple[Outcome, tuple[bool, bool]]:
        logs, logs_cut = self._logs(process)
        report = process.result()
        if report is None:
            code = process.popen.returncode
            error = f"The task's process ended with exit code {code} before it reported a result."
            return Outcome.fail(self._redact(error), logs=logs), (logs_cut, False)
        result: str | None = None
        result_cut = False
        if isinstance(report.get("exit"), str):
            result = self._redact(report["exit"])
            raw = result.encode("utf-8")
            if len(raw) > OUTPUT_LIMIT:
                result, result_cut = raw[:OUTPUT_LIMIT].decode("utf-8", errors="ignore"), True
        values = report.get("values") if isinstance(report.get("values"), Mapping) else {}
        if report.get("status") == "success":
            return Outcome.success(result=result, logs=logs, values=values), (logs_cut, result_cut)
        error = self._redact(str(report.get("error") or "Task failed."))
        trace = report.get("trace")
        return (
            Outcome.fail(
                error, trace=self._redact(trace) if isinstance(trace, str) else None, logs=logs, result=result
            ),
            (logs_cut, result_cut),
        )

    def _logs(self, process: TaskProcess) -> tuple[str, bool]:
        raw, cut = process.logs()
        text = self._redact(raw.decode("utf-8", errors="replace"))
        data = text.encode("utf-8")
        if len(data) > OUTPUT_LIMIT:
            text = data[-OUTPUT_LIMIT:].decode("utf-8", errors="ignore")
        return text, cut

    def _redact(self, text: str) -> str:
        for value in self._secrets:
            text = text.replace(value, REDACTED)
        return text

    def _run_folder(self, run: RunView) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="runspec-local-"))
        return self._folder / f"run-{run.run_id}"
