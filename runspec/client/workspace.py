"""
``Workspace``: the connection to one workspace, held once, and the calls that use it.

::

    workspace = Workspace.resolve(profile="dev")        # or Workspace.from_env()
    handle = workspace.submit(spec, key="orders/2026-12-01")
    request = workspace.prepare(spec)                  # nothing sent
    workspace.attach(run_id).wait()

    emulator = Emulator()                              # runspec.testing: no socket, no thread
    workspace = Workspace.resolve(token="t", transport=emulator.transport())

The module functions ``submit()``, ``prepare()`` and ``RunHandle.attach()`` do the same with the
settings given to each call; ``submit(spec, workspace=workspace)`` is ``workspace.submit(spec)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from runspec.client.auth import DEFAULT_TIMEOUT, Connection, Timeout
from runspec.client.batch import Batch, BatchProgress, submit_many
from runspec.client.handle import RunHandle
from runspec.client.request import PreparedRequest, prepare, submit
from runspec.client.transport import DEFAULT_DEADLINE

__all__ = ["DEFAULT_TIMEOUT", "Timeout", "Workspace", "resolve_workspace"]


class Workspace(Connection):
    """
    A workspace to send runs to: host, credentials (and where each came from), timeout, transport.

    Make one with ``Workspace.resolve()`` (arguments, then the environment, then
    ``~/.databrickscfg``) or ``Workspace.from_env()``; the settings are fixed for its life (it is
    immutable). Per-call settings (``deadline``, ``key``, ``attempt``, ``idempotency_token``) stay
    on the calls.
    """

    def prepare(
        self,
        spec: Any,
        *,
        key: str | None = None,
        attempt: int | None = None,
        idempotency_token: str | None = None,
        deadline: float = DEFAULT_DEADLINE,
    ) -> PreparedRequest:
        """The runs/submit request for ``spec``, complete and unsent (see ``runspec.prepare``)."""
        return prepare(
            spec, key=key, attempt=attempt, idempotency_token=idempotency_token, deadline=deadline, workspace=self
        )

    def submit(
        self,
        spec: Any,
        *,
        key: str | None = None,
        attempt: int | None = None,
        idempotency_token: str | None = None,
        deadline: float = DEFAULT_DEADLINE,
    ) -> RunHandle:
        """Submit ``spec`` exactly once and return the run's handle (see ``runspec.submit``)."""
        return submit(
            spec, key=key, attempt=attempt, idempotency_token=idempotency_token, deadline=deadline, workspace=self
        )

    def attach(self, run_id: int, *, deadline: float = DEFAULT_DEADLINE) -> RunHandle:
        """A handle on the existing run ``run_id`` (nothing is sent until you call a method)."""
        return RunHandle.attach(run_id, workspace=self, deadline=deadline)

    def submit_many(
        self,
        items: Iterable[tuple[str, Any]] | Mapping[str, Any],
        *,
        max_active_tasks: int | None = None,
        runs_per_hour: int | None = None,
        requests_per_second: float | None = None,
        wait: bool = True,
        progress: Callable[[BatchProgress], None] | None = None,
        cancel_on_interrupt: bool = True,
        max_active_parent_tasks: int | None = None,
    ) -> Batch:
        """
        Submit many keyed runs, within the workspace's budgets; resumable by running it again.

        ``items``: ``(key, spec)`` pairs or a mapping of them; each key is its run's key (as
        ``submit(key=)``), so running the same batch again after a crash or Ctrl-C reattaches to
        every run already created and sends only the rest. Every spec is checked before the first
        is sent. ``max_active_tasks`` (task runs active at once, default 1,800),
        ``max_active_parent_tasks`` (Run Job and For each parent tasks active at once, default 675),
        ``runs_per_hour`` (default 9,000) and ``requests_per_second`` (default 20, lowered on 429s)
        are the budgets;
        a workspace limit reached holds items, it never fails them. ``wait=False`` returns once
        every item was sent (``Batch.wait()`` follows them). ``progress`` is called with a
        ``BatchProgress`` when the counts change. Ctrl-C cancels the batch's active runs unless
        ``cancel_on_interrupt=False``. See ``runspec.client.batch`` and docs/scale.md.
        """
        return submit_many(
            self,
            items,
            max_active_tasks=max_active_tasks,
            runs_per_hour=runs_per_hour,
            requests_per_second=requests_per_second,
            wait=wait,
            progress=progress,
            cancel_on_interrupt=cancel_on_interrupt,
            max_active_parent_tasks=max_active_parent_tasks,
        )


def resolve_workspace(*args: Any, **kwargs: Any) -> Workspace:
    """``Workspace.resolve(*args, **kwargs)`` (the older spelling)."""
    return Workspace.resolve(*args, **kwargs)
