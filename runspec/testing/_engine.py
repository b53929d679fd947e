"""
The run-lifecycle engine: one-time runs, their tasks and attempts, moved forward on the emulator's clock.

The engine works on the submitted JSON body (plain dicts), so it serves bodies built by any client. It is
a discrete-event simulation evaluated lazily: every read first processes the events (attempt ends,
retries, timeouts, the run's own end) up to the clock's current time, in time order. Nothing runs in
the background, so a manual clock gives exact, repeatable states.

Each task attempt's timeline is fixed when it starts: ``PENDING`` for the setup time, ``RUNNING`` for its
duration (cut short by a timeout), ``TERMINATING`` for the cleanup time, then ``TERMINATED`` with its
result. Cancelling cuts the timeline short at the moment of the request.
"""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import json
import math
import re
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from runspec.testing._script import Outcome, Script, TaskContext, Timing, pick_outcome

__all__ = ["ApiFailure", "Engine"]

PAGE_SIZE = 100
LIST_LIMIT_MAX = 24
LIST_LIMIT_DEFAULT = 20

# Results (legacy result_state values) an attempt or a task can end with.
SUCCESS = "SUCCESS"
FAILED = "FAILED"
TIMEDOUT = "TIMEDOUT"
CANCELED = "CANCELED"
UPSTREAM_FAILED = "UPSTREAM_FAILED"
UPSTREAM_CANCELED = "UPSTREAM_CANCELED"
EXCLUDED = "EXCLUDED"
DISABLED = "DISABLED"
SUCCESS_WITH_FAILURES = "SUCCESS_WITH_FAILURES"

_SKIP_RESULTS = frozenset({UPSTREAM_FAILED, UPSTREAM_CANCELED, EXCLUDED, DISABLED})
_FAILED_CLASS = frozenset({FAILED, TIMEDOUT, UPSTREAM_FAILED})
_CANCELED_CLASS = frozenset({CANCELED, UPSTREAM_CANCELED})

RUN_IF_VALUES = (
    "ALL_SUCCESS",
    "AT_LEAST_ONE_SUCCESS",
    "NONE_FAILED",
    "ALL_DONE",
    "AT_LEAST_ONE_FAILED",
    "ALL_FAILED",
)

# Fields of the Jobs API `RunTask` and `Run` objects (SDK 0.162.0). Submitted settings are echoed back
# only where the response type has the field.
RUN_TASK_FIELDS = frozenset(
    """ai_function_task ai_runtime_task alert_task attempt_number clean_rooms_notebook_task
    cleanup_duration cluster_instance compute condition_task dashboard_task dbt_cloud_task
    dbt_platform_task dbt_task depends_on description disable_auto_optimization disabled
    effective_performance_target email_notifications end_time environment_key
    environment_variables_key execution_duration existing_cluster_id for_each_task gen_ai_compute_task
    git_source job_cluster_key libraries max_retries min_retry_interval_millis new_cluster notebook_task
    notification_settings pipeline_task power_bi_task python_operator_task python_wheel_task
    queue_duration resolved_values retry_on_timeout run_duration run_id run_if run_job_task
    run_page_url setup_duration spark_jar_task spark_python_task spark_submit_task sql_task start_time
    state status task_key timeout_seconds webhook_notifications""".split()  # noqa: SIM905
)
_ECHOED_RUN_FIELDS = ("git_source", "environment_variables", "duration_target")

# Task types whose output carries `logs`, and those whose output carries `notebook_output`.
_LOG_TASKS = ("spark_python_task", "python_wheel_task", "spark_jar_task", "python_operator_task")
_NOTEBOOK_TASKS = ("notebook_task",)


class ApiFailure(Exception):
    """An error answer: HTTP status, Databricks ``error_code`` and ``message``."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        *,
        oauth: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.details = details
        self.oauth = oauth

    def body(self) -> dict[str, Any]:
        """The error as a workspace sends it (OAuth endpoints use the OAuth error shape)."""
        if self.oauth:
            return {"error": self.error_code, "error_description": self.message}
        out: dict[str, Any] = {"error_code": self.error_code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


def invalid(message: str) -> ApiFailure:
    """A 400 ``INVALID_PARAMETER_VALUE``, the workspace's answer to most bad requests."""
    return ApiFailure(400, "INVALID_PARAMETER_VALUE", message)


def _ms(t: float | None) -> int:
    return 0 if t is None or math.isinf(t) else round(t * 1000)


def _span_ms(start: float | None, end: float | None) -> int:
    if start is None or end is None or math.isinf(end):
        return 0
    return max(0, round((end - start) * 1000))


# ---------------------------------------------------------------------------------------------------
# Data


@dataclass(eq=False)
class _Attempt:
    """One attempt of a task (or of a for_each iteration): one entry in ``tasks`` / ``iterations``."""

    run_id: int
    node: _Node
    attempt_number: int
    original_attempt_run_id: int
    scheduled: float | None = None  # when a retry attempt may start; None: waits for its dependencies
    started: float | None = None
    setup: float = 0.0
    end_exec: float = math.inf  # execution ends (success, failure, timeout or cancel)
    end: float = math.inf  # TERMINATED from here
    result: str | None = None
    message: str = ""
    outcome: Outcome | None = None
    error_trace: str | None = None
    condition_outcome: str | None = None
    termination_code: str | None = None
    termination_type: str | None = None
    finalized: bool = False
    skipped_at: float | None = None  # the task never ran: decided at this time
    deadline: float | None = None  # for_each parents: when the task's own timeout cuts it short
    cut: bool = False  # ended early by a cancel or a timeout from outside: never retried

    def next_event(self) -> float | None:
        if self.finalized:
            return None
        if self.started is None:
            return self.scheduled
        times = [] if math.isinf(self.end) else [self.end]
        if self.deadline is not None and self.deadline < self.end_exec:
            times.append(self.deadline)
        return min(times) if times else None


@dataclass(eq=False)
class _Node:
    """A task of the run (or one for_each iteration), with all its attempts."""

    key: str
    spec: dict[str, Any]
    kind: str  # "task", "condition" or "for_each"
    deps: list[tuple[str, str | None]]
    run_if: str
    dependents: list[_Node] = field(default_factory=list)
    attempts: list[_Attempt] = field(default_factory=list)
    result: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    # for_each parents
    inputs: list[Any] | None = None
    iterations: list[_Node] = field(default_factory=list)
    concurrency: int = 1
    # for_each iterations
    parent: _Node | None = None
    index: int | None = None
    input: Any = None

    @property
    def last(self) -> _Attempt:
        return self.attempts[-1]

    @property
    def max_retries(self) -> int:
        value = self.spec.get("max_retries")
        return value if isinstance(value, int) else 0

    @property
    def timeout(self) -> float | None:
        value = self.spec.get("timeout_seconds")
        return float(value) if isinstance(value, (int, float)) and value > 0 else None


