"""
runspec.testing: a local Databricks Jobs API for one-time runs, to test pipelines without a workspace.

::

    from runspec.testing import Emulator, Fault, Outcome

    with Emulator(token="t") as emu:
        emu.script("transform", Outcome.fail("division by zero", trace="Traceback ..."))
        emu.inject(Fault.throttle(retry_after=1), "runs/submit", times=1)
        ...  # point any client at emu.url with token "t"; runs move through the real life cycle
        assert emu.requests_to("runs/submit")[0].body["run_name"] == "nightly"

The emulator is a real HTTP server on 127.0.0.1 that speaks the runs endpoints of Jobs API 2.2 (and
2.1, 2.0): submit, get (paged), get-output, cancel, cancel-all, list, delete and repair, with a
workspace's JSON shapes, errors and status codes, reading requests as the service does (numbers as
strings, GET parameters in a body, the single-task body). Runs follow the documented life cycle and
DAG semantics (``run_if``, condition tasks, for_each, retries, timeouts, cancellation, repairs); by
default they have ended by the time a client looks (``InstantClock``), or they move on a clock the
test controls (``ManualClock``) or on real time sped up (``speed=``). The pytest fixture ``runspec_emulator`` comes from
``runspec.testing.pytest_plugin``. Only the standard library is used.
"""

from __future__ import annotations

from runspec._log import quiet
from runspec.testing._clock import Clock, InstantClock, ManualClock, ScaledClock
from runspec.testing._emulator import DEFAULT_TOKEN, Emulator, serve
from runspec.testing._faults import Fault, Injection
from runspec.testing._http import Request, Response
from runspec.testing._limits import Limits
from runspec.testing._local import LocalCode
from runspec.testing._log import RecordedRequest
from runspec.testing._outcome_file import load_outcomes
from runspec.testing._script import Outcome, Script, TaskContext, Timing

quiet()  # the library never prints: no output unless the application configures logging

__all__ = [
    "DEFAULT_TOKEN",
    "Clock",
    "Emulator",
    "Fault",
    "Injection",
    "InstantClock",
    "Limits",
    "LocalCode",
    "ManualClock",
    "Outcome",
    "RecordedRequest",
    "Request",
    "Response",
    "ScaledClock",
    "Script",
    "TaskContext",
    "Timing",
    "load_outcomes",
    "serve",
]
