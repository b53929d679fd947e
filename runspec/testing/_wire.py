"""
Reading values off the wire as the service does: JSON with 64-bit integers, int64 fields sent as numbers
or as numeric strings, and the single-task body of Jobs API 2.0.

The service reads requests through protobuf's JSON mapping, which takes an int64 from a number or from
a string of digits (Airflow's operator sends every number as a string; the legacy CLI sends run ids as
strings). The emulator reads them the same way and keeps numbers, so what it echoes is what the
service would echo.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from runspec._text import shown
from runspec.spec.checks._single import is_task_field, looks_single, newer_task_type
from runspec.spec.limits import INT64_MAX, INT64_MIN
from runspec.spec.schema._schema import schema, schema_fields
from runspec.spec.task_types import suggest_key
from runspec.testing._http import invalid, malformed

__all__ = [
    "bool_param",
    "coerce_numbers",
    "int64",
    "int_param",
    "loads",
    "out_of_range",
    "tasks_form",
]


_DIGITS = re.compile(r"-?\d{1,19}")
_MAX_DIGITS = 4000  # longer integers are refused while parsing (Python's own limit is 4300 digits)
_INTEGER = re.compile(rf"\s*-?\d{{1,{_MAX_DIGITS}}}\s*")
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_ROOT = "RunsSubmitRequest"


class _OutOfRange(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _parse_int(text: str) -> int:
    if len(text) > _MAX_DIGITS:
        raise _OutOfRange(text)
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _OutOfRange(text)
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


def loads(raw: bytes) -> Any:
    """
    Parse a JSON body; ``ApiFailure`` (400 ``MALFORMED_REQUEST``) when it is not UTF-8 JSON, or holds an
    integer of thousands of digits or a number too large for a double. Integers outside int64 parse:
    validation refuses them with their path (``out_of_range``).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("The request body is not valid UTF-8.") from None
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constant)
    except _OutOfRange as exc:
        shown = exc.text if len(exc.text) <= 40 else f"{exc.text[:20]}...({len(exc.text)} digits)"
        message = f"Could not parse the request body: the number {shown} is out of range of a 64-bit integer."
        raise malformed(message) from None
    except (ValueError, RecursionError):
        raise malformed() from None


def int64(value: Any, name: str) -> int:
    """``value`` read as an int64 (a number, or a string of digits), or a 400 naming ``name``."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        raise invalid(f"{name} is out of range of a 64-bit integer: {value[:40]!r}.")
    else:
        raise invalid(f"{name} must be an integer, got {shown(value, 43)}.")
    if not INT64_MIN <= number <= INT64_MAX:
        raise invalid(f"{name} is out of range of a 64-bit integer: {shown(value, 43)}.")
    return number


def int_param(params: Mapping[str, Any], name: str) -> int | None:
    """The int64 parameter ``name`` (from a query string or a JSON body), ``None`` when absent or empty."""
    value = params.get(name)
    if value is None or value == "":
        return None
    return int64(value, name)


def bool_param(params: Mapping[str, Any], name: str) -> bool:
    """The boolean parameter ``name``: ``true``/``false`` (any case), ``1``/``0``, or a JSON boolean."""
    value = params.get(name)
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    lowered = str(value).lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise invalid(f"{name} must be true or false, got {shown(value, 43)}.")


def out_of_range(value: Any, path: str = "$") -> str | None:
    """The path of the first integer in ``value`` outside int64, or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else path
    if isinstance(value, dict):
        items: Any = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for where, item in items:
        found = out_of_range(item, where)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------------------------------
# Numbers by the schema: "3600" in an integer field is 3600


def coerce_numbers(body: Mapping[str, Any]) -> dict[str, Any]:
    """
    A copy of a runs/submit body with numeric strings in integer and number fields turned into numbers.

    Strings that are not numbers are left for validation to report, and so are integers outside int64.
    """
    return dict(_coerce(body, ("object", _ROOT), "$"))


def _coerce(value: Any, desc: tuple[Any, ...], path: str) -> Any:
    kind = desc[0]
    if kind == "integer":
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return int(value)
        return value
    if kind == "number":
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            number = float(value)
            if math.isinf(number):
                raise invalid(f"{path} is out of range: {value[:40]!r}.")
            return number
        return value
    if kind == "array" and isinstance(value, list):
        return [_coerce(item, desc[1], f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        return {k: _coerce(v, desc[1], f"{path}.{k}") for k, v in value.items()}
    if kind == "object" and isinstance(value, dict):
        fields = schema_fields(desc[1]) if desc[1] in schema() else {}
        return {k: _coerce(v, fields[k].desc, f"{path}.{k}") if k in fields else v for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------------
# The single-task body: task fields beside run_name


def tasks_form(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """
    The ``tasks[]`` form of a single-task body (task fields such as ``notebook_task``,
    ``existing_cluster_id`` or ``libraries`` beside ``run_name``), or ``None`` when ``body`` is not one.

    Jobs API 2.0 takes only this form; Airflow's operator with named arguments sends it to 2.1 and 2.2.
    The task fields move into one task, keyed as ``RunSpec.with_tasks_form()`` keys it (after what it
    runs: a notebook ``/a/ingest`` is ``ingest``; ``task`` when nothing suggests a name); run-level
    fields (``timeout_seconds``, notifications, ``git_source``, ...) stay on the run.
    """
    run_fields = schema()[_ROOT]
    if not looks_single(body, run_fields):
        return None
    # A task type newer than runspec's schema (MLflow's shell_command_task) moves with the task too.
    moved = {k: v for k, v in body.items() if is_task_field(k, run_fields) or newer_task_type(k, v, run_fields)}
    task = {"task_key": suggest_key(moved) or "task", **moved}
    run = {k: v for k, v in body.items() if k not in moved}
    run["tasks"] = [task]
    return run
