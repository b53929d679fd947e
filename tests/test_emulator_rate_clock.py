"""
The emulator's request rate (``Limits(requests_per_second=)``) follows its clock, as every emulated time
does: a ``ManualClock`` frees the budget only when it moves, ``speed=`` scales it, and a client whose
waits move the manual clock meets the limit as it would in real time instead of a flood of 429s.
"""

from __future__ import annotations

from collections import Counter

import requests

from runspec.client import Workspace
from runspec.testing import Emulator, Limits, ManualClock
from runspec.wire import Request

TOKEN = "rate-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def statuses(emu: Emulator, count: int) -> list[int]:
    transport = emu.transport()
    url = f"{emu.url}/api/2.2/jobs/runs/list"
    return [transport.send(Request("GET", url, HEADERS), timeout=(5.0, 5.0), deadline=5.0).status for _ in range(count)]


def test_a_manual_clock_frees_the_request_budget_only_when_it_moves() -> None:
    clock = ManualClock()
    with Emulator(token=TOKEN, clock=clock, stall_after=None, limits=Limits(requests_per_second=2)) as emu:
        assert statuses(emu, 3) == [200, 200, 429]  # a burst of one second's worth
        clock.advance(0.5)
        assert statuses(emu, 2) == [200, 429]  # half a second: one more request
        clock.advance(1.0)
        assert statuses(emu, 3) == [200, 200, 429]
        throttled = [r for r in emu.requests_to("runs/list") if r.status == 429]
        assert len(throttled) == 3


def test_a_client_whose_waits_move_the_manual_clock_is_not_flooded_with_429s() -> None:
    clock = ManualClock()
    with Emulator(token=TOKEN, clock=clock, stall_after=None, limits=Limits(requests_per_second=5)) as emu:
        workspace = Workspace.resolve(token=TOKEN, transport=emu.transport(), sleep=clock.advance, clock=clock.now)
        body = {
            "run_name": "r",
            "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "c"}],
        }
        batch = workspace.submit_many({f"k{i}": body for i in range(20)}, requests_per_second=5)
        assert batch.summary() == {"succeeded": 20}
        answered = Counter(r.status for r in emu.requests)
        assert answered[429] <= 1, answered  # the client's pace is the emulator's: at most a stray one
        assert answered[200] == len(emu.requests) - answered[429]


def test_speed_scales_the_request_budget() -> None:
    with Emulator(token=TOKEN, speed=10_000, limits=Limits(requests_per_second=1)) as emu:
        session = requests.Session()
        answers = [session.get(f"{emu.url}/api/2.2/jobs/runs/list", headers=HEADERS, timeout=10) for _ in range(8)]
        # A request over loopback takes well over a millisecond: ten emulated seconds, ten requests' worth.
        assert [a.status_code for a in answers] == [200] * 8
