"""
The ``runspec`` command: check, show and submit one-time runs from the shell, serve the emulator, try the demo.

::

    runspec validate pipeline.json pipelines.nightly:run   # every problem, with its JSON path and code
    runspec render pipeline.json --request                 # the exact HTTP request, token masked
    runspec submit pipeline.json --wait                    # submit once, follow it, exit 0/1/2/3
    runspec emulator --port 8000                           # a local Jobs API until Ctrl-C
    runspec demo                                           # a multi-task run, end to end, in seconds

A SPEC is a JSON file with the runs/submit request body, ``-`` for standard input, or
``module:attribute`` naming a ``Run``, a ``RunSpec`` (or a function without arguments returning one)
importable from the current directory.

Exit codes: 0 success; 1 the run did not succeed (or ``--timeout`` passed); 2 the spec is invalid or
cannot be read (and command line mistakes); 3 submitting or following failed (configuration,
credentials, network, an API error); 130 interrupted with Ctrl-C (a run being waited for is
cancelled first).

Only ``submit``, ``render --request``, ``emulator`` and ``demo`` load the client layer (and with it
``requests``); ``validate`` and ``render`` of a body or a picture use the standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import inspect
import json
import logging
import math
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import runspec
from runspec.errors import Problem, SpecError
from runspec.run import Run
from runspec.spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover - the client layer is imported only by the commands that use it
    from runspec.client import OutputView, PreparedRequest, Progress, RunHandle, RunView, TaskView

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_SUBMIT_ERROR",
    "demo_run",
    "load_spec",
    "main",
]

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

PLACEHOLDER_HOST = "https://your-workspace.cloud.databricks.com"
_PLACEHOLDER_TOKEN = "placeholder-token"
_MODULE_REF = re.compile(r"(?P<module>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*):(?P<attr>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
_PACKAGE_DIR = str(Path(runspec.__file__).resolve().parent)
_MAX_LINES = 20
_SPEC_HELP = (
    "a JSON file with the runs/submit request body, '-' for standard input, or module:attribute naming a "
    "Run, a RunSpec or a function without arguments returning one (imported from the current directory)"
)


class CliError(Exception):
    """A mistake or failure the command reports as one line; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ---------------------------------------------------------------------------------------------------
# Loading a SPEC


@dataclass
class _Stdin:
    """Standard input may be read once per command; a second ``-`` is a mistake."""

    stream: TextIO
    used: bool = False

    def read(self) -> str:
        if self.used:
            raise CliError("'-' (standard input) can be given only once")
        self.used = True
        return self.stream.read()


def _short_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return relative if not relative.startswith("..") else path


def _where(tb: TracebackType | None) -> str:
    """``file:line`` of the innermost frame outside runspec and importlib: where the user's code failed."""
    place = ""
    for frame, line in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith(("<", _PACKAGE_DIR)):
            continue
        place = f"{_short_path(name)}:{line}"
    return place


