"""
Helpers shared by the test modules.

* ``run_cli``: the ``runspec`` command run in-process through ``runspec.cli.main``.
* ``FakeClock``: a clock the client sleeps on without waiting.
* ``FakeWorkspace``: a scripted Jobs API for the client tests. Each (method, path) answers from its
  script queue first (``script()``: a ``Reply``, ``Drop``, ``DropAfter``, ``Delay`` or a function),
  else from a default handler for the endpoints the client uses: runs/submit (deduplicated by
  idempotency token), runs/get (from ``runs`` or a ``timeline`` of snapshots, 100 tasks/iterations per
  page), runs/get-output, runs/list, runs/cancel, runs/delete, runs/repair and the OIDC token endpoint.
  Every request is recorded in ``requests``. It answers in-process, through the transport seam (the
  suite's default transport hands it the requests to its ``url``, see tests/conftest.py); with
  ``http=True`` it is a real HTTP server on 127.0.0.1, for the few tests where the socket is the point.
* Misbehaving raw servers on 127.0.0.1 (``silent_server``, ``trickling_server``, ``recording_proxy``)
  for the tests of what only a socket shows.
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import io
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from requests.structures import CaseInsensitiveDict

from runspec import wire
from runspec.cli import main


def run_cli(
    args: Sequence[str], *, env: Mapping[str, str], stdin: str = "", cwd: Path
) -> subprocess.CompletedProcess[str]:
    """
    ``runspec ARGS`` through ``runspec.cli.main`` in this process, in ``cwd`` with environment ``env``;
    the exit code and both outputs, as ``subprocess.run`` gives them. Modules the command imported from
    ``cwd`` (a ``module:attribute`` SPEC) are forgotten afterwards, so the next test imports its own.
    """
    out, err = io.StringIO(), io.StringIO()
    modules, path, before = set(sys.modules), list(sys.path), os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args), stdin=io.StringIO(stdin), stdout=out, stderr=err, env=dict(env))
    finally:
        os.chdir(before)
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            where = getattr(sys.modules[name], "__file__", None) or ""
            if where.startswith(str(cwd)):
                del sys.modules[name]
    return subprocess.CompletedProcess(["runspec", *args], code, out.getvalue(), err.getvalue())


class FakeClock:
    """A monotonic clock that moves only when the client sleeps on it (``sleeps`` records each wait)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


API = "/api/2.2/jobs/"
PAGE = 100


@dataclass
class Reply:
    """Answer with this status, JSON (or raw body) and headers."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Drop:
    """Close the connection without answering (before doing anything)."""


@dataclass
class DropAfter:
    """Let the default handler act (create the run, say), then close without answering."""


@dataclass
class Delay:
    """Wait ``seconds`` before answering with ``then`` (or the default handler)."""

    seconds: float
    then: Reply | None = None


Action = Reply | Drop | DropAfter | Delay | Callable[["Recorded"], Reply]


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict[str]
    body: bytes
    host_header: str = ""

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def endpoint(self) -> str:
        return self.path[len(API) :] if self.path.startswith(API) else self.path


def run_json(
    run_id: int,
    state: str = "RUNNING",
    *,
    code: str | None = None,
    kind: str | None = None,
    message: str | None = None,
    tasks: list[dict[str, Any]] | None = None,
    legacy: dict[str, Any] | None = None,
    status: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A runs/get answer with a V2 ``status`` (and optional legacy ``state``)."""
    run: dict[str, Any] = {
        "run_id": run_id,
        "run_name": extra.pop("run_name", "test-run"),
        "run_page_url": extra.pop("run_page_url", f"https://example.invalid/#job/runs/{run_id}"),
        "run_type": "SUBMIT_RUN",
    }
    if status:
        st: dict[str, Any] = {"state": state}
        if code or kind or message:
            details = {"code": code, "type": kind, "message": message}
            st["termination_details"] = {k: v for k, v in details.items() if v is not None}
        run["status"] = st
    if legacy is not None:
        run["state"] = legacy
    if tasks is not None:
        run["tasks"] = tasks
    run.update(extra)
    return run


