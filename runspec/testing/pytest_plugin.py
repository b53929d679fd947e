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

The clock for every test of a suite is an ini option (``pytest.ini``, ``[tool.pytest.ini_options]``)::

    runspec_emulator_clock = instant    # the default: runs have ended by the time a client looks
    runspec_emulator_clock = manual     # a ManualClock per test (move it with runspec_emulator.advance)
    runspec_emulator_clock = real       # real time, sped up by runspec_emulator_speed (default 1)

A marker's ``clock=`` (a ``Clock``, or one of those three words) or ``speed=`` wins over the ini option.
The fixture's clock is ``runspec_emulator.clock``.

To run the tasks' own code (docs/local.md), give the marker ``code=LocalCode(...)``, or the whole suite
the ini option ``runspec_emulator_code = ROOT`` (relative to the ini file's folder)::

    @pytest.mark.runspec_emulator(code=LocalCode("src", paths={"/Repos/etl": "etl"}))
    def test_pipeline_branches_on_the_row_count(runspec_emulator): ...

``runspec_emulator_env`` is the same emulator with ``DATABRICKS_HOST`` and ``DATABRICKS_TOKEN`` set to
it (and other Databricks settings cleared) for code that reads its configuration from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runspec.testing._clock import Clock, InstantClock, ManualClock, ScaledClock
from runspec.testing._emulator import Emulator
from runspec.testing._local import LocalCode

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


_CLOCKS = ("instant", "manual", "real")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "runspec_emulator_clock",
        "clock of the runspec_emulator fixture: instant (default), manual or real",
        default="instant",
    )
    parser.addini(
        "runspec_emulator_code",
        "the folder whose code the runspec_emulator fixture runs (relative to the ini file); default: none",
        default="",
    )
    parser.addini(
        "runspec_emulator_speed",
        "with runspec_emulator_clock = real: how much faster than real time runs move (default 1)",
        default="1",
    )


def _clock(name: str, speed: float) -> Clock:
    if name == "instant":
        return InstantClock()
    if name == "manual":
        return ManualClock()
    if name == "real":
        return ScaledClock(speed)
    raise pytest.UsageError(f"runspec_emulator clock must be one of {', '.join(_CLOCKS)}, got {name!r}")


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
    config = request.config
    try:
        speed = float(str(options.pop("speed", None) or config.getini("runspec_emulator_speed")))
    except ValueError:
        raise pytest.UsageError("runspec_emulator_speed must be a number") from None
    clock = options.get("clock")
    if isinstance(clock, str) or clock is None:
        chosen = clock or ("real" if marker is not None and "speed" in marker.kwargs else None)
        options["clock"] = _clock(chosen or str(config.getini("runspec_emulator_clock")).strip(), speed)
    root = str(config.getini("runspec_emulator_code")).strip()
    if "code" not in options and root:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        options["code"] = LocalCode(base / root)
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
