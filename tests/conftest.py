"""
Repo-wide test set-up: no test sees the developer's Databricks credentials, and hypothesis runs a
bounded profile unless ``HYPOTHESIS_PROFILE=long`` asks for the thorough one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runspec.client.sending import RequestsTransport
from runspec.testing import Emulator

try:  # the same module the client tests import, so its registry is the same object
    from tests.support import FakeClock, Tap, forget, in_process, routed
except ImportError:  # pragma: no cover - run from inside tests/
    from support import FakeClock, Tap, forget, in_process, routed  # type: ignore[no-redef]

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass
else:
    settings.register_profile(
        "ci",
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.register_profile(
        "long",
        max_examples=3000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _no_databricks_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """
    Hide every DATABRICKS_* variable, and the developer's ~/.databrickscfg (HOME is the test's own
    temporary folder), so a developer's own workspace never leaks into a test.
    """
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture(scope="session", autouse=True)
def _in_process_hosts_answer_in_process() -> Iterator[None]:
    """
    The default transport hands the requests to an ``in_process`` URL (tests/support.py) to its
    transport (an emulator's, in-process: no socket); every other URL goes to the network as usual.
    """
    send = RequestsTransport.send

    def sent(self: RequestsTransport, request: Any, *, timeout: tuple[float, float], deadline: float) -> Any:
        transport = routed(request.url)
        if transport is not None:
            return transport.send(request, timeout=timeout, deadline=deadline)
        return send(self, request, timeout=timeout, deadline=deadline)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RequestsTransport, "send", sent)
        yield


@pytest.fixture
def emulator() -> Emulator:
    """An emulator for one test, answering in-process (any bearer token); runs have ended when read."""
    return Emulator(token=None)


@pytest.fixture
def tap(emulator: Emulator) -> Tap:
    """``emulator`` through a ``MockTransport`` that keeps the requests as sent (see tests/support.py)."""
    return Tap(emulator)


@pytest.fixture
def host(tap: Tap) -> Iterator[str]:
    """A URL the default transport answers from ``tap``, without a socket: for hosts given by name."""
    url = in_process(tap)
    yield url
    forget(url)


@pytest.fixture
def clock() -> FakeClock:
    """A clock the client sleeps on without waiting (see tests/support.py)."""
    return FakeClock()
