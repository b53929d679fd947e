"""
What the commands that act on a run by id share (``status``, ``wait``, ``cancel``, ``outputs``): the
``RUN_ID`` argument, the workspace options, attaching to the run, and the exit code a run's state gives.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from runspec.cli._options import FORMATTER, Settings, deadline_option, json_option, workspace_options
from runspec.cli._output import EXIT_FAILED, EXIT_OK
from runspec.cli._workspace import resolve

if TYPE_CHECKING:  # pragma: no cover - the client layer is imported only when a command runs
    from runspec.cli._options import Commands
    from runspec.client import RunHandle, RunView

EXIT_CODES = (
    "exit codes: 0 succeeded (or still going), 1 the run ended without success, 2 usage,\n"
    "3 configuration, credentials, network or API error (a run id the workspace does not know)"
)


def run_id(text: str) -> int:
    """A ``RUN_ID`` argument: a positive whole number."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a run id is a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a run id is a positive number, got {value}")
    return value


def add_run_parser(
    commands: Commands, name: str, *, summary: str, description: str, epilog: str, json_help: str
) -> argparse.ArgumentParser:
    """A subcommand taking ``RUN_ID`` with ``--json``, ``--deadline`` and the workspace options."""
    parser = commands.add_parser(name, help=summary, description=description, epilog=epilog, formatter_class=FORMATTER)
    parser.add_argument("run_id", type=run_id, metavar="RUN_ID", help="the run's id (printed by submit)")
    json_option(parser, json_help)
    deadline_option(parser)
    workspace_options(parser)
    return parser


def attach(run_id: int, settings: Settings) -> RunHandle:
    """A handle on ``run_id`` in the workspace the settings name (``ConfigError`` when none is usable)."""
    from runspec.client import RunHandle

    return RunHandle.attach(run_id, workspace=resolve(settings), deadline=settings.deadline)


def status_of(run: RunView) -> str:
    """``succeeded``, ``failed`` (any other end: failed, cancelled, timed out, ...) or ``running`` (not ended)."""
    if not run.state.finished:
        return "running"
    return "succeeded" if run.succeeded() else "failed"


def exit_code_of(run: RunView) -> int:
    """0 while the run goes on or when it succeeded, 1 when it ended any other way (as ``submit --wait``)."""
    return EXIT_FAILED if status_of(run) == "failed" else EXIT_OK
