"""``runspec wait RUN_ID``: follow a run to its end, as ``submit --wait`` does, with the same exit codes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from runspec.cli._options import Settings, follow_options
from runspec.cli._output import echo
from runspec.cli._report import follow_by_id
from runspec.cli._runs import add_run_parser, attach
from runspec.cli._signals import signals_as_interrupts
from runspec.cli._workspace import report_workspace_error
from runspec.errors import RunspecError

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands


def cmd_wait(args: argparse.Namespace, settings: Settings) -> int:
    try:
        handle = attach(args.run_id, settings)
    except RunspecError as exc:
        return report_workspace_error(exc, as_json=args.json)
    progress = sys.stderr if args.json else sys.stdout
    with handle, signals_as_interrupts():
        limit = f"; giving up waiting after {settings.timeout:g}s" if settings.timeout is not None else ""
        echo(f"waiting for run {handle.run_id} to finish (Ctrl-C cancels the run){limit}", file=progress)
        return follow_by_id(handle, settings, as_json=args.json)


def add_parser(commands: Commands) -> None:
    """Register ``runspec wait``."""
    parser = add_run_parser(
        commands,
        "wait",
        summary="follow a run to its end (as submit --wait does)",
        description=(
            "Follow the run until it ends: each task's state changes, then the picture of the run with\n"
            "each task's state and the tasks' outputs, or each failed task's error and trace. Ctrl-C\n"
            "cancels the run and exits 130 (SIGTERM: 143, SIGHUP: 129).\n"
            "\n"
            "exit codes: 0 the run succeeded, 1 it did not (or --timeout passed; the run goes on),\n"
            "2 usage, 3 configuration, credentials, network or API error, 130 interrupted"
        ),
        epilog="examples:\n  runspec wait 123456\n  runspec wait 123456 --timeout 600 --json > result.json",
        json_help="print one JSON object at the end (progress goes to standard error)",
    )
    follow_options(parser)
    parser.set_defaults(handler=cmd_wait)
