"""
Many runs at once: ``Workspace.submit_many`` against the emulator's workspace limits, beside a plain loop
of the official SDK (``jobs.submit(...).result()`` per item, 20 threads).

    python benchmarks/scale.py                 # every part (about four minutes)
    python benchmarks/scale.py kills           # 2,000 keyed specs, the batch killed (SIGKILL) five times
    python benchmarks/scale.py occupancy       # 200 specs of 30 s tasks at --speed 10: occupancy, requests
    python benchmarks/scale.py duplicates      # 200 specs, both clients killed at the same five points
    python benchmarks/scale.py cli             # runspec submit-many on 500 bodies: progress, summary, exit codes

The emulator runs in this process with ``Limits(max_active_tasks=20)``; each client runs in a child
process (so it can be killed) and talks to it over HTTP on 127.0.0.1. Counts come from the emulator's
own records: its runs (one per key?) and its request log (every request a client sent).

- occupancy: task runs active at each moment (a run counts from its submit to its end, as the emulator's
  limit counts it), over the time from the first submit until fewer than 20 items remain unfinished;
  the share of that time with at least 18 active.
- requests: every request the client sent, SDK's config probe included.
- duplicates: runs created beyond one per item, after the client was killed at the same five points
  (when the emulator had created that many runs) and started again each time, then left to finish.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runspec.testing import Emulator, Limits, Outcome, Timing  # noqa: E402

TOKEN = "scale-benchmark-token"
ACTIVE = 20

RUNSPEC_CHILD = """
import json, sys
from runspec.client import Workspace

url, token, count, rate, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
items = {
    f"item/{i:04d}": {
        "run_name": f"item/{i:04d}",
        "tasks": [{"task_key": "main", "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"}],
    }
    for i in range(count)
}
batch = Workspace.resolve(url, token).submit_many(
    items, max_active_tasks=20, requests_per_second=rate, cancel_on_interrupt=False
)
print(json.dumps({"summary": batch.summary(), "requests": batch.requests}))
"""

SDK_CHILD = """
import json, sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs

url, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
w = WorkspaceClient(host=url, token=token)

def one(i):
    notebook = jobs.NotebookTask(notebook_path="/x")
    task = jobs.SubmitTask(task_key="main", notebook_task=notebook, existing_cluster_id="c")
    run = w.jobs.submit(run_name=f"item/{i:04d}", tasks=[task]).result(timeout=timedelta(hours=1))
    return run.state.result_state.value

with ThreadPoolExecutor(20) as pool:
    print(json.dumps(dict(Counter(pool.map(one, range(count))))))
