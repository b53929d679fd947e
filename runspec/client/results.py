"""
Read-only typed views over the JSON the Jobs API returns.

Every view keeps the decoded JSON it was built from in ``.raw`` (a plain ``dict``, so ``json.dumps``
works on it; treat it as read-only). The views add names, types and the decisions a caller needs:
is the run finished, did it succeed, which tasks failed and why.

How a state is read (``RunState``):

* The current ``status`` object is read first: ``status.state == "TERMINATED"`` is the only
  finished state, and success means ``termination_details.type == "SUCCESS"``.
* When a response has no ``status``, the deprecated ``state`` is read: ``TERMINATED``,
  ``SKIPPED`` and ``INTERNAL_ERROR`` are finished, and success means ``result_state == "SUCCESS"``.
* A state runspec does not know (the API adds new ones) counts as not finished.
* ``SUCCESS_WITH_FAILURES`` (the leaf tasks succeeded but others failed, for example a clean-up
  task with ``run_if: ALL_DONE`` after a failed task) is **not** success unless the caller allows
  it, so a failed task is never hidden behind a green run. Skipped, disabled and cancelled runs
  are not success either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from runspec._runs_get import iterations, latest_attempts

__all__ = ["OutputView", "RunState", "RunView", "TaskView"]

_LEGACY_TERMINAL = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
_V2_TERMINAL = "TERMINATED"
# Termination codes that never mean success, whatever ``type`` says.
_NOT_SUCCESS_CODES = frozenset({"SKIPPED", "DISABLED", "CANCELED", "USER_CANCELED", "SUCCESS_WITH_FAILURES"})
# Results that say a task did not run because of something else (not its own failure).
_KNOCK_ON = frozenset({"UPSTREAM_FAILED", "UPSTREAM_CANCELED", "SKIPPED", "EXCLUDED"})
# Results of a task the run chose not to run (a condition branch not taken, a run_if not met, a
# disabled task): part of a run that went as planned, never a failure.
_NOT_SELECTED = frozenset({"EXCLUDED", "DISABLED"})


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    return value if isinstance(value, int) else None


class _View:
    """Shared behaviour: frozen attributes and a ``raw`` dict."""

    __slots__ = ("_raw",)

    _raw: dict[str, Any]

    def __init__(self, raw: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_raw", dict(raw))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __setstate__(self, state: tuple[None, dict[str, Any]]) -> None:
        """Unpickling (and ``copy``) fills the slots as ``__init__`` does, past the read-only ``__setattr__``."""
        for name, value in state[1].items():
            object.__setattr__(self, name, value)

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object as the API returned it."""
        return self._raw

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, _View) and other._raw == self._raw

    __hash__ = None  # type: ignore[assignment]


