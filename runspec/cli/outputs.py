"""``runspec outputs RUN_ID``: what each task of a run returned (notebook results, logs, errors)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from runspec.cli._follow import Outcome
from runspec.cli._output import echo, error, note
from runspec.cli._report import json_result, output_entry, print_outputs
from runspec.cli._runs import EXIT_CODES, add_run_parser, attach, exit_code_of, status_of
from runspec.cli._workspace import report_workspace_error
from runspec.errors import RunspecError

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands, Settings


def cmd_outputs(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with attach(args.run_id, settings) as handle:
            run = handle.get()
            outputs = handle.outputs()
    except RunspecError as exc:
        return report_workspace_error(exc, as_json=args.json)
    code, status = exit_code_of(run), status_of(run)
    if args.json:
        outcome = Outcome(handle, exit_code=code, status=status, run=run, outputs=outputs)
        result = json_result(outcome)
        result["outputs"] = {key: output_entry(output) for key, output in outputs.items()}
        echo(json.dumps(result, indent=2, ensure_ascii=False))
        return code
    print_outputs(outputs, sys.stdout)
    if status == "running":
        note(f"run {handle.run_id} is still {run.state.label}: tasks that have not finished have no output yet")
    elif status == "failed":
        error(run.describe())
    return code


def add_parser(commands: Commands) -> None:
    """Register ``runspec outputs``."""
    parser = add_run_parser(
        commands,
        "outputs",
        summary="print what each task of a run returned",
        description=(
            "Print each task's output (runs/get-output of every task run): a notebook's exit value, a\n"
            "task's logs, or its error; a for_each task's iterations as key[0], key[1], ...\n"
            "\n" + EXIT_CODES
        ),
        epilog="examples:\n  runspec outputs 123456\n  runspec outputs 123456 --json | jq .outputs",
        json_help="print one JSON object: {status, exit_code, run_id, state, outputs: {task: {...}}}",
    )
    parser.set_defaults(handler=cmd_outputs)
