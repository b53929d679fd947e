"""
SIGTERM and SIGHUP as interrupts: a CI runner stopping the job cancels the run being waited for, as Ctrl-C does.

``signals_as_interrupts()`` turns both into ``Stopped`` (a ``KeyboardInterrupt``) while a command talks to
the workspace, so every ``except KeyboardInterrupt`` that cancels on Ctrl-C cancels on them too. The exit
code is ``128 + signal number``, as a shell reports a process the signal ended: 130 for Ctrl-C (SIGINT),
143 for SIGTERM, 129 for SIGHUP. A signal that was ignored when runspec started (``nohup``) stays ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from runspec.cli._output import EXIT_INTERRUPTED

__all__ = ["Stopped", "interrupt_code", "interrupt_words", "signals_as_interrupts"]


class Stopped(KeyboardInterrupt):
    """The process received SIGTERM or SIGHUP; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


def _signal_of(exc: BaseException) -> BaseException:
    """The ``Stopped`` behind ``exc`` (a ``SubmitInterrupted`` raised from it), else ``exc``."""
    return exc.__cause__ if isinstance(exc.__cause__, Stopped) else exc


def interrupt_code(exc: BaseException) -> int:
    """The exit code after an interrupt: 130 for Ctrl-C, ``128 + n`` for signal ``n``."""
    exc = _signal_of(exc)
    return 128 + exc.signum if isinstance(exc, Stopped) else EXIT_INTERRUPTED


def interrupt_words(exc: BaseException) -> str:
    """``interrupted`` (Ctrl-C) or ``stopped by SIGTERM``: how messages name what happened."""
    exc = _signal_of(exc)
    return f"stopped by {exc.name}" if isinstance(exc, Stopped) else "interrupted"


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise ``Stopped``; the handlers before are restored on leaving."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (main() called from a test's thread)
        return
    previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)  # no SIGHUP on Windows
        if signum is None:
            continue
        before = signal.getsignal(signum)
        if before == signal.SIG_IGN:
            continue
        previous[signum] = before
        signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before if before is not None else signal.SIG_DFL)
