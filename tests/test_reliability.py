"""
Reliability under faults, through runspec's client and the emulator over real loopback HTTP.

- Exactly once: 200 submits with faults drawn at random (a response lost after the run was created,
  429 with Retry-After, 503, a connection closed before an answer, an answer slower than the client's
  read timeout) leave exactly 200 runs, each submit with its own run id. Sequential with a planned fault
  sequence per submit, and from 8 threads with faults at random rates.
- ``wait()`` rides out a storm of 5xx answers and dropped connections on runs/get and still reports the
  run's true final state, success or failure.
- The token never shows up in a log record, an exception, a repr or a request preview made meanwhile.

Retries sleep through an injected ``sleep`` that only moves a fake clock, so no test waits for backoff.
CI runs one fixed seed; ``RUNSPEC_SEEDS=50`` sweeps 50 seeds (the fixed one among them).
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from runspec import (
    NotebookTask,
    RateLimited,
    Run,
    RunFailed,
    RunHandle,
    RunSpec,
    ServerError,
    SubmitError,
    TaskDependency,
    TransportError,
    submit,
)
from runspec.testing import Emulator, Fault, ManualClock, Outcome, Timing

TOKEN = "dapiRELIABILITYsecret0f3a9c2b7d41e8"
FIXED_SEED = 20260107
SEEDS = [FIXED_SEED, *range(1, int(os.environ.get("RUNSPEC_SEEDS", "1")))]
SUBMITS = 200
READ_TIMEOUT = 0.1  # seconds: the client's read timeout in these tests
SLOW = 0.3  # seconds: how late a slow answer comes (past READ_TIMEOUT)


@dataclass
class FakeTime:
    """A monotonic clock that only moves when the client sleeps; optionally moves the emulator too."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    also: Callable[[float], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds
        if self.also is not None:
            self.also(seconds)


def small_run(name: str = "reliability") -> RunSpec:
    return (
        Run(name)
        .task(NotebookTask("/Repos/etl/ingest"), key="ingest", existing_cluster_id="0101-abc")
        .task(NotebookTask("/Repos/etl/report"), key="report", depends_on=["ingest"], existing_cluster_id="0101-abc")
        .compile()
    )


# -- fault plans --------------------------------------------------------------------------------------

#: kind -> (weight, how to make the fault). A slow answer costs READ_TIMEOUT of real time, so it is rarer.
FAULT_KINDS: dict[str, tuple[int, Callable[[random.Random], Fault]]] = {
    "lost-after-commit": (3, lambda rng: Fault.drop(after_handling=True)),
    "429": (3, lambda rng: Fault.throttle(retry_after=rng.choice([1, 2, 3, 7]))),
    "503": (3, lambda rng: Fault.unavailable(retry_after=rng.choice([None, None, 1, 4]))),
    "reset": (3, lambda rng: Fault.drop(after_handling=False)),
    "slow": (1, lambda rng: Fault.delay(SLOW)),
}


def draw_plan(rng: random.Random) -> list[tuple[str, Fault]]:
    """The faults one submit meets, in order: none to three."""
    count = rng.choice([0, 0, 1, 1, 1, 2, 3])
    names = list(FAULT_KINDS)
    weights = [FAULT_KINDS[n][0] for n in names]
    plan = []
    for _ in range(count):
        kind = rng.choices(names, weights)[0]
        plan.append((kind, FAULT_KINDS[kind][1](rng)))
    return plan


def settle(emulator: Emulator, expected_requests: int, timeout: float = 10.0) -> None:
    """Wait until every request sent has been answered (slow answers land after the client gave up)."""
    deadline = time.monotonic() + timeout
    while len(emulator.requests_to("runs/submit")) < expected_requests and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(SLOW)  # a late answer may still be on its way


