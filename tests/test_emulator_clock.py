"""
Fast by default: an ``Emulator()`` runs on an ``InstantClock``; a ``ManualClock`` cannot hang a client
that polls; the fixture's clock and speed are ini options or marker arguments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from runspec import NotebookTask, Run, Workspace, submit
from runspec.testing import DEFAULT_TOKEN, Emulator, InstantClock, ManualClock, Outcome, Request

REPO = Path(__file__).resolve().parents[1]

SPEC = (
    Run("three")
    .task(NotebookTask("/Workspace/a"), key="a")
    .task(NotebookTask("/Workspace/b"), key="b", depends_on=["a"])
    .task(NotebookTask("/Workspace/c"), key="c", depends_on=["b"])
    .compile()
)


def test_default_emulator_has_the_run_finished_by_the_first_poll() -> None:
    slept: list[float] = []
    with Emulator() as emu:
        assert isinstance(emu.clock, InstantClock)
        handle = submit(SPEC, host=emu.url, token=emu.token, sleep=slept.append)
        finished = handle.wait()
        assert finished.state.result_state == "SUCCESS"
        assert slept == []  # no poll had to wait
        run = emu.run(handle.run_id)
    a, b, c = run["tasks"]
    assert a["end_time"] <= b["start_time"] and b["end_time"] <= c["start_time"]  # the timeline is intact
    assert run["run_duration"] > 0


def test_instant_clock_still_times_out_and_retries() -> None:
    with Emulator() as emu:
        emu.script("a", [Outcome.fail("flaky"), Outcome.success(seconds=3600)])
        body = {
            "run_name": "r",
            "tasks": [
                {"task_key": "a", "notebook_task": {"notebook_path": "/a"}, "max_retries": 1, "timeout_seconds": 60}
            ],
        }
        handle = submit(body, host=emu.url, token=emu.token)
        run = emu.run(handle.run_id)
    assert [t["state"]["result_state"] for t in run["tasks"]] == ["FAILED", "TIMEDOUT"]


def _api(emu: Emulator, method: str, endpoint: str, **params: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    path = f"/api/2.2/jobs/{endpoint}"
    if method == "GET":
        request = Request("GET", path, query={k: str(v) for k, v in params.items()}, headers=headers)
    else:
        request = Request("POST", path, headers=headers, body=json.dumps(params).encode())
    response = emu.handle(request)
    assert response.status == 200, response.body
    answer: dict[str, Any] = json.loads(response.body)
    return answer


ONE_TASK = {"run_name": "r", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/a"}}]}


def test_runs_created_one_after_another_start_in_later_milliseconds() -> None:
    emu = Emulator()
    epoch_ms = round(emu.clock.now() * 1000)
    ids = [_api(emu, "POST", "runs/submit", **ONE_TASK, idempotency_token=f"t{n}")["run_id"] for n in range(3)]
    listed = _api(emu, "GET", "runs/list")["runs"]
    assert [run["run_id"] for run in listed] == ids[::-1]
    first, second, third = (run["start_time"] for run in reversed(listed))
    assert epoch_ms == first < second < third
    # a token sent again makes no run, so it moves no time
    now = emu.clock.now()
    assert _api(emu, "POST", "runs/submit", **ONE_TASK, idempotency_token="t0")["run_id"] == ids[0]
    assert emu.clock.now() == now


def _keyed(name: str) -> Run:
    return Run(name).task(NotebookTask(f"/Workspace/{name}"), key="t")


@pytest.mark.parametrize("outcome", [Outcome.success(), Outcome.hang()], ids=["ends", "hangs"])
def test_a_key_sent_again_reattaches_though_a_newer_run_exists(outcome: Outcome) -> None:
    emu = Emulator()
    emu.script("*", outcome)
    workspace = Workspace.resolve(token=emu.token, transport=emu.transport())
    first = workspace.submit(_keyed("a"), key="a")
    newer = workspace.submit(_keyed("b"), key="b")
    again = workspace.submit(_keyed("a"), key="a")
    fresh = workspace.submit(_keyed("c"), key="c")
    assert (first.reattached, newer.reattached) == (False, False)
    assert (again.run_id, again.reattached) == (first.run_id, True)
    assert fresh.run_id not in (first.run_id, newer.run_id) and fresh.reattached is False
    assert len(emu.run_ids()) == 3


def test_a_token_sent_again_reattaches_though_a_run_was_made_right_after_its_own() -> None:
    emu = Emulator()
    workspace = Workspace.resolve(token=emu.token, transport=emu.transport())
    first = workspace.submit(SPEC, idempotency_token="nightly-2026-12-01")
    workspace.submit(SPEC)  # made right after it: no request in between moved the clock
    again = workspace.submit(SPEC, idempotency_token="nightly-2026-12-01")
    assert (first.reattached, again.run_id, again.reattached) == (False, first.run_id, True)


def test_a_new_run_made_in_the_millisecond_of_the_newest_one_is_not_taken_as_existing() -> None:
    # A still manual clock makes both runs start in one millisecond, as two clients' runs can.
    emu = Emulator(clock=ManualClock(), stall_after=None)
    workspace = Workspace.resolve(token=emu.token, transport=emu.transport())
    first = workspace.submit(_keyed("a"), key="a")
    second = workspace.submit(_keyed("b"), key="b")
    assert first.get().start_time == second.get().start_time
    assert second.run_id != first.run_id and second.reattached is False


def test_a_task_that_hangs_reads_running_once_its_setup_is_over() -> None:
    views = []
    for clock in (None, ManualClock()):
        emu = Emulator(clock=clock)
        emu.script("a", Outcome.hang())
        run_id = _api(emu, "POST", "runs/submit", **ONE_TASK)["run_id"]
        if isinstance(clock, ManualClock):
            clock.advance(emu.timing.setup)
        views.append(_api(emu, "GET", "runs/get", run_id=run_id))
    instant, manual = views
    assert instant == manual
    assert instant["status"]["state"] == instant["tasks"][0]["status"]["state"] == "RUNNING"
    assert instant["tasks"][0]["setup_duration"] == 100


def test_a_manual_clock_nobody_moves_does_not_hang_a_plain_wait() -> None:
    with Emulator(clock=ManualClock(), stall_after=0.05) as emu:
        handle = submit(SPEC, host=emu.url, token=emu.token)
        assert handle.wait(timeout=30).state.result_state == "SUCCESS"


def test_a_manual_clock_read_without_pause_stays_where_the_test_put_it() -> None:
    with Emulator(clock=ManualClock()) as emu:
        handle = submit(SPEC, host=emu.url, token=emu.token)
        first = handle.get()
        again = handle.get()
        assert first.state.label == again.state.label and not first.state.finished


USER_SUITE = """
import pytest
from runspec import NotebookTask, Run, submit
from runspec.testing import InstantClock, ManualClock, ScaledClock

