"""``runspec submit SPEC``: submit a run exactly once and, with ``--wait``, follow it to its end."""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from typing import TYPE_CHECKING

from runspec.cli._follow import follow, json_result, report
from runspec.cli._loading import InvalidSpec, load_or_exit
from runspec.cli._options import FORMATTER, SPEC_HELP, positive, workspace_options
from runspec.cli._output import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_SUBMIT_ERROR,
    CliError,
    config_line,
    echo,
    elapsed,
    error,
    error_object,
    report_invalid,
    report_warnings,
    submit_error_line,
)
from runspec.errors import SpecError
from runspec.spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands


def submit_and_follow(
    spec: RunSpec,
    *,
    host: str | None,
    token: str | None,
    profile: str | None,
    idempotency_token: str | None,
    deadline: float,
    wait: bool,
    timeout: float | None,
    poll_interval: float,
    as_json: bool,
    picture: bool = True,
) -> int:
    """Submit ``spec``, print what happened (text or one JSON object), return the exit code."""
    from runspec.client import submit
    from runspec.errors import ConfigError, SubmitError

    out = sys.stdout
    progress = sys.stderr if as_json else sys.stdout
    chosen = idempotency_token or spec.idempotency_token or f"runspec-{uuid.uuid4().hex}"
    start = time.monotonic()
    try:
        handle = submit(spec, host, token, profile=profile, idempotency_token=chosen, deadline=deadline)
    except SpecError as exc:
        if as_json:
            echo(json.dumps(error_object("invalid", EXIT_INVALID, exc), indent=2))
        report_invalid("the run", exc)
        return EXIT_INVALID
    except ConfigError as exc:
        if as_json:
            echo(json.dumps(error_object("error", EXIT_SUBMIT_ERROR, exc, config_line(exc)), indent=2))
        error(config_line(exc))
        return EXIT_SUBMIT_ERROR
    except SubmitError as exc:
        if as_json:
            line = submit_error_line(exc, None)
            echo(json.dumps(error_object("error", EXIT_SUBMIT_ERROR, exc, line), indent=2))
        error(submit_error_line(exc, exc.idempotency_token or chosen))
        return EXIT_SUBMIT_ERROR
    except KeyboardInterrupt:
        if as_json:
            echo(
                json.dumps(
                    {"status": "interrupted", "exit_code": EXIT_INTERRUPTED, "idempotency_token": chosen}, indent=2
                )
            )
        error(
            "interrupted while submitting; if the run was created, submitting again with "
            f"--idempotency-token {chosen} returns it instead of starting another"
        )
        return EXIT_INTERRUPTED
    with handle:
        echo(f"submitted run {handle.run_id} (idempotency token {handle.idempotency_token})", file=progress)
        if wait:
            echo(
                f"waiting for it to finish (Ctrl-C cancels the run){_timeout_note(timeout)}",
                file=progress,
            )
        try:
            outcome = follow(
                handle,
                spec,
                wait=wait,
                timeout=timeout,
                poll_interval=poll_interval,
                progress=progress,
                start=start,
            )
        except KeyboardInterrupt:
            if as_json:
                result = {
                    "status": "interrupted",
                    "exit_code": EXIT_INTERRUPTED,
                    "run_id": handle.run_id,
                    "idempotency_token": handle.idempotency_token,
                    "message": "interrupted; cancel requested",
                }
                echo(json.dumps(result, indent=2))
            error(f"interrupted: asked the workspace to cancel run {handle.run_id}")
            return EXIT_INTERRUPTED
        if not wait and outcome.run is not None and outcome.run.run_page_url and not as_json:
            echo(f"  {outcome.run.run_page_url}", file=progress)
        if as_json:
            echo(json.dumps(json_result(outcome), indent=2, ensure_ascii=False), file=out)
            if outcome.exit_code:
                error(outcome.message or outcome.status)
        elif wait or outcome.message:
            report(outcome, spec, out, picture=picture)
        return outcome.exit_code


