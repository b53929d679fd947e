"""
The state of an emulated run's tasks: results, task attempts and the task graph's nodes.

Plain data, shared by the life cycle (``_run``), the DAG semantics (``_dag``) and the rendering of run
JSON (``_render``). Nothing here moves time or knows the HTTP side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runspec.spec.schema._schema import schema_fields
from runspec.testing._script import Outcome

__all__ = ["Attempt", "Node", "make_node", "task_kind"]

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

SKIP_RESULTS = frozenset({UPSTREAM_FAILED, UPSTREAM_CANCELED, EXCLUDED, DISABLED})
FAILED_CLASS = frozenset({FAILED, TIMEDOUT, UPSTREAM_FAILED})
CANCELED_CLASS = frozenset({CANCELED, UPSTREAM_CANCELED})


@dataclass(eq=False)
class Attempt:
    """One attempt of a task (or of a for_each iteration): one entry in ``tasks`` / ``iterations``."""

    run_id: int
    node: Node
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
    logs_truncated: bool = False  # a task that ran code: its logs were cut to the last 5 MB
    result_truncated: bool = False  # ... its notebook result to the first 5 MB

    def take(self, outcome: Outcome) -> None:
        """End with ``outcome``: SUCCESS, or FAILED with its error, trace and termination details."""
        self.outcome = outcome
        if outcome.failed:
            self.result = FAILED
            self.message = outcome.error or "Task failed."
            self.error_trace = outcome.error_trace
            self.termination_code = outcome.termination_code
            self.termination_type = outcome.termination_type
        else:
            self.result = SUCCESS

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
class Node:
    """A task of the run (or one for_each iteration), with all its attempts."""

    key: str
    spec: dict[str, Any]
    kind: str  # "task", "condition" or "for_each"
    deps: list[tuple[str, str | None]]
    run_if: str
    dependents: list[Node] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    result: str | None = None
    round_start: int = 0  # the attempt number the latest round (the run, or a repair) started from
    values: dict[str, Any] = field(default_factory=dict)
    # for_each parents
    inputs: list[Any] | None = None
    iterations: list[Node] = field(default_factory=list)
    open_iterations: int = 0  # iterations launched that have no result yet
    past_iterations: list[Node] = field(default_factory=list)  # iterations of runs before a repair
    concurrency: int = 1
    # for_each iterations
    parent: Node | None = None
    index: int | None = None
    input: Any = None

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]

    @property
    def max_retries(self) -> int:
        value = self.spec.get("max_retries")
        return value if isinstance(value, int) else 0

    @property
    def timeout(self) -> float | None:
        value = self.spec.get("timeout_seconds")
        return float(value) if isinstance(value, (int, float)) and value > 0 else None


def make_node(task: dict[str, Any]) -> Node:
    """The node of a submitted task, its dependencies read from ``depends_on``."""
    return Node(key=str(task["task_key"]), spec=task, kind=task_kind(task), deps=_deps(task), run_if=_run_if(task))


def task_kind(task: Mapping[str, Any]) -> str:
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
    value = task.get("run_if")  # any JSON value when validation is off
    known = schema_fields("SubmitTask")["run_if"].enum or ()
    return value if type(value) is str and value in known else "ALL_SUCCESS"
