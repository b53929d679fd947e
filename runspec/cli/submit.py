"""``runspec submit SPEC``: submit a run exactly once and, with ``--wait``, follow it to its end."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from runspec.cli._follow import follow
from runspec.cli._loading import InvalidSpec, load_or_exit
from runspec.cli._local import local_code, mapping_options
from runspec.cli._options import (
    FORMATTER,
    SPEC_HELP,
    attempt_number,
    deadline_option,
    follow_options,
    json_option,
    lenient_option,
    nonempty_token,
    run_key,
    workspace_options,
)
from runspec.cli._output import (
    EXIT_INVALID,
    CliError,
    echo,
    elapsed,
    error,
    error_object,
    report_invalid,
    report_warnings,
)
from runspec.cli._report import print_json_result, report
from runspec.cli._signals import interrupt_code, interrupt_words, signals_as_interrupts
from runspec.cli._workspace import report_workspace_error, resolve
from runspec.errors import RunspecError, SpecError, SubmitInterrupted
from runspec.spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands, Settings
    from runspec.client import RunHandle


@signals_as_interrupts()
def submit_and_follow(
    spec: RunSpec,
    settings: Settings,
    *,
    token: str | None = None,
    idempotency_token: str | None,
    key: str | None = None,
    attempt: int | None = None,
    wait: bool,
    as_json: bool,
    picture: bool = True,
) -> int:
    """
    Submit ``spec`` to the workspace ``settings`` name (``token``: the command's own credentials, for
    a local emulator), print what happened (text or one JSON object), return the exit code.

    SIGTERM and SIGHUP count as Ctrl-C throughout: while submitting they stop with the token to
    resubmit with; while waiting they cancel the run (``follow``).
    """
    from runspec.client import prepare
    from runspec.client.keys import key_token

    out = sys.stdout
    progress = sys.stderr if as_json else sys.stdout
    # The token the submit will send, for the messages: derived from the key, given, or minted by
    # prepare() itself (so the client knows no run can exist under it yet, and asks nothing first).
    chosen = key_token(key, attempt) if key is not None else (idempotency_token or spec.idempotency_token or "")
    start = time.monotonic()
    try:
        workspace = resolve(settings, token)
        deadline = settings.deadline
        if key is not None:
            request = prepare(spec, workspace=workspace, key=key, attempt=attempt, deadline=deadline)
        else:
            request = prepare(spec, workspace=workspace, idempotency_token=idempotency_token, deadline=deadline)
        chosen = request.idempotency_token or chosen
        handle = request.send()
    except SpecError as exc:
        if as_json:
            echo(json.dumps(error_object("invalid", EXIT_INVALID, exc), indent=2))
        report_invalid("the run", exc)
        return EXIT_INVALID
    except RunspecError as exc:
        return report_workspace_error(exc, as_json=as_json, token=chosen, key=key, submitting=True)
    except KeyboardInterrupt as exc:
        code = interrupt_code(exc)
        if as_json:
            interrupted = {"status": "interrupted", "exit_code": code, "idempotency_token": chosen or None}
            echo(json.dumps(interrupted, indent=2))
        if not chosen or (isinstance(exc, SubmitInterrupted) and not exc.may_exist):
            error(f"{interrupt_words(exc)} before anything was sent; no run was created")
            return code
        if isinstance(exc, SubmitInterrupted) and exc.run_id is not None:
            error(f"{interrupt_words(exc)} after run {exc.run_id} was created (idempotency token {chosen})")
            return code
        again = (
            f"running the same command again (--key {key})"
            if key is not None
            else (f"submitting again with --idempotency-token {chosen}")
        )
        error(
            f"{interrupt_words(exc)} while submitting; if the run was created, {again} returns it instead of "
            "starting another"
        )
        return code
    with handle:
        echo(_submitted_line(handle, key), file=progress)
        if wait:
            echo(f"waiting for it to finish (Ctrl-C cancels the run){_timeout_note(settings.timeout)}", file=progress)
        outcome = follow(
            handle,
            keys=spec.task_keys,
            wait=wait,
            timeout=settings.timeout,
            poll_interval=settings.poll_interval,
            progress=progress,
            start=start,
            workspace=settings.words(),
        )
        if not wait and outcome.run is not None and outcome.run.run_page_url and not as_json:
            echo(f"  {outcome.run.run_page_url}", file=progress)
        if as_json:
            print_json_result(outcome, {"key": key, "attempt": attempt or 1} if key is not None else None, out)
        elif wait or outcome.message:
            report(outcome, spec, out, picture=picture)
        return outcome.exit_code


def _submitted_line(handle: RunHandle, key: str | None) -> str:
    if key is not None and handle.reattached:
        return f"attached to run {handle.run_id}: key {key!r} already names it (an earlier submit started it)"
    if key is not None:
        return f"submitted run {handle.run_id} (key {key!r}, idempotency token {handle.idempotency_token})"
    if handle.reattached:
        return (
            f"returned the existing run {handle.run_id} (idempotency token {handle.idempotency_token} was used "
            "before, so no second run was started)"
        )
    return f"submitted run {handle.run_id} (idempotency token {handle.idempotency_token})"


def _timeout_note(timeout: float | None) -> str:
    return f"; giving up waiting after {elapsed(timeout)}" if timeout is not None else ""


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    if args.attempt is not None and args.key is None:
        raise CliError("--attempt needs --key: it numbers the runs made under one key")
    if args.key is not None and args.idempotency_token is not None:
        raise CliError("--key derives the idempotency token from the key; give --key or --idempotency-token, not both")
    try:
        if args.param and not args.from_job:
            raise CliError("--param gives a job parameter: use it with --from-job")
        if args.from_job:
            from runspec.cli.convert import load_job

            spec = load_job(args.spec, job=args.job, parameters=args.param)
        else:
            spec = load_or_exit(args.spec, strict=not args.lenient)
    except (InvalidSpec, CliError) as exc:
        if args.json:
            problem = exc.error if isinstance(exc, InvalidSpec) else exc
            echo(json.dumps(error_object("invalid", EXIT_INVALID, problem), indent=2))
        raise
    report_warnings(spec)
    if args.local is not None:
        return _submit_locally(spec, args, settings)
    if args.path or args.secrets:
        raise CliError("--path and --secrets map the run's code: use them with --local")
    return submit_and_follow(
        spec,
        settings,
        idempotency_token=args.idempotency_token,
        key=args.key,
        attempt=args.attempt,
        wait=args.wait,
        as_json=args.json,
    )


def _submit_locally(spec: RunSpec, args: argparse.Namespace, settings: Settings) -> int:
    """``--local``: the run in an emulator in this process that runs the code under ROOT, followed to its end."""
    from runspec.testing import Emulator

    if settings.host is not None or settings.profile is not None:
        raise CliError("--local runs the run on this machine: leave out --host and --profile")
    code = local_code(args.local, args.path, args.secrets)
    progress = sys.stderr if args.json else sys.stdout
    with Emulator(code=code) as emulator:
        echo(f"running locally: the code under {code.folder}, in an emulator at {emulator.url}", file=progress)
        local = replace(settings, host=emulator.url, poll_interval=settings.poll_interval or _LOCAL_POLL)
        return submit_and_follow(
            spec,
            local,
            token=emulator.token,
            idempotency_token=args.idempotency_token,
            key=args.key,
            attempt=args.attempt,
            wait=True,
            as_json=args.json,
        )


_LOCAL_POLL = 0.2  # seconds between polls of a local run: the emulator answers in-process, polls cost nothing


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
            "cancels the run and exits 130 (SIGTERM: 143, SIGHUP: 129). When --timeout passes, the run\n"
            "goes on: runspec wait RUN_ID follows it again, runspec cancel RUN_ID stops it.\n"
            "\n"
            "exit codes: 0 submitted (with --wait: succeeded), 1 the run did not succeed or --timeout\n"
            "passed (the run goes on), 2 invalid spec, 3 configuration, credentials, network or API error"
        ),
        epilog=(
            "examples:\n  runspec submit pipeline.json --wait\n"
            "  runspec submit pipelines.nightly:run --wait --profile prod --json > result.json\n"
            "  DATABRICKS_HOST=http://127.0.0.1:8000 DATABRICKS_TOKEN=x runspec submit body.json --wait\n"
            "  runspec submit pipeline:run --local --path /Workspace/Shared/orders=src --wait"
        ),
        formatter_class=FORMATTER,
    )
    submit.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    submit.add_argument("--wait", action="store_true", help="follow the run until it ends")
    _from_job_options(submit)
    submit.add_argument(
        "--idempotency-token",
        type=nonempty_token,
        metavar="T",
        help="the token that makes the submit safe to repeat",
    )
    submit.add_argument(
        "--key",
        type=run_key,
        metavar="KEY",
        help="a name for the run (orders/2026-12-01): the same key reaches the same run from anywhere, even after "
        "a crash; running the command again attaches to it",
    )
    submit.add_argument(
        "--attempt",
        type=attempt_number,
        metavar="N",
        help="with --key: run the spec again under the same key (a new run; default 1)",
    )
    follow_options(submit, prefix="with --wait: ")
    deadline_option(submit)
    json_option(submit, "print one JSON object at the end (progress goes to standard error)")
    lenient_option(submit)
    workspace_options(submit)
    local = submit.add_argument_group("running on this machine (see docs/local.md)")
    local.add_argument(
        "--local",
        nargs="?",
        const=".",
        metavar="ROOT",
        help="run it here instead of in a workspace: an emulator runs the notebook, Python file and wheel tasks "
        "from the code under ROOT (default: the current folder), each task run in a process; implies --wait",
    )
    mapping_options(local, needs="with --local: ")
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
