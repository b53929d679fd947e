"""``runspec convert FILE --to run|job``: a saved job as a one-time run, or a one-time run as a job."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runspec.cli._loading import InvalidSpec, Stdin, load_builder_or_exit
from runspec.cli._options import FORMATTER, SPEC_HELP, Settings
from runspec.cli._output import EXIT_OK, CliError, echo, report_warnings
from runspec.errors import SpecError
from runspec.spec import RunSpec
from runspec.spec.run_spec import read_json

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands

JOB_HELP = (
    "a JSON file (or '-' for standard input) with a jobs/create body, a jobs/get response, or the output of "
    "'databricks bundle validate --output json'"
)


def parameter(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` of ``--param``."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def load_job(
    source: str,
    *,
    job: str | None = None,
    run_name: str | None = None,
    parameters: Sequence[tuple[str, str]] = (),
) -> RunSpec:
    """
    The one-time run of the job in ``source``: job settings, a jobs/get response or a bundle's output.

    Raises ``InvalidSpec`` (exit 2, every problem listed) when the job cannot be converted faithfully and
    ``CliError`` when the file cannot be read or is not a job.
    """
    data = _read_json(source)
    values = dict(parameters)
    try:
        if _is_bundle(data):
            name = _bundle_job(data, job)
            return RunSpec.from_bundle(data, name, run_name=run_name, parameters=values or None)
        if job is not None:
            raise CliError(f"{source}: --job picks a job of a bundle's output; this file holds one job")
        return RunSpec.from_job_settings(data, run_name=run_name, parameters=values or None)
    except SpecError as exc:
        raise InvalidSpec(source, exc, lenient=False) from None


def _read_json(source: str) -> dict[str, Any]:
    try:
        text = Stdin(sys.stdin).read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{source}: cannot read it: {exc}") from None
    try:
        data = read_json(text)  # too deep, or an integer too long to read, is invalid-json too
    except SpecError as exc:
        raise InvalidSpec(source, exc, lenient=False) from None
    if not isinstance(data, dict):
        raise CliError(f"{source}: expected a JSON object with a job's settings")
    return data


def _is_bundle(data: Mapping[str, Any]) -> bool:
    return "resources" in data and "tasks" not in data and "settings" not in data


def _bundle_job(data: Mapping[str, Any], job: str | None) -> str:
    """The job to convert: ``--job``, or the bundle's only job (``from_bundle`` reports an unknown name)."""
    if job is not None:
        return job
    resources = data.get("resources")
    jobs = resources.get("jobs") if isinstance(resources, Mapping) else None
    names = sorted(jobs) if isinstance(jobs, Mapping) else []
    if len(names) == 1:
        return str(names[0])
    listed = ", ".join(names) if names else "none"
    raise CliError(f"the bundle has {len(names)} jobs; pick one with --job NAME (jobs: {listed})")


def _write(text: str, output: str | None) -> None:
    if output is None:
        echo(text)
        return
    try:
        Path(output).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None


def cmd_convert(args: argparse.Namespace, settings: Settings) -> int:
    if args.to == "run":
        spec = load_job(args.file, job=args.job, run_name=args.name, parameters=args.param)
        report_warnings(spec)
        _write(spec.to_json(indent=2), args.output)
        return EXIT_OK
    if args.job is not None or args.param:
        raise CliError("--job and --param read a job; with --to job FILE is a one-time run")
    spec, builder = load_builder_or_exit(args.file)
    report_warnings(spec)
    # A builder knows its clusters' names (Run.cluster()); the job's clusters keep them.
    job = builder.to_job_settings(name=args.name) if builder is not None else spec.to_job_settings(name=args.name)
    _write(json.dumps(job, indent=2, ensure_ascii=False), args.output)
    return EXIT_OK


def add_parser(commands: Commands) -> None:
    """Register ``runspec convert``."""
    convert = commands.add_parser(
        "convert",
        help="turn a saved job into a one-time run body, or a one-time run into a jobs/create body",
        description=(
            "--to run: FILE is a job (a jobs/create body, a jobs/get response, or the output of\n"
            "'databricks bundle validate --output json'). Print the runs/submit body that runs it once:\n"
            "shared job clusters copied into each task that names them, job parameters put into their\n"
            "{{job.parameters.NAME}} references, and each job-only field (schedule, trigger, tags, ...)\n"
            "dropped with a warning on standard error.\n"
            "\n"
            "--to job: FILE is a one-time run (a SPEC). Print the jobs/create body that saves it as a job:\n"
            "identical task clusters become one shared job cluster.\n"
            "\n"
            "exit codes: 0 converted, 2 the input cannot be converted faithfully (every problem listed with\n"
            "its JSON path) or cannot be read"
        ),
        epilog=(
            "examples:\n"
            "  databricks jobs get 123 --output json > job.json && runspec convert job.json --to run\n"
            "  databricks bundle validate --output json | runspec convert - --to run --job nightly\n"
            "  runspec convert pipeline.json --to job -o job.json"
        ),
        formatter_class=FORMATTER,
    )
    convert.add_argument("file", metavar="FILE", help=f"with --to run: {JOB_HELP}; with --to job: {SPEC_HELP}")
    convert.add_argument("--to", choices=("run", "job"), required=True, help="what to make of FILE")
    convert.add_argument("-o", "--output", metavar="FILE", help="write the result here instead of standard output")
    convert.add_argument("--job", metavar="NAME", help="the job of a bundle's output to convert (its resource key)")
    convert.add_argument(
        "--param",
        type=parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --to run: the value of job parameter NAME (instead of its default); repeatable",
    )
    convert.add_argument("--name", metavar="NAME", help="the run_name (--to run) or job name (--to job) to use")
    convert.set_defaults(handler=cmd_convert)
