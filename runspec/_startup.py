"""
The ``runspec`` command's first moments: Ctrl-C while Python still imports the command ends it with
the one line and exit 130, as later, instead of a ``KeyboardInterrupt`` traceback.

``runspec/__init__.py`` imports this module first. It changes nothing unless this process is the
``runspec`` command (the console script, or ``python -m runspec``) starting up, and Python's own
SIGINT handler is in place; ``runspec.cli.main`` puts Python's handler back as it starts.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

__all__ = ["interrupted_while_starting"]


def interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C before ``main`` runs: the command's one line, exit 130, no traceback."""
    os.write(2, b"runspec: error: interrupted\n")
    os._exit(130)


def _starting_as_the_command() -> bool:
    entry = sys.modules.get("__main__")
    spec = getattr(entry, "__spec__", None)
    script = os.path.basename(getattr(entry, "__file__", "") or "")
    return getattr(spec, "name", None) == "runspec.__main__" or script in ("runspec", "runspec-script.py")


if _starting_as_the_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, interrupted_while_starting)
