"""
Run keys: a name for a run that reaches the same run from any process, with no local state.

``submit(spec, key="orders/2026-12-01")`` sends an idempotency token derived from the key, so the
workspace's own guarantee (one run per token) makes the key name one run. The derivation, for
other tools to compute the same token::

    token = "rskey1-" + sha256(("runspec key v1\\n" + key + "\\n" + str(attempt)).encode("utf-8")).hexdigest()[:56]

with ``attempt`` 1 when not given (63 characters in all; the API allows 64). ``attempt=2`` is a new
token under the same key: a deliberate re-run. What is guaranteed and what is not:

* the same key (and attempt) reaches the same run, running or finished, for as long as the
  workspace keeps the token (not documented; at least as long as the run exists, 60 days);
* a finished, failed run stays the key's run: submitting again reattaches and reports the failure;
* a key whose run has a different run name or task keys raises ``KeyConflict`` (no second run);
* a key whose run was deleted gets an error from the workspace (the token stays reserved): use a
  new key, or ``attempt=``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from runspec.errors import ApiError, KeyConflict

__all__ = ["DEFAULT_RUN_NAME", "check_key_run", "deleted_key_error", "key_token"]

_PREFIX = "rskey1-"
#: The name the API gives a run submitted without one.
DEFAULT_RUN_NAME = "Untitled"


def key_token(key: str, attempt: int | None = None) -> str:
    """The idempotency token of ``key`` (and ``attempt``, 1 when ``None``): 63 characters."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError("key must be a non-empty string")
    if attempt is not None and (isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1):
        raise ValueError(f"attempt must be a whole number >= 1, got {attempt!r}")
    text = f"runspec key v1\n{key}\n{attempt or 1}"
    return _PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:56]


def _task_keys(tasks: Any) -> list[str]:
    keys: list[str] = []
    for task in tasks if isinstance(tasks, list) else []:
        key = task.get("task_key") if isinstance(task, dict) else None
        if isinstance(key, str) and key not in keys:
            keys.append(key)
    return keys


def _listing(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def check_key_run(key: str, attempt: int | None, body: Mapping[str, Any], run: Mapping[str, Any], run_id: int) -> None:
    """``KeyConflict`` when the run ``key`` reached differs from ``body`` in run name or task keys."""
    differences: list[str] = []
    wanted_name = body.get("run_name") or DEFAULT_RUN_NAME
    found_name = run.get("run_name") or DEFAULT_RUN_NAME
    if wanted_name != found_name:
        differences.append(f"its run name is {found_name!r}, this spec's is {wanted_name!r}")
    wanted, found = _task_keys(body.get("tasks")), _task_keys(run.get("tasks"))
    missing = [k for k in wanted if k not in found]
    extra = [k for k in found if k not in wanted]
    if missing:
        differences.append(f"tasks only in this spec: {_listing(missing)}")
    if extra:
        differences.append(f"tasks only in the run: {_listing(extra)}")
    if not differences:
        return
    url = run.get("run_page_url")
    where = f" ({url})" if isinstance(url, str) and url else ""
    next_attempt = (attempt or 1) + 1
    raise KeyConflict(
        f"key {key!r} already names run {run_id}{where}, made from a different spec: "
        + "; ".join(differences)
        + f". No second run was started. Use a new key, or attempt={next_attempt} to run this spec under "
        "the same key",
        key=key,
        run_id=run_id,
        differences=differences,
    )


def deleted_key_error(error: ApiError, key: str, attempt: int | None) -> ApiError:
    """The workspace's refusal of a key whose run was deleted, with the way out added."""
    next_attempt = (attempt or 1) + 1
    error.message = (
        f"{error.message} (the run of key {key!r} was deleted, and the workspace keeps its token reserved: "
        f"use a new key, or attempt={next_attempt})"
    )
    return error