def assert_exactly_once(emulator: Emulator, handles: list[RunHandle]) -> None:
    ids = [h.run_id for h in handles]
    assert len(ids) == SUBMITS
    assert len(set(ids)) == SUBMITS, "two submits returned the same run"
    assert sorted(emulator.run_ids()) == sorted(ids), "the workspace holds runs no submit returned, or lacks some"
    tokens = [h.idempotency_token for h in handles]
    assert all(tokens) and len(set(tokens)) == SUBMITS, "submits shared an idempotency token"
    sent = {r.body["idempotency_token"] for r in emulator.requests_to("runs/submit")}
    assert sent == set(tokens), "a request went out with a token no handle knows"


# -- exactly once -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_200_submits_through_random_faults_start_200_runs(seed: int) -> None:
    rng = random.Random(seed)
    spec = small_run()  # the same spec every time: each submit is still its own run
    fake = FakeTime()
    kinds_seen: Counter[str] = Counter()
    handles: list[RunHandle] = []
    planned = 0
    with Emulator(token=TOKEN, clock=ManualClock()) as emu, requests.Session() as session:
        for _ in range(SUBMITS):
            plan = draw_plan(rng)
            planned += len(plan)
            injections = [emu.inject(fault, "runs/submit", times=1) for _, fault in plan]
            fake.sleeps.clear()
            handle = submit(
                spec,
                emu.url,
                TOKEN,
                session=session,
                timeout=(5.0, READ_TIMEOUT),
                sleep=fake.sleep,
                clock=fake.clock,
            )
            handles.append(handle)
            # Every planned fault hit this submit, and it retried through all of them.
            assert all(i.exhausted for i in injections), injections
            assert len(fake.sleeps) >= len(plan)
            for kind, fault in plan:
                kinds_seen[kind] += 1
                if kind == "429" or (kind == "503" and fault.retry_after is not None):
                    assert float(fault.retry_after or 0) in fake.sleeps, "Retry-After was not honoured"
            emu.clear_faults()
        settle(emu, SUBMITS + planned)
        assert_exactly_once(emu, handles)
        assert len(emu.requests_to("runs/submit")) >= SUBMITS + planned
        # The lost responses really were lost after the run existed: their retries found the same run.
        assert set(kinds_seen) == set(FAULT_KINDS), kinds_seen
        labels = Counter(r.fault for r in emu.requests_to("runs/submit"))
        assert labels["drop after handling"] == kinds_seen["lost-after-commit"]
        assert labels["drop before handling"] == kinds_seen["reset"]


