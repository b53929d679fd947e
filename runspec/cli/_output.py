"""Exit codes, the one-line error, and printing: every command writes through these."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TextIO

from runspec._text import plural
from runspec.errors import Fix, Problem, SpecError
from runspec.spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover - the client's errors are only read here
    from runspec.errors import KeyConflict, SubmitError

EXIT_OK = 0
"""Everything worked: the specs are valid, the run succeeded."""
EXIT_FAILED = 1
"""The run ended in any state but success, or ``--timeout`` passed while it was still going."""
EXIT_INVALID = 2
"""The spec is invalid or cannot be read (missing file, bad JSON, unknown module), or a usage error."""
EXIT_SUBMIT_ERROR = 3
"""No usable host or credentials, an unsafe host, the network failed, or the API answered an error."""
EXIT_INTERRUPTED = 130
"""Ctrl-C (SIGINT); a run being waited for was cancelled first."""


class CliError(Exception):
    """A mistake or failure the command reports as one line; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class OutputError(CliError):
    """Standard output cannot be written: a full disk (``> /dev/full``), a reader that went away."""


def echo(text: str = "", *, file: TextIO | None = None) -> None:
    stream = file if file is not None else sys.stdout
    try:
        stream.write(text + "\n")
        stream.flush()
    except OSError as exc:
        if stream is sys.stderr:
            return  # nowhere left to say anything
        reason = "the reader closed the pipe" if isinstance(exc, BrokenPipeError) else exc.strerror or str(exc)
        raise OutputError(f"cannot write the output: {reason}", EXIT_FAILED) from None


def error(message: str) -> None:
    echo(f"runspec: error: {message}", file=sys.stderr)


def note(message: str) -> None:
    echo(f"runspec: {message}", file=sys.stderr)


def _way_out(fix: Fix, *, lenient: bool) -> str:
    """The way out a problem's ``fix`` names, as the command says it (``lenient``: it takes ``--lenient``)."""
    if fix.way == "parameter":
        return f"; give one with --param {fix.name}=VALUE"
    if fix.way == "parameters":
        return "; pass --param NAME=VALUE to change them"
    if fix.way == "lenient" and lenient:
        return " (--lenient passes it through)"
    return " (a job is converted from the fields runspec knows: remove it)"  # "remove", or no --lenient here


def for_shell(problem: Problem, *, lenient: bool = True) -> Problem:
    """
    The problem as the command shows it: the way out its ``fix`` names in the command's words
    (``--param NAME=VALUE`` for Python's ``parameters={...}``, ``--lenient`` for ``strict=False``;
    ``lenient=False``, for the commands that read a job and take no ``--lenient``: remove the field).
    """
    fix = problem.fix
    if fix is None:
        return problem
    message = problem.message.removesuffix(fix.said) + _way_out(fix, lenient=lenient)
    return problem if message == problem.message else Problem(problem.path, problem.code, message)


def problem_lines(problems: Sequence[Problem], prefix: str = "", *, lenient: bool = True) -> list[str]:
    """One indented line per problem (``prefix`` ``"warning: "`` for warnings), as the command says it."""
    return [f"  {prefix}{for_shell(p, lenient=lenient)}" for p in problems]


def report_invalid(source: str, exc: SpecError, *, lenient: bool = True) -> None:
    """The one line and the problems of an invalid spec, on standard error."""
    error(f"{source} is not a valid run ({plural(len(exc.problems), 'problem')}):")
    for line in problem_lines(exc.problems, lenient=lenient):
        echo(line, file=sys.stderr)
    for line in problem_lines(exc.warnings, "warning: ", lenient=lenient):
        echo(line, file=sys.stderr)


def report_warnings(spec: RunSpec) -> None:
    for line in problem_lines(spec.warnings, "warning: "):
        echo(line, file=sys.stderr)


def use_color(stream: TextIO) -> bool:
    env = environ()
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and env.get("TERM") != "dumb"


_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("runspec_cli_environ", default=None)


def environ() -> Mapping[str, str]:
    """The environment the command runs in: ``main(env=...)``, else the process's."""
    return _ENVIRON.get() or os.environ


