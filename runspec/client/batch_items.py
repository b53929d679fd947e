"""
The items of a batch (``Workspace.submit_many``): each checked before the first is sent, each with its
key, its request body, the key's attempt, and the ``ItemOutcome`` the batch reports for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from runspec._budgets import parent_weight, task_weight
from runspec.client.handle import RunHandle
from runspec.client.keys import key_token
from runspec.client.request import _request_body
from runspec.client.results import RunView, TaskView
from runspec.errors import Problem, RunspecError, SpecError

__all__ = ["BatchItem", "ItemOutcome", "Status", "check_items"]

Status = Literal["pending", "running", "succeeded", "failed", "cancelled", "not started"]


@dataclass
class ItemOutcome:
    """
    What became of one item of a batch.

    ``status``: ``"succeeded"``, ``"failed"`` (``failed_tasks`` lists each task that did not
    succeed, with its error), ``"cancelled"``, ``"not started"`` (``reason`` says why, ``error`` is
    the exception), or, before the batch has finished, ``"pending"`` (not sent yet) and
    ``"running"``. ``run_id`` is the key's run; ``attempt`` the key's attempt that made it;
    ``reattached`` is True when that run existed before this batch (a resumed batch);
    ``skipped_runs`` the runs the workspace skipped because of a limit, each replaced under the next
    attempt.
    """

    key: str
    status: Status = "pending"
    run_id: int | None = None
    attempt: int = 1
    reattached: bool = False
    run: RunView | None = None
    failed_tasks: list[TaskView] = field(default_factory=list)
    reason: str | None = None
    error: RunspecError | None = None
    skipped_runs: list[int] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """True once nothing more will happen to this item."""
        return self.status in ("succeeded", "failed", "cancelled", "not started")

    def describe(self) -> str:
        """One line: key, status, run and why."""
        text = f"{self.key}: {self.status}"
        if self.run_id is not None:
            text += f" (run {self.run_id}" + (f", attempt {self.attempt}" if self.attempt > 1 else "") + ")"
        if self.failed_tasks:
            text += ": " + "; ".join(task.describe() for task in self.failed_tasks[:3])
        elif self.reason:
            text += f": {self.reason}"
        return text


@dataclass
class BatchItem:
    """One item while the batch works on it: its request, its key's attempt, its run, its holds."""

    key: str
    body: dict[str, Any]
    weight: int
    outcome: ItemOutcome
    attempt: int = 1
    token: str = ""
    handle: RunHandle | None = None
    start_time: int | None = None
    sent_at: float = 0.0  # when the submit answered (this process's clock)
    checked: bool = False  # the key's run was compared with the spec
    not_before: float = 0.0
    holds: int = 0
    tries: int = 0
    hold_reason: str | None = None
    parents: int = 0  # Run Job and For each parent tasks (``parent_weight``)

    def use_attempt(self, attempt: int) -> None:
        self.attempt = attempt
        self.token = key_token(self.key, attempt)
        self.body["idempotency_token"] = self.token
        self.outcome.attempt = attempt


def check_items(items: Iterable[tuple[str, Any]] | Mapping[str, Any]) -> list[BatchItem]:
    """
    Every item loaded and checked; one ``SpecError`` with every problem, each path under its key.
    ``items`` is an iterable of ``(key, spec)`` pairs or a mapping; anything else is a ``TypeError``.
    """
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"submit_many() takes (key, spec) pairs or a mapping of them, not {pair!r}")
    problems: list[Problem] = []
    checked: list[BatchItem] = []
    seen: set[str] = set()
    for key, spec in pairs:
        where = f"[{key!r}]"
        if not isinstance(key, str) or not key.strip():
            problems.append(Problem(where, "invalid-key", "a key is a non-empty string (it names the item's run)"))
            continue
        if key in seen:
            problems.append(Problem(where, "duplicate-key", f"key {key!r} is given twice; each item needs its own"))
            continue
        seen.add(key)
        try:
            body = _request_body(spec)
        except SpecError as exc:
            problems.extend(p.at(where + p.path) for p in exc.problems)
            continue
        if body.get("idempotency_token"):
            problems.append(
                Problem(
                    where + "$.idempotency_token",
                    "idempotency-token-conflict",
                    "the key derives the idempotency token; remove it from the spec",
                )
            )
            continue
        item = BatchItem(key, body, task_weight(body), ItemOutcome(key), parents=parent_weight(body))
        item.use_attempt(1)
        checked.append(item)
    if problems:
        raise SpecError(problems, subject=f"the batch ({len(pairs)} items)")
    return checked
