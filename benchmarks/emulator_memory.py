"""
The memory of a long-lived emulator: resident set size after 10,000 and after 100,000 submits.

    python benchmarks/emulator_memory.py                     # the default cap (10,000 finished runs)
    python benchmarks/emulator_memory.py --submits 20000 --cap 1000

Each submit is a one-task run with its own idempotency token, handed to ``Emulator.handle`` as the HTTP
server would hand it (no sockets, so the figure is the emulator's own). Runs finish on the emulator's
instant clock; nobody reads them, as with a ``runspec emulator`` fed by a CI system. Past the cap the
oldest finished runs are dropped, so the RSS after 100,000 submits stays close to the RSS after 10,000;
what still grows is one entry per idempotency token (a token sent again must find its run). With
``--cap 0`` nothing is kept; ``--no-cap`` keeps every run, the baseline. Linux only (reads
``/proc/self/statm``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from types import MappingProxyType

from runspec.testing import Emulator
from runspec.testing._http import Request

TOKEN = "memory-token"
HEADERS = MappingProxyType({"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})


def rss_mb() -> float:
    """The process's resident set size now, in MB."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def submit(emulator: Emulator, i: int) -> None:
    body = {
        "run_name": f"nightly-{i}",
        "idempotency_token": f"runspec-{i:032x}",
        "tasks": [{"task_key": "ingest", "notebook_task": {"notebook_path": "/Workspace/etl/ingest"}}],
    }
    request = Request("POST", "/api/2.2/jobs/runs/submit", headers=HEADERS, body=json.dumps(body).encode())
    response = emulator.handle(request)
    assert response.status == 200, response.body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submits", type=int, default=100_000)
    parser.add_argument("--checkpoint", type=int, default=10_000, help="the first RSS reading (default 10,000)")
    parser.add_argument("--cap", type=int, default=10_000, help="max_finished_runs (default 10,000)")
    parser.add_argument("--no-cap", action="store_true", help="keep every run (max_finished_runs=None)")
    args = parser.parse_args()
    emulator = Emulator(token=TOKEN, request_log_size=0, max_finished_runs=None if args.no_cap else args.cap)
    start = rss_mb()
    readings: dict[int, float] = {}
    began = time.perf_counter()
    for i in range(1, args.submits + 1):
        submit(emulator, i)
        if i in (args.checkpoint, args.submits):
            gc.collect()
            readings[i] = rss_mb()
    seconds = time.perf_counter() - began
    kept = len(emulator.run_ids())
    print(f"cap {'none' if args.no_cap else args.cap}: {args.submits} submits in {seconds:.1f} s, {kept} runs kept")
    print(f"RSS before: {start:.1f} MB")
    for count, value in readings.items():
        print(f"RSS after {count} submits: {value:.1f} MB")
    if len(readings) == 2:
        low, high = readings[args.checkpoint], readings[args.submits]
        print(f"growth from {args.checkpoint} to {args.submits} submits: {high - low:.1f} MB")


if __name__ == "__main__":
    main()