class RunState(_View):
    """
    The state of a run or task run, from its ``status`` and (deprecated) ``state`` objects.

    ``raw`` is ``{"status": ..., "state": ...}`` with whichever of the two the API sent.
    """

    __slots__ = ()

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> RunState:
        """The state of a run or task JSON object."""
        raw: dict[str, Any] = {}
        for key in ("status", "state"):
            if isinstance(obj.get(key), dict):
                raw[key] = obj[key]
        return cls(raw)

    @property
    def _status(self) -> dict[str, Any]:
        return _obj(self._raw.get("status"))

    @property
    def _legacy(self) -> dict[str, Any]:
        return _obj(self._raw.get("state"))

    @property
    def _details(self) -> dict[str, Any]:
        return _obj(self._status.get("termination_details"))

    @property
    def state(self) -> str | None:
        """``status.state`` (``QUEUED``, ``RUNNING``, ``TERMINATED``, ...), else the legacy one."""
        return _str(self._status.get("state")) or self.life_cycle_state

    @property
    def life_cycle_state(self) -> str | None:
        """The deprecated ``state.life_cycle_state``."""
        return _str(self._legacy.get("life_cycle_state"))

    @property
    def result_state(self) -> str | None:
        """The deprecated ``state.result_state`` (``SUCCESS``, ``FAILED``, ...) once finished."""
        return _str(self._legacy.get("result_state"))

    @property
    def termination_code(self) -> str | None:
        """``status.termination_details.code`` (``SUCCESS``, ``RUN_EXECUTION_ERROR``, ...)."""
        return _str(self._details.get("code"))

    @property
    def termination_type(self) -> str | None:
        """``status.termination_details.type`` (``SUCCESS``, ``CLIENT_ERROR``, ...)."""
        return _str(self._details.get("type"))

    @property
    def message(self) -> str | None:
        """The workspace's explanation: the termination message, else the legacy state message."""
        return _str(self._details.get("message")) or _str(self._legacy.get("state_message"))

    @property
    def queue_reason(self) -> str | None:
        """Why the run waits in the queue, when it does."""
        queue = _obj(self._status.get("queue_details"))
        return _str(queue.get("message")) or _str(queue.get("code"))

    @property
    def _uses_status(self) -> bool:
        state = _str(self._status.get("state"))
        if state is None:
            return False
        # A finished V2 state without any termination details says nothing about success: use the
        # legacy object when it has a result.
        return not (state == _V2_TERMINAL and not self._details and self.result_state)

    @property
    def finished(self) -> bool:
        """True once the run can change no more. Unknown states are not finished."""
        if _str(self._status.get("state")) is not None:
            return self._status.get("state") == _V2_TERMINAL
        return self.life_cycle_state in _LEGACY_TERMINAL

    @property
    def outcome(self) -> str | None:
        """How it ended (termination code or legacy result state); ``None`` while not finished."""
        if not self.finished:
            return None
        if self._uses_status:
            return self.termination_code or self.termination_type or self.result_state
        return self.result_state or self.life_cycle_state

    def succeeded(self, *, allow_success_with_failures: bool = False) -> bool:
        """
        True when finished successfully.

        ``SUCCESS_WITH_FAILURES`` counts only with ``allow_success_with_failures=True``.
        """
        if not self.finished:
            return False
        if self._uses_status:
            code = self.termination_code
            if code == "SUCCESS_WITH_FAILURES":
                return allow_success_with_failures
            if code in _NOT_SUCCESS_CODES:
                return False
            kind = self.termination_type
            if kind is not None:
                return kind == "SUCCESS"
            return code == "SUCCESS"
        if self.life_cycle_state != "TERMINATED":
            return False
        result = self.result_state
        if result == "SUCCESS_WITH_FAILURES":
            return allow_success_with_failures
        return result == "SUCCESS"

    @property
    def knock_on(self) -> bool:
        """True when it did not run because of another task (upstream failed, skipped, excluded)."""
        return self.result_state in _KNOCK_ON or self.termination_code in {"SKIPPED"}

    @property
    def excluded(self) -> bool:
        """
        True for a task the run chose not to run: a condition branch not taken, a ``run_if`` not met
        (``EXCLUDED``), or a disabled task. Not a failure: a run can succeed with excluded tasks.
        """
        return self.result_state in _NOT_SELECTED or self.termination_code in _NOT_SELECTED

    @property
    def upstream_canceled(self) -> bool:
        """True when it did not run because the run (or a task before it) was cancelled."""
        return self.result_state == "UPSTREAM_CANCELED"

    @property
    def canceled(self) -> bool:
        """True when it was cancelled (by a user or a timeout) while it ran."""
        return self.result_state == "CANCELED" or self.termination_code in {"CANCELED", "USER_CANCELED"}

    @property
    def label(self) -> str:
        """A short text: ``RUNNING``, ``TERMINATED SUCCESS``, ``TERMINATED RUN_EXECUTION_ERROR``."""
        state = self.state or "UNKNOWN"
        outcome = self.outcome
        if outcome and outcome != state:
            return f"{state} {outcome}"
        return state

    def __repr__(self) -> str:
        return f"RunState({self.label!r})"