@pytest.mark.parametrize("seed", SEEDS)
def test_200_submits_from_8_threads_through_random_faults_start_200_runs(seed: int) -> None:
    spec = small_run("threaded")
    handles: list[RunHandle] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    with Emulator(token=TOKEN, clock=ManualClock()) as emu:
        injections = {
            kind: emu.inject(
                make(random.Random(seed)), "runs/submit", rate=0.06 if kind != "slow" else 0.02, seed=seed + n
            )
            for n, (kind, (_, make)) in enumerate(FAULT_KINDS.items())
        }

        def worker() -> None:
            fake = FakeTime()
            try:
                with requests.Session() as session:
                    for _ in range(SUBMITS // 8):
                        handle = submit(
                            spec,
                            emu.url,
                            TOKEN,
                            session=session,
                            timeout=(5.0, READ_TIMEOUT),
                            sleep=fake.sleep,
                            clock=fake.clock,
                        )
                        with lock:
                            handles.append(handle)
            except BaseException as exc:  # reported below, with the thread's traceback
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, "".join(traceback.format_exception(errors[0]))
        settle(emu, SUBMITS)
        assert_exactly_once(emu, handles)
        fired = {kind: i.fired for kind, i in injections.items()}
        assert all(fired.values()), f"a fault kind never fired: {fired}"


# -- waiting through a storm ------------------------------------------------------------------------


def storm(emu: Emulator, seed: int) -> list[Any]:
    """Eight failures in a row on runs/get, then 5xx, 429 and dropped connections at random."""
    rng = random.Random(seed)
    first = emu.inject(Fault.error(rng.choice([500, 502, 503, 504])), "runs/get", times=8)
    kinds = [
        Fault.error(500),
        Fault.error(502),
        Fault.unavailable(retry_after=2),
        Fault.error(504),
        Fault.throttle(retry_after=1),
        Fault.drop(after_handling=False),
        Fault.drop(after_handling=True),
    ]
    return [first] + [emu.inject(f, "runs/get", rate=0.05, seed=seed + i) for i, f in enumerate(kinds)]


def pipeline() -> RunSpec:
    cluster = "0101-abc"
    return (
        Run("storm")
        .task(NotebookTask("/Repos/etl/ingest"), key="ingest", existing_cluster_id=cluster)
        .task(NotebookTask("/Repos/etl/transform"), key="transform", depends_on=["ingest"], existing_cluster_id=cluster)
        .task(
            NotebookTask("/Repos/etl/publish"),
            key="publish",
            depends_on=[TaskDependency("transform")],
            existing_cluster_id=cluster,
        )
        .compile()
    )


@pytest.fixture
def slow_emulator() -> Iterator[tuple[Emulator, FakeTime]]:
    """An emulator on a manual clock whose tasks take minutes; the client's sleeps move its clock."""
    clock = ManualClock()
    with Emulator(token=TOKEN, clock=clock, timing=Timing(setup=20, duration=90, cleanup=5)) as emu:
        yield emu, FakeTime(also=clock.advance)


def _failed_get_answers(emu: Emulator) -> int:
    return sum(1 for r in emu.requests_to("runs/get") if r.status is None or r.status >= 429)


@pytest.mark.parametrize("seed", SEEDS)
def test_wait_reports_success_through_a_storm_on_runs_get(slow_emulator: Any, seed: int) -> None:
    emu, fake = slow_emulator
    handle = submit(pipeline(), emu.url, TOKEN, timeout=(5.0, 5.0), sleep=fake.sleep, clock=fake.clock)
    with handle:
        injections = storm(emu, seed)
        view = handle.wait(poll_interval=15)
    assert view.state.result_state == "SUCCESS"
    assert {t.key: t.state.result_state for t in view.tasks} == dict.fromkeys(
        ("ingest", "transform", "publish"), "SUCCESS"
    )
    truth = emu.run(handle.run_id)
    assert truth["state"]["result_state"] == "SUCCESS"
    assert injections[0].fired == 8
    assert _failed_get_answers(emu) >= 8 + 1, "the storm did not reach the client"


@pytest.mark.parametrize("seed", SEEDS)
def test_wait_reports_failure_through_a_storm_on_runs_get(slow_emulator: Any, seed: int) -> None:
    emu, fake = slow_emulator
    emu.script(
        "transform", Outcome.fail("ZeroDivisionError: division by zero", trace="Traceback (most recent call last): ...")
    )
    handle = submit(pipeline(), emu.url, TOKEN, timeout=(5.0, 5.0), sleep=fake.sleep, clock=fake.clock)
    with handle:
        injections = storm(emu, seed)
        with pytest.raises(RunFailed) as caught:
            handle.wait(poll_interval=15)
    failed = caught.value
    assert failed.run.state.result_state == "FAILED"
    by_key = {t.key: t for t in failed.failed_tasks}
    assert set(by_key) == {"transform", "publish"}
    assert by_key["transform"].state.result_state == "FAILED"
    assert "division by zero" in (by_key["transform"].error or "")
    assert by_key["publish"].state.result_state == "UPSTREAM_FAILED"
    truth = emu.run(handle.run_id)
    assert truth["state"]["result_state"] == "FAILED"
    assert injections[0].fired == 8


# -- the token stays secret -------------------------------------------------------------------------


def strings_of(obj: Any, seen: set[int] | None = None) -> list[str]:
    """Every way a person or a log handler might turn ``obj`` into text, causes included."""
    seen = seen if seen is not None else set()
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    found = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        found.append("".join(traceback.format_exception(obj)))
        found += [repr(a) for a in obj.args]
        found += [f"{k}={v!r}" for k, v in vars(obj).items()]
        for linked in (obj.__cause__, obj.__context__):
            if linked is not None:
                found += strings_of(linked, seen)
    return found


def record_strings(record: logging.LogRecord) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    found = [formatter.format(record), str(record.msg), repr(record.args)]
    if record.exc_info and record.exc_info[1] is not None:
        found += strings_of(record.exc_info[1])
    return found


def test_the_token_appears_in_no_log_exception_repr_or_preview(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    fake = FakeTime()
    rng = random.Random(FIXED_SEED)
    clock = ManualClock()
    fake.also = clock.advance
    with Emulator(token=TOKEN, clock=clock, timing=Timing(setup=20, duration=60)) as emu, requests.Session() as session:
        # A preview, then sending it through every submit fault.
        prepared = submit(small_run(), emu.url, TOKEN, perform_request=False, timeout=(5.0, READ_TIMEOUT))
        texts += [repr(prepared), str(prepared), json.dumps(prepared.redacted())]
        for _, make in FAULT_KINDS.values():
            emu.inject(make(rng), "runs/submit", times=1)
        handle = prepared.send(session, sleep=fake.sleep, clock=fake.clock)
        texts += strings_of(handle)

        # Thirty more submits through random faults.
        for _ in range(30):
            for _, fault in draw_plan(rng):
                emu.inject(fault, "runs/submit", times=1)
            h = submit(
                small_run(),
                emu.url,
                TOKEN,
                session=session,
                timeout=(5.0, READ_TIMEOUT),
                sleep=fake.sleep,
                clock=fake.clock,
            )
            texts += strings_of(h)
            emu.clear_faults()

        # A wait through a storm that ends in a failed run.
        emu.script("report", Outcome.fail("KeyError: 'region'", trace="Traceback (most recent call last): ..."))
        failing = submit(small_run(), emu.url, TOKEN, session=session, sleep=fake.sleep, clock=fake.clock)
        storm(emu, FIXED_SEED)
        with pytest.raises(RunFailed) as run_failed:
            failing.wait(poll_interval=15)
        texts += strings_of(run_failed.value) + strings_of(failing)
        texts += [repr(t) for t in run_failed.value.failed_tasks]
        emu.clear_faults()

        # Submits that give up: 503 past the deadline, 429 past the deadline, connections that keep failing.
        for fault, expected in (
            (Fault.unavailable(), ServerError),
            (Fault.throttle(retry_after=30), RateLimited),
            (Fault.drop(after_handling=False), TransportError),
        ):
            emu.inject(fault, "runs/submit")
            with pytest.raises(expected) as gave_up:
                submit(small_run(), emu.url, TOKEN, session=session, deadline=20, sleep=fake.sleep, clock=fake.clock)
            texts += strings_of(gave_up.value)
            emu.clear_faults()
        # A slow answer with no time left to retry.
        emu.inject(Fault.delay(SLOW), "runs/submit")
        with pytest.raises(TransportError) as too_slow:
            submit(
                small_run(),
                emu.url,
                TOKEN,
                session=session,
                timeout=(5.0, READ_TIMEOUT),
                deadline=0,
                sleep=fake.sleep,
                clock=fake.clock,
            )
        texts += strings_of(too_slow.value)
        emu.clear_faults()
        # A workspace that refuses the token.
        emu.forbid(TOKEN)
        with pytest.raises(SubmitError) as refused:
            submit(small_run(), emu.url, TOKEN, session=session, sleep=fake.sleep, clock=fake.clock)
        texts += strings_of(refused.value)
        time.sleep(SLOW)
        texts += [repr(r) for r in emu.requests]

    texts += [s for record in caplog.records for s in record_strings(record)]
    assert len(caplog.records) > 50, "the runs above should have logged retries and progress"
    assert any("retrying" in r.getMessage() for r in caplog.records)
    leaks = [t for t in texts if TOKEN in t]
    assert not leaks, f"the token leaked into {len(leaks)} of {len(texts)} strings, e.g. {leaks[0][:300]!r}"
