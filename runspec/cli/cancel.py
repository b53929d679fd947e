"""``runspec cancel RUN_ID``: ask the workspace to cancel a run, and say what came of it."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from runspec.cli._follow import command
from runspec.cli._output import EXIT_OK, echo
from runspec.cli._runs import add_run_parser, attach
from runspec.cli._workspace import report_workspace_error
from runspec.errors import RunspecError

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands, Settings


def cmd_cancel(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with attach(args.run_id, settings) as handle:
            run = handle.get()
            if not run.state.finished:
                handle.cancel()
    except RunspecError as exc:
        return report_workspace_error(exc, as_json=args.json)
    result: dict[str, Any] = {"run_id": handle.run_id, "host": handle.host, "state": run.state.label}
    if run.state.finished:
        result["cancel"] = "already_finished"
        message = f"run {handle.run_id} had already finished ({run.state.label}); nothing to cancel"
    else:
        result["cancel"] = "requested"
        follow_it = command(["wait", str(handle.run_id)], settings.words())
        message = (
            f"asked the workspace to cancel run {handle.run_id} (it was {run.state.label}); "
            f"it stops shortly, and {follow_it} follows it to its end"
        )
    if args.json:
        echo(json.dumps({"status": result["cancel"], "exit_code": EXIT_OK, **result, "message": message}, indent=2))
    else:
        echo(message)
    return EXIT_OK


def add_parser(commands: Commands) -> None:
    """Register ``runspec cancel``."""
    parser = add_run_parser(
        commands,
        "cancel",
        summary="cancel a run",
        description=(
            "Ask the workspace to cancel the run (runs/cancel) unless it has already finished, and say\n"
            "which. Cancelling is asynchronous: the run stops shortly after; runspec wait RUN_ID follows\n"
            "it to its end.\n"
            "\n"
            "exit codes: 0 the cancel was requested or the run had already finished, 2 usage,\n"
            "3 configuration, credentials, network or API error (a run id the workspace does not know)"
        ),
        epilog="examples:\n  runspec cancel 123456\n  runspec cancel 123456 --profile prod --json",
        json_help="print one JSON object: {status: requested | already_finished, run_id, state, ...}",
    )
    parser.set_defaults(handler=cmd_cancel)