def _describe_exception(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    where = _where(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{_short_path(exc.filename)}:{exc.lineno}"
    return f"{text} (at {where})" if where else text


def _import_module(name: str) -> Any:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (name == missing or name.startswith(missing + ".")):
            raise CliError(
                f"no module named {missing!r} (looked in {cwd} and the installed packages; "
                "run runspec from the directory that holds it, or set PYTHONPATH)"
            ) from None
        raise CliError(f"importing {name} failed: {_describe_exception(exc)}") from None
    except SpecError:
        raise
    except Exception as exc:
        raise CliError(f"importing {name} failed: {_describe_exception(exc)}") from None


def _spec_names(module: Any) -> list[str]:
    names = []
    for key, value in vars(module).items():
        if not key.startswith("_") and isinstance(value, (Run, RunSpec)):
            names.append(key)
    return names


def _resolve_attribute(module: Any, module_name: str, attr: str) -> Any:
    value = module
    walked = module_name
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            hint = ""
            if value is module:
                known = [n for n in dir(module) if not n.startswith("_")]
                close = difflib.get_close_matches(part, known, n=1)
                specs = _spec_names(module)
                if close:
                    hint = f"; did you mean {close[0]!r}?"
                elif specs:
                    hint = f"; runs defined there: {', '.join(specs)}"
            raise CliError(f"{walked} has no attribute {part!r}{hint}") from None
        except Exception as exc:
            raise CliError(f"reading {walked}.{part} failed: {_describe_exception(exc)}") from None
        walked = f"{walked}.{part}"
    return value


def _as_spec(value: Any, label: str, *, call: bool = True) -> RunSpec:
    if isinstance(value, RunSpec):
        return value
    if isinstance(value, Run):
        return value.compile()
    if isinstance(value, Mapping):
        return RunSpec.from_dict(value)
    if call and callable(value) and not isinstance(value, type):
        try:
            inspect.signature(value).bind()
        except TypeError:
            raise CliError("it needs arguments; name a Run, a RunSpec or a function without arguments") from None
        except ValueError:
            pass  # no signature to read (a builtin): just call it
        try:
            produced = value()
        except SpecError:
            raise
        except Exception as exc:
            raise CliError(f"calling {label}() failed: {_describe_exception(exc)}") from None
        return _as_spec(produced, f"{label}()", call=False)
    kind = type(value).__name__
    what = "it is" if call else "the function returned"
    raise CliError(f"{what} {_article(kind)} {kind}, not a Run, a RunSpec or a function returning one")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def load_spec(source: str, stdin: TextIO | None = None) -> RunSpec:
    """
    Load the ``RunSpec`` a SPEC argument names: a JSON file, ``-`` (standard input) or ``module:attribute``.

    Raises ``SpecError`` when the run is invalid (bad JSON included, as problem ``invalid-json``) and
    ``CliError`` (one line) when it cannot be read: no such file, unknown module or attribute, an
    exception while importing the module.
    """
    return _load(source, _Stdin(stdin or sys.stdin))


def _load(source: str, stdin: _Stdin) -> RunSpec:
    if source == "-":
        return RunSpec.from_json(stdin.read())
    path = Path(source)
    if path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read it: {exc.strerror or exc}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CliError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); is it a JSON file?") from None
        return RunSpec.from_json(text)
    if path.is_dir():
        raise CliError("a directory; give a JSON file, '-' or module:attribute")
    match = _MODULE_REF.fullmatch(source)
    if match is None:
        if ":" in source and os.sep not in source:
            raise CliError("no such file, and not module:attribute (for example pipelines.nightly:run)")
        raise CliError("no such file")
    module_name, attr = match.group("module"), match.group("attr")
    module = _import_module(module_name)
    value = _resolve_attribute(module, module_name, attr)
    return _as_spec(value, source)


# ---------------------------------------------------------------------------------------------------
# Output helpers


def _print(text: str = "", *, file: TextIO | None = None) -> None:
    stream = file if file is not None else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _error(message: str) -> None:
    _print(f"runspec: error: {message}", file=sys.stderr)


def _note(message: str) -> None:
    _print(f"runspec: {message}", file=sys.stderr)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _problem_lines(problems: Sequence[Problem], prefix: str = "") -> list[str]:
    return [f"  {prefix}{p}" for p in problems]


def _report_invalid(source: str, exc: SpecError) -> None:
    """The one line and the problems of an invalid spec, on standard error."""
    _error(f"{source} is not a valid run ({_plural(len(exc.problems), 'problem')}):")
    for line in _problem_lines(exc.problems):
        _print(line, file=sys.stderr)
    for line in _problem_lines(exc.warnings, "warning: "):
        _print(line, file=sys.stderr)


def _report_warnings(spec: RunSpec) -> None:
    for line in _problem_lines(spec.warnings, "warning: "):
        _print(line, file=sys.stderr)


def _color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def _elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def _clip(text: str, *, tail: bool = False) -> list[str]:
    lines = text.rstrip("\n").splitlines() or [""]
    if len(lines) <= _MAX_LINES:
        return lines
    hidden = len(lines) - _MAX_LINES
    if tail:
        return [f"... ({_plural(hidden, 'earlier line')} not shown)", *lines[-_MAX_LINES:]]
    return [*lines[:_MAX_LINES], f"... ({_plural(hidden, 'more line')} not shown)"]


# ---------------------------------------------------------------------------------------------------
# validate


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
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [w.to_dict() for w in self.warnings],
            "error": self.error,
        }


def _check_one(source: str, stdin: _Stdin) -> _Checked:
    try:
        spec = _load(source, stdin)
    except SpecError as exc:
        return _Checked(source, problems=exc.problems, warnings=exc.warnings)
    except CliError as exc:
        return _Checked(source, error=exc.message)
    return _Checked(source, spec=spec, warnings=spec.warnings)


def cmd_validate(args: argparse.Namespace) -> int:
    stdin = _Stdin(sys.stdin)
    results = [_check_one(source, stdin) for source in args.specs]
    valid = all(r.valid for r in results)
    if args.json:
        _print(json.dumps({"valid": valid, "specs": [r.to_dict() for r in results]}, indent=2))
        return EXIT_OK if valid else EXIT_INVALID
    for r in results:
        if r.error is not None:
            _print(f"{r.source}: error: {r.error}")
            continue
        if r.spec is not None:
            tasks = _plural(len(r.spec.tasks or ()), "task")
            extra = f", {_plural(len(r.warnings), 'warning')}" if r.warnings else ""
            _print(f"{r.source}: valid ({tasks}{extra})")
        else:
            _print(f"{r.source}: invalid, {_plural(len(r.problems), 'problem')}")
            for line in _problem_lines(r.problems):
                _print(line)
        for line in _problem_lines(r.warnings, "warning: "):
            _print(line)
    if len(results) > 1:
        bad = sum(not r.valid for r in results)
        _print(f"{bad} of {len(results)} specs invalid" if bad else f"all {len(results)} specs valid")
    return EXIT_OK if valid else EXIT_INVALID


