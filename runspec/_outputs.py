"""
How task outputs are shown as text, in one place: the ``runspec`` command's report of a run (succeeded
or failed) and ``RunFailed``'s text (the outputs of the tasks that did succeed). A leaf module
(standard library only): the outputs are read through their attributes (``OutputView``'s).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runspec._text import plural

__all__ = ["MAX_LINES", "clip", "output_lines"]

#: Lines of one value shown before the rest is cut (the end of logs and traces, the start of the rest).
MAX_LINES = 20


def clip(text: str, *, tail: bool = False) -> list[str]:
    """``text`` as lines, at most ``MAX_LINES`` of them: the first ones, or with ``tail`` the last ones."""
    lines = text.rstrip("\n").splitlines() or [""]
    if len(lines) <= MAX_LINES:
        return lines
    hidden = len(lines) - MAX_LINES
    if tail:
        return [f"... ({plural(hidden, 'earlier line')} not shown)", *lines[-MAX_LINES:]]
    return [*lines[:MAX_LINES], f"... ({plural(hidden, 'more line')} not shown)"]


def _shown(output: Any) -> tuple[str, str] | None:
    """(label, text) of what an output says: its error, notebook result, logs or SQL/dbt/Run Job output."""
    if getattr(output, "error", None):
        return "error", str(output.error)
    if getattr(output, "notebook_result", None) is not None:
        return "", str(output.notebook_result)
    if getattr(output, "logs", None):
        return "logs", str(output.logs)
    values = (getattr(output, name, None) for name in ("sql_output", "dbt_output", "run_job_output"))
    value = next((v for v in values if v), None)
    if value:
        return "", json.dumps(value, sort_keys=True)
    return None


def output_lines(outputs: Mapping[str, Any], *, indent: str = "  ") -> list[str]:
    """
    Each task's output under its key, keys aligned, long values clipped (the end of logs); the tasks
    without output named on one line; ``(no task returned output)`` when none has any.
    """
    shown: list[tuple[str, str, str]] = []
    silent: list[str] = []
    for key, output in outputs.items():
        said = _shown(output)
        if said is None:
            silent.append(key)
        else:
            shown.append((key, *said))
    if not shown:
        return [f"{indent}(no task returned output)"]
    width = max(len(key) for key, _, _ in shown)
    lines: list[str] = []
    for key, kind, text in shown:
        parts = clip(text, tail=kind == "logs")
        label = f"{kind}: " if kind else ""
        lines.append(f"{indent}{key:<{width}}  {label}{parts[0]}")
        lines.extend(f"{indent}{'':<{width}}  {line}" for line in parts[1:])
    if silent:
        lines.append(f"{indent}(no output: {', '.join(silent)})")
    return lines
