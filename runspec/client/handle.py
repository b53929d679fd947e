"""
``RunHandle``: follow a run that was submitted (or attach to one by id) to its end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

import runspec.wire as wire
from runspec.client.auth import DEFAULT_TIMEOUT, Connection, Timeout, settle
from runspec.client.credentials import AuthHook
from runspec.client.follow import DEFAULT_POLL_INTERVAL, Progress, expand, failed_tasks, follow, task_outputs
from runspec.client.repair import repair_run
from runspec.client.results import OutputView, RunView, TaskView
from runspec.client.tracked import Tracked
from runspec.client.transport import DEFAULT_DEADLINE, Transport

__all__ = ["Progress", "RunHandle"]

log = logging.getLogger("runspec")


class RunHandle:
    """
    A run in a workspace: ``get()`` it, ``wait()`` for it, ``cancel()`` it, read its ``outputs()``,
    ``repair()`` it.

    ``run_id``, ``host`` and ``idempotency_token`` (the token submit sent, ``None`` when attached)
    are plain attributes; ``run_page_url`` is ``None`` until the run was read once. Close the
    handle (or use it as a context manager) to close the HTTP session runspec made for it.
    """

    def __init__(
        self,
        run_id: int,
        transport: Transport,
        *,
        idempotency_token: str | None = None,
        reattached: bool = False,
    ) -> None:
        self.idempotency_token = idempotency_token
        #: True when submit reached a run that existed before the call (its token had been used).
        self.reattached = reattached
        self._run = Tracked(run_id, transport)

    @classmethod
    def attach(
        cls,
        run_id: int,
        host: str | None = None,
        token: str | None = None,
        *,
        workspace: Connection | None = None,
        profile: str | None = None,
        auth: AuthHook | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: wire.Transport | None = None,
    ) -> RunHandle:
        """
        A handle on an existing run, found by id (nothing is sent until you call a method).

        Host and credentials are resolved as for ``submit()`` (``Workspace.resolve()``), or given
        as ``workspace=``.
        """
        workspace = settle(
            workspace,
            host,
            token,
            profile=profile,
            auth=auth,
            client_id=client_id,
            client_secret=client_secret,
            session=session,
            timeout=timeout,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )
        return cls(run_id, Transport(workspace, deadline=deadline))

    @property
    def run_id(self) -> int:
        """The run's id."""
        return self._run.run_id

    @property
    def host(self) -> str:
        """The workspace URL (``https://...``)."""
        return self._run.transport.host

    @property
    def run_page_url(self) -> str | None:
        """Link to the run in the workspace UI, once the run was read."""
        return self._run.run_page_url

    @property
    def interrupt_outcome(self) -> str | None:
        """
        After ``wait()`` was interrupted: ``"cancel requested"``, ``"cancel failed: ..."``,
        ``"cancel interrupted"`` or ``"left running"``; ``None`` until then.
        """
        return self._run.interrupt_outcome

    def __repr__(self) -> str:
        return f"RunHandle(run_id={self.run_id!r}, host={self.host!r}, idempotency_token={self.idempotency_token!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The workspace pickles without its credentials: the unpickled handle refuses to send until
        # it is attached again with credentials (RunHandle.attach(run_id, workspace=...)).
        transport = self._run.transport
        state = (self.run_id, transport.workspace, transport.deadline, self.idempotency_token, self.reattached)
        return (_unpickle_handle, state)

    def close(self) -> None:
        """Close the HTTP session if runspec created it."""
        self._run.transport.close()

    def __enter__(self) -> RunHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------

    def get(self) -> RunView:
        """
        The run with all of its tasks (``runs/get``, following ``next_page_token``).

        A workspace that repeats a page token or never stops sending them gets a ``SubmitError``.
        """
        run = RunView(self._run.read())
        self._run.seen(run)
        return run

    def cancel(self, *, deadline: float | None = None) -> None:
        """
        Ask the workspace to cancel the run. It stops asynchronously: ``wait()`` to see it end.

        Cancelling is safe to repeat, so it is retried like a GET.
        """
        self._run.cancel(deadline=deadline)

    def repair(self, tasks: Sequence[str] | None = None, *, dependents: bool = True) -> int:
        """
        Re-run tasks of this finished run in the same run (``runs/repair``); the repair id.

        ``tasks=None`` re-runs every failed task; a list re-runs those task keys (each once,
        however many attempts it had). ``dependents`` re-runs the tasks that depend on them too
        (``rerun_dependent_tasks``). The latest repair id is tracked (``latest_repair_id``), a run
        still active is refused before anything is sent, and ``wait()`` then follows the repaired
        run to its end. A workspace that does not repair one-time runs answers with an
        ``ApiError`` that says so; resubmit with a new ``attempt`` instead.
        """
        return repair_run(self._run, tasks, dependents=dependents)

    def failed_tasks(self, run: RunView, *, allow_success_with_failures: bool = False) -> list[TaskView]:
        """
        The tasks of ``run`` (this run, read with ``get()``) that did not succeed, each with its
        get-output; a for-each task once, with its failed iterations in ``failed_iterations``. What
        ``RunFailed.failed_tasks`` holds after ``wait()``.
        """
        return failed_tasks(self._run, run, allow_success_with_failures)

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
            return {key: self._run.output(self.run_id, key)}
        return task_outputs(self._run, list(run.tasks))

    def output(self, task_key: str) -> OutputView:
        """The output of one task (``loop[2]`` names an iteration of for-each task ``loop``)."""
        run = self.get()
        base, bracket, _ = task_key.partition("[")
        task = run.task(base if bracket else task_key)
        if bracket:
            for item in expand(self._run, [task]):
                if item.key == task_key and item.run_id is not None:
                    return self._run.output(item.run_id, task_key)
            raise KeyError(f"run {self.run_id} has no iteration {task_key!r}")
        if task.run_id is None:
            raise KeyError(f"task {task_key!r} of run {self.run_id} has not started")
        return self._run.output(task.run_id, task_key)

    # -- waiting ---------------------------------------------------------------------------------

    def wait(
        self,
        timeout: float | None = None,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        on_progress: Callable[[Progress], None] | None = None,
        cancel_on_interrupt: bool = True,
        allow_success_with_failures: bool = False,
    ) -> RunView:
        """
        Poll the run until it finishes; return it on success, raise ``RunFailed`` otherwise.

        * No time limit unless ``timeout`` (seconds) is given; then ``WaitTimeout`` says the run is
          still going (it is not cancelled) and how to cancel it. The timeout bounds every request
          of the wait, so a hung request cannot stretch it.
        * Polls after 1 s, then backs off by half each time up to ``poll_interval`` seconds
          (default 7.5); task changes do not make it poll faster. Each poll reads only the first
          page of ``runs/get`` (it has the run's state); the other pages are read at the end, and
          at most once per two ``poll_interval`` when ``on_progress`` is given.
        * Progress (the run page URL once, then each change of the run's or a task's state) is
          logged at INFO on the ``runspec`` logger and passed to ``on_progress`` as ``Progress``.
          Without ``on_progress``, task changes are logged for the tasks of the first page only.
        * ``RunFailed.failed_tasks`` lists each task that did not succeed, with its ``error`` and
          ``error_trace`` from get-output; a for-each task appears once, with its failed iterations
          in ``failed_iterations``. Tasks that only did not run because another failed are listed
          too, without output.
        * ``SUCCESS_WITH_FAILURES`` (leaf tasks succeeded, others failed) raises ``RunFailed``
          unless ``allow_success_with_failures=True``.
        * Ctrl-C (``KeyboardInterrupt``) cancels the run (within 30 s), then re-raises; what
          happened is in ``interrupt_outcome``. Pass ``cancel_on_interrupt=False`` to leave the run
          going.
        """
        return follow(
            self._run,
            timeout,
            poll_interval=poll_interval,
            on_progress=on_progress,
            cancel_on_interrupt=cancel_on_interrupt,
            allow_success_with_failures=allow_success_with_failures,
        )


def _unpickle_handle(
    run_id: int, workspace: Connection, deadline: float, idempotency_token: str | None, reattached: bool
) -> RunHandle:
    return RunHandle(
        run_id, Transport(workspace, deadline=deadline), idempotency_token=idempotency_token, reattached=reattached
    )
