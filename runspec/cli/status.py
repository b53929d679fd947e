"""``runspec status RUN_ID``: the run's state and each task's, as a picture (or one JSON object)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from runspec.cli._follow import Outcome
from runspec.cli._output import echo, use_color
from runspec.cli._report import json_result, picture_of
from runspec.cli._runs import EXIT_CODES, add_run_parser, attach, exit_code_of, status_of
from runspec.cli._workspace import report_workspace_error
from runspec.errors import RunspecError

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands, Settings


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with attach(args.run_id, settings) as handle:
            run = handle.get()
    except RunspecError as exc:
        return report_workspace_error(exc, as_json=args.json)
    code = exit_code_of(run)
    if args.json:
        outcome = Outcome(handle, exit_code=code, status=status_of(run), run=run)
        echo(json.dumps(json_result(outcome), indent=2, ensure_ascii=False))
        return code
    name = f" ({run.run_name})" if run.run_name else ""
    echo(f"run {run.run_id or handle.run_id}{name}: {run.state.label}")
    if run.state.message:
        echo(f"  {' '.join(run.state.message.split())}")
    if run.run_page_url:
        echo(f"  {run.run_page_url}")
    if run.tasks:
        echo("")
        echo(picture_of(run, None, color=use_color(sys.stdout)))
    return code


def add_parser(commands: Commands) -> None:
    """Register ``runspec status``."""
    parser = add_run_parser(
        commands,
        "status",
        summary="show a run's state and its tasks' states",
        description=(
            "Read the run (runs/get) and print its state, its page, and a picture of its tasks with\n"
            "each task's state. Nothing is changed.\n"
            "\n" + EXIT_CODES
        ),
        epilog="examples:\n  runspec status 123456\n  runspec status 123456 --profile prod --json",
        json_help="print one JSON object: {status, exit_code, run_id, state, tasks, ...}",
    )
    parser.set_defaults(handler=cmd_status)
