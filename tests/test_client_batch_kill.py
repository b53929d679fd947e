"""
A batch killed with SIGKILL and run again resumes: real processes, because a kill is the point.

The emulator runs in this process with ``max_active_tasks=20`` and a fast clock; the batch runs in a child
process that is killed three times at random moments (after a random number of submits) and started again
each time. At the end every key has exactly one run, it ran and succeeded, and no item failed because of a
limit.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from runspec.testing import Emulator, Limits

TOKEN = "kill-token"
ITEMS = 300
ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys
from runspec.client import Workspace

url, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
items = {
    f"item/{i:03d}": {
        "run_name": f"item/{i:03d}",
        "tasks": [{"task_key": "main", "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"}],
    }
    for i in range(count)
}
batch = Workspace.resolve(url, token).submit_many(items, cancel_on_interrupt=False, requests_per_second=2000)
print(json.dumps({k: [o.status, o.attempt, o.reason] for k, o in batch.results.items()}))
"""


def _start(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, TOKEN, str(ITEMS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.process
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is a POSIX signal")
def test_a_batch_killed_three_times_ends_with_one_run_per_key_all_succeeded() -> None:
    rng = random.Random(23)
    with Emulator(token=TOKEN, speed=100, limits=Limits(max_active_tasks=20)) as emu:
        for _ in range(3):
            target = len(emu.run_ids()) + rng.randint(15, 60)
            child = _start(emu.url)
            began = time.monotonic()
            while len(emu.run_ids()) < target and child.poll() is None:
                assert time.monotonic() < began + 60, "the batch created no run for a minute"
                time.sleep(0.01)
            print(f"killed after {time.monotonic() - began:.2f} s at {len(emu.run_ids())} runs")
            child.send_signal(signal.SIGKILL)
            child.communicate(timeout=30)
            assert child.returncode == -signal.SIGKILL
        began = time.monotonic()
        child = _start(emu.url)
        out, err = child.communicate(timeout=120)
        print(f"the last run took {time.monotonic() - began:.2f} s")
        assert child.returncode == 0, err
        results = json.loads(out)
        emu.wait()
        runs = [emu.run(run_id) for run_id in emu.run_ids()]

    assert Counter(status for status, _, _ in results.values()) == {"succeeded": ITEMS}
    per_key = Counter(run["run_name"] for run in runs)
    assert len(per_key) == ITEMS and set(per_key.values()) == {1}
    assert {run["state"]["result_state"] for run in runs} == {"SUCCESS"}
    assert all(run["start_time"] and run["end_time"] for run in runs)
