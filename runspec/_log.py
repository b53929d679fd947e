"""
The ``runspec`` logger: a library prints nothing of its own accord.

The client layer and the emulator log on ``runspec`` (and its children: ``runspec.retries`` for retry
notices, ``runspec.testing`` for the emulator). ``quiet()`` gives ``runspec`` a ``NullHandler``, so an
application that configured no logging sees nothing (Python's last-resort handler would print
warnings on standard error); one that configured logging gets the records as usual.
"""

from __future__ import annotations

import logging

__all__ = ["quiet"]


def quiet() -> None:
    """Give the ``runspec`` logger a ``NullHandler`` (once)."""
    logger = logging.getLogger("runspec")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())
