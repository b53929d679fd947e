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
* a key whose run differs from the spec raises ``KeyConflict`` naming the first differing JSON path
  (no second run). Compared, on the ``runs/get`` answer a keyed submit reads anyway: the run name,
  the task keys, and every field of each task (task type and its
  parameters, dependencies, compute, libraries, retries, ...) that ``runs/get`` returns, normalised
  as the service normalises: the defaults it fills in (a field only the echo has) are not
  differences, nor is a field runspec does not know (``strict=False``); key order and the order of
  ``depends_on`` do not count; numbers equal their decimal strings (``3600`` and ``"3600"``). A
  single-task (2.0 form) body is compared in its ``tasks[]`` form, against the run's one task;
* a key whose run was deleted gets an error from the workspace (the token stays reserved): use a
  new key, or ``attempt=``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from runspec.errors import ApiError, KeyConflict, SubmitError
from runspec.spec import SubmitTask

__all__ = ["DEFAULT_RUN_NAME", "check_key_run", "deleted_key_error", "key_token", "unread_key_run"]

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
    """
    ``KeyConflict`` when the run ``key`` reached differs from ``body``: its run name, its task keys,
    or a field of a task as ``runs/get`` echoes it (see the module's notes on what is compared).
    """
    differences: list[str] = []
    wanted_name = body.get("run_name") or DEFAULT_RUN_NAME
    found_name = run.get("run_name") or DEFAULT_RUN_NAME
    if wanted_name != found_name:
        differences.append(f"$.run_name: its run name is {found_name!r}, this spec's is {wanted_name!r}")
    single = not isinstance(body.get("tasks"), list)
    echoed = [t for t in run.get("tasks") or [] if isinstance(t, dict)]
    # A single-task body's run described without a task list (its task at the top level): nothing to pair.
    tasks = _tasks_form(body) if echoed or not single else []
    wanted, found = _task_keys(tasks), _task_keys(echoed)
    if single and len(echoed) == 1 and len(tasks) == 1:
        found = wanted  # the service names the task of a single-task body itself
        pairs = [(0, tasks[0], echoed[0])]
    else:
        by_key = {t.get("task_key"): t for t in echoed}
        pairs = [(i, t, by_key[t.get("task_key")]) for i, t in enumerate(tasks) if t.get("task_key") in by_key]
    missing = [k for k in wanted if k not in found]
    extra = [k for k in found if k not in wanted]
    if missing:
        differences.append(f"$.tasks: tasks only in this spec: {_listing(missing)}")
    if extra:
        differences.append(f"$.tasks: tasks only in the run: {_listing(extra)}")
    if not differences:
        for index, task, echo in pairs:
            where = "$" if single else f"$.tasks[{index}]"
            found_difference = _first_difference(where, task, echo, top=True)
            if found_difference is not None:
                differences.append(found_difference)
                break
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
        next_attempt=next_attempt,
        run_page_url=url if isinstance(url, str) and url else None,
    )


#: Task settings runs/get echoes that are not compared here: the task keys are compared as a whole first, and
#: a task's description is not compared. (A task run's own fields, such as run_id, state or start_time, are
#: never among a spec's fields, which are SubmitTask's.)
_NOT_COMPARED = ("task_key", "description")


def _tasks_form(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tasks of ``body``; a single-task (2.0 form) body as its one task, as the service reads it."""
    tasks = body.get("tasks")
    if isinstance(tasks, list):
        return [t for t in tasks if isinstance(t, dict)]
    from runspec.errors import SpecError
    from runspec.spec import RunSpec

    try:
        converted = RunSpec.from_dict(dict(body), strict=False).with_tasks_form().to_dict()
    except SpecError:  # not runspec's to judge here: it was sent, and the workspace took it
        return []
    found = converted.get("tasks")
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


def _unset(value: Any) -> bool:
    """A value the service would leave out or fill in with its default: nothing to compare."""
    return value is None or value == {} or value == [] or value == ""


def _scalar(value: Any) -> Any:
    """A leaf as the service compares it: numbers and their decimal strings alike, booleans as words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return str(int(text))
        if re.fullmatch(r"-?\d+\.\d*", text):
            number = float(text)
            return str(int(number)) if number.is_integer() else repr(number)
    return value


def _by_dependency(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda d: str(d.get("task_key")) if isinstance(d, dict) else str(d))


def _first_difference(path: str, wanted: Any, echoed: Any, *, top: bool = False) -> str | None:
    """The first path where the spec's ``wanted`` differs from the workspace's ``echoed``, as a line."""
    if isinstance(wanted, Mapping) and isinstance(echoed, Mapping):
        # Fields only the echo has are the defaults the service fills in (or the run's own state, such
        # as a for-each task's stats): not differences. At a task's top level only the fields runs/get
        # returns and runspec knows are compared; inside them, a key only the spec has is a difference.
        for name in wanted:
            if top and (name in _NOT_COMPARED or name not in SubmitTask._fields):
                continue
            value = wanted[name]
            if name not in echoed:
                if top or _unset(value):
                    continue  # a task field runs/get does not return cannot be compared
                return f"{path}.{name}: this spec sets it ({_shown(value)}), the run has none"
            found = _first_difference(f"{path}.{name}", value, echoed[name])
            if found is not None:
                return found
        return None
    if isinstance(wanted, list) and isinstance(echoed, list):
        if path.endswith(".depends_on"):
            wanted, echoed = _by_dependency(wanted), _by_dependency(echoed)
        if len(wanted) != len(echoed):
            return f"{path}: the run has {len(echoed)} item(s), this spec {len(wanted)}"
        for index, (item, other) in enumerate(zip(wanted, echoed, strict=True)):
            found = _first_difference(f"{path}[{index}]", item, other)
            if found is not None:
                return found
        return None
    if _scalar(wanted) != _scalar(echoed):
        return f"{path}: the run has {_shown(echoed)}, this spec {_shown(wanted)}"
    return None


def _shown(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def deleted_key_error(error: ApiError, key: str, attempt: int | None) -> ApiError:
    """The workspace's refusal of a key whose run was deleted, with the way out added."""
    error.note = f"the run of key {key!r} was deleted, and the workspace keeps its token reserved"
    error.key, error.next_attempt, error.resubmit = key, (attempt or 1) + 1, True
    return error


def unread_key_run(error: SubmitError, key: str, run_id: int, token: str | None) -> SubmitError:
    """
    A keyed submit whose run ``run_id`` was created (or reached) but could not be read back to
    check it against the spec: the error says so, with the run's id and the token.
    """
    return SubmitError(
        f"submitted run {run_id} (key {key!r}), but reading it back to check it failed: {error}",
        method=error.method,
        path=error.path,
        idempotency_token=token,
        attempts=error.attempts,
        run_id=run_id,
        may_exist=True,
        key=key,
    )