@contextlib.contextmanager
def environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """Run the command in ``env`` (``None``: the process's environment)."""
    token = _ENVIRON.set(env)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


def elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def error_object(status: str, code: int, exc: BaseException, message: str | None = None) -> dict[str, Any]:
    """The ``--json`` object of a command that failed before or while submitting."""
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message or " ".join(str(exc).split())}
    if isinstance(exc, SpecError):
        error["message"] = f"{plural(len(exc.problems), 'problem')}"
        error["problems"] = [for_shell(p).to_dict() for p in exc.problems]
        error["warnings"] = [w.to_dict() for w in exc.warnings]
    token = getattr(exc, "idempotency_token", None)
    run_id = getattr(exc, "run_id", None)
    return {
        "status": status,
        "exit_code": code,
        "error": error,
        **({"idempotency_token": token} if token else {}),
        **({"run_id": run_id} if isinstance(run_id, int) else {}),
    }


def resubmit_words(exc: SubmitError) -> str | None:
    """The way out when it is to submit the spec again (``exc.resubmit``), as the command says it."""
    if not exc.resubmit:
        return None
    if exc.next_attempt is not None:
        return f"use a new key, or --attempt {exc.next_attempt}"
    return "resubmit instead, with a new attempt (runspec submit SPEC --key KEY --attempt N+1) or a new key"


def key_conflict_line(exc: KeyConflict) -> str:
    """A key whose run was made from another spec, from the error's fields, as the command says it."""
    page = f" ({exc.run_page_url})" if exc.run_page_url else ""
    attempt = f"--attempt {exc.next_attempt}" if exc.next_attempt is not None else "--attempt N+1"
    return (
        f"key {exc.key!r} already names run {exc.run_id}{page}, made from a different spec: "
        f"{'; '.join(exc.differences)}. No second run was started. Use a new key, or {attempt} to run this "
        "spec under the same key"
    )


def submit_error_line(exc: BaseException, token: str | None, *, key: str | None = None) -> str:
    """
    A ``SubmitError`` as one line. When the request may have reached the workspace and ``token`` (the
    idempotency token sent) is given, the line says how to submit again without a second run: with the
    same token, or (``key``) by running the same command again.
    """
    from runspec.errors import ApiError, KeyConflict, SubmitError, WorkspaceUnreachable

    text = exc.message if isinstance(exc, SubmitError) else str(exc)
    if isinstance(exc, KeyConflict):
        text = key_conflict_line(exc)
    elif isinstance(exc, ApiError):
        where = f"{exc.method} {exc.path} -> " if exc.method and exc.path else ""
        code = f" {exc.error_code}" if exc.error_code else ""
        text = f"{where}{exc.status}{code}: {exc.message}"
        if exc.credentials_source:  # 401 and 403: which credentials were used, and where they came from
            text += f" ({exc.auth_type} credentials from {exc.credentials_source})"
        else:
            added = [part for part in (exc.note, resubmit_words(exc)) if part]
            if added:
                text += f" ({': '.join(added)})"
    run_id = exc.run_id if isinstance(exc, SubmitError) and not isinstance(exc, KeyConflict) else None
    if isinstance(exc, (WorkspaceUnreachable, KeyConflict)):
        maybe_sent = False  # nothing reached the workspace, or it answered (with the key's run)
    elif isinstance(exc, SubmitError) and exc.idempotency_token:
        maybe_sent = exc.may_exist  # the client knows
    else:
        maybe_sent = not isinstance(exc, ApiError) or exc.status >= 500 or exc.status == 429
    if run_id is not None and str(run_id) not in text:
        text += f" (run {run_id} was created)"
    if isinstance(exc, SubmitError) and token and run_id is not None:
        again = (
            f"running the same command again, with --key {key},"
            if key is not None
            else (f"submitting again with --idempotency-token {token}")
        )
        text += f" (idempotency token {token}: {again} reaches it)"
    elif isinstance(exc, SubmitError) and token and maybe_sent:
        if key is not None:
            text += f" (the run may exist: running the same command again, with --key {key}, reaches it)"
        else:
            text += f" (the run may exist: submitting again with --idempotency-token {token} cannot start a second one)"
    return " ".join(text.split())
