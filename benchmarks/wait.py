"""
Following a large run: requests made and how late the end is noticed, runspec's ``wait()`` against
the official SDK's waiter, on the same emulated run.

    python benchmarks/wait.py            # 5 runs (different task times), a few seconds each
    python benchmarks/wait.py --runs 1

The run: 300 notebook tasks in 10 chains of 30 (task i depends on task i-10), each task running a
time drawn between 60 and 600 s (seeded, the same for both clients), so some task changes state
every few tens of seconds and the run lasts about 2.8 hours. Each client follows a fresh emulator
on a ``ManualClock``: the client's sleeps move the emulated time, so hours pass in seconds and
nothing depends on this machine's speed.

- runspec: ``submit(...).wait()`` with its defaults (no progress callback).
- SDK: ``WorkspaceClient(...).jobs.wait_get_run_job_terminated_or_skipped(run_id)``, its module's
  ``time`` and ``random`` pointed at the manual clock and a seeded generator. Its ``get_run`` reads
  every page of the run on each poll.

Requests are everything a client sent after the submit (runs/get pages, get-output). End latency
is the emulated time between the run's ``end_time`` and the poll that saw it finished.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runspec import submit
from runspec.testing import Emulator, ManualClock, Outcome

TOKEN = "wait-benchmark-token"
TASKS = 300
CHAINS = 10
SHORTEST, LONGEST = 60.0, 600.0

__all__ = ["measure", "scenario"]


def scenario(seed: int) -> tuple[dict[str, Any], dict[str, float]]:
    """The runs/submit body and each task's running time, for ``seed``."""
    rng = random.Random(seed)
    tasks: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    for i in range(TASKS):
        key = f"t{i:03d}"
        task: dict[str, Any] = {
            "task_key": key,
            "notebook_task": {"notebook_path": f"/Workspace/bench/{key}"},
            "existing_cluster_id": "0101-000000-bench",
        }
        if i >= CHAINS:
            task["depends_on"] = [{"task_key": f"t{i - CHAINS:03d}"}]
        tasks.append(task)
        seconds[key] = round(rng.uniform(SHORTEST, LONGEST), 1)
    return {"run_name": f"wait-benchmark-{seed}", "tasks": tasks}, seconds


def _emulator(seconds: dict[str, float]) -> tuple[Emulator, ManualClock]:
    clock = ManualClock()
    emu = Emulator(token=TOKEN, clock=clock)
    for key, value in seconds.items():
        emu.script(key, Outcome.success(seconds=value))
    return emu, clock


def _end(emu: Emulator, run_id: int) -> float:
    end_time = emu.run(run_id).get("end_time")
    if not isinstance(end_time, int) or end_time <= 0:
        raise RuntimeError(f"run {run_id} has no end_time")
    return end_time / 1000.0


def follow_with_runspec(body: dict[str, Any], seconds: dict[str, float]) -> dict[str, Any]:
    """Requests and end latency of runspec's ``wait()``."""
    emu, clock = _emulator(seconds)
    with emu:
        handle = submit(body, emu.url, TOKEN, sleep=clock.advance, clock=clock.now)
        emu.clear_requests()
        run = handle.wait()
        noticed = clock.now()
        assert run.succeeded()
        requests = len(emu.requests)
        pages = len(emu.requests_to("runs/get"))
        latency = noticed - _end(emu, handle.run_id)
        duration = _end(emu, handle.run_id) - (emu.run(handle.run_id)["start_time"] / 1000.0)
        handle.close()
    return {"requests": requests, "runs_get": pages, "latency": latency, "duration": duration}