SPEC = Run("r").task(NotebookTask("/a"), key="a").compile()


def test_ini_clock(runspec_emulator):
    assert type(runspec_emulator.clock).__name__ == "{ini_class}"


@pytest.mark.runspec_emulator(clock="instant")
def test_marker_word_instant(runspec_emulator):
    assert isinstance(runspec_emulator.clock, InstantClock)
    submit(SPEC, host=runspec_emulator.url, token=runspec_emulator.token).wait()


@pytest.mark.runspec_emulator(clock="manual")
def test_marker_word_manual(runspec_emulator):
    assert type(runspec_emulator.clock) is ManualClock


@pytest.mark.runspec_emulator(speed=20)
def test_marker_speed_is_real_time_sped_up(runspec_emulator):
    assert isinstance(runspec_emulator.clock, ScaledClock) and runspec_emulator.clock.speed == 20
"""


def _pytest(folder: Path, ini: str) -> subprocess.CompletedProcess[str]:
    """
    ``pytest`` on ``folder`` in a process of its own, with the plugins installed here autoloaded as a user's
    would be (runspec's among them); hypothesis's, which this suite installs and a user's suite here does
    not use, is left out: it costs seconds of every run.
    """
    (folder / "pytest.ini").write_text(f"[pytest]\n{ini}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    options = ["-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *options, str(folder)],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=300,
    )


def test_fixture_clock_from_the_ini_file_and_from_markers(tmp_path: Path) -> None:
    for ini, expected in (("", "InstantClock"), ("runspec_emulator_clock = manual", "ManualClock")):
        (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_SUITE.replace("{ini_class}", expected)))
        done = _pytest(tmp_path, ini)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "4 passed" in done.stdout
    (tmp_path / "test_user.py").write_text(
        "def test_real(runspec_emulator):\n    assert runspec_emulator.clock.speed == 3.5\n"
    )
    done = _pytest(tmp_path, "runspec_emulator_clock = real\nrunspec_emulator_speed = 3.5")
    assert done.returncode == 0, done.stdout + done.stderr


def test_fifty_submit_and_wait_tests_pass_with_the_fixture_as_the_readme_uses_it(tmp_path: Path) -> None:
    """
    The README's fixture example, fifty times, with the README's own spec: each test scripts a failure,
    submits, and waits with a plain ``handle.wait()`` (timed in benchmarks/emulator_suite.py, not here).
    """
    from tests.doc_blocks import python_blocks

    blocks = [b.code for b in python_blocks((REPO / "README.md").read_text(encoding="utf-8")) if b.not_run is None]
    name = "def test_transform_failure_is_reported(runspec_emulator):"
    (example,) = [code for code in blocks if name in code]
    assert "handle.wait()" in example and "runspec_emulator.url" in example
    tests = "".join("\n\n" + example.replace(name, f"def test_readme_{i}(runspec_emulator):") for i in range(50))
    (tmp_path / "test_fifty.py").write_text(blocks[0] + tests + "\n", encoding="utf-8")
    done = _pytest(tmp_path, "")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "50 passed" in done.stdout