def _timeout_note(timeout: float | None) -> str:
    return f"; giving up waiting after {elapsed(timeout)}" if timeout is not None else ""


def cmd_submit(args: argparse.Namespace) -> int:
    try:
        if args.param and not args.from_job:
            raise CliError("--param gives a job parameter: use it with --from-job")
        if args.from_job:
            from runspec.cli.convert import load_job

            spec = load_job(args.spec, job=args.job, parameters=args.param)
        else:
            spec = load_or_exit(args.spec)
    except (InvalidSpec, CliError) as exc:
        if args.json:
            problem = exc.error if isinstance(exc, InvalidSpec) else exc
            echo(json.dumps(error_object("invalid", EXIT_INVALID, problem), indent=2))
        raise
    report_warnings(spec)
    return submit_and_follow(
        spec,
        host=args.host,
        token=None,
        profile=args.profile,
        idempotency_token=args.idempotency_token,
        deadline=args.deadline,
        wait=args.wait,
        timeout=args.timeout,
        poll_interval=args.poll_interval,
        as_json=args.json,
    )


def add_parser(commands: Commands) -> None:
    """Register ``runspec submit``."""
    submit = commands.add_parser(
        "submit",
        help="submit a run (exactly once), and with --wait follow it to its end",
        description=(
            "Submit SPEC to POST /api/2.2/jobs/runs/submit and print the run id and its page. The request\n"
            "carries an idempotency token (printed; --idempotency-token chooses it), so retries and\n"
            "resubmitting with the same token never start a second run.\n"
            "\n"
            "With --wait, print each task's state changes with the time since submitting, then the final\n"
            "picture of the run and the tasks' outputs, or each failed task's error and trace. Ctrl-C\n"
            "cancels the run and exits 130.\n"
            "\n"
            "exit codes: 0 submitted (with --wait: succeeded), 1 the run did not succeed or --timeout\n"
            "passed (the run goes on), 2 invalid spec, 3 configuration, credentials, network or API error"
        ),
        epilog=(
            "examples:\n  runspec submit pipeline.json --wait\n"
            "  runspec submit pipelines.nightly:run --wait --profile prod --json > result.json\n"
            "  DATABRICKS_HOST=http://127.0.0.1:8000 DATABRICKS_TOKEN=x runspec submit body.json --wait"
        ),
        formatter_class=FORMATTER,
    )
    submit.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    submit.add_argument("--wait", action="store_true", help="follow the run until it ends")
    _from_job_options(submit)
    submit.add_argument("--idempotency-token", metavar="T", help="the token that makes the submit safe to repeat")
    submit.add_argument(
        "--timeout",
        type=positive,
        metavar="S",
        help="with --wait: stop waiting after S seconds (exit 1; the run is not cancelled)",
    )
    submit.add_argument(
        "--poll-interval",
        type=positive,
        default=30.0,
        metavar="S",
        help="with --wait: longest pause between polls, in seconds (default 30; polls sooner after changes)",
    )
    submit.add_argument(
        "--deadline",
        type=positive,
        default=300.0,
        metavar="S",
        help="how long one request may keep retrying network errors, 429 and 5xx (default 300 s)",
    )
    submit.add_argument(
        "--json", action="store_true", help="print one JSON object at the end (progress goes to standard error)"
    )
    workspace_options(submit)
    submit.set_defaults(handler=cmd_submit)


def _from_job_options(parser: argparse.ArgumentParser) -> None:
    """``--from-job``: SPEC is a saved job, run once (see ``runspec convert``)."""
    from runspec.cli.convert import JOB_HELP, parameter

    group = parser.add_argument_group("saved jobs")
    group.add_argument("--from-job", action="store_true", help=f"SPEC is a job: {JOB_HELP}; run it once")
    group.add_argument("--job", metavar="NAME", help="with --from-job: the job of a bundle's output to run")
    group.add_argument(
        "--param",
        type=parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --from-job: the value of job parameter NAME (instead of its default); repeatable",
    )
