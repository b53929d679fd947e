"""``runspec validate SPEC...``: check runs completely, without sending anything, and list every problem."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runspec._text import plural
from runspec.cli._loading import Stdin, load
from runspec.cli._options import FORMATTER, SPEC_HELP, Settings, lenient_option
from runspec.cli._output import EXIT_INVALID, EXIT_OK, CliError, echo, for_shell, problem_lines
from runspec.errors import Problem, SpecError
from runspec.spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands


@dataclass
class _Checked:
    source: str
    spec: RunSpec | None = None
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.spec is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.source,
            "valid": self.valid,
            "tasks": len(self.spec.tasks or ()) if self.spec is not None else None,
            "problems": [for_shell(p).to_dict() for p in self.problems],
            "warnings": [w.to_dict() for w in self.warnings],
            "error": self.error,
        }


def _check_one(source: str, stdin: Stdin, strict: bool) -> _Checked:
    try:
        spec = load(source, stdin, strict=strict)
    except SpecError as exc:
        return _Checked(source, problems=exc.problems, warnings=exc.warnings)
    except CliError as exc:
        return _Checked(source, error=exc.message)
    return _Checked(source, spec=spec, warnings=spec.warnings)


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    stdin = Stdin(sys.stdin)
    results = [_check_one(source, stdin, not args.lenient) for source in args.specs]
    valid = all(r.valid for r in results)
    if args.json:
        echo(json.dumps({"valid": valid, "specs": [r.to_dict() for r in results]}, indent=2))
        return EXIT_OK if valid else EXIT_INVALID
    for r in results:
        if r.error is not None:
            echo(f"{r.source}: error: {r.error}")
            continue
        if r.spec is not None:
            tasks = plural(len(r.spec.tasks or ()), "task")
            extra = f", {plural(len(r.warnings), 'warning')}" if r.warnings else ""
            echo(f"{r.source}: valid ({tasks}{extra})")
        else:
            echo(f"{r.source}: invalid, {plural(len(r.problems), 'problem')}")
            for line in problem_lines(r.problems):
                echo(line)
        for line in problem_lines(r.warnings, "warning: "):
            echo(line)
    if len(results) > 1:
        bad = sum(not r.valid for r in results)
        echo(f"{bad} of {len(results)} specs invalid" if bad else f"all {len(results)} specs valid")
    return EXIT_OK if valid else EXIT_INVALID


def add_parser(commands: Commands) -> None:
    """Register ``runspec validate``."""
    validate = commands.add_parser(
        "validate",
        help="check runs and list every problem",
        description=(
            "Check each SPEC completely, without sending anything. Prints every problem with its JSON path\n"
            "and code, and every warning. Exit 0 when all are valid, 2 otherwise."
        ),
        epilog="examples:\n  runspec validate pipeline.json\n  cat body.json | runspec validate -\n"
        "  runspec validate pipelines.nightly:run other.json --json",
        formatter_class=FORMATTER,
    )
    validate.add_argument("specs", nargs="+", metavar="SPEC", help=SPEC_HELP)
    validate.add_argument("--json", action="store_true", help="print one JSON object: {valid, specs: [...]}")
    lenient_option(validate)
    validate.set_defaults(handler=cmd_validate)