class OutputView(_View):
    """
    What ``runs/get-output`` returned for one task run.

    ``notebook_result`` is the value the notebook passed to ``dbutils.notebook.exit`` (the first
    5 MB); ``logs`` the last 5 MB of stdout/stderr of Python script, wheel and JAR tasks;
    ``error`` and ``error_trace`` say why the task failed.
    """

    __slots__ = ("_key",)

    _key: str | None

    def __init__(self, raw: Mapping[str, Any], *, task_key: str | None = None) -> None:
        super().__init__(raw)
        object.__setattr__(self, "_key", task_key)

    @property
    def task_key(self) -> str | None:
        """The key this output is filed under in ``outputs()`` (``loop[3]`` for an iteration)."""
        return self._key

    @property
    def run_id(self) -> int | None:
        """The task run id the output belongs to."""
        return _int(_obj(self._raw.get("metadata")).get("run_id"))

    @property
    def notebook_result(self) -> str | None:
        """``notebook_output.result``: the notebook's exit value."""
        return _str(_obj(self._raw.get("notebook_output")).get("result"))

    @property
    def notebook_truncated(self) -> bool:
        """True when the notebook result was cut at 5 MB."""
        return bool(_obj(self._raw.get("notebook_output")).get("truncated"))

    @property
    def logs(self) -> str | None:
        """Standard output and error of the task (Python script, wheel and JAR tasks)."""
        return _str(self._raw.get("logs"))

    @property
    def logs_truncated(self) -> bool:
        """True when only the last 5 MB of the logs came back."""
        return bool(self._raw.get("logs_truncated"))

    @property
    def error(self) -> str | None:
        """The error message of a failed task."""
        return _str(self._raw.get("error"))

    @property
    def error_trace(self) -> str | None:
        """The stack trace of a failed task."""
        return _str(self._raw.get("error_trace"))

    @property
    def info(self) -> str | None:
        """Extra information the workspace attached to the output."""
        return _str(self._raw.get("info"))

    @property
    def sql_output(self) -> dict[str, Any] | None:
        """``sql_output`` of a SQL task, as JSON."""
        value = self._raw.get("sql_output")
        return value if isinstance(value, dict) else None

    @property
    def dbt_output(self) -> dict[str, Any] | None:
        """``dbt_output`` (artifact link and headers) of a dbt task, as JSON."""
        value = self._raw.get("dbt_output")
        return value if isinstance(value, dict) else None

    @property
    def run_job_output(self) -> dict[str, Any] | None:
        """``run_job_output`` (the triggered job's run id) of a run-job task."""
        value = self._raw.get("run_job_output")
        return value if isinstance(value, dict) else None

    def __repr__(self) -> str:
        parts = [f"task_key={self._key!r}"]
        if self.error:
            parts.append(f"error={_short(self.error)!r}")
        elif self.notebook_result is not None:
            parts.append(f"notebook_result={_short(self.notebook_result)!r}")
        elif self.logs is not None:
            parts.append(f"logs={_short(self.logs)!r}")
        return f"OutputView({', '.join(parts)})"


