"""``runspec repair RUN_ID``: re-run the failed (or named) tasks of a finished run in the same run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from runspec.cli._follow import command
from runspec.cli._options import Settings, follow_options
from runspec.cli._output import EXIT_INVALID, EXIT_OK, echo, error, error_object
from runspec.cli._report import follow_by_id
from runspec.cli._runs import add_run_parser, attach
from runspec.cli._signals import interrupt_code, interrupt_words, signals_as_interrupts
from runspec.cli._workspace import report_workspace_error
from runspec.errors import RunspecError

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands


def _what(tasks: list[str] | None, dependents: bool) -> str:
    named = "every failed task" if not tasks else ", ".join(dict.fromkeys(tasks))
    return named + (" and the tasks that depend on them" if dependents else "")


def cmd_repair(args: argparse.Namespace, settings: Settings) -> int:
    try:
        handle = attach(args.run_id, settings)
    except RunspecError as exc:
        return report_workspace_error(exc, as_json=args.json)
    progress = sys.stderr if args.json else sys.stdout
    workspace = settings.words()
    dependents = not args.no_dependents
    with handle, signals_as_interrupts():
        try:
            repair_id = handle.repair(args.task or None, dependents=dependents)
        except ValueError as exc:  # a task key the run does not have, or nothing failed to re-run
            if args.json:
                echo(json.dumps(error_object("invalid", EXIT_INVALID, exc), indent=2))
            error(" ".join(str(exc).split()))
            return EXIT_INVALID
        except RunspecError as exc:
            return report_workspace_error(exc, as_json=args.json)
        except KeyboardInterrupt as exc:
            code = interrupt_code(exc)
            if args.json:
                echo(json.dumps({"status": "interrupted", "exit_code": code, "run_id": handle.run_id}, indent=2))
            error(
                f"{interrupt_words(exc)} while asking for the repair; whether it started: "
                f"{command(['status', str(handle.run_id)], workspace)}"
            )
            return code
        echo(f"repair {repair_id} of run {handle.run_id}: re-running {_what(args.task, dependents)}", file=progress)
        if not args.wait:
            follow_it = command(["wait", str(handle.run_id)], workspace)
            if args.json:
                result: dict[str, Any] = {
                    "status": "repair_requested",
                    "exit_code": EXIT_OK,
                    "run_id": handle.run_id,
                    "repair_id": repair_id,
                    "host": handle.host,
                    "tasks": list(dict.fromkeys(args.task)) if args.task else None,
                    "dependents": dependents,
                    "next": [follow_it],
                }
                echo(json.dumps(result, indent=2))
            else:
                echo(f"  follow it:  {follow_it}", file=progress)
            return EXIT_OK
        echo(f"waiting for run {handle.run_id} to finish (Ctrl-C cancels the run)", file=progress)
        return follow_by_id(handle, settings, as_json=args.json, extra={"repair_id": repair_id})


def add_parser(commands: Commands) -> None:
    """Register ``runspec repair``."""
    parser = add_run_parser(
        commands,
        "repair",
        summary="re-run the failed (or named) tasks of a finished run, in the same run",
        description=(
            "Repair a finished run (runs/repair): re-run every task that failed, or the tasks named with\n"
            "--task (each once, however many attempts it had), and the tasks that depend on them. The run\n"
            "keeps its history; each repair after the first names the latest one, as the API requires.\n"
            "A run still going is refused before anything is sent. With --wait, follow the repaired run to\n"
            "its end as submit --wait does. Whether a workspace repairs one-time runs is not documented:\n"
            "when it refuses, the message says so (resubmit with --key KEY --attempt N instead).\n"
            "\n"
            "exit codes: 0 the repair was requested (with --wait: the run succeeded), 1 it did not succeed\n"
            "(or --timeout passed), 2 usage (a task the run does not have), 3 configuration, network or\n"
            "API error (the run is still going, the workspace refused), 130 interrupted"
        ),
        epilog="examples:\n  runspec repair 123456 --wait\n  runspec repair 123456 --task load --task report --json",
        json_help="print one JSON object at the end (progress goes to standard error)",
    )
    parser.add_argument(
        "--task",
        action="append",
        metavar="KEY",
        help="a task to re-run (repeat for several); default: every failed task",
    )
    parser.add_argument(
        "--no-dependents", action="store_true", help="re-run only those tasks, not the tasks that depend on them"
    )
    parser.add_argument("--wait", action="store_true", help="follow the repaired run until it ends")
    follow_options(parser, prefix="with --wait: ")
    parser.set_defaults(handler=cmd_repair)
