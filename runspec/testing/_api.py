"""
The Jobs API surface of the emulator: which endpoint a request names, how its parameters and body are
read, and which engine operation answers it.

Called with the emulator's lock held and one clock reading (``now``), so a response shows one moment.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from runspec.testing._engine import Engine
from runspec.testing._http import ApiFailure, Request, invalid, malformed
from runspec.testing._log import API_PATH
from runspec.testing._validate import check_submit_body

__all__ = ["API_VERSIONS", "decode_body", "index_page", "not_found", "route"]

API_VERSIONS = ("2.1", "2.2")


def decode_body(request: Request) -> tuple[Any, bool]:
    """
    The body as JSON (or, for a form-encoded one, a dict of its fields) and whether it could be read.

    ``None`` for an empty body.
    """
    raw = request.body
    if not raw:
        return None, True
    content_type = request.header("Content-Type")
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in form.items()}, True
    try:
        return json.loads(raw.decode("utf-8")), True
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return raw.decode("utf-8", errors="replace"), False


def route(
    engine: Engine,
    now: float,
    request: Request,
    body: Any,
    body_ok: bool,
    *,
    validate: bool,
) -> dict[str, Any]:
    """Answer a Jobs API request (``/api/<version>/jobs/runs/...``); ``ApiFailure`` for an error."""
    method, path, query = request.method, request.path, request.query
    match = API_PATH.fullmatch(path)
    if match is None or match.group("version") not in API_VERSIONS:
        raise not_found(method, path)
    version, name = match.group("version"), match.group("name")
    if (method, name) == ("POST", "runs/submit"):
        checked = check_submit_body(json_body(body, body_ok), api_version=version, use_runspec=validate)
        return {"run_id": engine.submit(checked, now)}
    if (method, name) == ("GET", "runs/get"):
        run_id = required_run_id(query, from_query=True)
        return engine.get(run_id, now, query.get("page_token"))
    if (method, name) == ("GET", "runs/get-output"):
        return engine.get_output(required_run_id(query, from_query=True), now)
    if (method, name) == ("POST", "runs/cancel"):
        engine.cancel(required_run_id(json_body(body, body_ok), from_query=False), now)
        return {}
    if (method, name) == ("POST", "runs/cancel-all"):
        data = json_body(body, body_ok)
        job_id = data.get("job_id")
        if job_id is not None and (isinstance(job_id, bool) or not isinstance(job_id, int)):
            raise ApiFailure(400, "INVALID_PARAMETER_VALUE", "job_id must be an integer.")
        engine.cancel_all(job_id, data.get("all_queued_runs") is True, now)
        return {}
    if (method, name) == ("GET", "runs/list"):
        return engine.list(query, now)
    if (method, name) == ("POST", "runs/delete"):
        engine.delete(required_run_id(json_body(body, body_ok), from_query=False), now)
        return {}
    if name == "runs/export" and method == "GET":
        raise ApiFailure(501, "NOT_IMPLEMENTED", "The runspec emulator does not serve runs/export.")
    raise not_found(method, path)


def required_run_id(source: Mapping[str, Any], *, from_query: bool) -> int:
    """The ``run_id`` of a request, as an int, or a 400 like a workspace's."""
    value = source.get("run_id")
    if value is None or value == "":
        raise invalid("Missing required field: run_id")
    if from_query and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise invalid(f"run_id must be an integer, got {value!r}.") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"run_id must be an integer, got {value!r}.")
    return value


def json_body(body: Any, body_ok: bool) -> dict[str, Any]:
    """The request's JSON object, or a 400 ``MALFORMED_REQUEST``."""
    if not body_ok or (body is not None and not isinstance(body, dict)):
        raise malformed()
    return body if isinstance(body, dict) else {}


def not_found(method: str, path: str) -> ApiFailure:
    """The service's answer to a path it does not serve."""
    return ApiFailure(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")


def index_page(runs: list[dict[str, Any]]) -> str:
    """A plain HTML list of the runs, served at ``/`` (where ``run_page_url`` points)."""
    rows = []
    for run in runs:
        tasks = ", ".join(
            f"{html.escape(t['task_key'])}: "
            f"{html.escape(t['state'].get('result_state') or t['state']['life_cycle_state'])}"
            for t in run.get("tasks", [])
        )
        state = run["state"].get("result_state") or run["state"]["life_cycle_state"]
        rows.append(
            f"<tr><td>{run['run_id']}</td><td>{html.escape(run['run_name'])}</td>"
            f"<td>{html.escape(state)}</td><td>{tasks}</td></tr>"
        )
    body = "\n".join(rows) or '<tr><td colspan="4">No runs yet.</td></tr>'
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>runspec emulator</title></head>"
        "<body><h1>runspec emulator</h1><table border='1' cellpadding='4'>"
        "<tr><th>run_id</th><th>run_name</th><th>state</th><th>tasks</th></tr>"
        f"{body}</table></body></html>"
    )
