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

try:  # the same module the client tests import, so its classes are the same objects
    from tests.support import FakeClock, FakeWorkspace, in_process
except ImportError:  # pragma: no cover - run from inside tests/
    from support import FakeClock, FakeWorkspace, in_process  # type: ignore[no-redef]

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
def _fake_workspaces_answer_in_process() -> Iterator[None]:
    """
    The default transport answers the in-process ``FakeWorkspace``s itself (no socket); every other
    URL goes to the network as usual.
    """
    send = RequestsTransport.send

    def routed(self: RequestsTransport, request: Any, *, timeout: tuple[float, float], deadline: float) -> Any:
        fake = in_process(request.url)
        if fake is not None:
            return fake.exchange(request, timeout=timeout, deadline=deadline)
        return send(self, request, timeout=timeout, deadline=deadline)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RequestsTransport, "send", routed)
        yield


@pytest.fixture
def ws() -> Iterator[FakeWorkspace]:
    """A scripted workspace, answered in-process through the transport seam (see tests/support.py)."""
    server = FakeWorkspace()
    yield server
    server.close()


@pytest.fixture
def clock() -> FakeClock:
    """A clock the client sleeps on without waiting (see tests/support.py)."""
    return FakeClock()
