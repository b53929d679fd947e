"""
The life cycle of one emulated run on the emulator's clock: queueing, task attempts, retries, timeouts,
cancellation and the run's result.

A discrete-event simulation evaluated lazily: ``advance(now)`` processes the events (attempt ends,
retries, timeouts, the run's own end) up to ``now``, in time order. Nothing runs in the background, so a
manual clock gives exact, repeatable states. Each task attempt's timeline is fixed when it starts:
``PENDING`` for the setup time, ``RUNNING`` for its duration (cut short by a timeout), ``TERMINATING`` for
the cleanup time, then ``TERMINATED`` with its result. Cancelling cuts the timeline short at the moment
of the request. Which task runs when is decided by the DAG semantics in ``_dag``.
"""

from __future__ import annotations

import copy
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from runspec.testing._dag import (
    evaluate_condition,
    for_each_inputs,
    lookup,
    run_result,
    substitute_input,
    topological,
    verdict,
)
from runspec.testing._local import NoCode
from runspec.testing._script import Outcome, Script, TaskContext, Timing, pick_outcome
from runspec.testing._state import (
    CANCELED,
    DISABLED,
    EXCLUDED,
    FAILED,
    FAILED_CLASS,
    SUCCESS,
    TIMEDOUT,
    UPSTREAM_CANCELED,
    UPSTREAM_FAILED,
    Attempt,
    Node,
    make_node,
    task_kind,
)

__all__ = ["Registry", "Run", "next_event_time"]


class Registry(Protocol):
    """What a run needs from the engine that holds it: timings, task scripts and run ids."""

    timing: Timing
    default: Script
    scripts: dict[str, Script]
    local: NoCode  # runs tasks' own code (a LocalRunner), when the emulator was given some

    def next_id(self) -> int: ...

    def register_attempt(self, attempt: Attempt, run: Run) -> None: ...

    def run_ended(self, run: Run) -> None: ...


