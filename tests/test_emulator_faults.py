"""Fault injection: throttling, server errors, slow answers and dropped connections, by count or rate."""

from __future__ import annotations

import time

import pytest
import requests

from runspec.testing import Emulator, Fault, ManualClock

try:
    from tests.emulator_support import TOKEN, Api, api, body, emu, task
except ImportError:  # tests/ run as a plain directory
    from emulator_support import (  # type: ignore[no-redef,import-not-found]  # noqa: F401 - fixtures
        TOKEN,
        Api,
        api,
        body,
        emu,
        task,
    )


def test_throttle_answers_429_with_retry_after_then_lets_requests_through(emu: Emulator, api: Api) -> None:
    injection = emu.inject(Fault.throttle(retry_after=3), "runs/submit", times=2)
    answers = [api.call("POST", "runs/submit", json=body(task("a"))) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert answers[0].json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert len(emu.run_ids()) == 1
    assert injection.fired == 2 and injection.exhausted
    assert [r.fault for r in emu.requests] == ["429", "429", None]


@pytest.mark.parametrize(
    ("fault", "status", "code", "retry_after"),
    [
        (Fault.unavailable(retry_after=7), 503, "TEMPORARILY_UNAVAILABLE", "7"),
        (Fault.unavailable(), 503, "TEMPORARILY_UNAVAILABLE", None),
        (Fault.error(500), 500, "INTERNAL_ERROR", None),
        (Fault.error(502, message="upstream sad"), 502, "BAD_GATEWAY", None),
        (Fault.error(504), 504, "DEADLINE_EXCEEDED", None),
        (Fault.error(400, "INVALID_STATE", "rate limit of jobs"), 400, "INVALID_STATE", None),
        (
            Fault.throttle(retry_after="Wed, 21 Oct 2026 07:28:00 GMT"),
            429,
            "REQUEST_LIMIT_EXCEEDED",
            "Wed, 21 Oct 2026 07:28:00 GMT",
        ),
    ],
)
def test_error_faults(emu: Emulator, api: Api, fault: Fault, status: int, code: str, retry_after: str | None) -> None:
    emu.inject(fault, "runs/list", times=1)
    response = api.call("GET", "runs/list")
    assert response.status_code == status
    assert response.json()["error_code"] == code
    assert response.headers.get("Retry-After") == retry_after
    assert api.call("GET", "runs/list").status_code == 200


def test_error_after_handling_keeps_the_effect(emu: Emulator, api: Api) -> None:
    emu.inject(Fault.unavailable(after_handling=True), "runs/submit", times=1)
    lost = api.call("POST", "runs/submit", json=body(task("a"), idempotency_token="retry-me"))
    assert lost.status_code == 503
    assert len(emu.run_ids()) == 1
    again = api.submit(body(task("a"), idempotency_token="retry-me"))
    assert emu.run_ids() == [again]
    assert [r.fault for r in emu.requests_to("runs/submit")] == ["503 after handling", None]


def test_drop_after_the_run_was_created(emu: Emulator, api: Api) -> None:
    emu.inject(Fault.drop(), "runs/submit", times=1)
    with pytest.raises(requests.ConnectionError):
        api.call("POST", "runs/submit", json=body(task("a"), idempotency_token="once"))
    assert len(emu.run_ids()) == 1
    retried = api.submit(body(task("a"), idempotency_token="once"))
    assert emu.run_ids() == [retried]
    dropped, answered = emu.requests_to("runs/submit")
    assert dropped.status is None and dropped.fault == "drop after handling"
    assert answered.status == 200


def test_drop_before_handling_changes_nothing(emu: Emulator, api: Api) -> None:
    emu.inject(Fault.drop(after_handling=False), "runs/submit", times=1)
    with pytest.raises(requests.ConnectionError):
        api.call("POST", "runs/submit", json=body(task("a")))
    assert emu.run_ids() == []
    assert emu.requests[0].fault == "drop before handling"


def test_delay_makes_a_client_time_out(emu: Emulator, api: Api) -> None:
    emu.inject(Fault.delay(0.6), "runs/list", times=2)
    with pytest.raises(requests.Timeout):
        api.call("GET", "runs/list", timeout=0.2)
    started = time.monotonic()
    slow = api.call("GET", "runs/list", timeout=5)
    assert slow.status_code == 200
    assert time.monotonic() - started >= 0.6
    assert emu.requests_to("runs/list")[-1].fault == "delay 0.6s"


def test_rate_is_random_but_repeatable_with_a_seed() -> None:
    def pattern() -> list[int]:
        with Emulator(token=TOKEN, clock=ManualClock()) as emulator:
            emulator.inject(Fault.unavailable(), "runs/list", rate=0.5, seed=7)
            client = Api(emulator)
            statuses = [client.call("GET", "runs/list").status_code for _ in range(30)]
            client.close()
        return statuses

    first = pattern()
    assert first == pattern()
    assert 5 < first.count(503) < 25
    assert set(first) == {200, 503}


def test_skip_times_and_endpoint_selection(emu: Emulator, api: Api) -> None:
    emu.inject(Fault.error(500), ["runs/get", "runs/get-output"], skip=2, times=1)
    run_id = api.submit(body(task("a")))
    statuses = [api.call("GET", "runs/get", params={"run_id": run_id}).status_code for _ in range(4)]
    assert statuses == [200, 200, 500, 200]
    assert api.call("POST", "runs/submit", json=body(task("b"))).status_code == 200


def test_wildcard_remove_and_clear(emu: Emulator, api: Api) -> None:
    everywhere = emu.inject(Fault.error(503))
    assert requests.get(f"{emu.url}/.well-known/databricks-config", timeout=5).status_code == 503
    assert api.call("GET", "runs/list").status_code == 503
    everywhere.remove()
    assert api.call("GET", "runs/list").status_code == 200
    emu.inject(Fault.error(500), "runs/list")
    emu.inject(Fault.error(429), "runs/list")
    assert api.call("GET", "runs/list").status_code == 500  # the first injection added wins
    emu.clear_faults()
    assert api.call("GET", "runs/list").status_code == 200
    assert "fired 2" in repr(everywhere)


def test_fault_arguments_are_checked(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        Fault.error(200)
    with pytest.raises(ValueError):
        Fault.delay(-1)
    with pytest.raises(ValueError):
        emu.inject(Fault.error(500), rate=1.5)
    with pytest.raises(ValueError):
        emu.inject(Fault.error(500), times=-1)