def _short(text: str, limit: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


class _Timed(_View):
    """The timings a run and each of its task runs share."""

    __slots__ = ()

    @property
    def start_time(self) -> int | None:
        """Start, in epoch milliseconds."""
        return _int(self._raw.get("start_time")) or None

    @property
    def end_time(self) -> int | None:
        """End, in epoch milliseconds (``None`` while running)."""
        return _int(self._raw.get("end_time")) or None

    @property
    def run_duration(self) -> int | None:
        """Total duration in milliseconds, once known."""
        return _int(self._raw.get("run_duration"))

    @property
    def queue_duration(self) -> int | None:
        """Time spent queued, in milliseconds."""
        return _int(self._raw.get("queue_duration"))


class TaskView(_Timed):
    """
    One task run of a run: ``task_key``, ``run_id`` (the task run id), ``state`` and timings.

    ``error`` and ``error_trace`` come from ``runs/get-output`` when runspec fetched it (it does for
    failed tasks in ``RunFailed``); until then ``error`` falls back to the state's message.
    ``key`` is ``task_key`` for a task and ``loop[3]`` for iteration 3 of a for-each task ``loop``.
    """

    __slots__ = ("_failed_iterations", "_key", "_output")

    _key: str
    _output: OutputView | None
    _failed_iterations: tuple[TaskView, ...]

    def __init__(
        self,
        raw: Mapping[str, Any],
        *,
        key: str | None = None,
        output: OutputView | None = None,
        failed_iterations: Sequence[TaskView] = (),
    ) -> None:
        super().__init__(raw)
        object.__setattr__(self, "_key", key or _str(raw.get("task_key")) or "")
        object.__setattr__(self, "_output", output)
        object.__setattr__(self, "_failed_iterations", tuple(failed_iterations))

    def with_output(self, output: OutputView | None) -> TaskView:
        """The same task with its ``runs/get-output`` result attached."""
        return TaskView(self._raw, key=self._key, output=output, failed_iterations=self._failed_iterations)

    def with_failed_iterations(self, iterations: Sequence[TaskView]) -> TaskView:
        """The same for-each task with the iterations that did not succeed attached."""
        return TaskView(self._raw, key=self._key, output=self._output, failed_iterations=iterations)

    @property
    def failed_iterations(self) -> tuple[TaskView, ...]:
        """
        For a failed for-each task in ``RunFailed.failed_tasks``: its iterations that did not
        succeed (keys ``loop[3]``), each with its error. Empty otherwise.
        """
        return self._failed_iterations

    @property
    def key(self) -> str:
        """The name runspec files this task under: ``task_key``, or ``loop[3]`` for an iteration."""
        return self._key

    @property
    def task_key(self) -> str:
        """The task's key in the run."""
        return _str(self._raw.get("task_key")) or ""

    @property
    def run_id(self) -> int | None:
        """The task run id (what ``runs/get-output`` needs)."""
        return _int(self._raw.get("run_id"))

    @property
    def state(self) -> RunState:
        """The task's state."""
        return RunState.of(self._raw)

    @property
    def attempt_number(self) -> int:
        """0 for the first attempt, then 1, 2, ... for retries."""
        return _int(self._raw.get("attempt_number")) or 0

    @property
    def run_page_url(self) -> str | None:
        """Link to the task run in the workspace UI."""
        return _str(self._raw.get("run_page_url"))

    @property
    def setup_duration(self) -> int | None:
        """Cluster setup time in milliseconds."""
        return _int(self._raw.get("setup_duration"))

    @property
    def execution_duration(self) -> int | None:
        """Time spent running the task's code, in milliseconds."""
        return _int(self._raw.get("execution_duration"))

    @property
    def is_for_each(self) -> bool:
        """True for a for-each task (its work happens in iterations)."""
        return isinstance(self._raw.get("for_each_task"), dict)

    @property
    def output(self) -> OutputView | None:
        """The ``runs/get-output`` result, when runspec fetched it."""
        return self._output

    @property
    def error(self) -> str | None:
        """Why the task failed: get-output's ``error``, else the state's message."""
        if self._output is not None and self._output.error:
            return self._output.error
        return self.state.message

    @property
    def error_trace(self) -> str | None:
        """The stack trace from get-output, when there is one."""
        return self._output.error_trace if self._output is not None else None

    def describe(self) -> str:
        """One line: key, state and the first line of the error."""
        text = f"{self._key}: {self.state.label}"
        if self.attempt_number:
            text += f" (attempt {self.attempt_number + 1})"
        error = self.error
        if error:
            text += f": {_short(error, 200)}"
        return text

    def __repr__(self) -> str:
        return f"TaskView(key={self._key!r}, run_id={self.run_id!r}, state={self.state.label!r})"


class RunView(_Timed):
    """
    A run as ``runs/get`` returns it, with every page of tasks joined.

    ``tasks`` holds the latest attempt of each task (``all_attempts`` has every attempt);
    ``iterations`` is only set on the run of a for-each task, one entry per iteration.
    """

    __slots__ = ()

    @property
    def run_id(self) -> int:
        """The run id."""
        return _int(self._raw.get("run_id")) or 0

    @property
    def run_name(self) -> str | None:
        """The run's name."""
        return _str(self._raw.get("run_name"))

    @property
    def run_page_url(self) -> str | None:
        """Link to the run in the workspace UI."""
        return _str(self._raw.get("run_page_url"))

    @property
    def state(self) -> RunState:
        """The run's state."""
        return RunState.of(self._raw)

    @property
    def all_attempts(self) -> tuple[TaskView, ...]:
        """Every task run, retries included, in the API's order."""
        tasks = self._raw.get("tasks")
        if not isinstance(tasks, list):
            return ()
        return tuple(TaskView(t) for t in tasks if isinstance(t, dict))

    @property
    def tasks(self) -> tuple[TaskView, ...]:
        """The latest attempt of each task."""
        tasks = self._raw.get("tasks")
        if not isinstance(tasks, list):
            return ()
        return tuple(TaskView(t) for t in latest_attempts(tasks) if isinstance(t, dict))

    @property
    def iterations(self) -> tuple[TaskView, ...]:
        """For the run of a for-each task: its iterations, in the order the API lists them."""
        return tuple(TaskView(t) for t in iterations(self._raw))

    def task(self, key: str) -> TaskView:
        """The task with this ``task_key``; ``KeyError`` names the known keys if there is none."""
        for task in self.tasks:
            if task.task_key == key:
                return task
        known = ", ".join(t.task_key for t in self.tasks) or "none"
        raise KeyError(f"run {self.run_id} has no task {key!r} (tasks: {known})")

    def __iter__(self) -> Iterator[TaskView]:
        return iter(self.tasks)

    def succeeded(self, *, allow_success_with_failures: bool = False) -> bool:
        """True when the run finished successfully (see ``RunState.succeeded``)."""
        return self.state.succeeded(allow_success_with_failures=allow_success_with_failures)

    def describe(self) -> str:
        """One line: run id, name and state."""
        name = f" ({self.run_name})" if self.run_name else ""
        text = f"run {self.run_id}{name}: {self.state.label}"
        message = self.state.message
        if message and self.state.finished:
            text += f": {_short(message, 200)}"
        return text

    def __repr__(self) -> str:
        return (
            f"RunView(run_id={self.run_id!r}, run_name={self.run_name!r}, "
            f"state={self.state.label!r}, tasks={len(self.tasks)})"
        )
