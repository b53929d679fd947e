"""The argument parser's shared parts: value types, the error behaviour, the workspace options."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, NoReturn

from runspec.cli._output import EXIT_INVALID

SPEC_HELP = (
    "a JSON file with the runs/submit request body, '-' for standard input, or module:attribute naming a "
    "Run, a RunSpec or a function without arguments returning one (imported from the current directory)"
)


def _above_zero(name: str, not_a_number: str) -> Callable[[str], float]:
    """A value type for a finite number > 0; ``not_a_number`` says what was expected."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{not_a_number}, got {text!r}") from None
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
        return value

    parse.__name__ = name
    return parse


def _whole(name: str, not_whole: str, out_of_range: str, least: int, most: int | None = None) -> Callable[[str], int]:
    """A value type for a whole number from ``least`` to ``most``; the two texts say what was expected."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{not_whole}, got {text!r}") from None
        if value < least or (most is not None and value > most):
            raise argparse.ArgumentTypeError(f"{out_of_range}, got {value}")
        return value

    parse.__name__ = name
    return parse


#: A number of seconds > 0.
positive = _above_zero("positive", "expected a number of seconds")
#: A rate given on the command line: a number > 0.
rate = _above_zero("rate", "expected a number")
#: A whole number, 0 or more.
count = _whole("count", "expected a whole number", "expected 0 or more", 0)
#: A count given on the command line: a whole number, 1 or more.
whole = _whole("whole", "expected a whole number", "expected a whole number >= 1", 1)
#: An ``--attempt`` value: a whole number, 1 or more.
attempt_number = _whole("attempt_number", "an attempt is a whole number", "attempts count from 1", 1)
port = _whole("port", "expected a port number", "a port is between 0 and 65535", 0, 65535)


def nonempty_token(text: str) -> str:
    """An ``--idempotency-token`` value: never empty (an unset ``$VAR`` would silently lose exactly-once)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the token is empty (an unset variable?); give a value, or leave the option out to get a new token"
        )
    return text


def run_key(text: str) -> str:
    """A ``--key`` value: not empty (an unset variable would make every run share one key)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the key is empty (an unset variable?); name the run, or leave --key out")
    return text


class Parser(argparse.ArgumentParser):
    """argparse that says ``runspec: error: ...`` with the usage, and exits 2 (as it always does)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


FORMATTER = argparse.RawDescriptionHelpFormatter

if TYPE_CHECKING:  # pragma: no cover
    Commands = argparse._SubParsersAction[Parser]
    """What each command module's ``add_parser(commands)`` registers its subcommand with."""


#: ``--deadline``'s default: the client's (``DEFAULT_DEADLINE``), how long one request may keep retrying.
DEFAULT_DEADLINE = 300.0


def _setting(flag: str, metavar: str, text: str) -> Any:
    """A field of ``Settings`` that is a workspace setting of the client, given on the command line as ``flag``."""
    return field(default=None, metadata={"setting": flag, "metavar": metavar, "help": text})


@dataclass(frozen=True)
class Settings:
    """
    The options every command that talks to a workspace shares, parsed once (``Settings.parse``) and
    handed to the command beside its own arguments.

    ``host`` and ``profile`` are workspace settings of the client (``WORKSPACE_SETTINGS``, the parameters
    of ``Workspace.resolve()``), given here with the flag in their ``setting`` metadata; ``resolve`` passes
    exactly those on. ``deadline`` (``--deadline``), ``timeout`` and ``poll_interval`` (``--timeout``,
    ``--poll-interval``) are per-call settings; ``verbose`` (``-v``) shows each retry. A command without
    one of these options gets its default.
    """

    host: str | None = _setting("--host", "URL", "workspace URL, e.g. https://adb-123.4.azuredatabricks.net")
    profile: str | None = _setting("--profile", "NAME", "profile of ~/.databrickscfg (DATABRICKS_CONFIG_FILE)")
    verbose: bool = False
    deadline: float = DEFAULT_DEADLINE
    timeout: float | None = None
    poll_interval: float | None = None

    @classmethod
    def parse(cls, args: argparse.Namespace) -> Settings:
        """The settings in ``args`` (the parsed command line); each one the command lacks at its default."""
        given: dict[str, Any] = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
        return cls(**given)

    def workspace(self) -> dict[str, Any]:
        """The workspace settings given (``host=``, ``profile=``), by their names in ``Workspace.resolve()``."""
        return {f.name: getattr(self, f.name) for f in fields(self) if "setting" in f.metadata}

    def words(self) -> list[str]:
        """The ``--host`` / ``--profile`` options a printed command needs to reach the same workspace."""
        words: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if "setting" in f.metadata and value:
                words += [f.metadata["setting"], value]
        return words


def setting_flags() -> dict[str, str]:
    """Each workspace setting the command takes (``host``), and its flag (``--host``)."""
    return {f.name: f.metadata["setting"] for f in fields(Settings) if "setting" in f.metadata}


def workspace_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "workspace",
        "Host and credentials come from --host / --profile, else DATABRICKS_HOST and DATABRICKS_TOKEN "
        "(or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET), else ~/.databrickscfg.",
    )
    for f in fields(Settings):
        if "setting" in f.metadata:
            group.add_argument(
                f.metadata["setting"], dest=f.name, metavar=f.metadata["metavar"], help=f.metadata["help"]
            )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show each retry (a 429, a 5xx, a connection that failed) on standard error",
    )


def lenient_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="pass fields runspec does not know (newer than it) through unchanged, with a warning each",
    )


def follow_options(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """``--timeout`` and ``--poll-interval``, for the commands that follow a run (``prefix``: ``"with --wait: "``)."""
    parser.add_argument(
        "--timeout",
        type=positive,
        metavar="S",
        help=f"{prefix}stop waiting after S seconds (exit 1; the run is not cancelled)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive,
        metavar="S",
        help=f"{prefix}longest pause between polls, in seconds (default: wait()'s, 7.5)",
    )


def deadline_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--deadline",
        type=positive,
        default=DEFAULT_DEADLINE,
        metavar="S",
        help="how long one request may keep retrying network errors, 429 and 5xx (default 300 s)",
    )


def json_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=what)
