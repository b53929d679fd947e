"""``runspec emulator``: serve the local Jobs API emulator on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from typing import TYPE_CHECKING

from runspec.cli._local import loaded, local_code, mapping_options
from runspec.cli._options import FORMATTER, Settings, count, port, positive, rate, whole
from runspec.cli._output import EXIT_INVALID, EXIT_OK, EXIT_SUBMIT_ERROR, CliError, echo, environ

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands
    from runspec.testing import Limits


def cmd_emulator(args: argparse.Namespace, settings: Settings) -> int:
    from runspec.testing import Emulator, Limits, load_outcomes

    scripts = None if args.script is None else loaded(load_outcomes, args.script)
    if args.code is None and (args.path or args.secrets):
        raise CliError("--path and --secrets map the run's code: use them with --code ROOT", EXIT_INVALID)
    code = local_code(args.code, args.path, args.secrets) if args.code is not None else None
    limits = None
    given = (args.max_active_tasks, args.max_active_parent_tasks, args.runs_per_hour, args.requests_per_second)
    if given != (None, None, None, None):
        limits = Limits(
            max_active_tasks=args.max_active_tasks,
            max_active_parent_tasks=args.max_active_parent_tasks,
            runs_per_hour=args.runs_per_hour,
            requests_per_second=args.requests_per_second,
        )
    token, source = _token(args)
    emulator = Emulator(
        token=token,
        port=args.port,
        speed=args.speed,
        scripts=scripts,
        forbidden_tokens=args.forbid,
        limits=limits,
        max_finished_runs=args.max_finished_runs,
        code=code,
    )
    try:
        emulator.start()
    except OSError as exc:
        raise CliError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", EXIT_SUBMIT_ERROR) from None
    stop = threading.Event()
    try:
        url = emulator.url
        accepts = "any bearer token" if token is None else f"only the token given with {source}"
        speed = f", {args.speed:g}x real time" if args.speed not in (None, 1) else ""
        echo(f"runspec emulator: a Jobs API for one-time runs on {url} ({accepts}{speed})")
        if scripts:
            echo(f"task outcomes from {args.script}: {', '.join(sorted(scripts))}")
        if limits is not None:
            echo(f"workspace limits: {_limits_words(limits)}")
        if code is not None:
            echo(f"running the tasks' own code from {code.folder} (notebook, Python file and wheel tasks)")
        echo("point runspec (or any Databricks client) at it:")
        echo(f"  export DATABRICKS_HOST={url}")
        token_hint = "anything" if token is None else f"<the token of {source}>"
        echo(f"  export DATABRICKS_TOKEN={token_hint}")
        echo("  runspec submit pipeline.json --wait")
        echo(f"runs are listed at {url}/ ; Ctrl-C stops the emulator")
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        echo("runspec emulator: stopped")
    finally:
        emulator.stop()
    return EXIT_OK


def _limits_words(limits: Limits) -> str:
    parts = []
    if limits.max_active_tasks is not None:
        parts.append(f"{limits.max_active_tasks} task runs at once")
    if limits.max_active_parent_tasks is not None:
        parts.append(f"{limits.max_active_parent_tasks} Run Job / For each parent tasks at once")
    if limits.runs_per_hour is not None:
        parts.append(f"{limits.runs_per_hour} runs created per hour (emulated time)")
    if limits.requests_per_second is not None:
        parts.append(f"{limits.requests_per_second:g} requests per second")
    return ", ".join(parts)


TOKEN_VARIABLE = "RUNSPEC_EMULATOR_TOKEN"


def _token(args: argparse.Namespace) -> tuple[str | None, str]:
    """The token the emulator accepts and where it came from: ``--token``, ``--token-file``, the environment."""
    if args.token is not None:
        return args.token, "--token"
    if args.token_file is not None:
        try:
            with open(args.token_file, encoding="utf-8") as handle:
                text = handle.read().strip()
        except OSError as exc:
            raise CliError(f"cannot read {args.token_file}: {exc.strerror or exc}", EXIT_INVALID) from None
        except UnicodeDecodeError:
            raise CliError(f"{args.token_file} is not UTF-8 text", EXIT_INVALID) from None
        if not text or "\n" in text:
            raise CliError(f"{args.token_file} must hold the token alone on one line", EXIT_INVALID)
        return text, "--token-file"
    value = environ().get(TOKEN_VARIABLE, "").strip()
    return (value, TOKEN_VARIABLE) if value else (None, "")


def add_parser(commands: Commands) -> None:
    """Register ``runspec emulator``."""
    emulator = commands.add_parser(
        "emulator",
        help="serve a local Jobs API for one-time runs until Ctrl-C",
        description=(
            "Serve the runspec emulator, a local Jobs API 2.2 for one-time runs (submit, get, get-output,\n"
            "cancel, cancel-all, list, delete, repair; 2.0 and 2.1 too) on 127.0.0.1, until Ctrl-C. Runs\n"
            "move through the real life cycle; every task succeeds after a short while unless --script\n"
            "says otherwise. Point runspec or any Databricks client at it.\n\n"
            '--script FILE is JSON mapping task keys ("*": every other task) to outcomes, or to a list of\n'
            "outcomes by attempt (the last repeats):\n"
            '  {"transform": {"error": "division by zero", "trace": "File etl.py, line 3 ..."},\n'
            '   "load": [{"error": "connection reset"}, {"logs": "loaded"}],\n'
            '   "ingest": {"result": "1200 rows", "values": {"rows": 1200}, "seconds": 5}}\n'
            "An outcome takes seconds, result, logs, values, error (with trace, code, type) or hang."
        ),
        epilog="example:\n  runspec emulator --port 8000 --token-file token.txt\n"
        "  DATABRICKS_HOST=http://127.0.0.1:8000 DATABRICKS_TOKEN=$(cat token.txt) runspec submit body.json --wait",
        formatter_class=FORMATTER,
    )
    emulator.add_argument("--port", type=port, default=0, metavar="N", help="port to listen on (default: a free one)")
    tokens = emulator.add_mutually_exclusive_group()
    tokens.add_argument(
        "--token",
        metavar="T",
        help=f"the only bearer token accepted (shown in ps: prefer --token-file or ${TOKEN_VARIABLE})",
    )
    tokens.add_argument(
        "--token-file",
        metavar="FILE",
        help=f"read the only bearer token accepted from FILE (default: ${TOKEN_VARIABLE}, else any token)",
    )
    emulator.add_argument(
        "--speed", type=positive, default=1.0, metavar="X", help="how much faster than real time runs move (default 1)"
    )
    emulator.add_argument(
        "--script", metavar="FILE", help="JSON file of task outcomes by task key (see above; default: all succeed)"
    )
    emulator.add_argument(
        "--forbid",
        action="append",
        default=[],
        metavar="TOKEN",
        help="answer requests with this token 403 PERMISSION_DENIED (repeatable)",
    )
    emulator.add_argument(
        "--max-finished-runs",
        type=count,
        default=10_000,
        metavar="N",
        help="keep at most N finished runs; the oldest are then dropped (default 10000)",
    )
    limits = emulator.add_argument_group(
        "workspace limits", "enforce a workspace's budgets, answered as the service answers (default: none)"
    )
    limits.add_argument(
        "--max-active-tasks",
        type=whole,
        metavar="N",
        help="task runs running at once; past it runs/submit answers 429 (queue.enabled: the run is queued)",
    )
    limits.add_argument(
        "--max-active-parent-tasks",
        type=whole,
        metavar="N",
        help="Run Job and For each parent tasks running at once, answered as --max-active-tasks",
    )
    limits.add_argument(
        "--runs-per-hour",
        type=whole,
        metavar="N",
        help="runs created per rolling hour of emulated time; past it runs/submit answers 400 INVALID_STATE",
    )
    limits.add_argument(
        "--requests-per-second",
        type=rate,
        metavar="X",
        help="API requests per second (of emulated time with --speed); past it 429 REQUEST_LIMIT_EXCEEDED "
        "with Retry-After",
    )
    local = emulator.add_argument_group("running the run's own code (see docs/local.md)")
    local.add_argument(
        "--code",
        metavar="ROOT",
        help="run notebook, Python file and wheel tasks from the code under ROOT, each task run in a process",
    )
    mapping_options(local, needs="with --code: ")
    emulator.set_defaults(handler=cmd_emulator)
