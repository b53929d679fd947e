"""The HTTP side of the emulator: a loopback server that speaks the Jobs API's runs endpoints."""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
import socket
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from runspec.testing._engine import ApiFailure, invalid
from runspec.testing._faults import Fault

if TYPE_CHECKING:  # pragma: no cover
    from runspec.testing._emulator import Emulator

__all__ = ["RecordedRequest", "Server"]

log = logging.getLogger("runspec.testing")

_API_PATH = re.compile(r"/api/(?P<version>\d+\.\d+)/jobs/(?P<name>runs/[A-Za-z-]+)")
_MASK = "****"
_SECRET_HEADERS = ("authorization", "cookie", "token", "secret", "password")


@dataclass(frozen=True)
class RecordedRequest:
    """
    One request the emulator received, for assertions. Tokens in headers are masked.

    ``endpoint`` is the Jobs API name without version (``"runs/submit"``) or the raw path for anything
    else; ``body`` the parsed JSON (the raw text when it is not JSON, ``None`` when empty); ``status`` the
    HTTP status sent (``None`` when the connection was dropped); form bodies (the OAuth token request)
    are a dict with secrets masked; ``fault`` the injected fault's label,
    if one applied; ``time`` the wall-clock time it arrived.
    """

    method: str
    path: str
    endpoint: str
    query: Mapping[str, str]
    body: Any
    headers: Mapping[str, str]
    status: int | None = None
    fault: str | None = None
    time: float = field(default=0.0, compare=False)


def endpoint_of(path: str) -> str:
    """``"runs/submit"`` for ``/api/2.2/jobs/runs/submit``; the path itself for anything else."""
    match = _API_PATH.fullmatch(path)
    return match.group("name") if match else path


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_HEADERS)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credentials replaced by ``****`` (the scheme of Authorization stays)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization":
            scheme, _, rest = value.partition(" ")
            out[name] = f"{scheme} {_MASK}" if rest else _MASK
        elif _is_secret(name):
            out[name] = _MASK
        else:
            out[name] = value
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per response (flushed after each request) and no Nagle delay: headers and
    # body leave together, so keep-alive clients do not wait on delayed ACKs.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: Server
    server_version = "runspec-emulator"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s - %s", self.address_string(), format % args)

    def _handle(self) -> None:
        emulator = self.server.emulator
        split = urlsplit(self.path)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        body: Any = None
        recorded: Any = None
        body_ok = True
        content_type = self.headers.get("Content-Type") or ""
        if raw and content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
            body = {k: v[-1] for k, v in form.items()}
            recorded = {k: _MASK if _is_secret(k) else v for k, v in body.items()}
        elif raw:
            try:
                body = recorded = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                body = recorded = raw.decode("utf-8", errors="replace")
                body_ok = False
        endpoint = endpoint_of(path)
        record = RecordedRequest(
            method=self.command,
            path=path,
            endpoint=endpoint,
            query=MappingProxyType(query),
            body=recorded,
            headers=MappingProxyType(mask_headers(dict(self.headers.items()))),
            time=time.time(),
        )
        fault = emulator._pick_fault(endpoint)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind != "delay" and not fault.after_handling:
            self._apply_fault(fault, record)
            return
        try:
            status, payload, headers = emulator._dispatch(
                self.command, path, query, body, body_ok, dict(self.headers.items())
            )
        except Exception as exc:  # a bug in the emulator (or a user's script): answer like a 500
            log.error("runspec emulator failed on %s %s:\n%s", self.command, path, traceback.format_exc())
            status, payload, headers = 500, {"error_code": "INTERNAL_ERROR", "message": repr(exc)}, {}
        if fault is not None and fault.kind != "delay":
            self._apply_fault(fault, record)
            return
        emulator._record(record, status, fault.label if fault else None)
        self._send(status, payload, headers)

    def _apply_fault(self, fault: Fault, record: RecordedRequest) -> None:
        emulator = self.server.emulator
        if fault.kind == "drop":
            emulator._record(record, None, fault.label)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        payload = {"error_code": fault.error_code or "UNKNOWN", "message": fault.message or ""}
        emulator._record(record, fault.status, fault.label)
        self._send(fault.status, payload, headers)

    def _send(self, status: int, payload: dict[str, Any] | str, headers: Mapping[str, str]) -> None:
        if isinstance(payload, str):
            data = payload.encode("utf-8")
            content_type = "text/html; charset=utf-8"
        else:
            data = json.dumps(payload).encode("utf-8")
            content_type = "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    """A threading HTTP server that hands every request to its ``Emulator``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


# ---------------------------------------------------------------------------------------------------
# Routing: Jobs API requests to engine calls


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
        raise ApiFailure(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a map")
    return body if isinstance(body, dict) else {}


def not_found(method: str, path: str) -> ApiFailure:
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
