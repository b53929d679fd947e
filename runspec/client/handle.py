"""
``RunHandle``: follow a run that was submitted (or attach to one by id) to its end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import requests

from runspec.client.auth import Workspace
from runspec.client.credentials import AuthHook
from runspec.client.results import OutputView, RunView, TaskView
from runspec.client.transport import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, Timeout, Transport
from runspec.errors import RunFailed, RunspecError, WaitTimeout

__all__ = ["Progress", "RunHandle"]

log = logging.getLogger("runspec")

#: Most get-output calls ``wait()`` makes to explain a failure; further failed tasks keep their
#: state message only.
MAX_ERROR_FETCHES = 100
#: How long cancelling on Ctrl-C may keep retrying before giving up.
INTERRUPT_CANCEL_DEADLINE = 30.0
_FIRST_POLL = 1.0
_POLL_GROWTH = 1.5


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


def _iteration_key(parent: str, index: int) -> str:
    return f"{parent}[{index}]"


class RunHandle:
    """
    A run in a workspace: ``get()`` it, ``wait()`` for it, ``cancel()`` it, read its ``outputs()``.

    ``run_id``, ``host`` and ``idempotency_token`` (the token submit sent, ``None`` when attached)
    are plain attributes; ``run_page_url`` is ``None`` until the run was read once. Close the
    handle (or use it as a context manager) to close the HTTP session runspec made for it.
    """

    def __init__(self, run_id: int, transport: Transport, *, idempotency_token: str | None = None) -> None:
        self.run_id = int(run_id)
        self.idempotency_token = idempotency_token
        self._transport = transport
        self._run_page_url: str | None = None

    @classmethod
    def attach(
        cls,
        run_id: int,
        host: str | None = None,
        token: str | None = None,
        *,
        workspace: Workspace | None = None,
        profile: str | None = None,
        auth: AuthHook | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> RunHandle:
        """
        A handle on an existing run, found by id (nothing is sent until you call a method).

        Host and credentials are resolved as for ``submit()`` (``Workspace.resolve()``), or given
        as ``workspace=``.
        """
        if workspace is None:
            workspace = Workspace.resolve(
                host,
                token,
                client_id=client_id,
                client_secret=client_secret,
                auth=auth,
                profile=profile,
                session=session,
                clock=clock,
            )
        transport = Transport(workspace, session=session, timeout=timeout, deadline=deadline, sleep=sleep, clock=clock)
        return cls(run_id, transport)

    @property
    def host(self) -> str:
        """The workspace URL (``https://...``)."""
        return self._transport.host

    @property
    def run_page_url(self) -> str | None:
        """Link to the run in the workspace UI, once the run was read."""
        return self._run_page_url

    def __repr__(self) -> str:
        return f"RunHandle(run_id={self.run_id!r}, host={self.host!r}, idempotency_token={self.idempotency_token!r})"

    def close(self) -> None:
        """Close the HTTP session if runspec created it."""
        self._transport.close()

    def __enter__(self) -> RunHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------

    def _get_run(self, run_id: int) -> dict[str, Any]:
        """``runs/get`` of any run id, every page joined into one JSON object."""
        first = self._transport.call("GET", "runs/get", query={"run_id": run_id})
        if not isinstance(first, dict):
            first = {}
        merged = dict(first)
        token = first.get("next_page_token")
        seen: set[str] = set()
        while isinstance(token, str) and token and token not in seen:
            seen.add(token)
            page = self._transport.call("GET", "runs/get", query={"run_id": run_id, "page_token": token})
            if not isinstance(page, dict):
                break
            for key, value in page.items():
                if isinstance(value, list) and isinstance(merged.get(key), list):
                    merged[key] = [*merged[key], *value]
                elif key not in merged:
                    merged[key] = value
            token = page.get("next_page_token")
        merged.pop("next_page_token", None)
        merged.pop("has_more", None)
        return merged

    def get(self) -> RunView:
        """The run with all of its tasks (``runs/get``, following ``next_page_token``)."""
        run = RunView(self._get_run(self.run_id))
        if run.run_page_url:
            self._run_page_url = run.run_page_url
        return run

    def cancel(self, *, deadline: float | None = None) -> None:
        """
        Ask the workspace to cancel the run. It stops asynchronously: ``wait()`` to see it end.

        Cancelling is safe to repeat, so it is retried like a GET.
        """
        self._transport.call("POST", "runs/cancel", body={"run_id": self.run_id}, idempotent=True, deadline=deadline)
        log.info("run %d: cancel requested", self.run_id)

    def _output(self, task_run_id: int, key: str) -> OutputView:
        raw = self._transport.call("GET", "runs/get-output", query={"run_id": task_run_id})
        return OutputView(raw if isinstance(raw, dict) else {}, task_key=key)

    def _expand(self, run: RunView) -> list[TaskView]:
        """Every task of the run, a for-each task replaced by its iterations (``loop[0]``, ...)."""
        result: list[TaskView] = []
        for task in run.tasks:
            if task.is_for_each and task.run_id is not None:
                inner = RunView(self._get_run(task.run_id))
                for index, item in enumerate(inner.iterations):
                    result.append(TaskView(item.raw, key=_iteration_key(task.key, index)))
            else:
                result.append(task)
        return result

    def outputs(self) -> dict[str, OutputView]:
        """
        ``{task_key: output}`` for every task of the run, from ``runs/get-output`` of each task run.

        A for-each task ``loop`` appears as one entry per iteration, ``loop[0]``, ``loop[1]``, ...
        in the order the API lists them (the for-each task itself has no output of its own). Only
        task run ids are sent to get-output, never the id of the run itself, which the API refuses
        for runs with several tasks. Tasks that never started (no task run id yet) are left out. A
        run that has no task list (a legacy single-task run) is returned under its own run name.
        """
        run = self.get()
        if not run.tasks:
            key = run.run_name or str(self.run_id)
            return {key: self._output(self.run_id, key)}
        result: dict[str, OutputView] = {}
        for task in self._expand(run):
            if task.run_id is None:
                continue
            result[task.key] = self._output(task.run_id, task.key)
        return result

    def output(self, task_key: str) -> OutputView:
        """The output of one task (``loop[2]`` names an iteration of for-each task ``loop``)."""
        run = self.get()
        base, bracket, _ = task_key.partition("[")
        task = run.task(base if bracket else task_key)
        if bracket:
            for item in self._expand(RunView({**run.raw, "tasks": [task.raw]})):
                if item.key == task_key and item.run_id is not None:
                    return self._output(item.run_id, task_key)
            raise KeyError(f"run {self.run_id} has no iteration {task_key!r}")
        if task.run_id is None:
            raise KeyError(f"task {task_key!r} of run {self.run_id} has not started")
        return self._output(task.run_id, task_key)

    # -- waiting ---------------------------------------------------------------------------------

    def _failed_tasks(self, run: RunView, allow_success_with_failures: bool) -> list[TaskView]:
        """The tasks (and for-each iterations) that did not succeed, each with its get-output."""
        failed: list[TaskView] = []
        fetches = 0
        for task in run.tasks:
            state = task.state
            if state.succeeded(allow_success_with_failures=allow_success_with_failures):
                continue
            if state.termination_code == "DISABLED" or state.result_state == "DISABLED":
                continue
            candidates = [task]
            if task.is_for_each and task.run_id is not None:
                try:
                    inner = RunView(self._get_run(task.run_id))
                except RunspecError as exc:
                    log.warning("run %d: could not read for-each task %s: %s", self.run_id, task.key, exc)
                    inner = RunView({})
                for index, item in enumerate(inner.iterations):
                    if not item.state.succeeded():
                        candidates.append(TaskView(item.raw, key=_iteration_key(task.key, index)))
            for candidate in candidates:
                own_failure = not candidate.state.knock_on and not candidate.is_for_each
                if own_failure and candidate.run_id is not None and fetches < MAX_ERROR_FETCHES:
                    fetches += 1
                    try:
                        output = self._output(candidate.run_id, candidate.key)
                    except RunspecError as exc:
                        log.warning(
                            "run %d: could not read the output of %s: %s",
                            self.run_id,
                            candidate.key,
                            exc,
                        )
                    else:
                        candidate = candidate.with_output(output)
                failed.append(candidate)
        return failed

    def _report(self, event: Progress, on_progress: Callable[[Progress], None] | None) -> None:
        log.info("%s", event.message)
        if on_progress is not None:
            on_progress(event)

    def wait(
        self,
        timeout: float | None = None,
        *,
        poll_interval: float = 30.0,
        on_progress: Callable[[Progress], None] | None = None,
        cancel_on_interrupt: bool = True,
        allow_success_with_failures: bool = False,
    ) -> RunView:
        """
        Poll the run until it finishes; return it on success, raise ``RunFailed`` otherwise.

        * No time limit unless ``timeout`` (seconds) is given; then ``WaitTimeout`` says the run is
          still going (it is not cancelled) and how to cancel it.
        * Polls after 1 s, then backs off by half each time up to ``poll_interval`` seconds; any
          change of state polls quickly again.
        * Progress (the run page URL once, then each change of the run's or a task's state) is
          logged at INFO on the ``runspec`` logger and passed to ``on_progress`` as ``Progress``.
        * ``RunFailed.failed_tasks`` lists each task (and for-each iteration) that did not succeed,
          with its ``error`` and ``error_trace`` from get-output. Tasks that only did not run
          because another failed are listed too, without output.
        * ``SUCCESS_WITH_FAILURES`` (leaf tasks succeeded, others failed) raises ``RunFailed``
          unless ``allow_success_with_failures=True``.
        * Ctrl-C (``KeyboardInterrupt``) cancels the run, then re-raises; pass
          ``cancel_on_interrupt=False`` to leave the run going.
        """
        if poll_interval <= 0:
            raise ValueError("poll_interval must be > 0 seconds")
        clock = self._transport.clock
        sleep = self._transport.sleep
        start = clock()
        interval = min(_FIRST_POLL, poll_interval)
        seen_url = False
        run_label: str | None = None
        task_labels: dict[str, str] = {}
        try:
            while True:
                run = self.get()
                changed = False
                if not seen_url and run.run_page_url:
                    seen_url = True
                    self._report(Progress("url", f"run {self.run_id}: {run.run_page_url}", run), on_progress)
                label = run.state.label
                if label != run_label:
                    changed = True
                    self._report(
                        Progress(
                            "run",
                            f"run {self.run_id}: {label}{_queue_note(run)}",
                            run,
                            state=label,
                            previous=run_label,
                        ),
                        on_progress,
                    )
                    run_label = label
                for task in run.tasks:
                    task_label = task.state.label
                    before = task_labels.get(task.key)
                    if task_label != before:
                        changed = True
                        task_labels[task.key] = task_label
                        self._report(
                            Progress(
                                "task",
                                f"run {self.run_id}: task {task.key}: {task_label}",
                                run,
                                state=task_label,
                                previous=before,
                                task=task,
                            ),
                            on_progress,
                        )
                if run.state.finished:
                    return self._finish(run, allow_success_with_failures)
                interval = min(_FIRST_POLL, poll_interval) if changed else min(poll_interval, interval * _POLL_GROWTH)
                pause = interval
                if timeout is not None:
                    remaining = timeout - (clock() - start)
                    if remaining <= 0:
                        raise self._timeout(run, timeout)
                    pause = min(pause, remaining)
                sleep(pause)
        except KeyboardInterrupt:
            if cancel_on_interrupt:
                log.warning("run %d: interrupted; cancelling the run", self.run_id)
                try:
                    self.cancel(deadline=INTERRUPT_CANCEL_DEADLINE)
                except (RunspecError, KeyboardInterrupt) as exc:
                    log.error("run %d: could not cancel (%s); it may still be running", self.run_id, exc)
            else:
                log.warning("run %d: interrupted; the run goes on", self.run_id)
            raise

    def _timeout(self, run: RunView, timeout: float) -> WaitTimeout:
        where = f" ({run.run_page_url})" if run.run_page_url else ""
        return WaitTimeout(
            f"run {self.run_id} is still {run.state.label} after waiting {timeout:g} s{where}; "
            "it goes on in the workspace. Cancel it with "
            f"RunHandle.attach({self.run_id}).cancel() or from the run page",
            run_id=self.run_id,
        )

    def _finish(self, run: RunView, allow_success_with_failures: bool) -> RunView:
        if run.succeeded(allow_success_with_failures=allow_success_with_failures):
            return run
        failed = self._failed_tasks(run, allow_success_with_failures)
        state = run.state
        text = run.describe()
        if state.outcome == "SUCCESS_WITH_FAILURES":
            text += (
                " (its last tasks succeeded but others failed; pass allow_success_with_failures=True to accept this)"
            )
        if failed:
            text += f"; {len(failed)} task{'s' if len(failed) != 1 else ''} did not succeed"
        if run.run_page_url:
            text += f" - {run.run_page_url}"
        raise RunFailed(text, run=run, failed_tasks=failed)