def _kind(task: Mapping[str, Any]) -> str:
    if "condition_task" in task:
        return "condition"
    if "for_each_task" in task:
        return "for_each"
    return "task"


def _deps(task: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for dep in task.get("depends_on") or ():
        if isinstance(dep, Mapping) and isinstance(dep.get("task_key"), str):
            outcome = dep.get("outcome")
            out.append((dep["task_key"], outcome if isinstance(outcome, str) else None))
    return out


def _run_if(task: Mapping[str, Any]) -> str:
    value = task.get("run_if")
    return value if value in RUN_IF_VALUES else "ALL_SUCCESS"


class _Run:
    """One submitted run: its body, its tasks in submission order, and its own timeline."""

    def __init__(
        self,
        engine: Engine,
        run_id: int,
        job_id: int,
        body: dict[str, Any],
        submitted: float,
    ) -> None:
        self.engine = engine
        self.run_id = run_id
        self.job_id = job_id
        self.body = body
        self.submitted = submitted
        self.start_at = submitted + engine.timing.queue
        self.started = False
        self.token: str | None = body.get("idempotency_token")
        self.run_name: str = body.get("run_name") or "Untitled"
        timeout = body.get("timeout_seconds")
        self.deadline = self.start_at + float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None
        self.aborting: str | None = None  # CANCELED (by a user) or TIMEDOUT
        self.all_final_at: float | None = None
        self.end_time: float | None = None
        self.result: str | None = None
        self.result_message = ""
        self.result_code = ""
        self.result_type = ""
        self.active: set[_Attempt] = set()
        self.nodes: dict[str, _Node] = {}
        for task in body["tasks"]:
            node = _Node(
                key=task["task_key"],
                spec=task,
                kind=_kind(task),
                deps=_deps(task),
                run_if=_run_if(task),
            )
            self.nodes[node.key] = node
        for node in self.nodes.values():
            for dep_key, _ in node.deps:
                self.nodes[dep_key].dependents.append(node)
            self._new_attempt(node, 0)

    # -- ids and attempts ------------------------------------------------------------------------

    def _new_attempt(self, node: _Node, number: int, scheduled: float | None = None) -> _Attempt:
        run_id = self.engine.next_id()
        original = node.attempts[0].run_id if node.attempts else run_id
        attempt = _Attempt(
            run_id=run_id,
            node=node,
            attempt_number=number,
            original_attempt_run_id=original,
            scheduled=scheduled,
        )
        node.attempts.append(attempt)
        self.engine.register_attempt(attempt, self)
        return attempt

    def all_attempts(self) -> Iterator[_Attempt]:
        for node in self.nodes.values():
            yield from node.attempts
            for iteration in node.iterations:
                yield from iteration.attempts

    # -- simulation ------------------------------------------------------------------------------

    def next_event(self) -> float | None:
        candidates: list[float] = []
        if not self.started:
            candidates.append(self.start_at)
        if self.deadline is not None and self.aborting is None and self.all_final_at is None:
            candidates.append(self.deadline)
        for attempt in self.active:
            t = attempt.next_event()
            if t is not None:
                candidates.append(t)
        if self.all_final_at is not None and self.end_time is None:
            candidates.append(self.all_final_at + self.engine.timing.run_cleanup)
        return min(candidates) if candidates else None

    def advance(self, now: float) -> None:
        """Process every event up to ``now``, in time order."""
        while self.end_time is None:
            t = self.next_event()
            if t is None or t > now:
                return
            self._process(t)

    def _process(self, t: float) -> None:
        if not self.started and t >= self.start_at:
            self._start(t)
        if self.deadline is not None and t >= self.deadline and self.aborting is None and self.all_final_at is None:
            self.abort(t, TIMEDOUT)
        for attempt in sorted(self.active, key=lambda a: a.run_id):
            if attempt.finalized:
                continue
            if attempt.started is None:
                if attempt.scheduled is not None and attempt.scheduled <= t:
                    self._begin(attempt, t)
                continue
            deadline = attempt.deadline
            if deadline is not None and deadline <= t and deadline < attempt.end_exec:
                attempt.deadline = None
                timeout = attempt.node.timeout or 0.0
                self._cut(attempt, deadline, TIMEDOUT, f"Timed out after {timeout:g} seconds.")
            if attempt.end <= t:
                self._finalize(attempt, t)
        self._settle(t)
        done_at = self.all_final_at
        if done_at is not None and self.end_time is None and t >= done_at + self.engine.timing.run_cleanup:
            self.end_time = t

    def _settle(self, t: float) -> None:
        """Once every task has its result, conclude the run's (it then ends after ``run_cleanup``)."""
        if self.all_final_at is None and all(n.result is not None for n in self.nodes.values()):
            self.all_final_at = t
            self._conclude()

    def _start(self, t: float) -> None:
        self.started = True
        for node in self.nodes.values():
            if node.spec.get("disabled") is True:
                self._skip(node, DISABLED, t, "The task is disabled.")
        for node in self.nodes.values():
            if node.result is None and not node.deps:
                self._begin(node.last, t)

    def _begin(self, attempt: _Attempt, t: float) -> None:
        """Start ``attempt`` at ``t``: fix its timeline from its outcome."""
        node = attempt.node
        timing = self.engine.timing
        attempt.started = t
        attempt.scheduled = t
        self.active.add(attempt)
        if node.kind == "condition":
            attempt.setup = 0.0
            self._evaluate_condition(attempt)
            self._set_end(attempt, t, timing.control)
            return
        if node.kind == "for_each":
            attempt.setup = 0.0
            self._start_for_each(attempt, t)
            return
        outcome = self._outcome(attempt)
        attempt.outcome = outcome
        attempt.setup = timing.setup
        if outcome.failed:
            attempt.result = FAILED
            attempt.message = outcome.error or "Task failed."
            attempt.error_trace = outcome.error_trace
            attempt.termination_code = outcome.termination_code
            attempt.termination_type = outcome.termination_type
        else:
            attempt.result = SUCCESS
        seconds = timing.duration if outcome.seconds is None else outcome.seconds
        self._set_end(attempt, t, timing.setup + seconds)

    def _set_end(self, attempt: _Attempt, t: float, busy: float) -> None:
        timeout = attempt.node.timeout
        if timeout is not None and busy > timeout:
            attempt.end_exec = t + timeout
            attempt.result = TIMEDOUT
            attempt.message = f"Timed out after {timeout:g} seconds (the task's timeout_seconds)."
            attempt.termination_code, attempt.termination_type = "CANCELED", "CLIENT_ERROR"
        else:
            attempt.end_exec = t + busy
        attempt.end = attempt.end_exec + self.engine.timing.cleanup

    def _outcome(self, attempt: _Attempt) -> Outcome:
        node = attempt.node
        script = self.engine.scripts.get(node.key, self.engine.default)
        context = TaskContext(
            task_key=node.key,
            run_id=self.run_id,
            task_run_id=attempt.run_id,
            attempt_number=attempt.attempt_number,
            task=copy.deepcopy(node.spec),
            run_name=self.run_name,
            input=node.input,
            iteration=node.index,
        )
        try:
            return pick_outcome(script, context)
        except Exception as exc:  # a broken user script fails its task, visibly
            return Outcome.fail(
                f"The emulator script for task {node.key!r} raised {type(exc).__name__}: {exc}",
                trace=traceback.format_exc(),
            )

    def _finalize(self, attempt: _Attempt, t: float) -> None:
        attempt.finalized = True
        self.active.discard(attempt)
        node = attempt.node
        result = attempt.result or SUCCESS
        attempt.result = result
        if result == SUCCESS:
            if attempt.outcome is not None:
                node.values = dict(attempt.outcome.values)
        elif self._may_retry(attempt):
            interval = node.spec.get("min_retry_interval_millis")
            wait = float(interval) / 1000 if isinstance(interval, (int, float)) else 0.0
            start = max(t, (attempt.started or t) + wait)
            nxt = self._new_attempt(node, attempt.attempt_number + 1, scheduled=start)
            self.active.add(nxt)
            return
        node.result = result
        self._node_final(node, t)

    def _may_retry(self, attempt: _Attempt) -> bool:
        node = attempt.node
        if self.aborting is not None or node.kind != "task" or attempt.cut:
            return False
        if attempt.result == TIMEDOUT and node.spec.get("retry_on_timeout") is not True:
            return False
        if attempt.result not in (FAILED, TIMEDOUT):
            return False
        return node.max_retries == -1 or attempt.attempt_number < node.max_retries

    def _skip(self, node: _Node, result: str, t: float, message: str) -> None:
        attempt = node.last
        attempt.result = result
        attempt.message = message
        attempt.finalized = True
        attempt.skipped_at = t
        attempt.end = t
        if result == DISABLED:
            attempt.termination_code, attempt.termination_type = "DISABLED", "SUCCESS"
        elif result == EXCLUDED:
            attempt.termination_code, attempt.termination_type = "SKIPPED", "SUCCESS"
        elif result == CANCELED:
            attempt.termination_code, attempt.termination_type = "USER_CANCELED", "CLIENT_ERROR"
        else:
            attempt.termination_code, attempt.termination_type = "SKIPPED", "CLIENT_ERROR"
        self.active.discard(attempt)
        node.result = result
        self._node_final(node, t)

    def _node_final(self, node: _Node, t: float) -> None:
        if node.parent is not None:
            self._iteration_done(node.parent, t)
            return
        if self.aborting is not None:
            return
        for dependent in node.dependents:
            if dependent.result is not None or dependent.last.started is not None:
                continue
            if all(self.nodes[key].result is not None for key, _ in dependent.deps):
                self._decide(dependent, t)

    def _decide(self, node: _Node, t: float) -> None:
        classes: list[str] = []
        failed: list[str] = []
        for key, wanted in node.deps:
            dep = self.nodes[key]
            result = dep.result
            if result == SUCCESS and wanted is not None and dep.kind == "condition":
                outcome = dep.attempts[-1].condition_outcome
                classes.append("success" if outcome == wanted else "excluded")
            elif result == SUCCESS:
                classes.append("success")
            elif result == EXCLUDED:
                classes.append("excluded")
            elif result == DISABLED:
                classes.append("disabled")
            elif result in _CANCELED_CLASS:
                classes.append("canceled")
            else:
                classes.append("failed")
                failed.append(key)
        verdict = _run_if_verdict(node.run_if, classes)
        if verdict is None:
            self._begin(node.last, t)
        elif verdict == UPSTREAM_FAILED:
            names = ", ".join(failed) or "an upstream task"
            self._skip(node, verdict, t, f"Upstream task(s) did not succeed: {names}.")
        elif verdict == UPSTREAM_CANCELED:
            self._skip(node, verdict, t, "An upstream task was canceled.")
        elif verdict == DISABLED:
            self._skip(node, verdict, t, "An upstream task is disabled.")
        else:
            self._skip(node, verdict, t, f"Excluded: the {node.run_if} condition was not met.")

    # -- condition and for_each tasks ----------------------------------------------------------

    def _evaluate_condition(self, attempt: _Attempt) -> None:
        spec = attempt.node.spec.get("condition_task") or {}
        op = spec.get("op")
        try:
            left = _as_operand(self._resolve(spec.get("left", ""), attempt.node))
            right = _as_operand(self._resolve(spec.get("right", ""), attempt.node))
            value = _compare(op, left, right)
        except ValueError as exc:
            attempt.result = FAILED
            attempt.message = str(exc)
            attempt.termination_code, attempt.termination_type = (
                "INVALID_RUN_CONFIGURATION",
                "CLIENT_ERROR",
            )
            return
        attempt.result = SUCCESS
        attempt.condition_outcome = "true" if value else "false"

    def _start_for_each(self, attempt: _Attempt, t: float) -> None:
        node = attempt.node
        spec = node.spec.get("for_each_task") or {}
        try:
            raw = self._resolve(spec.get("inputs", ""), node)
            try:
                inputs = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                inputs = raw
            if not isinstance(inputs, list):
                raise ValueError(f"they are not a JSON array: {raw!r}")
        except ValueError as exc:
            attempt.result = FAILED
            attempt.message = f"Could not read the for_each inputs: {exc}"
            attempt.termination_code, attempt.termination_type = (
                "INVALID_RUN_CONFIGURATION",
                "CLIENT_ERROR",
            )
            self._set_end(attempt, t, self.engine.timing.control)
            return
        node.inputs = inputs
        concurrency = spec.get("concurrency")
        node.concurrency = concurrency if isinstance(concurrency, int) and concurrency > 0 else 1
        if node.timeout is not None:
            attempt.deadline = t + node.timeout
        self._launch_iterations(node, t)

    def _launch_iterations(self, node: _Node, t: float) -> None:
        inputs = node.inputs or []
        nested = (node.spec.get("for_each_task") or {}).get("task") or {}
        running = sum(1 for it in node.iterations if it.result is None)
        while len(node.iterations) < len(inputs) and running < node.concurrency:
            index = len(node.iterations)
            value = inputs[index]
            spec = _substitute_input(nested, value)
            iteration = _Node(
                key=str(nested.get("task_key", node.key)),
                spec=spec,
                kind=_kind(spec),
                deps=[],
                run_if="ALL_SUCCESS",
                parent=node,
                index=index,
                input=value,
            )
            node.iterations.append(iteration)
            self._new_attempt(iteration, 0)
            self._begin(iteration.last, t)
            running += 1
        if all(it.result is not None for it in node.iterations) and len(node.iterations) == len(inputs):
            self._finish_for_each(node, t)

    def _iteration_done(self, node: _Node, t: float) -> None:
        attempt = node.last
        if attempt.finalized or attempt.end_exec <= t or self.aborting is not None:
            return  # the for_each task itself was cut short, or has already ended
        self._launch_iterations(node, t)

    def _finish_for_each(self, node: _Node, t: float) -> None:
        attempt = node.last
        if attempt.finalized:
            return
        failed = [it for it in node.iterations if it.result != SUCCESS]
        attempt.end_exec = t
        attempt.end = t + self.engine.timing.cleanup
        if failed:
            attempt.result = FAILED
            first = failed[0].last
            attempt.message = (
                f"{len(failed)} of {len(node.iterations)} iterations failed; iteration "
                f"{failed[0].index} failed: {first.message}"
            )
            attempt.termination_code, attempt.termination_type = "RUN_EXECUTION_ERROR", "CLIENT_ERROR"
        else:
            attempt.result = SUCCESS
            attempt.message = ""
            attempt.termination_code = attempt.termination_type = None

    def _resolve(self, value: Any, node: _Node) -> Any:
        """Replace ``{{...}}`` references in ``value`` with what they name in this run."""
        if not isinstance(value, str):
            return value
        whole = _REFERENCE.fullmatch(value.strip())
        if whole:
            return self._lookup(whole.group(1).strip(), node)

        def text(match: re.Match[str]) -> str:
            found = self._lookup(match.group(1).strip(), node)
            return found if isinstance(found, str) else json.dumps(found)

        return _REFERENCE.sub(text, value)

    def _lookup(self, name: str, node: _Node) -> Any:
        parts = name.split(".")
        if name == "job.run_id":
            return str(self.run_id)
        if name == "job.id":
            return str(self.job_id)
        if name == "input" and node.parent is not None:
            return node.input
        if len(parts) >= 3 and parts[0] == "tasks" and parts[1] in self.nodes:
            target = self.nodes[parts[1]]
            if parts[2] == "values" and len(parts) == 4:
                if parts[3] not in target.values:
                    raise ValueError(f"task {parts[1]!r} did not set the task value {parts[3]!r}")
                return target.values[parts[3]]
            if parts[2] == "result_state" and len(parts) == 3:
                return (target.result or "").lower()
            if parts[2] == "run_id" and len(parts) == 3:
                return str(target.last.run_id)
        raise ValueError(f"the reference {{{{{name}}}}} cannot be resolved in the emulator")

    # -- cancellation and timeouts -----------------------------------------------------------------

    def abort(self, t: float, reason: str) -> None:
        """Stop the whole run at ``t``: a user's cancel (``CANCELED``) or the run's timeout."""
        if self.aborting is not None or self.all_final_at is not None:
            return
        self.aborting = reason
        if not self.started:
            self.started = True
        message = "Timed out: the run's timeout_seconds was reached." if reason == TIMEDOUT else "Canceled by a user."
        for attempt in sorted(self.active, key=lambda a: a.run_id):
            self._cut(attempt, t, reason, message)
        for node in self._topological():
            if node.result is not None or node.last.started is not None:
                continue
            results = [self.nodes[key].result for key, _ in node.deps]
            if any(r in _FAILED_CLASS for r in results):
                verdict = UPSTREAM_FAILED
            elif node.deps:
                verdict = UPSTREAM_CANCELED
            else:
                verdict = CANCELED
            why = "the run timed out" if reason == TIMEDOUT else "the run was canceled"
            self._skip(node, verdict, t, f"Not run: {why}.")
        self._settle(t)

    def cancel_attempt(self, attempt: _Attempt, t: float) -> None:
        """Cancel one task run (``runs/cancel`` with a task run id)."""
        if attempt.finalized or self.aborting is not None:
            return
        node = attempt.node
        if attempt.started is None and attempt.scheduled is None:
            if node.parent is None:
                self._skip(node, CANCELED, t, "Canceled by a user.")
        else:
            self._cut(attempt, t, CANCELED, "Canceled by a user.")
        self._settle(t)

    def _cut(self, attempt: _Attempt, t: float, reason: str, message: str) -> None:
        """End ``attempt`` at ``t`` with ``reason`` (or skip it if it never started)."""
        if attempt.finalized:
            return
        node = attempt.node
        if attempt.started is None:
            attempt.result = CANCELED
            attempt.message = "Canceled before the retry started."
            attempt.termination_code, attempt.termination_type = "USER_CANCELED", "CLIENT_ERROR"
            attempt.finalized = True
            attempt.skipped_at = t
            attempt.end = t
            self.active.discard(attempt)
            node.result = CANCELED
            self._node_final(node, t)
            return
        if attempt.end_exec <= t:
            return  # already past execution: it ends as it was going to
        attempt.end_exec = t
        attempt.cut = True
        attempt.end = t + self.engine.timing.cleanup
        attempt.message = message
        attempt.result = reason
        if reason == TIMEDOUT:
            attempt.termination_code, attempt.termination_type = "CANCELED", "CLIENT_ERROR"
        else:
            attempt.termination_code, attempt.termination_type = "USER_CANCELED", "CLIENT_ERROR"
        if node.kind == "for_each":
            for iteration in node.iterations:
                if iteration.result is None:
                    self._cut(iteration.last, t, reason, message)

    def _topological(self) -> list[_Node]:
        """Tasks with every task before the tasks that depend on it (iterative: chains can be long)."""
        waiting = {key: len(node.deps) for key, node in self.nodes.items()}
        ready = [node for node in self.nodes.values() if not node.deps]
        order: list[_Node] = []
        while ready:
            node = ready.pop()
            order.append(node)
            for dependent in node.dependents:
                waiting[dependent.key] -= 1
                if waiting[dependent.key] == 0:
                    ready.append(dependent)
        return order

    # -- the run's result --------------------------------------------------------------------------

    def _conclude(self) -> None:
        nodes = list(self.nodes.values())
        if self.aborting == CANCELED:
            self.result = CANCELED
            self.result_code, self.result_type = "USER_CANCELED", "CLIENT_ERROR"
            self.result_message = "The run was canceled by a user."
            return
        if self.aborting == TIMEDOUT:
            self.result = TIMEDOUT
            self.result_code, self.result_type = "CANCELED", "CLIENT_ERROR"
            timeout = self.body.get("timeout_seconds")
            self.result_message = f"The run timed out after {timeout} seconds (timeout_seconds)."
            return
        bad = [n for n in nodes if n.result in _FAILED_CLASS or n.result in _CANCELED_CLASS]
        if not bad:
            self.result = SUCCESS
            self.result_code, self.result_type = "SUCCESS", "SUCCESS"
            self.result_message = ""
            return
        leaves = [n for n in nodes if not n.dependents]
        leaf_results = {n.result for n in leaves}
        first_failed = next((n for n in nodes if n.result in (FAILED, TIMEDOUT)), None)
        if leaf_results <= {SUCCESS, EXCLUDED, DISABLED}:
            self.result = SUCCESS_WITH_FAILURES
            self.result_code, self.result_type = "SUCCESS_WITH_FAILURES", "SUCCESS"
            keys = ", ".join(n.key for n in bad)
            self.result_message = f"The run succeeded, but these tasks did not: {keys}."
        elif leaf_results & _FAILED_CLASS:
            self.result = FAILED
            self.result_code, self.result_type = "RUN_EXECUTION_ERROR", "CLIENT_ERROR"
            if first_failed is not None:
                attempt = first_failed.last
                if attempt.termination_type in ("INTERNAL_ERROR", "CLOUD_FAILURE"):
                    self.result_code = attempt.termination_code or "INTERNAL_ERROR"
                    self.result_type = attempt.termination_type
                self.result_message = f"Task {first_failed.key} failed: {attempt.message}"
            else:
                self.result_message = "A task did not succeed."
        else:
            self.result = CANCELED
            self.result_code, self.result_type = "USER_CANCELED", "CLIENT_ERROR"
            self.result_message = "A task of the run was canceled."

    # -- views ---------------------------------------------------------------------------------------

    def is_active(self) -> bool:
        return self.end_time is None

    def life_cycle(self, t: float) -> str:
        """The run's V2 ``status.state`` at ``t`` (after ``advance(t)``)."""
        if self.end_time is not None:
            return "TERMINATED"
        if self.aborting is not None or self.all_final_at is not None:
            return "TERMINATING"
        if not self.started:
            return "QUEUED"
        for attempt in self.all_attempts():
            if attempt.started is not None and t >= attempt.started + attempt.setup:
                return "RUNNING"
        return "PENDING"

    def render(self, t: float) -> dict[str, Any]:
        """The run as ``runs/get`` shows it at ``t``, with every task attempt (not paged)."""
        engine = self.engine
        state = self.life_cycle(t)
        out: dict[str, Any] = {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "number_in_job": self.run_id,
            "original_attempt_run_id": self.run_id,
            "attempt_number": 0,
            "creator_user_name": engine.user_name,
            "run_name": self.run_name,
            "run_type": "SUBMIT_RUN",
            "trigger": "ONE_TIME",
            "run_page_url": engine.page_url(self.job_id, self.run_id),
            "start_time": _ms(self.submitted),
            "end_time": _ms(self.end_time),
            "setup_duration": 0,
            "execution_duration": 0,
            "cleanup_duration": 0,
            "run_duration": _span_ms(self.submitted, self.end_time),
            "queue_duration": _span_ms(self.submitted, self.start_at if self.started else t),
        }
        for name in _ECHOED_RUN_FIELDS:
            if name in self.body:
                out[name] = copy.deepcopy(self.body[name])
        if "performance_target" in self.body:
            out["effective_performance_target"] = self.body["performance_target"]
        legacy: dict[str, Any] = {"life_cycle_state": state, "user_cancelled_or_timedout": False}
        status: dict[str, Any] = {"state": state}
        if state == "QUEUED":
            message = "The run is queued (emulated queue time)."
            legacy["state_message"] = message
            legacy["queue_reason"] = message
            status["queue_details"] = {"code": "ACTIVE_RUNS_LIMIT_REACHED", "message": message}
        elif state in ("PENDING", "RUNNING"):
            legacy["state_message"] = ""
        else:
            result, code, kind, message = self._termination()
            legacy["state_message"] = message
            legacy["user_cancelled_or_timedout"] = result in (CANCELED, TIMEDOUT)
            if state == "TERMINATED":
                legacy["result_state"] = result
                if kind == "INTERNAL_ERROR" and result == FAILED:
                    legacy["life_cycle_state"] = "INTERNAL_ERROR"
            status["termination_details"] = {"code": code, "type": kind, "message": message}
        out["state"] = legacy
        out["status"] = status
        out["tasks"] = [self.engine.render_attempt(a, t) for a in self._task_entries()]
        return out

    def _termination(self) -> tuple[str, str, str, str]:
        if self.result is not None:
            return self.result, self.result_code, self.result_type, self.result_message
        if self.aborting == TIMEDOUT:
            return TIMEDOUT, "CANCELED", "CLIENT_ERROR", "The run timed out (timeout_seconds)."
        return CANCELED, "USER_CANCELED", "CLIENT_ERROR", "The run was canceled by a user."

    def _task_entries(self) -> list[_Attempt]:
        return [a for node in self.nodes.values() for a in node.attempts]


_REFERENCE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def _substitute_input(value: Any, item: Any) -> Any:
    if isinstance(value, str):
        text = item if isinstance(item, str) else json.dumps(item)
        return re.sub(r"\{\{\s*input\s*\}\}", lambda _: text, value)
    if isinstance(value, list):
        return [_substitute_input(v, item) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_input(v, item) for k, v in value.items()}
    return value


def _as_operand(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _compare(op: Any, left: str, right: str) -> bool:
    if op == "EQUAL_TO":
        return left == right
    if op == "NOT_EQUAL":
        return left != right
    if op not in ("GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"):
        raise ValueError(f"unknown condition op {op!r}")
    try:
        a, b = float(left), float(right)
    except ValueError:
        raise ValueError(f"{op} compares numbers, but got {left!r} and {right!r}") from None
    if op == "GREATER_THAN":
        return a > b
    if op == "GREATER_THAN_OR_EQUAL":
        return a >= b
    if op == "LESS_THAN":
        return a < b
    return a <= b


def _run_if_verdict(run_if: str, classes: list[str]) -> str | None:
    """``None`` when the task runs, else the result it is skipped with."""
    if classes and all(c == "excluded" for c in classes):
        return EXCLUDED
    ok = [c in ("success", "excluded") for c in classes]

    def upstream() -> str:
        if "failed" in classes:
            return UPSTREAM_FAILED
        if "canceled" in classes:
            return UPSTREAM_CANCELED
        if "disabled" in classes:
            return DISABLED
        return UPSTREAM_FAILED

    if run_if == "ALL_DONE":
        return None
    if run_if == "AT_LEAST_ONE_SUCCESS":
        return None if any(ok) else upstream()
    if run_if == "NONE_FAILED":
        clean = "failed" not in classes and "canceled" not in classes
        return None if clean and any(ok) else upstream()
    if run_if == "AT_LEAST_ONE_FAILED":
        return None if "failed" in classes else EXCLUDED
    if run_if == "ALL_FAILED":
        return None if classes and all(c == "failed" for c in classes) else EXCLUDED
    return None if all(ok) else upstream()


# ---------------------------------------------------------------------------------------------------
# The engine: every run, the API operations on them


class Engine:
    """
    Every run the emulator knows, and the Jobs API operations on them.

    Not thread-safe on its own: the server calls it under one lock. ``now`` is the clock's reading for
    the request, taken once so a response shows one consistent moment.
    """

    def __init__(
        self,
        *,
        timing: Timing,
        default: Script,
        user_name: str,
        workspace_id: int,
        first_run_id: int = 4_102_000_000_001,
        first_job_id: int = 731_000_000_001,
    ) -> None:
        self.timing = timing
        self.default = default
        self.scripts: dict[str, Script] = {}
        self.user_name = user_name
        self.workspace_id = workspace_id
        self.base_url = "http://127.0.0.1"
        self._ids = itertools.count(first_run_id)
        self._job_ids = itertools.count(first_job_id)
        self.runs: dict[int, _Run] = {}
        self.attempts: dict[int, tuple[_Attempt, _Run]] = {}
        self.tokens: dict[str, int] = {}
        self.deleted_tokens: set[str] = set()

    # -- ids, urls -----------------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def register_attempt(self, attempt: _Attempt, run: _Run) -> None:
        self.attempts[attempt.run_id] = (attempt, run)

    def page_url(self, job_id: int, run_id: int) -> str:
        return f"{self.base_url}/?o={self.workspace_id}#job/{job_id}/run/{run_id}"

    # -- operations ----------------------------------------------------------------------------------

    def submit(self, body: dict[str, Any], now: float) -> int:
        """Create a run from a checked body, or return the run its idempotency token already names."""
        token = body.get("idempotency_token")
        if isinstance(token, str) and token:
            if token in self.tokens:
                return self.tokens[token]
            if token in self.deleted_tokens:
                raise invalid(
                    f"The run submitted with idempotency token {token!r} was deleted; "
                    "a token cannot be used again after its run is deleted."
                )
        run_id = self.next_id()
        run = _Run(self, run_id, next(self._job_ids), copy.deepcopy(body), now)
        self.runs[run_id] = run
        if isinstance(token, str) and token:
            self.tokens[token] = run_id
        run.advance(now)
        return run_id

    def _find(self, run_id: int) -> tuple[_Run, _Attempt | None]:
        run = self.runs.get(run_id)
        if run is not None:
            return run, None
        found = self.attempts.get(run_id)
        if found is not None and found[1].run_id in self.runs:
            return found[1], found[0]
        raise invalid(f"Run {run_id} does not exist.")

    def get(self, run_id: int, now: float, page_token: str | None = None) -> dict[str, Any]:
        """``runs/get``: the run (or task run) with ``tasks`` / ``iterations`` paged by 100."""
        run, attempt = self._find(run_id)
        run.advance(now)
        if attempt is None:
            full = run.render(now)
            array = "tasks"
        else:
            full = self.render_task_run(run, attempt, now)
            array = "iterations" if "iterations" in full else "tasks"
        offset = _read_page_token(page_token, run_id)
        items = full[array]
        if offset > len(items):
            raise invalid("The page_token does not belong to this run.")
        full[array] = items[offset : offset + PAGE_SIZE]
        if array == "iterations" and offset > 0:
            full["tasks"] = []
        if offset + PAGE_SIZE < len(items):
            full["next_page_token"] = _page_token(run_id, offset + PAGE_SIZE)
        return full

    def get_output(self, run_id: int, now: float) -> dict[str, Any]:
        """``runs/get-output`` of a task run (or of the only task of a single-task run)."""
        run, attempt = self._find(run_id)
        run.advance(now)
        if attempt is None:
            if len(run.nodes) != 1:
                raise invalid(
                    "Retrieving the output of runs with multiple tasks is not supported. "
                    "Please retrieve the output of each individual task run instead."
                )
            attempt = next(iter(run.nodes.values())).last
        out: dict[str, Any] = {"metadata": self.render_task_run(run, attempt, now)}
        if not attempt.finalized and not (attempt.started is not None and now >= attempt.end):
            return out
        outcome = attempt.outcome
        spec = attempt.node.spec
        if any(kind in spec for kind in _NOTEBOOK_TASKS):
            notebook: dict[str, Any] = {}
            if outcome is not None and outcome.result is not None:
                notebook = {"result": outcome.result, "truncated": False}
            out["notebook_output"] = notebook
        if any(kind in spec for kind in _LOG_TASKS):
            out["logs"] = outcome.logs if outcome is not None and outcome.logs is not None else ""
            out["logs_truncated"] = False
        if attempt.result in (FAILED, TIMEDOUT, CANCELED):
            out["error"] = attempt.message
            if attempt.error_trace:
                out["error_trace"] = attempt.error_trace
        return out

    def cancel(self, run_id: int, now: float) -> None:
        """``runs/cancel``: a run, or a single task run. Asynchronous: the run goes to TERMINATING."""
        run, attempt = self._find(run_id)
        run.advance(now)
        if attempt is None:
            run.abort(now, CANCELED)
        else:
            run.cancel_attempt(attempt, now)
        run.advance(now)

    def cancel_all(self, job_id: int | None, all_queued: bool, now: float) -> None:
        """``runs/cancel-all``: the run of ``job_id``, or every queued run."""
        for run in list(self.runs.values()):
            run.advance(now)
            chosen = run.job_id == job_id if job_id is not None else all_queued and not run.started
            if chosen:
                run.abort(now, CANCELED)
            run.advance(now)

    def delete(self, run_id: int, now: float) -> None:
        """``runs/delete``: only runs that have ended; their idempotency token stays unusable."""
        run, attempt = self._find(run_id)
        if attempt is not None:
            raise invalid(f"Run {run_id} is a task run; delete the run it belongs to ({run.run_id}).")
        run.advance(now)
        if run.is_active():
            raise ApiFailure(
                400,
                "INVALID_STATE",
                f"Run {run_id} is still active and cannot be deleted; cancel it and wait until it has terminated.",
            )
        del self.runs[run_id]
        for attempt_ in run.all_attempts():
            self.attempts.pop(attempt_.run_id, None)
        if run.token is not None:
            self.tokens.pop(run.token, None)
            self.deleted_tokens.add(run.token)

    def list(self, query: Mapping[str, str], now: float) -> dict[str, Any]:
        """``runs/list``: newest first, filtered, paged with ``page_token`` (or the old ``offset``)."""
        active_only = _bool_param(query, "active_only")
        completed_only = _bool_param(query, "completed_only")
        if active_only and completed_only:
            raise invalid("active_only and completed_only cannot both be true.")
        limit = _int_param(query, "limit")
        if limit is None:
            limit = LIST_LIMIT_DEFAULT
        elif limit == 0:
            limit = LIST_LIMIT_MAX
        if not 0 < limit <= LIST_LIMIT_MAX:
            raise invalid(f"limit must be between 1 and {LIST_LIMIT_MAX}, got {limit}.")
        run_type = query.get("run_type")
        if run_type is not None and run_type not in ("JOB_RUN", "SUBMIT_RUN", "WORKFLOW_RUN"):
            raise invalid(f"Unknown run_type {run_type!r}.")
        job_id = _int_param(query, "job_id")
        start_from = _int_param(query, "start_time_from")
        start_to = _int_param(query, "start_time_to")
        expand = _bool_param(query, "expand_tasks")
        offset = _int_param(query, "offset") or 0
        if query.get("page_token"):
            offset = _read_page_token(query["page_token"], 0)
        if offset < 0:
            raise invalid("offset must not be negative.")
        selected: list[_Run] = []
        for run in sorted(self.runs.values(), key=lambda r: (r.submitted, r.run_id), reverse=True):
            run.advance(now)
            if run_type is not None and run_type != "SUBMIT_RUN":
                continue
            if job_id is not None and run.job_id != job_id:
                continue
            if active_only and not run.is_active():
                continue
            if completed_only and run.is_active():
                continue
            started = _ms(run.submitted)
            if start_from is not None and started < start_from:
                continue
            if start_to is not None and started > start_to:
                continue
            selected.append(run)
        page = selected[offset : offset + limit]
        out: dict[str, Any] = {"has_more": offset + limit < len(selected)}
        if page:
            rendered = []
            for run in page:
                item = run.render(now)
                if expand:
                    if len(item["tasks"]) > PAGE_SIZE:
                        item["tasks"] = item["tasks"][:PAGE_SIZE]
                        item["has_more"] = True
                    else:
                        item["has_more"] = False
                else:
                    del item["tasks"]
                rendered.append(item)
            out["runs"] = rendered
        if out["has_more"]:
            out["next_page_token"] = _page_token(0, offset + limit)
        if offset > 0:
            out["prev_page_token"] = _page_token(0, max(0, offset - limit))
        return out

    # -- rendering -----------------------------------------------------------------------------------

    def render_task_run(self, run: _Run, attempt: _Attempt, t: float) -> dict[str, Any]:
        """A task run as ``runs/get`` shows it when asked for its task run id."""
        entry = self.render_attempt(attempt, t)
        out: dict[str, Any] = {
            "job_id": run.job_id,
            "run_id": attempt.run_id,
            "job_run_id": run.run_id,
            "number_in_job": attempt.run_id,
            "original_attempt_run_id": attempt.original_attempt_run_id,
            "attempt_number": attempt.attempt_number,
            "creator_user_name": self.user_name,
            "run_name": run.run_name,
            "run_type": "SUBMIT_RUN",
            "trigger": "ONE_TIME",
            "run_page_url": entry["run_page_url"],
            "state": entry["state"],
            "status": entry["status"],
        }
        for name in (
            "start_time",
            "end_time",
            "setup_duration",
            "execution_duration",
            "cleanup_duration",
            "run_duration",
            "queue_duration",
            "cluster_instance",
            "git_source",
        ):
            if name in entry:
                out[name] = entry[name]
        out["tasks"] = [entry]
        if attempt.node.kind == "for_each":
            out["iterations"] = [self.render_attempt(a, t) for it in attempt.node.iterations for a in it.attempts]
        return out

    def render_attempt(self, attempt: _Attempt, t: float) -> dict[str, Any]:
        """One ``RunTask`` entry at time ``t``."""
        node = attempt.node
        run = self.attempts[attempt.run_id][1]
        out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in node.spec.items() if k in RUN_TASK_FIELDS}
        state, legacy = _attempt_state(attempt, run, t)
        out.update(
            run_id=attempt.run_id,
            task_key=node.key,
            attempt_number=attempt.attempt_number,
            run_page_url=self.page_url(run.job_id, attempt.run_id),
            start_time=_ms(attempt.started),
            end_time=_ms(_end_time(attempt, t)),
            setup_duration=0,
            execution_duration=0,
            cleanup_duration=0,
            run_duration=0,
            queue_duration=0,
            state=legacy,
            status=state,
        )
        if attempt.started is not None:
            begun = attempt.started + attempt.setup
            out["setup_duration"] = _span_ms(attempt.started, min(t, begun))
            if t > begun:
                out["execution_duration"] = _span_ms(begun, min(t, attempt.end_exec))
            if t > attempt.end_exec:
                out["cleanup_duration"] = _span_ms(attempt.end_exec, min(t, attempt.end))
            if t >= attempt.end:
                out["run_duration"] = _span_ms(attempt.started, attempt.end)
            cluster = _cluster_instance(node.spec, attempt.run_id)
            if cluster is not None:
                out["cluster_instance"] = cluster
        decided = attempt.condition_outcome is not None and t >= attempt.end_exec
        if node.kind == "condition" and "condition_task" in out and decided:
            out["condition_task"]["outcome"] = attempt.condition_outcome
        if node.kind == "for_each" and "for_each_task" in out and attempt.started is not None:
            out["for_each_task"]["stats"] = _for_each_stats(node, t)
        if "performance_target" in run.body and not any(k in node.spec for k in ("new_cluster", "existing_cluster_id")):
            out["effective_performance_target"] = run.body["performance_target"]
        return out


def _end_time(attempt: _Attempt, t: float) -> float | None:
    if attempt.skipped_at is not None:
        return attempt.skipped_at
    if attempt.started is not None and t >= attempt.end:
        return attempt.end
    return None


def _attempt_state(attempt: _Attempt, run: _Run, t: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(status, state)`` of an attempt at ``t``: the V2 status and the legacy state."""
    node = attempt.node
    if attempt.skipped_at is not None:
        skipped = attempt.result in _SKIP_RESULTS
        return _terminal(attempt, "SKIPPED" if skipped else "TERMINATED")
    if attempt.started is None:
        if not run.started:
            phase = legacy_phase = "QUEUED"
        elif attempt.attempt_number > 0:
            phase, legacy_phase = "WAITING", "WAITING_FOR_RETRY"
        elif node.deps:
            phase = legacy_phase = "BLOCKED"
        else:
            phase = legacy_phase = "PENDING"
        return {"state": phase}, {
            "life_cycle_state": legacy_phase,
            "state_message": "Waiting for a retry." if phase == "WAITING" else "",
            "user_cancelled_or_timedout": False,
        }
    if t < attempt.started + attempt.setup:
        phase = "PENDING"
    elif t < attempt.end_exec:
        phase = "RUNNING"
    elif t < attempt.end:
        status, legacy = _terminal(attempt, "TERMINATING")
        del legacy["result_state"]
        return status, legacy
    else:
        return _terminal(attempt, "TERMINATED")
    return {"state": phase}, {
        "life_cycle_state": phase,
        "state_message": "",
        "user_cancelled_or_timedout": False,
    }


def _terminal(attempt: _Attempt, life_cycle: str) -> tuple[dict[str, Any], dict[str, Any]]:
    result = attempt.result or SUCCESS
    if result == SUCCESS:
        code, kind = "SUCCESS", "SUCCESS"
    else:
        code = attempt.termination_code or "RUN_EXECUTION_ERROR"
        kind = attempt.termination_type or "CLIENT_ERROR"
    legacy_life_cycle = life_cycle
    if life_cycle == "TERMINATED" and result == FAILED and kind == "INTERNAL_ERROR":
        legacy_life_cycle = "INTERNAL_ERROR"
    v2 = "TERMINATING" if life_cycle == "TERMINATING" else "TERMINATED"
    status = {
        "state": v2,
        "termination_details": {"code": code, "type": kind, "message": attempt.message},
    }
    legacy = {
        "life_cycle_state": legacy_life_cycle,
        "result_state": result,
        "state_message": attempt.message,
        "user_cancelled_or_timedout": result in (CANCELED, TIMEDOUT),
    }
    return status, legacy


def _cluster_instance(spec: Mapping[str, Any], run_id: int) -> dict[str, str] | None:
    existing = spec.get("existing_cluster_id")
    if isinstance(existing, str):
        return {"cluster_id": existing, "spark_context_id": str(7_000_000_000_000 + run_id % 10**12)}
    if "new_cluster" in spec:
        return {
            "cluster_id": f"0101-000000-emu{run_id % 10**8:08d}",
            "spark_context_id": str(7_000_000_000_000 + run_id % 10**12),
        }
    return None


def _for_each_stats(node: _Node, t: float) -> dict[str, Any]:
    total = len(node.inputs or [])
    done = [it for it in node.iterations if it.result is not None and t >= it.last.end]
    succeeded = sum(1 for it in done if it.result == SUCCESS)
    errors: dict[str, int] = {}
    for it in done:
        if it.result != SUCCESS:
            errors[it.last.message] = errors.get(it.last.message, 0) + 1
    stats: dict[str, Any] = {
        "task_run_stats": {
            "total_iterations": total,
            "scheduled_iterations": len(node.iterations),
            "active_iterations": len(node.iterations) - len(done),
            "completed_iterations": len(done),
            "succeeded_iterations": succeeded,
            "failed_iterations": len(done) - succeeded,
        }
    }
    if errors:
        common = sorted(errors.items(), key=lambda kv: -kv[1])[:3]
        stats["error_message_stats"] = [
            {"error_message": msg, "count": count, "termination_category": "RUN_EXECUTION_ERROR"}
            for msg, count in common
        ]
    return stats


def _page_token(run_id: int, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{run_id}:{offset}".encode()).decode().rstrip("=")


def _read_page_token(token: str | None, run_id: int) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        owner, offset = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        if int(owner) != run_id or int(offset) < 0:
            raise ValueError(token)
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(f"Invalid page_token {token!r}.") from None


def _bool_param(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name)
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise invalid(f"{name} must be true or false, got {value!r}.")


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{name} must be an integer, got {value!r}.") from None


def next_event_time(runs: Iterable[_Run]) -> float | None:
    """The earliest pending event over ``runs``, or ``None`` when nothing is scheduled."""
    times = [t for t in (run.next_event() for run in runs) if t is not None]
    return min(times) if times else None
