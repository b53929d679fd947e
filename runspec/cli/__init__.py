"""
The ``runspec`` command: check, show and submit one-time runs from the shell, serve the emulator, try the demo.

::

    runspec validate pipeline.json pipelines.nightly:run   # every problem, with its JSON path and code
    runspec render pipeline.json --request                 # the exact HTTP request, token masked
    runspec submit pipeline.json --wait                    # submit once, follow it, exit 0/1/2/3
    runspec convert job.json --to run                      # a saved job as a one-time run (and --to job)
    runspec submit pipeline.json --key nightly-1 --wait    # again after a crash: attaches to the same run
    runspec status|wait|cancel|outputs RUN_ID              # act on a run by id
    runspec repair RUN_ID --wait                           # re-run the failed tasks in the same run
    runspec emulator --port 8000                           # a local Jobs API until Ctrl-C
    runspec demo                                           # a multi-task run, end to end, in seconds

A SPEC is a JSON file with the runs/submit request body, ``-`` for standard input, or
``module:attribute`` naming a ``Run``, a ``RunSpec`` (or a function without arguments returning one)
importable from the current directory.

Exit codes: 0 success; 1 the run did not succeed (or ``--timeout`` passed); 2 the spec is invalid or
cannot be read (and command line mistakes); 3 submitting or following failed (configuration,
credentials, network, an API error); 130 interrupted with Ctrl-C, 143 / 129 stopped by SIGTERM /
SIGHUP (a run being waited for is cancelled first).

Only the commands that talk to a workspace (``submit``, ``render --request``, ``status``, ``wait``, ``cancel``,
``outputs``, ``repair``), ``emulator`` and ``demo`` load the client layer (and with it ``requests``);
``validate``, ``convert`` and ``render`` of a body or a picture use the standard library only.

The package has one module per command (``validate``, ``render``, ``submit``, ``convert``, ``status``, ``wait``,
``cancel``, ``outputs``, ``repair``, ``emulator``, ``demo``), each registering its subcommand with
``add_parser(commands)``, and shared modules: ``_loading`` (a SPEC), ``_options`` (parser types and
shared options), ``_output`` (exit codes, one-line errors, printing), ``_workspace`` (finding the
workspace, wording its failures), ``_signals`` (SIGTERM and SIGHUP as interrupts), ``_progress``,
``_follow`` and ``_report`` (following a run and reporting its end), ``_runs`` (commands on a run
id), ``_main`` (the parser and ``main``).
"""

from __future__ import annotations

from runspec.cli._loading import load_spec
from runspec.cli._main import build_parser, main
from runspec.cli._output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_SUBMIT_ERROR,
    CliError,
)
from runspec.cli.demo import demo_run
from runspec.cli.render import PLACEHOLDER_HOST

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_SUBMIT_ERROR",
    "PLACEHOLDER_HOST",
    "CliError",
    "build_parser",
    "demo_run",
    "load_spec",
    "main",
]
