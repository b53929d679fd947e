"""
``runspec submit-many FILE|DIR``: many keyed runs within the workspace's budgets, resumable by running
the same command again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from runspec._text import plural
from runspec.cli._options import FORMATTER, Settings, json_option, rate, whole, workspace_options
from runspec.cli._output import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    CliError,
    echo,
    elapsed,
    error,
    report_invalid,
)
from runspec.cli._signals import interrupt_code, interrupt_words, signals_as_interrupts
from runspec.cli._workspace import report_workspace_error, resolve
from runspec.errors import Problem, RunspecError, SpecError
from runspec.spec.run_spec import read_json

if TYPE_CHECKING:  # pragma: no cover
    from runspec.cli._options import Commands
    from runspec.client.batch import Batch, BatchProgress, ItemOutcome

#: Seconds between two progress lines when standard error is not a terminal.
_PLAIN_EVERY = 5.0
#: Items listed in the summary table (those that did not succeed come first).
_TABLE_ROWS = 50


def read_items(source: str, prefix: str | None) -> list[tuple[str, dict[str, Any]]]:
    """
    ``(key, body)`` pairs from a JSON lines file (one body a line; ``key`` in a body names it, else
    ``<prefix>-<line number>``) or a folder of ``*.json`` body files (``<prefix>-<file name>``).
    The prefix defaults to the file's or folder's name, so the same input always gives the same keys.
    """
    path = Path(source)
    if not path.exists():
        raise CliError(f"{source}: no such file or folder")
    problems: list[Problem] = []
    items: list[tuple[str, dict[str, Any]]] = []
    if path.is_dir():
        base = prefix if prefix is not None else path.name
        entries = [(f"{base}-{f.stem}", f.name, f.read_text(encoding="utf-8")) for f in sorted(path.glob("*.json"))]
        if not entries:
            raise CliError(f"{source}: the folder has no .json body files")
    else:
        base = prefix if prefix is not None else path.stem
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CliError(f"cannot read {source}: {exc.strerror or exc}") from None
        entries = [(f"{base}-{n}", f"line {n}", text) for n, text in enumerate(lines, 1) if text.strip()]
        if not entries:
            raise CliError(f"{source}: the file has no bodies (one JSON object a line)")
    for default_key, where, text in entries:
        try:
            body = read_json(text)  # too deep, or a number of thousands of digits: invalid-json too
        except SpecError as exc:
            problems.extend(p.at(f"[{where}]") for p in exc.problems)
            continue
        if not isinstance(body, dict):
            problems.append(Problem(f"[{where}]", "invalid-json", "a body is a JSON object"))
            continue
        key = body.pop("key", default_key)
        if not isinstance(key, str) or not key.strip():
            problems.append(Problem(f"[{where}].key", "invalid-key", "a key is a non-empty string"))
            continue
        items.append((key, body))
    if problems:
        raise SpecError(problems, subject=source)
    return items


class _ProgressLine:
    """The live progress line on standard error: rewritten in place on a terminal, else every few seconds."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        isatty = getattr(stream, "isatty", None)
        self.live = bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
        self.shown = 0.0
        self.width = 0

    def __call__(self, progress: BatchProgress) -> None:
        text = f"{elapsed(progress.elapsed)}  {progress.line}"
        if self.live:
            pad = max(0, self.width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self.width = len(text)
            return
        now = time.monotonic()
        if now - self.shown >= _PLAIN_EVERY or progress.pending == progress.running == 0:
            self.shown = now
            echo(text, file=self.stream)

    def done(self) -> None:
        if self.live and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0


def _item_json(outcome: ItemOutcome) -> dict[str, Any]:
    failed = [
        {"task_key": t.key, "state": t.state.label, "error": t.error}
        for t in outcome.failed_tasks
        if not t.state.knock_on
    ]
    return {
        "key": outcome.key,
        "status": outcome.status,
        "run_id": outcome.run_id,
        "attempt": outcome.attempt,
        "reattached": outcome.reattached,
        "run_page_url": outcome.run.run_page_url if outcome.run is not None else None,
        "skipped_runs": outcome.skipped_runs,
        "failed_tasks": failed,
        "reason": " ".join(outcome.reason.split()) if outcome.reason else None,
    }


def _summary(batch: Batch, out: TextIO, seconds: float) -> None:
    results = list(batch.results.values())
    counts = batch.summary()
    order = ("succeeded", "failed", "cancelled", "not started", "running", "pending")
    words = ", ".join(f"{counts[s]} {s}" for s in order if s in counts)
    echo(f"{plural(len(results), 'item')} in {elapsed(seconds)}: {words} ({batch.requests} requests)", file=out)
    reattached = sum(1 for o in results if o.reattached)
    if reattached:
        echo(f"  {reattached} reached runs an earlier submit started (the batch resumed)", file=out)
    resent = sum(1 for o in results if o.skipped_runs)
    if resent:
        echo(f"  {resent} sent again under the next attempt: the workspace skipped their run (a limit)", file=out)
    unusual = [o for o in results if o.status != "succeeded"]
    if not unusual:
        return
    width = min(40, max(3, *(len(o.key) for o in unusual)))
    echo("", file=out)
    echo(f"{'key':<{width}}  {'status':<11}  {'run':>16}  why", file=out)
    for outcome in unusual[:_TABLE_ROWS]:
        why = ""
        if outcome.failed_tasks:
            why = "; ".join(t.describe() for t in outcome.failed_tasks if not t.state.knock_on)[:200]
        elif outcome.reason:
            why = " ".join(outcome.reason.split())[:200]
        run = str(outcome.run_id) if outcome.run_id is not None else "-"
        echo(f"{outcome.key:<{width}}  {outcome.status:<11}  {run:>16}  {why}", file=out)
    if len(unusual) > _TABLE_ROWS:
        echo(f"... and {len(unusual) - _TABLE_ROWS} more (--json lists every item)", file=out)


def _exit_code(batch: Batch, waited: bool) -> int:
    counts = batch.summary()
    if any(status in counts for status in ("failed", "cancelled", "not started")):
        return EXIT_FAILED
    if waited and set(counts) != {"succeeded"}:
        return EXIT_FAILED
    return EXIT_OK


@signals_as_interrupts()
def _run(args: argparse.Namespace, settings: Settings, items: list[tuple[str, dict[str, Any]]]) -> int:
    out = sys.stdout
    line = _ProgressLine(sys.stderr)
    start = time.monotonic()
    batch: Batch | None = None
    try:
        workspace = resolve(settings)
        batch = workspace.submit_many(
            items,
            max_active_tasks=args.max_active_tasks,
            max_active_parent_tasks=args.max_active_parent_tasks,
            runs_per_hour=args.runs_per_hour,
            requests_per_second=args.requests_per_second,
            wait=args.wait,
            progress=line,
            cancel_on_interrupt=not args.keep_running,
        )
    except SpecError as exc:
        line.done()
        report_invalid(args.source, exc)
        return EXIT_INVALID
    except RunspecError as exc:
        line.done()
        return report_workspace_error(exc, as_json=args.json)
    except KeyboardInterrupt as exc:
        line.done()
        code = interrupt_code(exc)
        batch = getattr(exc, "batch", None)
        if batch is not None:
            _report(batch, args, out, time.monotonic() - start)
        if args.keep_running:
            error(f"{interrupt_words(exc)}; the runs go on: run the same command again to resume the batch")
        else:
            error(f"{interrupt_words(exc)}; stopped sending and cancelled the batch's active runs")
        return code
    line.done()
    _report(batch, args, out, time.monotonic() - start)
    return _exit_code(batch, args.wait)


def _report(batch: Batch, args: argparse.Namespace, out: TextIO, seconds: float) -> None:
    if args.json:
        for outcome in batch.results.values():
            echo(json.dumps(_item_json(outcome)), file=out)
    else:
        _summary(batch, out, seconds)


def cmd_submit_many(args: argparse.Namespace, settings: Settings) -> int:
    try:
        items = read_items(args.source, args.key_prefix)
    except SpecError as exc:
        report_invalid(args.source, exc)
        return EXIT_INVALID
    return _run(args, settings, items)


def add_parser(commands: Commands) -> None:
    """Register ``runspec submit-many``."""
    parser = commands.add_parser(
        "submit-many",
        help="submit many keyed runs within the workspace's limits; run it again to resume",
        description=(
            'Submit every body of FILE (JSON lines: one runs/submit body a line, with an optional "key")\n'
            "or DIR (a folder of .json body files), each under its key: the key's run is started once,\n"
            "whatever happens. Items without a key get <prefix>-<line number> (or <prefix>-<file name>), the\n"
            "prefix being the file's or folder's name unless --key-prefix says otherwise, so running the\n"
            "same command again after a crash or Ctrl-C reattaches to every run already started and sends\n"
            "only the rest.\n"
            "\n"
            "Every body is checked before the first is sent. Items are admitted within the workspace's\n"
            "budgets (task runs active at once, runs per hour, requests per second); a workspace limit\n"
            "holds items, it never fails them. A progress line on standard error shows submitted, held,\n"
            "running, succeeded and failed items and the request rate; a summary (or, with --json, one\n"
            "JSON line per item) follows at the end.\n"
            "\n"
            "Ctrl-C (or SIGTERM) stops sending and cancels the runs the batch started, unless --keep-running.\n"
            "\n"
            "exit codes: 0 every item succeeded (without --wait: every item was sent), 1 an item failed,\n"
            "was cancelled or was not started, 2 invalid input, 3 configuration, credentials, network or\n"
            "API error, 130 interrupted (143 SIGTERM)"
        ),
        epilog=(
            "examples:\n  runspec submit-many backfill.jsonl --wait\n"
            "  runspec submit-many bodies/ --max-active-tasks 200 --keep-running --wait --json > results.jsonl"
        ),
        formatter_class=FORMATTER,
    )
    parser.add_argument("source", metavar="FILE|DIR", help="a JSON lines file of bodies, or a folder of body files")
    parser.add_argument("--key-prefix", metavar="P", help="prefix of item keys (default: the name of FILE or DIR)")
    parser.add_argument(
        "--max-active-tasks", type=whole, metavar="N", help="task runs active at once (default 1800: 90%% of 2,000)"
    )
    parser.add_argument(
        "--max-active-parent-tasks",
        type=whole,
        metavar="N",
        help="Run Job and For each parent tasks active at once (default 675: 90%% of 750)",
    )
    parser.add_argument(
        "--runs-per-hour", type=whole, metavar="N", help="runs created per rolling hour (default 9000: 90%% of 10,000)"
    )
    parser.add_argument(
        "--requests-per-second",
        type=rate,
        metavar="X",
        help="requests per second to start at (default 20; lowered when the workspace answers 429)",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="on Ctrl-C or SIGTERM leave the runs going (the same command resumes the batch)",
    )
    parser.add_argument("--wait", action="store_true", help="follow every run to its end (default: until all are sent)")
    json_option(parser, "print one JSON line per item at the end (progress goes to standard error)")
    workspace_options(parser)
    parser.set_defaults(handler=cmd_submit_many)
