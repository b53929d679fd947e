"""The ``runspec`` command's parser and entry point: one module per command registers its subcommand."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TextIO

import runspec
from runspec.cli import (
    cancel,
    convert,
    demo,
    emulator,
    outputs,
    render,
    repair,
    status,
    submit,
    submit_many,
    validate,
    wait,
)
from runspec.cli._loading import InvalidSpec
from runspec.cli._options import FORMATTER, Parser, Settings
from runspec.cli._output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    CliError,
    OutputError,
    environment,
    error,
    report_invalid,
)
from runspec.cli._workspace import report_workspace_error
from runspec.errors import SpecError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``runspec`` command."""
    parser = Parser(
        prog="runspec",
        description=(
            "Check, show and submit Databricks one-time runs (Jobs API runs/submit), and try them "
            "against a local emulator."
        ),
        formatter_class=FORMATTER,
        epilog=(
            "SPEC is a JSON file with the request body, '-' for standard input, or module:attribute\n"
            "naming a Run, a RunSpec or a function returning one (imported from the current directory).\n"
            "\n"
            "exit codes: 0 success, 1 the run did not succeed, 2 invalid spec or usage,\n"
            "            3 configuration, network or API error, 130 interrupted (Ctrl-C;\n"
            "            143 SIGTERM, 129 SIGHUP)\n"
            "\n"
            "Start with: runspec demo"
        ),
    )
    parser.add_argument("--version", action="version", version=f"runspec {runspec.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    validate.add_parser(commands)
    render.add_parser(commands)
    submit.add_parser(commands)
    submit_many.add_parser(commands)
    status.add_parser(commands)
    wait.add_parser(commands)
    cancel.add_parser(commands)
    outputs.add_parser(commands)
    repair.add_parser(commands)
    convert.add_parser(commands)
    emulator.add_parser(commands)
    demo.add_parser(commands)
    return parser


class _LogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"runspec: {record.getMessage()}"


def _setup_logging(verbose: bool = False) -> Callable[[], None]:
    """
    Warnings of the client (a cancel that failed, a reattached key) on standard error, one line each;
    retry notices (the ``runspec.retries`` logger) only with ``-v``, so a host that cannot be reached
    ends in exactly one line.
    """
    logger = logging.getLogger("runspec")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LogFormatter())
    handler.setLevel(logging.WARNING)
    if not verbose:
        handler.addFilter(lambda record: not record.name.startswith("runspec.retries"))
    logger.addHandler(handler)
    previous = logger.propagate
    logger.propagate = False

    def undo() -> None:
        logger.removeHandler(handler)
        logger.propagate = previous

    return undo


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """
    Run the ``runspec`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    The console command calls it with no arguments. ``stdin``, ``stdout`` and ``stderr`` replace the
    process's streams for the call, and ``env`` its environment (``DATABRICKS_*``, ``HOME`` for
    ``~/.databrickscfg``, ``NO_COLOR``, ...), so the command runs in-process exactly as from a shell;
    ``--help`` and usage errors return their exit code instead of leaving the interpreter.
    """
    with contextlib.ExitStack() as stack:
        if stdout is not None:
            stack.enter_context(contextlib.redirect_stdout(stdout))
        if stderr is not None:
            stack.enter_context(contextlib.redirect_stderr(stderr))
        if stdin is not None:
            stack.enter_context(_stdin_from(stdin))
        stack.enter_context(environment(env))
        try:
            return _run(argv)
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INVALID)


@contextlib.contextmanager
def _stdin_from(stream: TextIO) -> Iterator[None]:
    previous = sys.stdin
    sys.stdin = stream
    try:
        yield
    finally:
        sys.stdin = previous


def _run(argv: Sequence[str] | None) -> int:
    import signal

    from runspec._startup import interrupted_while_starting

    if signal.getsignal(signal.SIGINT) is interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    handler: Callable[[argparse.Namespace, Settings], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_INVALID
    settings = Settings.parse(args)
    undo = _setup_logging(verbose=settings.verbose)
    try:
        return handler(args, settings)
    except InvalidSpec as exc:
        report_invalid(exc.source, exc.error, lenient=exc.lenient)
        return EXIT_INVALID
    except OutputError as exc:
        _drop_stdout()
        error(exc.message)
        return exc.code
    except CliError as exc:
        error(exc.message)
        return exc.code
    except SpecError as exc:
        report_invalid("the run", exc)
        return EXIT_INVALID
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``runspec render ... | head``) while something wrote past echo().
        _drop_stdout()
        error("cannot write the output: the reader closed the pipe")
        return EXIT_FAILED
    except Exception as exc:
        from runspec.errors import ConfigError, SubmitError

        if isinstance(exc, (ConfigError, SubmitError)):
            return report_workspace_error(exc, as_json=False)
        raise
    finally:
        undo()


def _drop_stdout() -> None:
    """Point standard output at the null device, so what is still buffered fails no more at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a StringIO in tests): nothing is buffered there
        pass
