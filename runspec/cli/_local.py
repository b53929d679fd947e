"""The options that point the emulator at a run's own code: ``--code``/``--local``, ``--path``, ``--secrets``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from runspec.cli._output import EXIT_INVALID, CliError

if TYPE_CHECKING:  # pragma: no cover
    from runspec.testing import LocalCode

T = TypeVar("T")


def path_mapping(text: str) -> tuple[str, str]:
    """``PREFIX=DIR`` of ``--path``."""
    prefix, sep, folder = text.partition("=")
    if not sep or not prefix.strip("/") or not folder:
        raise argparse.ArgumentTypeError(f"expected PREFIX=DIR (e.g. /Repos/etl=src/etl), got {text!r}")
    return prefix, folder


def local_code(root: str, paths: list[tuple[str, str]], secrets: str | None) -> LocalCode:
    """The ``LocalCode`` the options describe; a ``CliError`` for a missing root or an unreadable secrets file."""
    from pathlib import Path

    from runspec.testing import LocalCode
    from runspec.testing._local import load_secrets

    if not Path(root).is_dir():
        raise CliError(f"the code folder {root} does not exist", EXIT_INVALID)
    scopes = None if secrets is None else loaded(load_secrets, secrets)
    return LocalCode(root, paths=dict(paths), secrets=scopes)


def loaded(load: Callable[[str], T], path: str) -> T:
    """``load(path)`` of a file given on the command line; a ``CliError`` when it cannot be read or is wrong."""
    try:
        return load(path)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}", EXIT_INVALID) from None
    except ValueError as exc:
        raise CliError(str(exc), EXIT_INVALID) from None


def mapping_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, needs: str) -> None:
    """``--path PREFIX=DIR`` (repeatable) and ``--secrets FILE``."""
    parser.add_argument(
        "--path",
        type=path_mapping,
        action="append",
        default=[],
        metavar="PREFIX=DIR",
        help=f"{needs}the workspace path PREFIX is the local folder DIR (the longest prefix wins; repeatable)",
    )
    parser.add_argument(
        "--secrets",
        metavar="FILE",
        help=f'{needs}JSON {{"scope": {{"key": "value"}}}} for dbutils.secrets; the values are redacted from outputs',
    )
