"""
Task outcomes written as JSON, for ``runspec emulator --script outcomes.json`` and ``load_outcomes``.

The file maps task keys to what their tasks do; the key ``"*"`` is every other task::

    {
      "ingest":    {"result": "ingested 1200 rows", "values": {"rows": 1200}, "seconds": 2},
      "transform": {"error": "ZeroDivisionError: division by zero", "trace": "Traceback ...", "seconds": 1},
      "load":      [{"error": "connection reset"}, {"logs": "loaded 1200 rows"}],
      "stream":    {"hang": true}
    }

An outcome is an object with any of: ``seconds`` (running time, emulated), ``result`` (a notebook's exit
value), ``logs`` (script, wheel and JAR tasks), ``values`` (task values), ``error`` (the attempt fails
with this message) with ``trace``, ``code`` and ``type`` (its ``error_trace`` and
``termination_details``), or ``"hang": true`` (runs until cancelled or timed out). A list gives one
outcome per attempt, retries and repairs included; the last one repeats.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

from runspec.testing._script import Outcome, Script

__all__ = ["load_outcomes", "outcome_from_json"]

_KEYS = frozenset({"seconds", "result", "logs", "values", "error", "trace", "code", "type", "hang"})
_FAILURE_ONLY = ("trace", "code", "type")


def load_outcomes(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Script]:
    """
    The scripts an outcomes file describes, by task key (``"*"``: every task not named), ready for
    ``Emulator(scripts=...)`` or ``emulator.script(key, ...)``.

    ``source`` is a path to the JSON file or the parsed mapping. ``ValueError`` names what is wrong and
    where (``$.transform[1].seconds``).
    """
    if isinstance(source, Mapping):
        data: Any = source
        where = "outcomes"
    else:
        where = os.fspath(source)
        try:
            with open(where, encoding="utf-8") as file:
                data = json.load(file)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
        except RecursionError:
            raise ValueError(f"{where}: the JSON nests too deeply to read") from None
        except ValueError:  # an integer of thousands of digits
            raise ValueError(f"{where}: a number in it has too many digits to read") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: must be an object mapping task keys to outcomes")
    scripts: dict[str, Script] = {}
    for key, value in data.items():
        path = f"$.{key}"
        if isinstance(value, list):
            if not value:
                raise ValueError(f"{where}: {path} is an empty list; give at least one outcome")
            scripts[key] = [outcome_from_json(item, f"{path}[{i}]", where) for i, item in enumerate(value)]
        else:
            scripts[key] = outcome_from_json(value, path, where)
    return scripts


def outcome_from_json(value: Any, path: str = "$", where: str = "outcomes") -> Outcome:
    """One outcome object of an outcomes file as an ``Outcome``."""
    if not isinstance(value, Mapping):
        raise ValueError(f'{where}: {path} must be an object such as {{"seconds": 2}} or {{"error": "..."}}')
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise ValueError(f"{where}: {path} has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    seconds = value.get("seconds")
    if value.get("hang") is True:
        seconds = math.inf
    elif "hang" in value and value["hang"] is not False:
        raise ValueError(f"{where}: {path}.hang must be true or false")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0):
        raise ValueError(f"{where}: {path}.seconds must be a number of seconds >= 0")
    for name in ("result", "logs", "error", "trace", "code", "type"):
        if name in value and not isinstance(value[name], str):
            raise ValueError(f"{where}: {path}.{name} must be a string")
    values = value.get("values", {})
    if not isinstance(values, Mapping):
        raise ValueError(f"{where}: {path}.values must be an object of task values")
    try:
        seconds_value = None if seconds is None else float(seconds)
    except OverflowError:
        seconds_value = math.inf
    if seconds_value is not None and not math.isfinite(seconds_value) and value.get("hang") is not True:
        raise ValueError(f'{where}: {path}.seconds must be a finite number of seconds (for ever: "hang": true)')
    if "error" not in value:
        misplaced = [name for name in _FAILURE_ONLY if name in value]
        if misplaced:
            raise ValueError(f'{where}: {path}.{misplaced[0]} describes a failure: add "error" to fail the attempt')
        return Outcome(seconds=seconds_value, result=value.get("result"), logs=value.get("logs"), values=values)
    return Outcome(
        failed=True,
        seconds=seconds_value,
        result=value.get("result"),
        logs=value.get("logs"),
        values=values,
        error=value["error"],
        error_trace=value.get("trace"),
        termination_code=value.get("code", "RUN_EXECUTION_ERROR"),
        termination_type=value.get("type", "CLIENT_ERROR"),
    )