# ---------------------------------------------------------------------------------------------------
# render


def _prepare(spec: RunSpec, args: argparse.Namespace) -> PreparedRequest:
    """The request ``submit`` would send; with placeholders (and a note) when no workspace is configured."""
    from runspec import ConfigError
    from runspec.client import submit

    def prepare(host: str | None, token: str | None) -> PreparedRequest:
        return submit(
            spec,
            host,
            token,
            perform_request=False,
            profile=args.profile,
            idempotency_token=args.idempotency_token,
        )

    try:
        return prepare(args.host, None)
    except ConfigError as first:
        reason = first
    try:
        # Credentials missing: keep the configured host, use a placeholder token (it is masked anyway).
        prepared = prepare(args.host, _PLACEHOLDER_TOKEN)
        what = "the Authorization header holds a placeholder token"
    except ConfigError:
        if args.host:
            raise
        prepared = prepare(PLACEHOLDER_HOST, _PLACEHOLDER_TOKEN)
        what = f"the URL uses the placeholder host {PLACEHOLDER_HOST} and a placeholder token"
    _note(f"note: {_config_line(reason)}")
    _note(f"note: showing the request anyway: {what}")
    return prepared


def cmd_render(args: argparse.Namespace) -> int:
    spec = _load_or_exit(args.spec)
    if args.request:
        prepared = _prepare(spec, args)
        if args.json:
            _print(json.dumps(prepared.redacted(), indent=2, ensure_ascii=False))
        else:
            _print(str(prepared))
        if not args.idempotency_token and not spec.idempotency_token:
            _note("note: the idempotency token is new each time; submit mints its own unless given --idempotency-token")
    elif args.graph == "text":
        _print(spec.to_text(color=_color(sys.stdout)).rstrip("\n"))
    elif args.graph == "mermaid":
        _print(spec.to_mermaid().rstrip("\n"))
    elif args.graph == "dot":
        _print(spec.to_dot().rstrip("\n"))
    else:
        _print(spec.to_json(indent=2))
    _report_warnings(spec)
    return EXIT_OK


class _InvalidSpec(Exception):
    def __init__(self, source: str, error: SpecError) -> None:
        super().__init__(str(error))
        self.source = source
        self.error = error


def _load_or_exit(source: str) -> RunSpec:
    """``load_spec``, with errors that name the SPEC (``_InvalidSpec``, or ``CliError`` exiting 2)."""
    try:
        return load_spec(source)
    except SpecError as exc:
        raise _InvalidSpec(source, exc) from None
    except CliError as exc:
        raise CliError(f"{source}: {exc.message}", exc.code) from None


# ---------------------------------------------------------------------------------------------------
# submit and wait


@dataclass
class _Outcome:
    """What ``_follow`` found, for the text report and the JSON object."""

    handle: RunHandle
    exit_code: int = EXIT_OK
    status: str = "submitted"
    run: RunView | None = None
    outputs: dict[str, OutputView] = field(default_factory=dict)
    failed_tasks: list[TaskView] = field(default_factory=list)
    message: str | None = None
    elapsed: float | None = None
    error: dict[str, Any] | None = None


class _ProgressPrinter:
    """Prints each change ``wait()`` reports as one line: elapsed time, task (or ``run``), state."""

    def __init__(self, stream: TextIO, keys: Sequence[str], start: float, show_url: bool) -> None:
        self.stream = stream
        self.width = max([3, *(len(k) for k in keys)])
        self.start = start
        self.show_url = show_url
        self._last: str | None = None

    def __call__(self, event: Progress) -> None:
        if event.kind == "url":
            if self.show_url and event.run.run_page_url:
                _print(f"  {event.run.run_page_url}", file=self.stream)
            return
        if event.kind == "task" and event.task is not None:
            task = event.task
            if event.previous is None and event.state == "BLOCKED":
                return  # every downstream task starts blocked: not news
            name = task.key
            state = event.state or task.state.label
            if task.attempt_number:
                state += f" (attempt {task.attempt_number + 1})"
            message = task.state.message if task.state.finished and not task.state.succeeded() else None
        else:
            name = "run"
            state = event.state or event.run.state.label
            message = None
        line = f"  {_elapsed(time.monotonic() - self.start):>7}  {name:<{self.width}}  {state}"
        if message:
            line += f": {' '.join(message.split())[:200]}"
        if event.kind == "run" and event.run.state.finished:
            self._last = line  # the run's end reads best after its tasks' last changes
            return
        _print(line, file=self.stream)

    def flush(self) -> None:
        """Print the line held back (the run's final state)."""
        if self._last is not None:
            _print(self._last, file=self.stream)
            self._last = None


