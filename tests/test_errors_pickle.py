"""
runspec's errors cross process boundaries whole: an error raised in a worker (multiprocessing,
concurrent.futures, pytest-xdist) is pickled there and rebuilt in the parent, with its class, message and
attributes, and never a token.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable

import pytest

from runspec import RunFailed
from runspec import errors as e
from runspec.testing import Emulator, Outcome

TOKEN = "dapi-pickle-secret"

MADE: dict[str, Callable[[], e.RunspecError]] = {
    "RateLimited": lambda: e.RateLimited(
        "no capacity", status=429, error_code="RESOURCE_EXHAUSTED", retry_after=3.0, idempotency_token="tok-1"
    ),
    "NotFound": lambda: e.NotFound("no run", status=404, method="GET", path="/api/2.2/jobs/runs/get"),
    "KeyConflict": lambda: e.KeyConflict("another spec", key="nightly", run_id=7, differences=["$.run_name"]),
    "WorkspaceUnreachable": lambda: e.WorkspaceUnreachable("refused", host="https://h", cause="refused"),
    "TransportError": lambda: e.TransportError("reset", may_exist=True, run_id=3),
    "WaitTimeout": lambda: e.WaitTimeout("still running", run_id=9),
    "RunFailed": lambda: e.RunFailed("failed", run=None, outputs={"a": "x"}, more_outputs=True),
    "HostError": lambda: e.HostError("not a workspace URL"),
    "SpecError": lambda: e.SpecError([e.Problem("$.tasks", "no-tasks", "a run needs at least one task")]),
}


@pytest.mark.parametrize("name", sorted(MADE))
def test_each_error_pickles_back_to_itself(name: str) -> None:
    error = MADE[name]()
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert (str(back), repr(back), back.args) == (str(error), repr(error), error.args)
    assert vars(back) == vars(error)


#: Another Python submits a run that fails, waits for it, and writes the pickled error to its stdout, as a
#: worker process hands an exception back to its parent.
WORKER = """
import pickle, sys
from runspec import RunFailed, RunSpec, submit
task = {"task_key": "t", "notebook_task": {"notebook_path": "/n"}, "existing_cluster_id": "c"}
try:
    submit(RunSpec.from_dict({"run_name": "fails", "tasks": [task]}), sys.argv[1], sys.argv[2]).wait(poll_interval=0.05)
except RunFailed as failed:
    sys.stdout.buffer.write(pickle.dumps(failed))
"""


def test_a_run_failed_in_another_process_reaches_this_one_whole() -> None:
    with Emulator(token=TOKEN) as emu:
        emu.script("t", Outcome.fail("ValueError: bad row"))
        done = subprocess.run(
            [sys.executable, "-c", WORKER, emu.url, TOKEN], capture_output=True, timeout=60, check=True
        )
    failed = pickle.loads(done.stdout)
    assert type(failed) is RunFailed
    assert [task.key for task in failed.failed_tasks] == ["t"]
    assert failed.run.run_name == "fails" and failed.run.state.result_state == "FAILED"
    assert "ValueError: bad row" in str(failed)
    assert TOKEN.encode() not in done.stdout
