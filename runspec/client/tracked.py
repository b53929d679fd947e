"""
What runspec knows about one run while it follows it: the one place a run handle keeps its state.

``RunHandle`` holds a ``Tracked``; following (``follow``), repairing (``repair_run``) and reading
failed tasks take the ``Tracked`` itself, so no module reaches into a handle, and none of them
imports the handle.
"""

from __future__ import annotations

import logging
from typing import Any

from runspec.client.pages import read_run
from runspec.client.results import OutputView, RunView
from runspec.client.transport import Transport

__all__ = ["Tracked"]

log = logging.getLogger("runspec")


class Tracked:
    """
    One run: its ``run_id``, the ``transport`` to its workspace, the run page URL once seen, the
    latest repair made (``latest_repair_id``), the repair ``wait()`` must see finish
    (``awaiting_repair``), and what came of the last interrupt (``interrupt_outcome``).
    """

    __slots__ = ("awaiting_repair", "interrupt_outcome", "latest_repair_id", "run_id", "run_page_url", "transport")

    def __init__(self, run_id: int, transport: Transport) -> None:
        self.run_id = int(run_id)
        self.transport = transport
        self.run_page_url: str | None = None
        self.latest_repair_id: int | None = None
        self.awaiting_repair: int | None = None
        self.interrupt_outcome: str | None = None

    def read(self, run_id: int | None = None) -> dict[str, Any]:
        """``runs/get`` of this run (or of ``run_id``, a task's run), every page joined into one object."""
        return read_run(self.transport, self.run_id if run_id is None else run_id)

    def seen(self, run: RunView) -> None:
        """Remember what a read of this run tells (its page URL)."""
        if run.run_page_url:
            self.run_page_url = run.run_page_url

    def output(self, task_run_id: int, key: str) -> OutputView:
        """``runs/get-output`` of one task run, as the ``OutputView`` of task ``key``."""
        raw = self.transport.call("GET", "runs/get-output", query={"run_id": task_run_id})
        return OutputView(raw if isinstance(raw, dict) else {}, task_key=key)

    def cancel(self, *, deadline: float | None = None) -> None:
        """``runs/cancel`` (safe to repeat, so retried like a GET)."""
        self.transport.call("POST", "runs/cancel", body={"run_id": self.run_id}, idempotent=True, deadline=deadline)
        log.info("run %d: cancel requested", self.run_id)