def _output_entry(output: OutputView) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for name in ("notebook_result", "logs", "error", "error_trace", "sql_output", "dbt_output", "run_job_output"):
        value = getattr(output, name)
        if value is not None:
            entry[name] = value
    return entry


def _task_entry(task: TaskView) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": task.key, "state": task.state.label}
    if task.attempt_number:
        entry["attempt"] = task.attempt_number + 1
    if task.error:
        entry["error"] = task.error
    if task.error_trace:
        entry["error_trace"] = task.error_trace
    if task.run_page_url:
        entry["run_page_url"] = task.run_page_url
    return entry


def _follow(
    handle: RunHandle,
    spec: RunSpec,
    *,
    wait: bool,
    timeout: float | None,
    poll_interval: float,
    progress: TextIO | None,
    start: float,
) -> _Outcome:
    """Wait for the run (when asked) and gather what the report needs. Never raises a RunspecError."""
    from runspec.errors import RunFailed, SubmitError, WaitTimeout

    outcome = _Outcome(handle)
    if not wait:
        try:
            outcome.run = handle.get()
        except SubmitError as exc:
            outcome.message = f"submitted, but reading the run failed: {exc}"
        return outcome
    keys = spec.task_keys
    printer = _ProgressPrinter(progress, keys, start, show_url=True) if progress is not None else None
    try:
        try:
            run = handle.wait(timeout=timeout, poll_interval=poll_interval, on_progress=printer)
        finally:
            if printer is not None:
                printer.flush()
    except RunFailed as exc:
        outcome.status, outcome.exit_code = "failed", EXIT_FAILED
        outcome.run, outcome.failed_tasks = exc.run, list(exc.failed_tasks)
        outcome.message = exc.message
    except WaitTimeout as exc:
        outcome.status, outcome.exit_code = "timed_out", EXIT_FAILED
        with contextlib.suppress(SubmitError):
            outcome.run = handle.get()
        label = outcome.run.state.label if outcome.run is not None else "not finished"
        url = (outcome.run.run_page_url if outcome.run is not None else None) or handle.run_page_url
        outcome.message = (
            f"stopped waiting after {_elapsed(timeout or 0)}: run {exc.run_id} is still {label} and goes on"
            + (f"; cancel it from {url}" if url else "")
        )
    except SubmitError as exc:
        outcome.status, outcome.exit_code = "error", EXIT_SUBMIT_ERROR
        outcome.message = f"following run {handle.run_id} failed: {exc}"
        outcome.error = {"type": type(exc).__name__, "message": _submit_error_line(exc, None)}
    else:
        outcome.status, outcome.run = "succeeded", run
        try:
            outcome.outputs = handle.outputs()
        except SubmitError as exc:
            outcome.message = f"the run succeeded, but reading its outputs failed: {exc}"
    outcome.elapsed = time.monotonic() - start
    return outcome


def _print_outputs(outputs: Mapping[str, OutputView], stream: TextIO) -> None:
    shown: list[tuple[str, str, str]] = []
    silent: list[str] = []
    for key, output in outputs.items():
        if output.error:
            shown.append((key, "error", output.error))
        elif output.notebook_result is not None:
            shown.append((key, "", output.notebook_result))
        elif output.logs:
            shown.append((key, "logs", output.logs))
        elif output.sql_output or output.dbt_output or output.run_job_output:
            value = output.sql_output or output.dbt_output or output.run_job_output
            shown.append((key, "", json.dumps(value, sort_keys=True)))
        else:
            silent.append(key)
    _print("outputs:", file=stream)
    if not shown:
        _print("  (no task returned output)", file=stream)
    width = max([0, *(len(k) for k, _, _ in shown)])
    for key, kind, text in shown:
        lines = _clip(text, tail=kind == "logs")
        label = f"{kind}: " if kind else ""
        _print(f"  {key:<{width}}  {label}{lines[0]}", file=stream)
        for line in lines[1:]:
            _print(f"  {'':<{width}}  {line}", file=stream)
    if silent and shown:
        _print(f"  (no output: {', '.join(silent)})", file=stream)


def _print_failed(tasks: Sequence[TaskView], stream: TextIO) -> None:
    own = [t for t in tasks if not t.state.knock_on]
    knock_on = [t for t in tasks if t.state.knock_on]
    if own:
        _print("failed tasks:", file=stream)
    for task in own:
        _print(f"  {task.describe()}", file=stream)
        if task.error_trace:
            for line in _clip(task.error_trace, tail=True):
                _print(f"      {line}", file=stream)
    if knock_on:
        keys = ", ".join(t.key for t in knock_on)
        _print(f"not run because of an upstream failure: {keys}", file=stream)


