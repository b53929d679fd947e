"""What emulated tasks do: scripted outcomes per task key, and the default timings."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Outcome", "Script", "TaskContext", "Timing"]


@dataclass(frozen=True)
class Outcome:
    """
    What one attempt of a task does in the emulator: how long it runs, whether it fails, what it returns.

    Build one with ``Outcome.success(...)``, ``Outcome.fail(...)`` or ``Outcome.hang()``.

    - ``seconds``: running time after the task's setup, in emulated seconds; ``None`` takes the
      emulator's default (``Timing.duration``). ``math.inf`` never finishes (until cancelled or timed out).
    - ``result``: the notebook exit value, returned by ``runs/get-output`` as ``notebook_output.result``
      (notebook tasks only, as on a workspace).
    - ``logs``: stdout/stderr returned as ``logs`` (Python script, wheel and JAR tasks only).
    - ``values``: task values (``dbutils.jobs.taskValues.set``) that later condition tasks and for_each
      inputs can read as ``{{tasks.<key>.values.<name>}}``.
    - ``error`` / ``error_trace``: what ``runs/get-output`` reports for a failed attempt; ``error`` is also
      the task's ``state_message``.
    - ``termination_code`` / ``termination_type``: the ``status.termination_details`` of a failure.
      A ``termination_type`` of ``INTERNAL_ERROR`` also puts the legacy ``life_cycle_state`` in
      ``INTERNAL_ERROR``.
    """

    failed: bool = False
    seconds: float | None = None
    result: str | None = None
    logs: str | None = None
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    error: str | None = None
    error_trace: str | None = None
    termination_code: str = "RUN_EXECUTION_ERROR"
    termination_type: str = "CLIENT_ERROR"

    def __post_init__(self) -> None:
        if self.seconds is not None and (math.isnan(self.seconds) or self.seconds < 0):
            raise ValueError(f"seconds must be zero or more, got {self.seconds!r}")
        if not isinstance(self.values, MappingProxyType):
            object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @classmethod
    def success(
        cls,
        *,
        seconds: float | None = None,
        result: str | None = None,
        logs: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """The attempt succeeds after ``seconds``, returning ``result`` / ``logs`` / task ``values``."""
        return cls(seconds=seconds, result=result, logs=logs, values=dict(values or {}))

    @classmethod
    def fail(
        cls,
        error: str = "Task failed (scripted by the runspec emulator)",
        *,
        trace: str | None = None,
        seconds: float | None = None,
        logs: str | None = None,
        result: str | None = None,
        code: str = "RUN_EXECUTION_ERROR",
        type: str = "CLIENT_ERROR",  # noqa: A002 - the Jobs API's own name for it
    ) -> Outcome:
        """
        The attempt fails after ``seconds`` with ``error`` (and ``trace`` as its ``error_trace``).

        ``code`` and ``type`` become ``status.termination_details``; the defaults are what a workspace
        reports for an exception in user code.
        """
        return cls(
            failed=True,
            seconds=seconds,
            logs=logs,
            result=result,
            error=error,
            error_trace=trace,
            termination_code=code,
            termination_type=type,
        )

    @classmethod
    def hang(cls) -> Outcome:
        """The attempt runs until it is cancelled or hits a timeout."""
        return cls(seconds=math.inf)


@dataclass(frozen=True)
class TaskContext:
    """
    What a script callable gets about the attempt it decides: ``emulator.script("k", lambda ctx: ...)``.

    ``task`` is the task's settings as submitted (for a for_each iteration: the nested task, with
    ``{{input}}`` replaced by the iteration's input), ``input`` the iteration's input (``None`` outside a
    for_each), ``attempt_number`` 0 for the first attempt and one more for each retry and each repair.
    """

    task_key: str
    run_id: int
    task_run_id: int
    attempt_number: int
    task: Mapping[str, Any]
    run_name: str
    input: Any = None
    iteration: int | None = None


Script = Outcome | Sequence[Outcome] | Callable[[TaskContext], Outcome]
"""An outcome for every attempt, a list of outcomes by attempt (the last repeats), or a callable."""


@dataclass(frozen=True)
class Timing:
    """
    How long the emulated phases take, in emulated seconds (divide by ``speed`` for real seconds).

    - ``queue``: a new run waits this long in ``QUEUED`` before its tasks start.
    - ``setup``: each task attempt spends this long in ``PENDING`` (cluster start) before ``RUNNING``.
    - ``duration``: the running time of a task whose outcome does not say ``seconds``.
    - ``cleanup``: each task attempt spends this long in ``TERMINATING``.
    - ``run_cleanup``: the run spends this long in ``TERMINATING`` after its last task ended.
    - ``control``: the running time of condition tasks, which have no setup.

    The defaults make a chain of four tasks finish in about two seconds.
    """

    queue: float = 0.0
    setup: float = 0.1
    duration: float = 0.3
    cleanup: float = 0.05
    run_cleanup: float = 0.05
    control: float = 0.02

    def __post_init__(self) -> None:
        for name in ("queue", "setup", "duration", "cleanup", "run_cleanup", "control"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value < math.inf):
                raise ValueError(f"Timing.{name} must be a finite number of seconds >= 0, got {value!r}")


def pick_outcome(script: Script, context: TaskContext) -> Outcome:
    """The outcome ``script`` gives for the attempt described by ``context``."""
    if isinstance(script, Outcome):
        return script
    if callable(script):
        outcome = script(context)
        if not isinstance(outcome, Outcome):
            raise TypeError(
                f"the script for task {context.task_key!r} returned {type(outcome).__name__}, not an Outcome"
            )
        return outcome
    outcomes = list(script)
    if not outcomes:
        raise ValueError(f"the script for task {context.task_key!r} is an empty list")
    return outcomes[min(context.attempt_number, len(outcomes) - 1)]
