"""
What each task type runs, in a few words: the second line of a task's label.

One entry per task type of the runs/submit body (``notebook_task`` -> ``notebook · <path>``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from runspec.picture._words import cut, dig, fields_of, oneline, tail, text_of

__all__ = ["detail", "task_kind"]

_CONDITION_OPS: Final[Mapping[str, str]] = {
    "EQUAL_TO": "==",
    "NOT_EQUAL": "!=",
    "GREATER_THAN": ">",
    "GREATER_THAN_OR_EQUAL": ">=",
    "LESS_THAN": "<",
    "LESS_THAN_OR_EQUAL": "<=",
}


def task_kind(task: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The task's type without ``_task`` (``notebook``, ``for_each``; ``task`` if none) and its fields."""
    for name, value in task.items():
        if isinstance(name, str) and name.endswith("_task"):
            found = fields_of(value)
            if found is not None:
                return name[:-5], found
    return "task", {}


def detail(kind: str, spec: Mapping[str, Any], width: int) -> str:
    """What a task of type ``kind`` with these fields runs, shortened to about ``width`` characters."""
    get = spec.get
    if kind == "notebook":
        return tail(text_of(get("notebook_path")), width)
    if kind == "spark_python":
        return tail(text_of(get("python_file")), width)
    if kind == "python_wheel":
        package, entry = text_of(get("package_name")), text_of(get("entry_point"))
        return cut(f"{package}:{entry}" if package and entry else package or entry, width)
    if kind == "spark_jar":
        name = text_of(get("main_class_name"))
        return tail(name, width, ".") if name else tail(text_of(get("jar_uri")), width)
    if kind == "spark_submit":
        params = get("parameters")
        if isinstance(params, Sequence) and not isinstance(params, str):
            return cut(" ".join(text_of(p) for p in params), width)
        return ""
    if kind == "pipeline":
        suffix = " (full refresh)" if get("full_refresh") is True else ""
        return cut(text_of(get("pipeline_id")), max(width - len(suffix), 8)) + suffix
    if kind == "sql":
        for part, id_field in (
            ("query", "query_id"),
            ("dashboard", "dashboard_id"),
            ("alert", "alert_id"),
        ):
            sub = fields_of(get(part))
            if sub is not None:
                return cut(f"{part} {text_of(sub.get(id_field))}", width)
        return tail(text_of(dig(spec, "file").get("path")), width)
    if kind == "dbt":
        commands = get("commands")
        if isinstance(commands, Sequence) and not isinstance(commands, str):
            return cut("; ".join(text_of(c) for c in commands), width)
        return ""
    if kind == "run_job":
        return cut(f"job {text_of(get('job_id'))}", width)
    if kind == "condition":
        op = text_of(get("op"))
        symbol = _CONDITION_OPS.get(op, op)
        left, right = text_of(get("left")), text_of(get("right"))
        text = f"{left} {symbol} {right}"
        if len(text) > width:
            room = max((width - len(symbol) - 2) // 2, 4)
            text = f"{cut(left, room)} {symbol} {cut(right, room)}"
        return oneline(text)
    if kind == "clean_rooms_notebook":
        return cut(f"{text_of(get('clean_room_name'))}/{text_of(get('notebook_name'))}", width)
    if kind == "dashboard":
        return cut(text_of(get("dashboard_id")), width)
    if kind == "alert":
        return cut(text_of(get("alert_id")), width) or tail(text_of(get("workspace_path")), width)
    if kind == "power_bi":
        return cut(text_of(dig(spec, "power_bi_model").get("model_name")), width)
    if kind == "python_operator":
        return tail(text_of(get("main")), width, ".")
    if kind in ("dbt_cloud", "dbt_platform"):
        return cut(f"job {text_of(get(kind + '_job_id'))}", width)
    if kind == "gen_ai_compute":
        return tail(text_of(get("training_script_path")) or text_of(get("command")), width)
    if kind == "ai_runtime":
        return cut(text_of(get("experiment")), width)
    if kind == "ai_function":
        return next(
            (name for name in ("ai_classify", "ai_extract", "ai_parse_document") if name in spec),
            "",
        )
    return ""