def follow_with_sdk(body: dict[str, Any], seconds: dict[str, float], seed: int) -> dict[str, Any] | None:
    """Requests and end latency of the SDK's waiter; ``None`` without databricks-sdk."""
    try:
        from databricks.sdk import WorkspaceClient
        from databricks.sdk.service import jobs as sdk_jobs
    except ImportError:  # pragma: no cover - the SDK is in the test extra
        return None
    emu, clock = _emulator(seconds)
    saved_time, saved_random = sdk_jobs.time, sdk_jobs.random
    sdk_jobs.time = types.SimpleNamespace(time=clock.now, sleep=clock.advance)  # type: ignore[assignment]
    sdk_jobs.random = random.Random(seed)  # type: ignore[assignment]
    try:
        with emu:
            handle = submit(body, emu.url, TOKEN, sleep=clock.advance, clock=clock.now)
            emu.clear_requests()
            client = WorkspaceClient(host=emu.url, token=TOKEN, auth_type="pat")
            run = client.jobs.wait_get_run_job_terminated_or_skipped(handle.run_id, timeout=timedelta(days=1))
            noticed = clock.now()
            assert run.state is not None
            requests = len(emu.requests)
            pages = len(emu.requests_to("runs/get"))
            latency = noticed - _end(emu, handle.run_id)
            handle.close()
    finally:
        sdk_jobs.time, sdk_jobs.random = saved_time, saved_random
    return {"requests": requests, "runs_get": pages, "latency": latency}


def measure(runs: int = 5, first_seed: int = 1) -> dict[str, Any]:
    """Both clients on ``runs`` scenarios; per scenario and totals."""
    rows: list[dict[str, Any]] = []
    for seed in range(first_seed, first_seed + runs):
        body, seconds = scenario(seed)
        ours = follow_with_runspec(body, seconds)
        theirs = follow_with_sdk(body, seconds, seed)
        rows.append({"seed": seed, "runspec": ours, "sdk": theirs})
    result: dict[str, Any] = {"scenarios": rows}
    if all(r["sdk"] is not None for r in rows):
        ours_req = sum(r["runspec"]["requests"] for r in rows)
        sdk_req = sum(r["sdk"]["requests"] for r in rows)
        result["request_ratio"] = ours_req / sdk_req
        result["runspec_mean_latency"] = sum(r["runspec"]["latency"] for r in rows) / len(rows)
        result["sdk_mean_latency"] = sum(r["sdk"]["latency"] for r in rows) / len(rows)
        result["later_than_sdk"] = sum(1 for r in rows if r["runspec"]["latency"] > r["sdk"]["latency"])
    return result


def render(result: dict[str, Any]) -> str:
    """The side-by-side table."""
    lines = [
        f"wait: {TASKS} tasks in {CHAINS} chains, task times {SHORTEST:.0f}-{LONGEST:.0f} s (emulated, ManualClock)",
        f"  {'seed':>4}  {'run':>7}  {'runspec req':>11}  {'SDK req':>8}  {'ratio':>6}  "
        f"{'runspec end':>11}  {'SDK end':>8}",
    ]
    for row in result["scenarios"]:
        ours, theirs = row["runspec"], row["sdk"]
        sdk_req = f"{theirs['requests']:>8}" if theirs else f"{'-':>8}"
        ratio = f"{ours['requests'] / theirs['requests']:>6.2f}" if theirs else f"{'-':>6}"
        sdk_end = f"{theirs['latency']:>7.1f}s" if theirs else f"{'-':>8}"
        lines.append(
            f"  {row['seed']:>4}  {ours['duration'] / 3600:>6.2f}h  {ours['requests']:>11}  {sdk_req}  {ratio}  "
            f"{ours['latency']:>10.1f}s  {sdk_end}"
        )
    if "request_ratio" in result:
        lines.append(
            f"  all: runspec/SDK requests {result['request_ratio']:.2f} (target <= 0.50); mean end latency "
            f"runspec {result['runspec_mean_latency']:.1f} s, SDK {result['sdk_mean_latency']:.1f} s; "
            f"runspec later in {result['later_than_sdk']} of {len(result['scenarios'])}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="runspec wait() against the SDK's waiter on one emulated run")
    parser.add_argument("--runs", type=int, default=5, help="scenarios (seeds) to run (default 5)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args(argv)
    result = measure(args.runs)
    print(render(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
