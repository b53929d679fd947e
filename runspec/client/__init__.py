"""
The client layer: send a run to a workspace exactly once and follow it to its end.

::

    handle = submit(spec)                  # host and token from arguments, environment or profile
    handle.wait(on_progress=print)         # RunView on success, RunFailed otherwise
    handle.outputs()                       # {task_key: OutputView}; iterations as "loop[0]"
    RunHandle.attach(run_id).cancel()

    prepared = submit(spec, perform_request=False)   # nothing sent; print(prepared) masks the token

This package is the only part of runspec that imports ``requests``; ``import runspec`` loads it on
first use of ``runspec.submit`` or ``runspec.RunHandle``.
"""

from __future__ import annotations

from runspec.client.auth import AuthHook, Workspace, normalize_host, resolve_workspace
from runspec.client.handle import Progress, RunHandle
from runspec.client.request import PreparedRequest, submit
from runspec.client.results import OutputView, RunState, RunView, TaskView
from runspec.client.transport import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, RetryPolicy

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "AuthHook",
    "OutputView",
    "PreparedRequest",
    "Progress",
    "RetryPolicy",
    "RunHandle",
    "RunState",
    "RunView",
    "TaskView",
    "Workspace",
    "normalize_host",
    "resolve_workspace",
    "submit",
]
