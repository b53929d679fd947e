"""The ``Emulator``: a local Jobs API for one-time runs, in a background thread or in the foreground."""

from __future__ import annotations

import base64
import logging
import secrets
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType, TracebackType
from typing import Any, TextIO

from runspec.testing._api import decode_body, index_page, not_found, route
from runspec.testing._clock import Clock, InstantClock, ManualClock, ScaledClock
from runspec.testing._engine import MAX_FINISHED_RUNS, Engine, settle
from runspec.testing._faults import Fault, Injection
from runspec.testing._http import ApiFailure, Request, Response, error_response
from runspec.testing._inprocess import IN_PROCESS_URL, EmulatorTransport
from runspec.testing._limits import Limiter, Limits
from runspec.testing._local import LocalCode, LocalRunner
from runspec.testing._log import KEPT_BODY, RecordedRequest, endpoint_of, mask_headers, masked_form, short_body
from runspec.testing._run import next_event_time
from runspec.testing._script import Outcome, Script, Timing
from runspec.testing._server import Server

__all__ = ["DEFAULT_TOKEN", "Emulator", "serve"]

log = logging.getLogger("runspec.testing")

_FORM = "application/x-www-form-urlencoded"

DEFAULT_TOKEN = "runspec-emulator-token"
"""The token ``Emulator()`` accepts when no ``token`` is given; pass it as the client's token."""