def _report(outcome: _Outcome, spec: RunSpec, stream: TextIO, *, picture: bool = True) -> None:
    """
    The end of ``submit --wait`` (and of ``demo``): the final state, outputs or errors, the verdict.

    The final state is the text picture of the run with each task's state, or (``picture=False``,
    when the picture was shown before) its one-line summary.
    """
    handle, run = outcome.handle, outcome.run
    if outcome.status in ("succeeded", "failed", "timed_out") and run is not None:
        _print("", file=stream)
        if picture:
            _print(spec.to_text(state=run, color=_color(stream)).rstrip("\n"), file=stream)
        else:
            from runspec.picture import summary

            _print(summary(spec, state=run), file=stream)
    if outcome.status == "succeeded":
        _print("", file=stream)
        _print_outputs(outcome.outputs, stream)
    elif outcome.status == "failed" and outcome.failed_tasks:
        _print("", file=stream)
        _print_failed(outcome.failed_tasks, stream)
    took = f" in {_elapsed(outcome.elapsed)}" if outcome.elapsed is not None else ""
    if outcome.status == "succeeded":
        _print("", file=stream)
        _print(f"run {handle.run_id} succeeded{took}", file=stream)
        if outcome.message:
            _note(outcome.message)
    elif outcome.status == "failed":
        _print("", file=stream)
        _error(outcome.message or f"run {handle.run_id} failed")
    elif outcome.status in ("timed_out", "error"):
        _error(outcome.message or f"run {handle.run_id}: {outcome.status}")
    elif outcome.message:
        _note(outcome.message)


def _json_result(outcome: _Outcome) -> dict[str, Any]:
    handle, run = outcome.handle, outcome.run
    result: dict[str, Any] = {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "run_id": handle.run_id,
        "run_page_url": (run.run_page_url if run is not None else None) or handle.run_page_url,
        "idempotency_token": handle.idempotency_token,
        "host": handle.host,
    }
    if run is not None:
        result["state"] = run.state.label
        result["tasks"] = {t.key: t.state.label for t in run.tasks}
    if outcome.elapsed is not None:
        result["elapsed_seconds"] = round(outcome.elapsed, 3)
    if outcome.status == "succeeded":
        result["outputs"] = {key: _output_entry(out) for key, out in outcome.outputs.items()}
    if outcome.failed_tasks:
        result["failed_tasks"] = [_task_entry(t) for t in outcome.failed_tasks]
    if outcome.message:
        result["message"] = outcome.message
    if outcome.error:
        result["error"] = outcome.error
    return result


def _error_object(status: str, code: int, exc: BaseException, message: str | None = None) -> dict[str, Any]:
    """The ``--json`` object of a command that failed before or while submitting."""
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message or " ".join(str(exc).split())}
    if isinstance(exc, SpecError):
        error["message"] = f"{_plural(len(exc.problems), 'problem')}"
        error["problems"] = [p.to_dict() for p in exc.problems]
        error["warnings"] = [w.to_dict() for w in exc.warnings]
    token = getattr(exc, "idempotency_token", None)
    return {
        "status": status,
        "exit_code": code,
        "error": error,
        **({"idempotency_token": token} if token else {}),
    }


_ARGUMENT_WORDS = (
    ("arguments (host=, token=, client_id=/client_secret=, auth=)", "the command line (--host)"),
    ("host= ", "--host "),
    ("profile=", "--profile"),
)


def _config_line(exc: BaseException) -> str:
    """A ``ConfigError`` as one line, naming the command's options instead of ``submit()``'s arguments."""
    text = " ".join(str(exc).split())
    for python, shell in _ARGUMENT_WORDS:
        text = text.replace(python, shell)
    return text


def _submit_error_line(exc: BaseException, token: str | None) -> str:
    from runspec.errors import ApiError, SubmitError

    text = exc.message if isinstance(exc, SubmitError) else str(exc)
    if isinstance(exc, ApiError):
        where = f"{exc.method} {exc.path} -> " if exc.method and exc.path else ""
        code = f" {exc.error_code}" if exc.error_code else ""
        text = f"{where}{exc.status}{code}: {exc.message}"
    maybe_sent = not isinstance(exc, ApiError) or exc.status >= 500 or exc.status == 429
    if isinstance(exc, SubmitError) and token and maybe_sent:
        text += f" (the run may exist: submitting again with --idempotency-token {token} cannot start a second one)"
    return " ".join(text.split())