def task_json(
    key: str,
    run_id: int,
    state: str = "RUNNING",
    *,
    code: str | None = None,
    kind: str | None = None,
    message: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A RunTask with a V2 status."""
    task: dict[str, Any] = {"task_key": key, "run_id": run_id, "status": {"state": state}}
    if code or kind or message:
        details = {"code": code, "type": kind, "message": message}
        task["status"]["termination_details"] = {k: v for k, v in details.items() if v is not None}
    task.update(extra)
    return task


def failed_run_json(run_id: int, **extra: Any) -> dict[str, Any]:
    """A finished, failed run: ``ingest`` succeeded, ``load`` failed on its first attempt and on its retry."""
    return run_json(
        run_id,
        "TERMINATED",
        code="RUN_EXECUTION_ERROR",
        kind="CLIENT_ERROR",
        tasks=[
            task_json("ingest", 11, "TERMINATED", code="SUCCESS", kind="SUCCESS"),
            task_json("load", 12, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR", attempt_number=0),
            task_json("load", 13, "TERMINATED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR", attempt_number=1),
        ],
        **extra,
    )


#: The in-process workspaces by URL: the tests' default transport answers these without a socket.
IN_PROCESS: dict[str, FakeWorkspace] = {}
_NUMBERS = itertools.count(1)
_REASONS = {status.value: status.phrase for status in http.HTTPStatus}


def _payload(reply: Reply) -> bytes:
    if reply.body is not None:
        return reply.body
    if reply.json is not None:
        return json.dumps(reply.json).encode()
    return b""


def in_process(url: str) -> FakeWorkspace | None:
    """The in-process workspace ``url`` (a full request URL) belongs to, if any."""
    parts = urllib.parse.urlsplit(url)
    return IN_PROCESS.get(f"{parts.scheme}://{parts.netloc}")


class FakeWorkspace:
    """
    A scripted Jobs API (see the module documentation), answered in-process through the transport seam
    (its ``url`` is ``http://workspace-N.localhost``), or with ``http=True`` served on 127.0.0.1 for the
    tests where a real socket is the point.
    """

    def __init__(self, host: str = "127.0.0.1", *, http: bool = False) -> None:
        self.requests: list[Recorded] = []
        self.runs: dict[int, dict[str, Any]] = {}
        self.timelines: dict[int, deque[dict[str, Any]]] = {}
        self.outputs: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, int] = {}
        self.created: list[dict[str, Any]] = []
        self.cancelled: list[int] = []
        self.oauth_tokens: list[str] = []
        self.oauth_expires_in = 3600
        self.deleted_tokens: set[str] = set()
        self.repairs: list[dict[str, Any]] = []
        self.repair_ids: dict[int, list[int]] = {}
        self.refuse_submit_repairs = False
        self._scripts: dict[tuple[str, str], deque[Action]] = defaultdict(deque)
        self._next_id = 1000
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port: int | None = None
        if not http:
            self.url = f"http://workspace-{next(_NUMBERS)}.localhost"
            IN_PROCESS[self.url] = self
            return
        workspace = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this each answer waits ~40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, fmt: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                workspace._dispatch(self)

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    # -- test-facing API --------------------------------------------------------------------

    def script(self, method: str, path: str, *actions: Action) -> None:
        """Queue answers for ``method path`` (a jobs endpoint like ``runs/get`` or a full path)."""
        full = path if path.startswith("/") else API + path
        self._scripts[(method.upper(), full)].extend(actions)

    def timeline(self, run_id: int, *snapshots: dict[str, Any]) -> None:
        """runs/get of ``run_id`` answers each snapshot in turn, then keeps the last."""
        self.timelines[run_id] = deque(snapshots)

    def calls(self, endpoint: str | None = None, method: str | None = None) -> list[Recorded]:
        """The recorded requests, filtered by jobs endpoint (``runs/get``) or path, and method."""
        with self._lock:
            found = list(self.requests)
        if endpoint is not None:
            found = [r for r in found if r.endpoint == endpoint or r.path == endpoint]
        if method is not None:
            found = [r for r in found if r.method == method.upper()]
        return found

    def close(self) -> None:
        IN_PROCESS.pop(self.url, None)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self._thread.join(5)

    # -- answering in-process (the transport seam) ------------------------------------------------

    def exchange(self, request: wire.Request, *, timeout: tuple[float, float], deadline: float) -> wire.Response:
        """One exchange as the default transport would see it over HTTP, without a socket."""
        parts = urllib.parse.urlsplit(request.url)
        record = Recorded(
            method=request.method,
            path=parts.path,
            query=dict(urllib.parse.parse_qsl(parts.query)),
            headers=CaseInsensitiveDict(dict(request.headers)),
            body=request.body,
            host_header=parts.netloc,
        )
        action = self._take(record)
        if isinstance(action, Delay):
            limit = min(timeout[1], deadline)
            if action.seconds > limit:
                time.sleep(limit)
                raise wire.SendFailed("the workspace did not answer in time", sent=True)
            time.sleep(action.seconds)
            action = action.then
        if isinstance(action, (Drop, DropAfter)):
            if isinstance(action, DropAfter):
                self._default(record)
            raise wire.SendFailed("the connection was lost before the answer came", sent=True)
        reply = action if isinstance(action, Reply) else action(record) if callable(action) else self._default(record)
        payload = _payload(reply)
        headers = {k.lower(): v for k, v in reply.headers.items()}
        extra = {} if "date" in headers else {"Date": email.utils.formatdate(usegmt=True)}
        if "content-type" not in headers and (reply.json is not None or not payload):
            extra["Content-Type"] = "application/json"
        return wire.Response(reply.status, {**extra, **reply.headers}, payload, _REASONS.get(reply.status, ""))

    # -- serving ------------------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        record = Recorded(
            method=handler.command,
            path=parts.path,
            query=dict(urllib.parse.parse_qsl(parts.query)),
            headers=CaseInsensitiveDict(dict(handler.headers.items())),
            body=body,
            host_header=handler.headers.get("Host", ""),
        )
        action = self._take(record)
        if isinstance(action, Delay):
            time.sleep(action.seconds)
            action = action.then
        if isinstance(action, Drop):
            self._drop(handler)
            return
        if isinstance(action, DropAfter):
            self._default(record)
            self._drop(handler)
            return
        if isinstance(action, Reply):
            reply = action
        elif callable(action):
            reply = action(record)
        else:
            reply = self._default(record)
        self._write(handler, reply)

    def _take(self, record: Recorded) -> Action | None:
        """Record the request; the scripted answer for it, if any."""
        with self._lock:
            self.requests.append(record)
            queue = self._scripts.get((record.method, record.path))
            return queue.popleft() if queue else None

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        payload = _payload(reply)
        try:
            handler.send_response_only(reply.status)
            headers = {k.lower(): v for k, v in reply.headers.items()}
            if "date" not in headers:
                handler.send_header("Date", handler.date_time_string())
            if "content-type" not in headers and (reply.json is not None or not payload):
                handler.send_header("Content-Type", "application/json")
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass

    # -- default Jobs API behaviour -------------------------------------------------------------

    def _default(self, record: Recorded) -> Reply:
        endpoint = record.endpoint
        with self._lock:
            if record.method == "POST" and endpoint == "runs/submit":
                return self._submit(record)
            if record.method == "GET" and endpoint == "runs/get":
                return self._get(record)
            if record.method == "GET" and endpoint == "runs/get-output":
                return self._get_output(record)
            if record.method == "GET" and endpoint == "runs/list":
                newest = sorted(self.runs.values(), key=lambda r: (r.get("start_time", 0), r["run_id"]), reverse=True)
                limit = int(record.query.get("limit") or 20)
                return Reply(200, {"runs": newest[:limit], "has_more": len(newest) > limit})
            if record.method == "POST" and endpoint == "runs/repair":
                return self._repair(record)
            if record.method == "POST" and endpoint == "runs/delete":
                run_id = int((record.json or {}).get("run_id", 0))
                self.runs.pop(run_id, None)
                self.deleted_tokens.update(t for t, r in self.tokens.items() if r == run_id)
                return Reply(200, {})
            if record.method == "POST" and endpoint == "runs/cancel":
                run_id = int((record.json or {}).get("run_id", 0))
                self.cancelled.append(run_id)
                return Reply(200, {})
            if record.method == "POST" and record.path == "/oidc/v1/token":
                token = f"oauth-access-{len(self.oauth_tokens) + 1}-xyz"
                self.oauth_tokens.append(token)
                return Reply(
                    200,
                    {
                        "access_token": token,
                        "token_type": "Bearer",
                        "expires_in": self.oauth_expires_in,
                    },
                )
        return Reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"no {record.path}"})

    def _submit(self, record: Recorded) -> Reply:
        body = record.json or {}
        token = body.get("idempotency_token")
        if token and token in self.deleted_tokens:
            return Reply(
                400,
                {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": f"The run with idempotency token {token} was deleted.",
                },
            )
        if token and token in self.tokens:
            return Reply(200, {"run_id": self.tokens[token]})
        self._next_id += 1
        run_id = self._next_id
        if token:
            self.tokens[token] = run_id
        self.created.append(body)
        tasks = [
            task_json(t.get("task_key", f"t{i}"), run_id * 100 + i, "PENDING")
            for i, t in enumerate(body.get("tasks") or [])
        ]
        self.runs[run_id] = run_json(
            run_id,
            "PENDING",
            tasks=tasks,
            start_time=1_767_225_600_000 + run_id,
            run_name=body.get("run_name") or "Untitled",
        )
        return Reply(200, {"run_id": run_id})

    def _repair(self, record: Recorded) -> Reply:
        body = record.json or {}
        run_id = int(body.get("run_id", 0))
        run = self.runs.get(run_id)
        if run is None:
            return Reply(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": f"Run {run_id} does not exist."})
        if self.refuse_submit_repairs and run.get("run_type") == "SUBMIT_RUN":
            return Reply(
                400,
                {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": "Repair is not supported for runs of type SUBMIT_RUN",
                },
            )
        if (run.get("status") or {}).get("state") != "TERMINATED":
            return Reply(400, {"error_code": "INVALID_STATE", "message": f"Run {run_id} is still active."})
        history = self.repair_ids.setdefault(run_id, [])
        if history and body.get("latest_repair_id") != history[-1]:
            return Reply(
                400,
                {"error_code": "INVALID_PARAMETER_VALUE", "message": f"latest_repair_id must be {history[-1]}"},
            )
        repair_id = 9000 + len(self.repairs)
        history.append(repair_id)
        self.repairs.append(body)
        run["repair_history"] = [{"type": "ORIGINAL", "id": run_id}] + [{"type": "REPAIR", "id": i} for i in history]
        return Reply(200, {"repair_id": repair_id})

    def _snapshot(self, run_id: int) -> dict[str, Any] | None:
        timeline = self.timelines.get(run_id)
        if timeline:
            snapshot = timeline[0] if len(timeline) == 1 else timeline.popleft()
            self.runs[run_id] = snapshot
        return self.runs.get(run_id)

    def _get(self, record: Recorded) -> Reply:
        run_id = int(record.query.get("run_id", "0"))
        token = record.query.get("page_token")
        run = self.runs.get(run_id) if token else self._snapshot(run_id)
        if run is None:
            return Reply(
                400,
                {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": f"Run {run_id} does not exist.",
                },
            )
        offset = int(token) if token else 0
        page = dict(run)
        more = False
        for key in ("tasks", "iterations"):
            items = run.get(key)
            if isinstance(items, list):
                page[key] = items[offset : offset + PAGE]
                more = more or len(items) > offset + PAGE
        if more:
            page["next_page_token"] = str(offset + PAGE)
        return Reply(200, page)

    def _get_output(self, record: Recorded) -> Reply:
        run_id = int(record.query.get("run_id", "0"))
        if run_id in self.outputs:
            return Reply(200, self.outputs[run_id])
        run = self.runs.get(run_id)
        if run is not None and len(run.get("tasks") or []) > 1:
            return Reply(
                400,
                {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": "Retrieving the output of runs with multiple tasks is not "
                    "supported. Please retrieve the output of each individual task run instead.",
                },
            )
        return Reply(200, {"metadata": {"run_id": run_id}})


DATABRICKS_VARS = (
    "DATABRICKS_HOST",
    "DATABRICKS_TOKEN",
    "DATABRICKS_CLIENT_ID",
    "DATABRICKS_CLIENT_SECRET",
    "DATABRICKS_CONFIG_PROFILE",
    "DATABRICKS_CONFIG_FILE",
    "DATABRICKS_AUTH_TYPE",
    "DATABRICKS_WORKSPACE_ID",
)