class Emulator:
    """
    A local Databricks Jobs API for one-time runs, served over real HTTP on 127.0.0.1.

    ::

        with Emulator(token="t") as emu:
            client = WorkspaceClient(host=emu.url, token="t")   # or runspec.submit(..., host=emu.url)

    It serves ``runs/submit``, ``runs/get``, ``runs/get-output``, ``runs/cancel``, ``runs/cancel-all``,
    ``runs/list``, ``runs/delete`` and ``runs/repair`` under ``/api/2.2/jobs/`` (and ``/api/2.1/jobs/``;
    ``/api/2.0/jobs/`` without repair), with a workspace's JSON shapes, error format and status codes,
    plus the ``/.well-known/databricks-config`` probe SDK clients send first.

    Options:

    - ``token``: the bearer token accepted; ``None`` accepts any. A request without one gets 401, a wrong
      one ``invalid_token_status`` (403 with "Invalid access token.", as a workspace answers), and a token
      in ``forbidden_tokens`` 403 ``PERMISSION_DENIED``.
    - ``clock``: what moves runs forward. By default an ``InstantClock``: runs have ended by the time
      a client looks (a submit-and-wait test takes milliseconds). ``clock=ManualClock()`` moves time
      only with ``advance()`` / ``wait()`` (exact states in between; if nothing moves it for
      ``stall_after`` real seconds while a client polls, the emulator moves it, so a plain
      ``handle.wait()`` ends). ``speed=X``: real time, X times faster (``speed=1`` for demos: a
      few-task run takes about two seconds).
    - ``timing``: the emulated phase durations (``Timing``); ``default``: the outcome of every task not
      scripted with ``script()`` (success after ``timing.duration``).
    - ``service_principals``: ``{client_id: client_secret}`` accepted at ``/oidc/v1/token`` (OAuth
      machine-to-machine); the access tokens it issues work like ``token``. Without it, the token
      endpoint accepts any client when ``token`` is ``None`` and none otherwise.
    - ``validate``: check each submitted body with runspec's validation and answer 400 where a workspace
      would (structural checks the engine needs run always).
    - ``port``: 0 picks a free port; ``host`` should stay a loopback address.
    - ``repair_one_time_runs``: ``False`` answers every ``runs/repair`` with the refusal of a workspace
      that does not repair runs made by ``runs/submit`` (whether workspaces do is not documented).
    - ``limits``: the workspace budgets to enforce (``Limits(max_active_tasks=20, runs_per_hour=...,
      requests_per_second=...)``), answered as the service answers; none by default.
    - ``max_finished_runs``: how many finished runs are kept (10,000; ``None`` keeps all). Past it, each
      submit drops the runs that finished first: they answer as deleted runs do ("Run N does not exist."),
      but their idempotency token still names them, so a token sent again never starts a second run.
    - ``socket_timeout``: each request (its line, headers and body) must arrive within this many seconds
      of the connection being ready for it, and an idle connection is closed after it (30).
    - ``code``: a ``LocalCode``: the tasks' own code runs, a process per task run (docs/local.md).
    """

    def __init__(
        self,
        *,
        token: str | None = DEFAULT_TOKEN,
        forbidden_tokens: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float | None = None,
        clock: Clock | None = None,
        timing: Timing | None = None,
        default: Script | None = None,
        scripts: Mapping[str, Script] | None = None,
        validate: bool = True,
        workspace_id: int = 1_234_567_890_123_456,
        user_name: str = "emulator@example.com",
        invalid_token_status: int = 403,
        service_principals: Mapping[str, str] | None = None,
        request_log_size: int = 10_000,
        stall_after: float | None = 1.0,
        socket_timeout: float = 30.0,
        backlog: int = 128,
        repair_one_time_runs: bool = True,
        limits: Limits | None = None,
        max_finished_runs: int | None = MAX_FINISHED_RUNS,
        code: LocalCode | None = None,
    ) -> None:
        if clock is not None and speed is not None:
            raise ValueError("give either clock= or speed=, not both")
        if invalid_token_status not in (401, 403):
            raise ValueError("invalid_token_status must be 401 or 403")
        self.token = token
        self.forbidden_tokens = set(forbidden_tokens)
        self.host = host
        self.port = port
        if clock is not None:
            self.clock: Clock = clock
        else:
            self.clock = ScaledClock(speed) if speed is not None else InstantClock()
        self.stall_after = stall_after
        self.socket_timeout = socket_timeout
        self.backlog = backlog
        self._still: tuple[float, float] | None = None  # a manual clock's reading, and since when (real)
        self.timing = timing or Timing()
        self.validate = validate
        self.workspace_id = workspace_id
        self.invalid_token_status = invalid_token_status
        self.service_principals = dict(service_principals) if service_principals is not None else None
        self._oauth_tokens: set[str] = set()
        self._lock = threading.RLock()
        self._engine = Engine(
            clock=self.clock,
            timing=self.timing,
            default=default if default is not None else Outcome.success(),
            user_name=user_name,
            workspace_id=workspace_id,
            max_finished_runs=max_finished_runs,
        )
        self._engine.scripts.update(scripts or {})
        self._engine.repair_one_time_runs = repair_one_time_runs
        self.limits = limits
        # The request rate is counted on the emulator's clock, as every emulated time is; an InstantClock
        # has no time between requests of its own (it stands still until a run moves it), so real seconds.
        seconds = time.monotonic if isinstance(self.clock, InstantClock) else self.clock.now
        self._limiter = Limiter(limits, self._engine.catch_up, seconds) if limits is not None else None
        self._engine.limiter = self._limiter
        self.code = code
        if code is not None:
            self._engine.local = LocalRunner(code, self._engine, fallback=default is not None)
        self._injections: list[Injection] = []
        self._faults_lock = threading.Lock()
        self._requests: deque[RecordedRequest] = deque(maxlen=request_log_size)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def max_finished_runs(self) -> int | None:
        """How many finished runs are kept before the oldest are dropped (``None``: all); settable."""
        return self._engine.max_finished_runs

    @max_finished_runs.setter
    def max_finished_runs(self, value: int | None) -> None:
        if value is not None and value < 0:
            raise ValueError("max_finished_runs must be 0 or more (or None: keep every run)")
        self._engine.max_finished_runs = value

    # -- life cycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give clients as ``host``, e.g. ``http://127.0.0.1:53127``."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: use it as a context manager or start()")
        return f"http://{self._server.url_host()}:{self._server.server_address[1]}"

    def transport(self) -> EmulatorTransport:
        """
        A transport (``runspec.wire``) that answers from this emulator in-process: no socket, no thread.

        ``Workspace.resolve(token=emulator.token, transport=emulator.transport())`` runs the whole client
        (submit, waits, outputs, repairs, retries) against it. Its ``host`` is the emulator's URL when it
        is serving, else ``http://emulator.localhost``; the emulator need not be started.
        """
        return EmulatorTransport(self.handle, self._base_url())

    def _base_url(self) -> str:
        return self.url if self._server is not None else IN_PROCESS_URL

    def _bind(self) -> Server:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        server = Server((self.host, self.port), self.handle, backlog=self.backlog, socket_timeout=self.socket_timeout)
        self._server = server
        self._engine.base_url = self.url
        return server

    def start(self) -> Emulator:
        """Start serving in a background thread and return ``self``; ``stop()`` ends it."""
        server = self._bind()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"runspec-emulator-{self.url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` is called from another thread (or Ctrl-C)."""
        server = self._bind()
        try:
            server.serve_forever(poll_interval=0.1)
        finally:
            server.server_close()
            self._server = None

    def stop(self) -> None:
        """Stop serving and release the port. Runs and the request log stay readable."""
        server, thread = self._server, self._thread
        self._engine.local.close()  # no task process outlives the emulator
        if server is None:
            return
        server.shutdown()
        if thread is not None:
            thread.join(timeout=5)
            server.server_close()
            self._server = None
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "not running"
        return f"<Emulator {where} clock={self.clock!r}>"

    # -- scripting tasks ----------------------------------------------------------------------------

    def script(self, task_key: str, script: Script) -> None:
        """
        Decide what every task (or for_each iteration) with ``task_key`` does, in every later run.

        ``task_key`` ``"*"`` scripts every task that has no script of its own. ``script`` is an ``Outcome``
        (every attempt), a list of outcomes (by attempt number; the last one
        repeats, so ``[Outcome.fail("x"), Outcome.success()]`` succeeds on the first retry), or a
        callable taking a ``TaskContext`` and returning an ``Outcome``. The callable runs while the
        emulator holds its run's lock: it must not send requests about that run to the emulator.
        """
        with self._lock:
            self._engine.scripts[task_key] = script

    def unscript(self, task_key: str | None = None) -> None:
        """Forget the script of ``task_key`` (all scripts when ``None``)."""
        with self._lock:
            if task_key is None:
                self._engine.scripts.clear()
            else:
                self._engine.scripts.pop(task_key, None)

    # -- faults -------------------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        endpoint: str | Iterable[str] = "*",
        *,
        times: int | None = None,
        rate: float | None = None,
        seed: int | None = 0,
        skip: int = 0,
    ) -> Injection:
        """
        Answer matching requests with ``fault``, e.g. ``inject(Fault.throttle(2), "runs/submit", times=1)``.

        ``endpoint``: ``"runs/submit"``, ``"runs/get"``, ... (any API version), a list of them, or
        ``"*"``. ``times``: only the first N matching requests (after ``skip`` untouched ones);
        ``rate``: each matching request with this probability, from a ``random.Random(seed)`` so runs
        repeat. Without ``times`` or ``rate`` every matching request gets it. Injections are tried in the
        order they were added; the first that fires applies.
        """
        endpoints = [endpoint] if isinstance(endpoint, str) else list(endpoint)
        injection = Injection(
            fault,
            endpoints,
            times=times,
            rate=rate,
            seed=seed,
            skip=skip,
            owner=self._injections,
            lock=self._faults_lock,
        )
        with self._faults_lock:
            self._injections.append(injection)
        return injection

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._faults_lock:
            self._injections.clear()

    def _pick_fault(self, endpoint: str) -> Fault | None:
        with self._faults_lock:
            for injection in self._injections:
                if injection.matches(endpoint) and injection.fire():
                    return injection.fault
        return None

    # -- the request log ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy), with tokens masked."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: str, method: str | None = None) -> list[RecordedRequest]:
        """The requests to ``endpoint`` (``"runs/submit"``, ...), optionally only with ``method``."""
        name = endpoint.split("/jobs/", 1)[-1] if endpoint.startswith("/api/") else endpoint
        return [r for r in self.requests if r.endpoint == name and (method is None or r.method == method.upper())]

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._requests.clear()

    def _record(self, record: RecordedRequest, status: int | None, fault: str | None) -> None:
        with self._lock:
            self._requests.append(replace(record, status=status, fault=fault))

    # -- tokens -------------------------------------------------------------------------------------

    def forbid(self, token: str) -> None:
        """Answer 403 ``PERMISSION_DENIED`` to every API request made with ``token`` from now on."""
        with self._lock:
            self.forbidden_tokens.add(token)

    # -- time and runs ------------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move a ``ManualClock`` forward by ``seconds`` (emulated)."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs Emulator(clock=ManualClock())")
        self.clock.advance(seconds)

    def run_ids(self) -> list[int]:
        """The ids of the runs that exist (not deleted, not dropped past ``max_finished_runs``), oldest first."""
        return [run.run_id for run in self._engine.snapshot()]

    def run(self, run_id: int) -> dict[str, Any]:
        """The run (or task run) as ``runs/get`` shows it now, with all its tasks (no paging)."""
        return self._engine.render(run_id)

    def wait(self, run_id: int | None = None, *, timeout: float = 60.0) -> dict[str, Any] | None:
        """
        Let ``run_id`` (or every run) finish and return it as ``runs/get`` shows it (``None`` for all).

        With a ``ManualClock`` the clock jumps from event to event, so this returns at once; ``timeout``
        is then in emulated seconds. With a real clock it sleeps, and ``timeout`` is in real seconds.
        Raises ``TimeoutError`` when the run is still active at the timeout (a task that hangs without a
        timeout never ends).
        """
        manual = isinstance(self.clock, ManualClock)
        started = self.clock.now() if manual else time.monotonic()
        real_start = time.monotonic()
        while True:
            now = self.clock.now()
            runs = [self._engine.find(run_id)[0]] if run_id is not None else self._engine.snapshot()
            for run in runs:
                with run.lock:
                    run.advance(now)
            if self._limiter is not None:
                self._limiter.release(now)  # queued runs start as others end, as on a request
            if all(not run.is_active() for run in runs):
                return self._engine.render(run_id) if run_id is not None else None
            upcoming = next_event_time(runs)
            elapsed = (now - started) if manual else (time.monotonic() - started)
            if manual and upcoming is None and self._engine.local.busy():
                self._engine.local.pause(real_start + timeout)  # a task's code runs in real time, whatever the clock
                continue
            if manual:
                assert isinstance(self.clock, ManualClock)
                if upcoming is None or upcoming - started > timeout:
                    self.clock.advance(max(0.0, started + timeout - self.clock.now()))
                    raise TimeoutError(
                        f"run {run_id if run_id is not None else '(any)'} is still active after "
                        f"{timeout:g} emulated seconds"
                    )
                self.clock.advance(max(0.0, upcoming - self.clock.now()))
                continue
            if elapsed > timeout:
                raise TimeoutError(f"run {run_id} is still active after {timeout:g} seconds")
            pause = 0.02
            if upcoming is not None and isinstance(self.clock, ScaledClock):
                pause = min(0.05, max(0.001, (upcoming - now) / self.clock.speed))
            time.sleep(pause)

    # -- request handling (the interface the HTTP server calls) -------------------------------------

    def handle(self, request: Request) -> Response:
        """
        Answer one HTTP request: what the server calls for each request it reads, from its own thread.

        Records the request, applies an injected fault that matches it, and routes it (the discovery
        and OAuth endpoints, the runs page at ``/``, the Jobs API). Any transport that can build a
        ``Request`` can drive the emulator through this method.
        """
        endpoint = endpoint_of(request.path)
        body, problem = decode_body(request)
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            endpoint=endpoint,
            query=request.query,
            body=masked_form(body) if request.header("Content-Type").startswith(_FORM) else body,
            headers=MappingProxyType(mask_headers(request.headers)),
            time=time.time(),
        )
        if request.refusal is not None:
            refused = replace(record, body=short_body(request.body))
            self._record(refused, request.refusal.status, None)
            return error_response(request.refusal)
        if self._limiter is not None and request.path.startswith("/api/"):
            wait = self._limiter.request()
            if wait is not None:
                failure, headers = self._limiter.throttled(wait)
                self._record(record, failure.status, None)
                return error_response(failure, headers)
        fault = self._pick_fault(endpoint)
        late = fault is not None and fault.pause(request.patience)
        if fault is not None and fault.kind != "delay" and not fault.after_handling:
            return self._fault_response(fault, record)
        try:
            payload = self._route(request, body, problem)
            response = Response.html(200, payload) if isinstance(payload, str) else Response.json(200, payload)
        except ApiFailure as failure:
            response = error_response(failure)
        except Exception as exc:  # a bug in the emulator (or a user's script): answer like a 500
            log.error("runspec emulator failed on %s %s:\n%s", request.method, request.path, traceback.format_exc())
            response = Response.json(500, {"error_code": "INTERNAL_ERROR", "message": repr(exc)})
        if fault is not None and fault.kind != "delay":
            return self._fault_response(fault, record)
        if response.status >= 400 and len(request.body) > KEPT_BODY:
            record = replace(record, body=short_body(request.body))
        if late and fault is not None:  # the request took effect; the client stopped waiting for its answer
            self._record(record, None, fault.label)
            return Response(0, late=True)
        self._record(record, response.status, fault.label if fault else None)
        return response

    def _fault_response(self, fault: Fault, record: RecordedRequest) -> Response:
        if fault.kind == "drop":
            self._record(record, None, fault.label)
            return Response(0, drop=True)
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        payload = {"error_code": fault.error_code or "UNKNOWN", "message": fault.message or ""}
        self._record(record, fault.status, fault.label)
        return Response.json(fault.status, payload, headers)

    def _route(self, request: Request, body: Any, problem: ApiFailure | None) -> dict[str, Any] | str:
        method, path = request.method, request.path
        if path == "/.well-known/databricks-config" and method == "GET":
            return {"oidc_endpoint": f"{self._base_url()}/oidc", "workspace_id": str(self.workspace_id)}
        if path == "/oidc/.well-known/oauth-authorization-server" and method == "GET":
            return {
                "issuer": f"{self._base_url()}/oidc",
                "authorization_endpoint": f"{self._base_url()}/oidc/v1/authorize",
                "token_endpoint": f"{self._base_url()}/oidc/v1/token",
                "grant_types_supported": ["client_credentials"],
            }
        if path == "/oidc/v1/token" and method == "POST":
            return self._issue_token(body if isinstance(body, dict) else {}, request.headers)
        if path in ("", "/") and method == "GET":
            runs = [self._engine.render(run.run_id) for run in reversed(self._engine.snapshot())]
            return index_page(runs)
        if not path.startswith("/api/"):
            raise not_found(method, path)
        self._authorize(request.headers)
        self._move_clock(request.method)
        if self._limiter is not None:
            self._limiter.release(self.clock.now())
        return route(self._engine, request, body, problem, validate=self.validate)

    def _move_clock(self, method: str) -> None:
        """
        Before an API request: an ``InstantClock`` jumps to where runs can go no further; a
        ``ManualClock`` that has not moved for ``stall_after`` real seconds while clients read does too.
        """
        clock = self.clock
        if not isinstance(clock, ManualClock) or isinstance(clock, InstantClock):
            return  # an InstantClock moves in the engine, run by run
        with self._lock:
            reading, real = clock.now(), time.monotonic()
            if self._still is None or self._still[0] != reading:
                self._still = (reading, real)
                return
            if method != "GET" or self.stall_after is None or real - self._still[1] < self.stall_after:
                return
            for run in self._engine.snapshot():
                with run.lock:
                    settle(run, clock)
            self._still = (clock.now(), time.monotonic())

    def _issue_token(self, form: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        """OAuth client credentials grant: an access token for a known service principal."""
        if form.get("grant_type") != "client_credentials":
            raise ApiFailure(
                400,
                "unsupported_grant_type",
                "The emulator issues tokens for grant_type=client_credentials only.",
                oauth=True,
            )
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, encoded = basic.partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = secret = None
        known = self.service_principals
        if known is None:
            accepted = self.token is None and bool(client_id)
        else:
            accepted = isinstance(client_id, str) and known.get(client_id) == secret
        if not accepted:
            raise ApiFailure(401, "invalid_client", "Client authentication failed.", oauth=True)
        access = f"emulator-oauth-{secrets.token_hex(16)}"
        with self._lock:
            self._oauth_tokens.add(access)
        scope = form.get("scope") or "all-apis"
        return {"access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": scope}

    def _authorize(self, headers: Mapping[str, str]) -> None:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, credential = value.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise ApiFailure(
                401,
                "UNAUTHENTICATED",
                "No credential was sent, or it is of a type this API does not accept.",
            )
        with self._lock:
            forbidden = credential in self.forbidden_tokens
            issued = credential in self._oauth_tokens
        if forbidden:
            raise ApiFailure(
                403,
                "PERMISSION_DENIED",
                "This token does not have permission for this request.",
            )
        if self.token is not None and credential != self.token and not issued:
            code = "UNAUTHENTICATED" if self.invalid_token_status == 401 else "PERMISSION_DENIED"
            raise ApiFailure(self.invalid_token_status, code, "Invalid access token.")


def serve(
    *,
    port: int = 0,
    token: str | None = None,
    host: str = "127.0.0.1",
    speed: float = 1.0,
    out: TextIO | None = None,
) -> None:
    """
    Run an emulator in the foreground until Ctrl-C: what ``runspec emulator --port N --token T`` does.

    Prints the URL and how to point a client at it on ``out`` (stdout by default). ``token=None``
    accepts any bearer token. Returns after Ctrl-C (or ``SIGINT``) once the port is released.
    """
    stream = out if out is not None else sys.stdout
    emulator = Emulator(token=token, host=host, port=port, speed=speed)
    server = emulator._bind()
    url = emulator.url
    auth = "the token given with --token" if token is not None else "any bearer token"
    print(f"runspec emulator: Jobs API on {url} (accepting {auth}; Ctrl-C stops it)", file=stream)
    print(f"  export DATABRICKS_HOST={url}", file=stream)
    if token is None:
        print("  export DATABRICKS_TOKEN=anything", file=stream)
    stream.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        print("runspec emulator: stopped", file=stream)
    finally:
        server.server_close()
        emulator._server = None
