"""
The Jobs API surface of the emulator: which endpoint a request names, how its parameters and body are
read, and which engine operation answers it.

Called from the server's threads; the engine locks what it touches.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from runspec.testing._engine import Engine
from runspec.testing._http import ApiFailure, Request, invalid, malformed
from runspec.testing._log import API_PATH
from runspec.testing._validate import check_submit_body
from runspec.testing._wire import bool_param, int64, int_param, loads

__all__ = ["API_VERSIONS", "decode_body", "index_page", "not_found", "route"]

API_VERSIONS = ("2.0", "2.1", "2.2")


def decode_body(request: Request) -> tuple[Any, ApiFailure | None]:
    """
    The body as JSON whatever its ``Content-Type`` (a form-encoded body that is not JSON: a dict of its
    fields), or the raw text and why it cannot be read. ``None`` for an empty body.
    """
    raw = request.body
    if not raw:
        return None, None
    try:
        return loads(raw), None
    except ApiFailure as failure:
        if request.header("Content-Type").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
            return {k: v[-1] for k, v in form.items()}, None
        return raw.decode("utf-8", errors="replace"), failure


def route(
    engine: Engine,
    request: Request,
    body: Any,
    problem: ApiFailure | None,
    *,
    validate: bool,
) -> dict[str, Any]:
    """Answer a Jobs API request (``/api/<version>/jobs/runs/...``); ``ApiFailure`` for an error."""
    method, path = request.method, request.path
    match = API_PATH.fullmatch(path)
    if match is None or match.group("version") not in API_VERSIONS:
        raise not_found(method, path)
    version, name = match.group("version"), match.group("name")
    if method == "GET":
        params = get_params(request.query, body)
        if name == "runs/get":
            run_id = required_run_id(params)
            history = bool_param(params, "include_history")
            return engine.get(run_id, _text(params.get("page_token")), history=history, version=version)
        if name == "runs/get-output":
            return engine.get_output(required_run_id(params))
        if name == "runs/list":
            return engine.list(params)
        if name == "runs/export":
            raise ApiFailure(501, "NOT_IMPLEMENTED", "The runspec emulator does not serve runs/export.")
    if method == "POST" and name in _POSTS:
        data = json_body(body, problem)
        if name == "runs/submit":
            checked = check_submit_body(data, api_version=version, use_runspec=validate)
            return {"run_id": engine.submit(checked, single_task="tasks" not in data)}
        if name == "runs/cancel":
            engine.cancel(required_run_id(data))
        elif name == "runs/cancel-all":
            engine.cancel_all(int_param(data, "job_id"), bool_param(data, "all_queued_runs"))
        elif name == "runs/delete":
            engine.delete(required_run_id(data))
        elif name == "runs/repair":
            if version == "2.0":
                raise not_found(method, path)
            return engine.repair(data)
        return {}
    raise not_found(method, path)


_POSTS = ("runs/submit", "runs/cancel", "runs/cancel-all", "runs/delete", "runs/repair")


def get_params(query: Mapping[str, str], body: Any) -> Mapping[str, Any]:
    """
    A GET's parameters: the query string's, or, failing that, a JSON body's (Airflow's async hook sends
    ``GET runs/get`` with ``{"run_id": N}`` as its body and no query string).
    """
    if isinstance(body, dict):
        return {**body, **query}
    return query


def required_run_id(params: Mapping[str, Any]) -> int:
    """The ``run_id`` of a request, a number or a numeric string, or a 400 like a workspace's."""
    value = params.get("run_id")
    if value is None or value == "":
        raise invalid("Missing required field: run_id")
    return int64(value, "run_id")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def json_body(body: Any, problem: ApiFailure | None) -> dict[str, Any]:
    """The request's JSON object, or a 400 ``MALFORMED_REQUEST``."""
    if problem is not None:
        raise problem
    if body is not None and not isinstance(body, dict):
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
