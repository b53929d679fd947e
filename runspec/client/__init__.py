"""
The client layer: send a run to a workspace exactly once and follow it to its end.

::

    handle = submit(spec)                  # host and token from arguments, environment or profile
    handle.wait(on_progress=print)         # RunView on success, RunFailed otherwise
    handle.outputs()                       # {task_key: OutputView}; iterations as "loop[0]"
    RunHandle.attach(run_id).cancel()

    request = prepare(spec)                # nothing sent; print(request) masks the token
    handle = request.send()                # submit(spec) is prepare(spec).send()

    workspace = Workspace.resolve(host=None, profile="dev")   # host, credentials, where each came from
    handle = workspace.submit(spec)        # the same as submit(spec, workspace=workspace)
    workspace.attach(run_id).wait()        # RunHandle.attach(run_id, workspace=workspace)

    handle = submit(spec, key="orders/2026-12-01")   # the same key reaches the same run from anywhere
    handle.reattached                      # True when that run existed before this call
    handle.repair()                        # re-run the failed tasks of a finished run; then wait()

    batch = workspace.submit_many({key: spec, ...})   # many keyed runs within the workspace's limits
    batch.results[key].status              # "succeeded", "failed", ...; running it again resumes it

This package is the only part of runspec that imports ``requests``; ``import runspec`` loads it on
first use of ``runspec.submit`` or ``runspec.RunHandle``.
"""

from __future__ import annotations

from runspec._log import quiet
from runspec.client.batch import Batch, BatchProgress, ItemOutcome
from runspec.client.credentials import AuthHook, clear_token_cache
from runspec.client.handle import Progress, RunHandle
from runspec.client.hosts import check_host, normalize_host
from runspec.client.keys import key_token
from runspec.client.request import PreparedRequest, prepare, submit
from runspec.client.results import OutputView, RunState, RunView, TaskView
from runspec.client.transport import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, RetryPolicy
from runspec.client.workspace import Workspace, resolve_workspace

quiet()  # the library never prints: no output unless the application configures logging

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "AuthHook",
    "Batch",
    "BatchProgress",
    "ItemOutcome",
    "OutputView",
    "PreparedRequest",
    "Progress",
    "RetryPolicy",
    "RunHandle",
    "RunState",
    "RunView",
    "TaskView",
    "Workspace",
    "check_host",
    "clear_token_cache",
    "key_token",
    "normalize_host",
    "prepare",
    "resolve_workspace",
    "submit",
]
