"""
pytest fixtures for the runspec emulator.

Installed runspec registers this plugin with pytest, so a test only names the fixture::

    def test_nightly_pipeline(runspec_emulator):
        runspec_emulator.script("load", Outcome.fail("table not found"))
        result = my_pipeline(host=runspec_emulator.url, token=runspec_emulator.token)
        ...

Options for one test go in a marker, passed to ``Emulator``::

    @pytest.mark.runspec_emulator(clock=ManualClock(), token="t")
    def test_timeout(runspec_emulator): ...

``runspec_emulator_env`` is the same emulator with ``DATABRICKS_HOST`` and ``DATABRICKS_TOKEN`` set to
it (and other Databricks settings cleared) for code that reads its configuration from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runspec.testing._emulator import Emulator

__all__ = ["runspec_emulator", "runspec_emulator_env"]

_CLEARED = (
    "DATABRICKS_CONFIG_PROFILE",
    "DATABRICKS_CONFIG_FILE",
    "DATABRICKS_AUTH_TYPE",
    "DATABRICKS_CLIENT_ID",
    "DATABRICKS_CLIENT_SECRET",
    "DATABRICKS_USERNAME",
    "DATABRICKS_PASSWORD",
    "DATABRICKS_ACCOUNT_ID",
    "DATABRICKS_WORKSPACE_ID",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "runspec_emulator(**options): options for the runspec_emulator fixture, passed to runspec.testing.Emulator",
    )


@pytest.fixture
def runspec_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A running ``Emulator`` for this test (options from a ``runspec_emulator`` marker)."""
    marker = request.node.get_closest_marker("runspec_emulator")
    options = dict(marker.kwargs) if marker is not None else {}
    with Emulator(**options) as emulator:
        yield emulator


@pytest.fixture
def runspec_emulator_env(runspec_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """``runspec_emulator``, with ``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN`` pointing at it."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_HOST", runspec_emulator.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", runspec_emulator.token or "runspec-emulator")
    yield runspec_emulator