class Run:
    """One submitted run: its body, its tasks in submission order, and its own timeline."""

    def __init__(
        self,
        engine: Registry,
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
        self.held = False  # queued by a workspace limit until ``release()``
        self.deadline = self._deadline_from(self.start_at)
        self.aborting: str | None = None  # CANCELED (by a user) or TIMEDOUT
        self.all_final_at: float | None = None
        self.end_time: float | None = None
        self.result: str | None = None
        self.result_message = ""
        self.result_code = ""
        self.result_type = ""
        self.active: set[Attempt] = set()
        self.single_task = False  # submitted in the single-task form (task fields at the top level)
        self.lock = threading.RLock()  # held by whoever moves or reads this run
        # Rounds of the run: the original, then one per repair: (repair id or None, start, task run ids).
        self.rounds: list[tuple[int | None, float, list[int]]] = []
        self.closed_rounds: list[dict[str, Any]] = []  # repair_history entries of rounds a repair ended
        self.nodes: dict[str, Node] = {}
        for task in body["tasks"]:
            node = make_node(task)
            self.nodes[node.key] = node
        for node in self.nodes.values():
            for dep_key, _ in node.deps:
                self.nodes[dep_key].dependents.append(node)
            self._new_attempt(node, 0)
        self.rounds.append((None, submitted, [node.last.run_id for node in self.nodes.values()]))

    def _deadline_from(self, start: float) -> float | None:
        timeout = self.body.get("timeout_seconds")
        return start + float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None

    def hold(self) -> None:
        """Keep the run queued (a workspace limit is reached) until ``release()``; its timeout waits too."""
        self.held = True
        self.deadline = None

    def release(self, t: float) -> None:
        """Let a held run start at ``t`` (or when its emulated queue time is over, if later)."""
        if not self.held:
            return
        self.held = False
        self.start_at = max(t, self.start_at)
        self.deadline = self._deadline_from(self.start_at)

    # -- ids and attempts ------------------------------------------------------------------------

    def _new_attempt(self, node: Node, number: int, scheduled: float | None = None) -> Attempt:
        run_id = self.engine.next_id()
        original = node.attempts[0].run_id if node.attempts else run_id
        attempt = Attempt(
            run_id=run_id,
            node=node,
            attempt_number=number,
            original_attempt_run_id=original,
            scheduled=scheduled,
        )
        node.attempts.append(attempt)
        self.engine.register_attempt(attempt, self)
        return attempt

    def all_attempts(self) -> Iterator[Attempt]:
        for node in self.nodes.values():
            yield from node.attempts
            for iteration in (*node.past_iterations, *node.iterations):
                yield from iteration.attempts

    # -- simulation ------------------------------------------------------------------------------

    def next_event(self) -> float | None:
        candidates: list[float] = []
        if not self.started and not self.held:
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
        if not self.started and not self.held and t >= self.start_at:
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
            self.engine.run_ended(self)

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

    def _begin(self, attempt: Attempt, t: float) -> None:
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
        if (decided := self.engine.local.start(self, attempt)) is True:
            return  # the task's code runs in its own process; the attempt ends when the process does
        outcome = decided or self._outcome(attempt)
        attempt.take(outcome)
        attempt.setup = timing.setup
        seconds = timing.duration if outcome.seconds is None else outcome.seconds
        self._set_end(attempt, t, timing.setup + seconds)

    def _set_end(self, attempt: Attempt, t: float, busy: float) -> None:
        timeout = attempt.node.timeout
        if timeout is not None and busy > timeout:
            attempt.end_exec = t + timeout
            attempt.result = TIMEDOUT
            attempt.message = f"Timed out after {timeout:g} seconds (the task's timeout_seconds)."
            attempt.termination_code, attempt.termination_type = "CANCELED", "CLIENT_ERROR"
        else:
            attempt.end_exec = t + busy
        attempt.end = attempt.end_exec + self.engine.timing.cleanup

    def _outcome(self, attempt: Attempt) -> Outcome:
        node = attempt.node
        scripts = self.engine.scripts
        script = scripts.get(node.key) or scripts.get("*") or self.engine.default
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

    def _finalize(self, attempt: Attempt, t: float) -> None:
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

    def _may_retry(self, attempt: Attempt) -> bool:
        node = attempt.node
        if self.aborting is not None or node.kind != "task" or attempt.cut:
            return False
        if attempt.result == TIMEDOUT and node.spec.get("retry_on_timeout") is not True:
            return False
        if attempt.result not in (FAILED, TIMEDOUT):
            return False
        return node.max_retries == -1 or attempt.attempt_number - node.round_start < node.max_retries

    def _skip(self, node: Node, result: str, t: float, message: str) -> None:
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

    def _node_final(self, node: Node, t: float) -> None:
        if node.parent is not None:
            node.parent.open_iterations -= 1
            self._iteration_done(node.parent, t)
            return
        if self.aborting is not None:
            return
        for dependent in node.dependents:
            if dependent.result is not None or dependent.last.started is not None:
                continue
            if all(self.nodes[key].result is not None for key, _ in dependent.deps):
                self._decide(dependent, t)

    def _decide(self, node: Node, t: float) -> None:
        result, failed = verdict(node, self.nodes)
        if result is None:
            self._begin(node.last, t)
        elif result == UPSTREAM_FAILED:
            names = ", ".join(failed) or "an upstream task"
            self._skip(node, result, t, f"Upstream task(s) did not succeed: {names}.")
        elif result == UPSTREAM_CANCELED:
            self._skip(node, result, t, "An upstream task was canceled.")
        elif result == DISABLED:
            self._skip(node, result, t, "An upstream task is disabled.")
        else:
            self._skip(node, result, t, f"Excluded: the {node.run_if} condition was not met.")

    # -- condition and for_each tasks ----------------------------------------------------------

    def _find(self, node: Node) -> Callable[[str], Any]:
        """How references resolve for ``node`` in this run."""
        return lambda name: lookup(name, node, self.nodes, run_id=self.run_id, job_id=self.job_id, run=self)

    def _evaluate_condition(self, attempt: Attempt) -> None:
        try:
            outcome = evaluate_condition(attempt.node.spec.get("condition_task") or {}, self._find(attempt.node))
        except ValueError as exc:
            attempt.result = FAILED
            attempt.message = str(exc)
            attempt.termination_code, attempt.termination_type = (
                "INVALID_RUN_CONFIGURATION",
                "CLIENT_ERROR",
            )
            return
        attempt.result = SUCCESS
        attempt.condition_outcome = outcome

    def _start_for_each(self, attempt: Attempt, t: float) -> None:
        node = attempt.node
        spec = node.spec.get("for_each_task") or {}
        try:
            inputs = for_each_inputs(spec, self._find(node))
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

    def _launch_iterations(self, node: Node, t: float) -> None:
        inputs = node.inputs or []
        nested = (node.spec.get("for_each_task") or {}).get("task") or {}
        while len(node.iterations) < len(inputs) and node.open_iterations < node.concurrency:
            index = len(node.iterations)
            value = inputs[index]
            spec = substitute_input(nested, value)
            iteration = Node(
                key=str(nested.get("task_key", node.key)),
                spec=spec,
                kind=task_kind(spec),
                deps=[],
                run_if="ALL_SUCCESS",
                parent=node,
                index=index,
                input=value,
            )
            node.iterations.append(iteration)
            node.open_iterations += 1
            self._new_attempt(iteration, 0)
            self._begin(iteration.last, t)
        if node.open_iterations == 0 and len(node.iterations) == len(inputs):
            self._finish_for_each(node, t)

    def _iteration_done(self, node: Node, t: float) -> None:
        attempt = node.last
        if attempt.finalized or attempt.end_exec <= t or self.aborting is not None:
            return  # the for_each task itself was cut short, or has already ended
        self._launch_iterations(node, t)

    def _finish_for_each(self, node: Node, t: float) -> None:
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
        for node in topological(self.nodes):
            if node.result is not None or node.last.started is not None:
                continue
            results = [self.nodes[key].result for key, _ in node.deps]
            if any(r in FAILED_CLASS for r in results):
                verdict = UPSTREAM_FAILED
            elif node.deps:
                verdict = UPSTREAM_CANCELED
            else:
                verdict = CANCELED
            why = "the run timed out" if reason == TIMEDOUT else "the run was canceled"
            self._skip(node, verdict, t, f"Not run: {why}.")
        self._settle(t)

    def cancel_attempt(self, attempt: Attempt, t: float) -> None:
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

    def _cut(self, attempt: Attempt, t: float, reason: str, message: str) -> None:
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
        self.engine.local.stop(self, attempt)  # kills the task's process, if its code runs
        if node.kind == "for_each":
            for iteration in node.iterations:
                if iteration.result is None:
                    self._cut(iteration.last, t, reason, message)

    def _conclude(self) -> None:
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
        self.result, self.result_code, self.result_type, self.result_message = run_result(self.nodes)

    # -- repairs ---------------------------------------------------------------------------------------

    def rerun(self, keys: Iterable[str], repair_id: int, t: float) -> list[Attempt]:
        """
        Repair: run the tasks ``keys`` again from ``t``, each with a new attempt, in this run, which is
        active again until they end. Tasks that depend on them wait for them; the rest keep their results.
        """
        chosen = set(keys)
        self.aborting = None
        self.all_final_at = self.end_time = self.result = None
        self.result_message = self.result_code = self.result_type = ""
        timeout = self.body.get("timeout_seconds")
        self.deadline = t + float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None
        order = [node for node in topological(self.nodes) if node.key in chosen]
        fresh: list[Attempt] = []
        for node in order:
            node.result = None
            node.values = {}
            node.past_iterations.extend(node.iterations)
            node.iterations, node.inputs, node.open_iterations = [], None, 0
            attempt = self._new_attempt(node, node.last.attempt_number + 1)
            node.round_start = attempt.attempt_number
            fresh.append(attempt)
        self.rounds.append((repair_id, t, [a.run_id for a in fresh]))
        for node in order:
            if node.result is not None or node.last.started is not None:
                continue  # already decided when a task before it ended
            if any(self.nodes[key].result is None for key, _ in node.deps):
                continue  # waits for a task that runs again
            if node.spec.get("disabled") is True:
                self._skip(node, DISABLED, t, "The task is disabled.")
            elif node.deps:
                self._decide(node, t)
            else:
                self._begin(node.last, t)
        self._settle(t)
        return fresh

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

    def termination(self) -> tuple[str, str, str, str]:
        """``(result, code, type, message)`` of a run that is ending or has ended."""
        if self.result is not None:
            return self.result, self.result_code, self.result_type, self.result_message
        if self.aborting == TIMEDOUT:
            return TIMEDOUT, "CANCELED", "CLIENT_ERROR", "The run timed out (timeout_seconds)."
        return CANCELED, "USER_CANCELED", "CLIENT_ERROR", "The run was canceled by a user."

    def task_entries(self) -> list[Attempt]:
        """Every attempt of every task, in submission order: the run's ``tasks`` array."""
        return [a for node in self.nodes.values() for a in node.attempts]


def next_event_time(runs: Iterable[Run]) -> float | None:
    """The earliest pending event over ``runs``, or ``None`` when nothing is scheduled."""
    times = [t for t in (run.next_event() for run in runs) if t is not None]
    return min(times) if times else None