def _submit_and_follow(
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
            _print(json.dumps(_error_object("invalid", EXIT_INVALID, exc), indent=2))
        _report_invalid("the run", exc)
        return EXIT_INVALID
    except ConfigError as exc:
        if as_json:
            _print(json.dumps(_error_object("error", EXIT_SUBMIT_ERROR, exc, _config_line(exc)), indent=2))
        _error(_config_line(exc))
        return EXIT_SUBMIT_ERROR
    except SubmitError as exc:
        if as_json:
            line = _submit_error_line(exc, None)
            _print(json.dumps(_error_object("error", EXIT_SUBMIT_ERROR, exc, line), indent=2))
        _error(_submit_error_line(exc, exc.idempotency_token or chosen))
        return EXIT_SUBMIT_ERROR
    except KeyboardInterrupt:
        if as_json:
            _print(
                json.dumps(
                    {"status": "interrupted", "exit_code": EXIT_INTERRUPTED, "idempotency_token": chosen}, indent=2
                )
            )
        _error(
            "interrupted while submitting; if the run was created, submitting again with "
            f"--idempotency-token {chosen} returns it instead of starting another"
        )
        return EXIT_INTERRUPTED
    with handle:
        _print(f"submitted run {handle.run_id} (idempotency token {handle.idempotency_token})", file=progress)
        if wait:
            _print(
                f"waiting for it to finish (Ctrl-C cancels the run){_timeout_note(timeout)}",
                file=progress,
            )
        try:
            outcome = _follow(
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
                _print(json.dumps(result, indent=2))
            _error(f"interrupted: asked the workspace to cancel run {handle.run_id}")
            return EXIT_INTERRUPTED
        if not wait and outcome.run is not None and outcome.run.run_page_url and not as_json:
            _print(f"  {outcome.run.run_page_url}", file=progress)
        if as_json:
            _print(json.dumps(_json_result(outcome), indent=2, ensure_ascii=False), file=out)
            if outcome.exit_code:
                _error(outcome.message or outcome.status)
        elif wait or outcome.message:
            _report(outcome, spec, out, picture=picture)
        return outcome.exit_code


def _timeout_note(timeout: float | None) -> str:
    return f"; giving up waiting after {_elapsed(timeout)}" if timeout is not None else ""


def cmd_submit(args: argparse.Namespace) -> int:
    try:
        spec = _load_or_exit(args.spec)
    except (_InvalidSpec, CliError) as exc:
        if args.json:
            problem = exc.error if isinstance(exc, _InvalidSpec) else exc
            _print(json.dumps(_error_object("invalid", EXIT_INVALID, problem), indent=2))
        raise
    _report_warnings(spec)
    return _submit_and_follow(
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


# ---------------------------------------------------------------------------------------------------
# emulator


def cmd_emulator(args: argparse.Namespace) -> int:
    from runspec.testing import Emulator

    emulator = Emulator(token=args.token, port=args.port, speed=args.speed)
    try:
        emulator.start()
    except OSError as exc:
        raise CliError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", EXIT_SUBMIT_ERROR) from None
    stop = threading.Event()
    try:
        url = emulator.url
        accepts = "any bearer token" if args.token is None else "only the token given with --token"
        speed = f", {args.speed:g}x real time" if args.speed not in (None, 1) else ""
        _print(f"runspec emulator: a Jobs API for one-time runs on {url} ({accepts}{speed})")
        _print("point runspec (or any Databricks client) at it:")
        _print(f"  export DATABRICKS_HOST={url}")
        token_hint = "anything" if args.token is None else "<the value of --token>"
        _print(f"  export DATABRICKS_TOKEN={token_hint}")
        _print("  runspec submit pipeline.json --wait")
        _print(f"runs are listed at {url}/ ; Ctrl-C stops the emulator")
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        _print("runspec emulator: stopped")
    finally:
        emulator.stop()
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# demo


def demo_run() -> Run:
    """
    The run ``runspec demo`` submits: ingest, a condition branch, a transform, and a for_each over regions.

    ``ingest`` counts rows; the condition ``has_rows`` sends the run to ``transform`` (true) or
    ``report_empty`` (false); ``publish`` repeats a notebook for each region, two at a time. The
    notebooks run on serverless compute; the Python file uses a serverless environment. Try
    ``runspec render runspec.cli:demo_run --graph mermaid``.
    """
    from runspec import (
        ConditionTask,
        ForEachTask,
        NotebookTask,
        SparkPythonTask,
        Task,
        TaskDependency,
    )

    return (
        Run("runspec-demo")
        .environment("default", environment_version="2", dependencies=["pandas"])
        .task(NotebookTask("/Workspace/demo/ingest"), key="ingest")
        .task(
            ConditionTask(left="{{tasks.ingest.values.rows}}", op="GREATER_THAN", right="0"),
            key="has_rows",
            depends_on=["ingest"],
        )
        .task(
            SparkPythonTask("/Workspace/demo/transform.py"),
            key="transform",
            depends_on=[TaskDependency("has_rows", outcome="true")],
            environment_key="default",
        )
        .task(
            NotebookTask("/Workspace/demo/report_empty"),
            key="report_empty",
            depends_on=[TaskDependency("has_rows", outcome="false")],
        )
        .task(
            ForEachTask(
                inputs='["emea", "amer", "apac"]',
                task=Task(
                    "publish_region",
                    notebook_task=NotebookTask("/Workspace/demo/publish", base_parameters={"region": "{{input}}"}),
                ),
                concurrency=2,
            ),
            key="publish",
            depends_on=["transform"],
        )
        .timeout(3600)
    )


def _script_demo(emulator: Any) -> None:
    """What the demo's tasks do in the emulator: the values and outputs a real workspace would return."""
    from runspec.testing import Outcome, TaskContext

    def publish(ctx: TaskContext) -> Outcome:
        return Outcome.success(result=f"published the {ctx.input} report")

    emulator.script("ingest", Outcome.success(result="ingested 1200 rows", values={"rows": 1200}))
    emulator.script("transform", Outcome.success(logs="read 1200 rows\nwrote 1180 rows to main.demo.sales\n"))
    emulator.script("publish_region", publish)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.code:
        _print(inspect.getsource(demo_run).rstrip("\n"))
        return EXIT_OK
    import secrets

    from runspec.testing import Emulator

    token = secrets.token_hex(16)
    spec = demo_run().compile()
    with Emulator(token=token, speed=args.speed) as emu:
        _script_demo(emu)
        _print(f"runspec demo: a local Jobs API emulator is serving on {emu.url} (nothing leaves this machine)")
        _print("")
        _print("The run, built with runspec.Run (its code: runspec demo --code):")
        _print(spec.to_text().rstrip("\n"))
        _print("")
        code = _submit_and_follow(
            spec,
            host=emu.url,
            token=token,
            profile=None,
            idempotency_token=None,
            deadline=30.0,
            wait=True,
            timeout=None,
            poll_interval=0.2,
            as_json=False,
            picture=False,
        )
    if code != EXIT_OK:
        return code
    _print("")
    _print("The same run against your workspace: set the host and a token (or use a ~/.databrickscfg profile)")
    _print("  export DATABRICKS_HOST=https://<your-workspace>.cloud.databricks.com")
    _print("  export DATABRICKS_TOKEN=<a personal access token>")
    _print("then, from the shell (with your own notebooks and files in the run):")
    _print("  runspec validate my_pipeline:run")
    _print("  runspec submit my_pipeline:run --wait          # or --profile NAME")
    _print("or from Python:")
    _print("  handle = runspec.submit(run)                   # host and token from the environment")
    _print("  handle.wait()")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# The parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 0 and 65535, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that says ``runspec: error: ...`` with the usage, and exits 2 (as it always does)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


_FORMATTER = argparse.RawDescriptionHelpFormatter


def _workspace_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "workspace",
        "Host and credentials come from --host / --profile, else DATABRICKS_HOST and DATABRICKS_TOKEN "
        "(or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET), else ~/.databrickscfg.",
    )
    group.add_argument("--host", metavar="URL", help="workspace URL, e.g. https://adb-123.4.azuredatabricks.net")
    group.add_argument("--profile", metavar="NAME", help="profile of ~/.databrickscfg (DATABRICKS_CONFIG_FILE)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``runspec`` command."""
    parser = _Parser(
        prog="runspec",
        description=(
            "Check, show and submit Databricks one-time runs (Jobs API runs/submit), and try them "
            "against a local emulator."
        ),
        formatter_class=_FORMATTER,
        epilog=(
            "SPEC is a JSON file with the request body, '-' for standard input, or module:attribute\n"
            "naming a Run, a RunSpec or a function returning one (imported from the current directory).\n"
            "\n"
            "exit codes: 0 success, 1 the run did not succeed, 2 invalid spec or usage,\n"
            "            3 configuration, network or API error, 130 interrupted (Ctrl-C)\n"
            "\n"
            "Start with: runspec demo"
        ),
    )
    parser.add_argument("--version", action="version", version=f"runspec {runspec.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    validate = commands.add_parser(
        "validate",
        help="check runs and list every problem",
        description=(
            "Check each SPEC completely, without sending anything. Prints every problem with its JSON path\n"
            "and code, and every warning. Exit 0 when all are valid, 2 otherwise."
        ),
        epilog="examples:\n  runspec validate pipeline.json\n  cat body.json | runspec validate -\n"
        "  runspec validate pipelines.nightly:run other.json --json",
        formatter_class=_FORMATTER,
    )
    validate.add_argument("specs", nargs="+", metavar="SPEC", help=_SPEC_HELP)
    validate.add_argument("--json", action="store_true", help="print one JSON object: {valid, specs: [...]}")
    validate.set_defaults(handler=cmd_validate)

    render = commands.add_parser(
        "render",
        help="print the request body, the whole request, or a picture of the task graph",
        description=(
            "Print what would be sent, without sending it: the exact JSON body (default), the whole HTTP\n"
            "request with --request (method, URL, headers with the token masked, body), or a picture of\n"
            "the task graph with --graph. Warnings go to standard error."
        ),
        epilog=(
            "examples:\n  runspec render pipeline.json > body.json\n  runspec render pipeline.json --request\n"
            "  runspec render pipelines.nightly:run --graph mermaid\n"
            "  runspec render pipeline.json --graph dot | dot -Tsvg > run.svg\n"
            "\n"
            "With --request and no workspace configured, a placeholder host and token are used (and a note says so)."
        ),
        formatter_class=_FORMATTER,
    )
    render.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    shown = render.add_mutually_exclusive_group()
    shown.add_argument("--request", action="store_true", help="the whole request, as submit would send it")
    shown.add_argument(
        "--graph", choices=("mermaid", "dot", "text"), help="a picture of the tasks and their dependencies"
    )
    render.add_argument("--json", action="store_true", help="with --request: the request as one JSON object")
    render.add_argument("--idempotency-token", metavar="T", help="with --request: the token to put in the body")
    _workspace_options(render)
    render.set_defaults(handler=cmd_render)

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
        formatter_class=_FORMATTER,
    )
    submit.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    submit.add_argument("--wait", action="store_true", help="follow the run until it ends")
    submit.add_argument("--idempotency-token", metavar="T", help="the token that makes the submit safe to repeat")
    submit.add_argument(
        "--timeout",
        type=_positive,
        metavar="S",
        help="with --wait: stop waiting after S seconds (exit 1; the run is not cancelled)",
    )
    submit.add_argument(
        "--poll-interval",
        type=_positive,
        default=30.0,
        metavar="S",
        help="with --wait: longest pause between polls, in seconds (default 30; polls sooner after changes)",
    )
    submit.add_argument(
        "--deadline",
        type=_positive,
        default=300.0,
        metavar="S",
        help="how long one request may keep retrying network errors, 429 and 5xx (default 300 s)",
    )
    submit.add_argument(
        "--json", action="store_true", help="print one JSON object at the end (progress goes to standard error)"
    )
    _workspace_options(submit)
    submit.set_defaults(handler=cmd_submit)

    emulator = commands.add_parser(
        "emulator",
        help="serve a local Jobs API for one-time runs until Ctrl-C",
        description=(
            "Serve the runspec emulator, a local Jobs API 2.2 for one-time runs (submit, get, get-output,\n"
            "cancel, list, delete) on 127.0.0.1, until Ctrl-C. Runs move through the real life cycle;\n"
            "every task succeeds after a short while. Point runspec or any Databricks client at it."
        ),
        epilog="example:\n  runspec emulator --port 8000 --token secret\n"
        "  DATABRICKS_HOST=http://127.0.0.1:8000 DATABRICKS_TOKEN=secret runspec submit body.json --wait",
        formatter_class=_FORMATTER,
    )
    emulator.add_argument("--port", type=_port, default=0, metavar="N", help="port to listen on (default: a free one)")
    emulator.add_argument("--token", metavar="T", help="the only bearer token accepted (default: any)")
    emulator.add_argument(
        "--speed", type=_positive, default=1.0, metavar="X", help="how much faster than real time runs move (default 1)"
    )
    emulator.set_defaults(handler=cmd_emulator)

    demo = commands.add_parser(
        "demo",
        help="submit a multi-task run to an in-process emulator and follow it (a few seconds)",
        description=(
            "Start an emulator in this process, build a run with the builder (a condition branch and a\n"
            "for_each over regions), submit it, follow it with progress, print its outputs, and show how\n"
            "to send the same run to a workspace. Nothing leaves this machine."
        ),
        formatter_class=_FORMATTER,
    )
    demo.add_argument("--code", action="store_true", help="print the Python code that builds the demo run, and exit")
    demo.add_argument(
        "--speed", type=_positive, default=1.0, metavar="X", help="how much faster than real time runs move (default 1)"
    )
    demo.set_defaults(handler=cmd_demo)
    return parser


# ---------------------------------------------------------------------------------------------------
# main


class _LogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"runspec: {record.getMessage()}"


def _setup_logging() -> Callable[[], None]:
    """Warnings of the client (retries, a cancel that failed) on standard error, one line each."""
    logger = logging.getLogger("runspec")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LogFormatter())
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    previous = logger.propagate
    logger.propagate = False

    def undo() -> None:
        logger.removeHandler(handler)
        logger.propagate = previous

    return undo


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``runspec`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_INVALID
    undo = _setup_logging()
    try:
        return handler(args)
    except _InvalidSpec as exc:
        _report_invalid(exc.source, exc.error)
        return EXIT_INVALID
    except CliError as exc:
        _error(exc.message)
        return exc.code
    except SpecError as exc:
        _report_invalid("the run", exc)
        return EXIT_INVALID
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``runspec render ... | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:
        from runspec.errors import ConfigError, SubmitError

        if isinstance(exc, ConfigError):
            _error(_config_line(exc))
            return EXIT_SUBMIT_ERROR
        if isinstance(exc, SubmitError):
            _error(_submit_error_line(exc, None))
            return EXIT_SUBMIT_ERROR
        raise
    finally:
        undo()