"""


def _child(kind: str, url: str, count: int, rate: float) -> subprocess.Popen[str]:
    code = RUNSPEC_CHILD if kind == "runspec" else SDK_CHILD
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, url, TOKEN, str(count), str(rate), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _kill_at(emu: Emulator, child: subprocess.Popen[str], runs: int) -> bool:
    """SIGKILL ``child`` once the emulator has created ``runs`` runs; False when it finished first."""
    while len(emu.run_ids()) < runs:
        if child.poll() is not None:
            return False
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    return True


def _runs(emu: Emulator) -> list[dict[str, Any]]:
    return [emu.run(run_id) for run_id in emu.run_ids()]


def occupancy(runs: list[dict[str, Any]], items: int, least: int = ACTIVE - 2) -> float:
    """Share of the time, from the first submit until fewer than ``ACTIVE`` items remain, with >= ``least`` active."""
    spans = [(r["start_time"], r["end_time"]) for r in runs if r.get("end_time")]
    ends = sorted(end for _, end in spans)
    begin = min(start for start, _ in spans)
    until = ends[items - ACTIVE]  # the moment fewer than ACTIVE items remain unfinished
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    active, last, good = 0, begin, 0.0
    for moment, step in events:
        moment = min(max(moment, begin), until)
        if active >= least:
            good += moment - last
        last = moment
        active += step
    return good / (until - begin)


def _run_batch(kind: str, count: int, *, speed: float, timing: Timing, rate: float, kills: list[int]) -> dict[str, Any]:
    limits = Limits(max_active_tasks=ACTIVE)
    with Emulator(token=TOKEN, speed=speed, timing=timing, limits=limits, request_log_size=10**7) as emu:
        began = time.monotonic()
        killed = 0
        for point in kills:
            child = _child(kind, emu.url, count, rate)
            killed += _kill_at(emu, child, point)
        child = _child(kind, emu.url, count, rate)
        out, err = child.communicate(timeout=3600)
        seconds = time.monotonic() - began
        if child.returncode != 0:
            raise SystemExit(f"{kind} client failed:\n{err[-3000:]}")
        emu.wait(timeout=600)
        runs = _runs(emu)
        requests = Counter(r.endpoint for r in emu.requests)
    per_item = Counter(r["run_name"] for r in runs)
    results = Counter(r["state"].get("result_state") for r in runs)
    return {
        "client": kind,
        "items": count,
        "kills": killed,
        "seconds": round(seconds, 1),
        "runs": len(runs),
        "items_with_one_run": sum(1 for n in per_item.values() if n == 1),
        "duplicates": len(runs) - len(per_item),
        "results": dict(results),
        "requests": sum(requests.values()),
        "requests_by_endpoint": dict(requests),
        "occupancy_18_of_20": round(occupancy(runs, count), 3) if not kills else None,
        "client_said": out.strip()[-300:],
    }


def part_kills(seed: int) -> dict[str, Any]:
    """2,000 keyed specs, the batch SIGKILLed five times at random points and run again each time."""
    rng = random.Random(seed)
    points = sorted(rng.sample(range(100, 1900), 5))
    result = _run_batch("runspec", 2000, speed=100, timing=Timing(), rate=1000, kills=points)
    result["kill_points"] = points
    result["all_succeeded"] = result["results"] == {"SUCCESS": 2000} and result["items_with_one_run"] == 2000
    return result


def part_occupancy() -> dict[str, Any]:
    """200 specs of 30 s tasks at speed 10, max_active_tasks=20: runspec (defaults) and the SDK loop."""
    timing = Timing(duration=30.0)
    runspec = _run_batch("runspec", 200, speed=10, timing=timing, rate=20, kills=[])
    sdk = _run_batch("sdk", 200, speed=10, timing=timing, rate=20, kills=[])
    return {
        "runspec": runspec,
        "sdk": sdk,
        "request_ratio": round(runspec["requests"] / sdk["requests"], 3),
    }


def part_duplicates(seed: int) -> dict[str, Any]:
    """200 specs of 3 s tasks at speed 10, both clients killed when the emulator has made the same run counts."""
    rng = random.Random(seed)
    points = sorted(rng.sample(range(20, 180), 5))
    timing = Timing(duration=3.0)
    runspec = _run_batch("runspec", 200, speed=10, timing=timing, rate=20, kills=points)
    sdk = _run_batch("sdk", 200, speed=10, timing=timing, rate=20, kills=points)
    return {"kill_points": points, "runspec": runspec, "sdk": sdk}


def part_cli() -> dict[str, Any]:
    """``runspec submit-many`` on 500 bodies (one scripted to fail): its progress line, summary and exit codes."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Emulator(token=TOKEN, speed=100, limits=Limits(max_active_tasks=20)) as emu,
    ):
        emu.script("boom", Outcome.fail("kaboom"))
        source = Path(tmp) / "backfill.jsonl"
        bodies = []
        for i in range(500):
            task = "boom" if i == 9 else "main"
            bodies.append(
                {
                    "run_name": f"backfill-{i}",
                    "tasks": [{"task_key": task, "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"}],
                }
            )
        source.write_text("".join(json.dumps(b) + "\n" for b in bodies))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": TOKEN}
        command = [
            sys.executable,
            "-m",
            "runspec",
            "submit-many",
            str(source),
            "--wait",
            "--requests-per-second",
            "500",
        ]
        first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)  # resumes
        good = Path(tmp) / "good.jsonl"
        good.write_text("".join(json.dumps(b) + "\n" for i, b in enumerate(bodies[:50]) if i != 9))
        second = subprocess.run([*command[:4], str(good), "--wait"], env=env, capture_output=True, text=True)
        wrong = subprocess.run(command, env={**env, "DATABRICKS_TOKEN": "wrong"}, capture_output=True, text=True)
        stopped = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.0)
        stopped.send_signal(signal.SIGTERM)
        _, stopped_err = stopped.communicate(timeout=60)
    return {
        "first": {"exit": first.returncode, "stdout": first.stdout, "stderr_tail": first.stderr[-400:]},
        "again_resumed": {"exit": again.returncode, "stdout": again.stdout},
        "all_good": {"exit": second.returncode, "stdout": second.stdout},
        "wrong_token": {"exit": wrong.returncode, "stderr": wrong.stderr.strip()[-300:]},
        "sigterm": {"exit": stopped.returncode, "stderr_tail": stopped_err.strip()[-300:]},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", metavar="PART", help="kills, occupancy, duplicates, cli (default: all)")
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args(argv)
    known = ["kills", "occupancy", "duplicates", "cli"]
    parts = args.parts or known
    if set(parts) - set(known):
        parser.error(f"unknown part: {', '.join(sorted(set(parts) - set(known)))}")
    report: dict[str, Any] = {}
    for part in parts:
        started = time.monotonic()
        if part == "kills":
            report[part] = part_kills(args.seed)
        elif part == "occupancy":
            report[part] = part_occupancy()
        elif part == "duplicates":
            report[part] = part_duplicates(args.seed)
        else:
            report[part] = part_cli()
        print(f"# {part}: {time.monotonic() - started:.0f} s", file=sys.stderr)
        print(json.dumps({part: report[part]}, indent=2))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
