"""
End to end: runspec's own client (submit, RunHandle) against the emulator, on the emulator's clock, through
the transport seam (``Emulator.transport()``): no socket, no thread.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from runspec import NotebookTask, Run, RunFailed, submit
from runspec.testing import Emulator, Fault, ManualClock, Outcome
from runspec.wire import Request as WireRequest
from runspec.wire import SendFailed

TOKEN = "client-e2e-token"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> Emulator:
    return Emulator(token=TOKEN, clock=clock)


def send(emu: Emulator, clock: ManualClock, spec: Any, **options: Any) -> Any:
    """Submit with the client's sleeps moving the emulator's clock: waits take no real time."""
    return submit(spec, token=TOKEN, sleep=clock.advance, clock=clock.now, transport=emu.transport(), **options)


def pipeline() -> Run:
    return (
        Run("nightly")
        .task(NotebookTask("/Workspace/etl/ingest"), key="ingest")
        .task(NotebookTask("/Workspace/etl/report"), key="report", depends_on=["ingest"])
    )


def test_submit_wait_and_outputs(emu: Emulator, clock: ManualClock) -> None:
    emu.script("report", Outcome.success(result="42 rows"))
    handle = send(emu, clock, pipeline())
    run = handle.wait()
    assert run.run_id == handle.run_id
    assert emu.run(handle.run_id)["state"]["result_state"] == "SUCCESS"
    outputs = handle.outputs()
    assert outputs["report"].notebook_result == "42 rows"
    submitted = emu.requests_to("runs/submit")[0]
    assert submitted.body["run_name"] == "nightly"
    assert submitted.body["idempotency_token"] == handle.idempotency_token
    assert submitted.headers["Authorization"] == "Bearer ****"


def test_failed_run_raises_with_each_failed_tasks_error(emu: Emulator, clock: ManualClock) -> None:
    emu.script("ingest", Outcome.fail("FileNotFoundError: /data/today", trace="Traceback ..."))
    handle = send(emu, clock, pipeline())
    with pytest.raises(RunFailed) as failure:
        handle.wait()
    failed = {task.key: task for task in failure.value.failed_tasks}
    assert failed["ingest"].error == "FileNotFoundError: /data/today"
    assert failed["ingest"].error_trace == "Traceback ..."
    assert "report" in failed


def test_a_lost_submit_response_still_makes_exactly_one_run(emu: Emulator, clock: ManualClock) -> None:
    emu.inject(Fault.drop(), "runs/submit", times=1)
    handle = send(emu, clock, pipeline())
    assert emu.run_ids() == [handle.run_id]
    tokens = {r.body["idempotency_token"] for r in emu.requests_to("runs/submit")}
    assert len(emu.requests_to("runs/submit")) == 2 and len(tokens) == 1
    handle.wait()


def test_throttled_submit_waits_as_told(emu: Emulator, clock: ManualClock) -> None:
    emu.inject(Fault.throttle(retry_after=7), "runs/submit", times=1)
    started = clock.now()
    handle = send(emu, clock, pipeline())
    assert clock.now() - started >= 7
    assert emu.run_ids() == [handle.run_id]


def test_cancel_through_the_handle(emu: Emulator, clock: ManualClock) -> None:
    emu.script("ingest", Outcome.hang())
    handle = send(emu, clock, pipeline())
    handle.cancel()
    emu.wait(handle.run_id)
    assert emu.run(handle.run_id)["state"]["result_state"] == "CANCELED"
    with pytest.raises(RunFailed):
        handle.wait()


def test_submit_as_a_service_principal(clock: ManualClock) -> None:
    emulator = Emulator(token=TOKEN, clock=clock, service_principals={"sp-ci": "sp-secret"})
    handle = submit(pipeline(), client_id="sp-ci", client_secret="sp-secret", transport=emulator.transport())
    assert emulator.run_ids() == [handle.run_id]
    assert [r.endpoint for r in emulator.requests] == ["/oidc/v1/token", "runs/submit"]


def test_a_delay_past_the_clients_read_timeout_is_a_timeout_and_the_retry_finds_the_run(
    emu: Emulator, clock: ManualClock
) -> None:
    emu.inject(Fault.delay(30), "runs/submit", times=1)
    started = time.monotonic()
    handle = send(emu, clock, pipeline(), timeout=(1, 0.2))
    # The client stopped waiting after its read timeout, not after the whole delay.
    assert time.monotonic() - started < 5
    first, retry = emu.requests_to("runs/submit")
    assert (first.status, first.fault, retry.status) == (None, "delay 30s", 200)
    # The late request still took effect: the retry with the same token found its run.
    assert first.body["idempotency_token"] == retry.body["idempotency_token"] == handle.idempotency_token
    assert emu.run_ids() == [handle.run_id]
    emu.inject(Fault.delay(30), "runs/list", times=1)
    with pytest.raises(SendFailed, match="did not answer in time"):
        request = WireRequest(
            "GET", f"{emu.transport().host}/api/2.2/jobs/runs/list", {"Authorization": f"Bearer {TOKEN}"}
        )
        emu.transport().send(request, timeout=(1, 30), deadline=0.1)
