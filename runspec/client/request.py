"""
``prepare()``: the runs/submit request as a value; ``submit()`` is ``prepare(...).send()``.

::

    request = prepare(spec)      # resolves the workspace, picks the idempotency token; sends nothing
    print(request)               # method, URL, headers (credentials masked) and the JSON body
    handle = request.send()      # POST with retries; sending it again reaches the same run

``submit(..., perform_request=False)`` is the older spelling of ``prepare(...)``.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Literal, overload

import requests

import runspec.wire as wire
from runspec._redact import is_sensitive_header, mask_header
from runspec._text import plural
from runspec.client.auth import Connection, settle
from runspec.client.credentials import AuthHook, Credentials
from runspec.client.handle import RunHandle
from runspec.client.hosts import check_host
from runspec.client.keys import check_key_run, deleted_key_error, key_token, unread_key_run
from runspec.client.pages import first_page, read_run
from runspec.client.transport import (
    API_PREFIX,
    DEFAULT_DEADLINE,
    DEFAULT_TIMEOUT,
    Timeout,
    Transport,
    user_agent,
)
from runspec.errors import ApiError, ConfigError, Problem, SpecError, SubmitError, SubmitInterrupted
from runspec.spec import RunSpec
from runspec.spec.limits import MAX_TOKEN

__all__ = ["MAX_IDEMPOTENCY_TOKEN", "PreparedRequest", "prepare", "submit"]

log = logging.getLogger("runspec")

#: Characters in an idempotency token (the API's limit; kept under this name for existing callers).
MAX_IDEMPOTENCY_TOKEN = MAX_TOKEN
SUBMIT_ENDPOINT = "runs/submit"


class _GivenHeaders(Credentials):
    """Credentials of a hand-made ``PreparedRequest``: its own headers, kept secret in messages."""

    auth_type = "custom"

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._values: tuple[str, ...] = tuple(
            part
            for name, value in headers.items()
            if is_sensitive_header(name)
            for part in (value, value.partition(" ")[2])
            if part
        )

    def headers(self, fetcher: Any = None) -> dict[str, str]:
        return {}

    def secrets(self) -> tuple[str, ...]:
        return self._values


class PreparedRequest:
    """
    A runs/submit request, complete and unsent: ``method``, ``url``, ``headers`` and ``json``.

    ``headers`` holds the real ``Authorization`` header, so the request can be sent as it is
    (``send()``, or any HTTP client); ``repr``, ``str`` and ``redacted()`` mask it. With OAuth
    machine-to-machine credentials no token has been fetched yet (that needs the network), so
    ``headers`` has no ``Authorization`` until ``send()`` adds a fresh one. ``json`` is the body
    with the idempotency token that ``submit()`` chose.
    """

    __slots__ = ("_options", "_sent", "_workspace", "headers", "json", "method", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json: Mapping[str, Any],
        *,
        workspace: Connection | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers: dict[str, str] = dict(headers)
        self.json: dict[str, Any] = dict(json)
        self._workspace = workspace
        self._options: dict[str, Any] = dict(options or {})
        self._sent = False

    def __getstate__(self) -> dict[str, Any]:
        # No credentials in a pickle (nor in its workspace's): unpickled, it refuses to send until given new ones.
        state = {name: getattr(self, name) for name in self.__slots__}
        state["headers"] = {k: v for k, v in self.headers.items() if not is_sensitive_header(k)}
        state["_options"] = {**self._options, "withheld": True}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    @property
    def idempotency_token(self) -> str | None:
        """The token in the body: resending this request can never start a second run."""
        token = self.json.get("idempotency_token")
        return token if isinstance(token, str) else None

    def redacted(self) -> dict[str, Any]:
        """``{"method", "url", "headers", "json"}`` with credential headers masked (JSON-ready)."""
        return {
            "method": self.method,
            "url": self.url,
            "headers": {k: mask_header(k, v) for k, v in self.headers.items()},
            "json": self.json,
        }

    def __str__(self) -> str:
        lines = [f"{self.method} {self.url}"]
        lines += [f"{k}: {mask_header(k, v)}" for k, v in self.headers.items()]
        lines.append("")
        lines.append(json.dumps(self.json, indent=2, ensure_ascii=False))
        return "\n".join(lines)

    def __repr__(self) -> str:
        tasks = self.json.get("tasks")
        count = len(tasks) if isinstance(tasks, list) else 0
        headers = {k: mask_header(k, v) for k, v in self.headers.items()}
        return (
            f"PreparedRequest(method={self.method!r}, url={self.url!r}, headers={headers!r}, "
            f"json=<{plural(count, 'task')}, "
            f"idempotency_token={self.idempotency_token!r}>)"
        )

    def send(
        self,
        session: requests.Session | None = None,
        *,
        timeout: Timeout | None = None,
        deadline: float | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> RunHandle:
        """
        Send this request as it is, with the retries of ``submit()``, and return the run's handle.

        Arguments left out take the values ``submit()`` was given. Sending it twice (or after a
        failed send) returns the same run: the body carries its idempotency token.
        """
        options = self._options
        origin = check_host(self.url, source="the request's url")
        workspace = self._workspace
        if options.get("withheld") and not any(is_sensitive_header(name) for name in self.headers):
            raise ConfigError(  # unpickled: never credentials from the environment
                "this request was unpickled, and pickles never hold credentials: set its Authorization header "
                "again, or prepare it again with workspace=...; they are not read from the environment"
            )
        if workspace is None or options.get("withheld"):
            workspace = Connection(host=origin, credentials=_GivenHeaders(self.headers))
        elif workspace.host != origin:
            # Sent somewhere else than the workspace it was made for: only its own headers go.
            workspace = replace(
                workspace,
                host=origin,
                credentials=_GivenHeaders(self.headers),
                host_source="the request's url",
                credentials_source="the request's headers",
            )
        transport = Transport(
            workspace,
            session=session,
            timeout=timeout,
            deadline=deadline if deadline is not None else options.get("deadline", DEFAULT_DEADLINE),
            sleep=sleep,
            clock=clock,
        )
        token = self.idempotency_token
        path = self.url[len(origin) :].split("?")[0] or "/"
        # A token this call minted cannot have been used before; any other one may have been.
        check = bool(token) and (self._sent or not options.get("minted"))
        key = options.get("key")
        stage = "before"  # "before" the POST left, "sent" (it may have), "answered" (with a run id)
        run_id: Any = None
        try:
            before = _newest_run(transport) if check else None
            self._sent = True
            stage = "sent"
            try:
                answer = transport.send(
                    self.method,
                    self.url,
                    body=self.json,
                    idempotent=bool(token),
                    idempotency_token=token,
                    headers=self.headers,
                )
            except ApiError as exc:
                if key and exc.status in (400, 404, 409) and re.search(r"delet|idempoten", exc.message, re.IGNORECASE):
                    raise deleted_key_error(exc, key, options.get("attempt")) from None
                raise
            run_id = answer.get("run_id") if isinstance(answer, dict) else None
            if isinstance(run_id, bool) or not isinstance(run_id, int):
                raise SubmitError(
                    f"{self.method} {path} answered without a run_id "
                    f"({transport.redactor.text(json.dumps(transport.redactor.json(answer)))[:200]})",
                    method=self.method,
                    path=path,
                    idempotency_token=token,
                    may_exist=True,
                )
            stage = "answered"
            started: Any = None
            if key:
                try:
                    run = read_run(transport, run_id)
                except SubmitError as exc:
                    raise unread_key_run(exc, key, run_id, token) from exc
                check_key_run(key, options.get("attempt"), self.json, run, run_id)
                started = run.get("start_time")
            reattached = _existed_before(transport, run_id, before, started)
        except KeyboardInterrupt as exc:
            if isinstance(exc, SubmitInterrupted):
                raise
            raise _interrupted(stage, token, run_id if stage == "answered" else None) from exc
        if reattached and key:
            log.warning("key %r: reattached to run %d, which existed before this call", key, run_id)
        elif reattached:
            log.warning(
                "runs/submit returned the existing run %d: idempotency token %s had been used before", run_id, token
            )
        else:
            log.info("submitted run %d (idempotency token %s)", run_id, token)
        return RunHandle(run_id, transport, idempotency_token=token, reattached=reattached)


#: Seconds the lookups that only tell whether a run existed before may take.
_LOOKUP = 10.0


def _newest_run(transport: Transport) -> tuple[int, int] | None:
    """
    (run id, start time) of the newest one-time run the caller can see; ``None`` when there is
    none, or the workspace would not say (then no run can be told to have existed before).
    """
    try:
        answer = transport.call(
            "GET", "runs/list", query={"run_type": "SUBMIT_RUN", "limit": 1}, deadline=min(transport.deadline, _LOOKUP)
        )
    except SubmitError as exc:  # only the note about an earlier run is lost: the submit goes on
        log.warning("runs/list failed (%s); cannot tell whether the run existed before this call", exc.message)
        return None
    runs = answer.get("runs") if isinstance(answer, dict) else None
    if not isinstance(runs, list) or not runs or not isinstance(runs[0], dict):
        return None
    run_id, started = runs[0].get("run_id"), runs[0].get("start_time")
    if isinstance(run_id, int) and isinstance(started, int):
        return run_id, started
    return None


def _existed_before(transport: Transport, run_id: int, before: tuple[int, int] | None, started: Any = None) -> bool:
    """
    Whether the run submit answered with existed before this call: it is the newest one-time run
    the workspace listed just before the submit, or it started before that one (both times are
    the workspace's own, so the local clock does not matter).
    """
    if before is None:
        return False
    newest_id, newest_start = before
    if run_id == newest_id:
        return True
    if started is None:
        try:
            started = first_page(transport, run_id, deadline=min(transport.deadline, _LOOKUP)).get("start_time")
        except SubmitError as exc:  # the run is there either way; only the note about it is lost
            log.debug("could not read run %d (%s); cannot tell whether it existed before", run_id, exc)
            return False
    return isinstance(started, int) and not isinstance(started, bool) and started < newest_start


def _interrupted(stage: str, token: str | None, run_id: int | None) -> SubmitInterrupted:
    """The ``SubmitInterrupted`` for a Ctrl-C at ``stage`` of a submit."""
    text = {
        "before": "interrupted before the submit request was sent; no run was created",
        "sent": f"interrupted while submitting: the run may exist; submitting again with idempotency token {token} "
        "returns it instead of starting another",
    }.get(stage, f"interrupted after run {run_id} was created (idempotency token {token})")
    return SubmitInterrupted(text, idempotency_token=token, run_id=run_id, may_exist=stage != "before")


def _request_body(spec: Any) -> dict[str, Any]:
    """
    The runs/submit body of a ``RunSpec``, a builder (anything with ``compile()``) or a dict.

    A dict is loaded with ``RunSpec.from_dict`` (strict: unknown keys are a ``SpecError``; load it
    yourself with ``strict=False`` to send fields newer than runspec).
    """
    if isinstance(spec, Mapping):
        spec = RunSpec.from_dict(spec)
    elif not isinstance(spec, RunSpec) and callable(getattr(spec, "compile", None)):
        spec = spec.compile()
    to_dict = getattr(spec, "to_dict", None)
    if not callable(to_dict):
        raise TypeError(
            "submit() takes a RunSpec, a Run (anything with .compile()) or a request body dict, "
            f"not {type(spec).__name__}"
        )
    body = to_dict()
    if not isinstance(body, dict):
        raise TypeError(f"{type(spec).__name__}.to_dict() returned {type(body).__name__}, not dict")
    return dict(body)


def _mint_token() -> str:
    """A fresh random idempotency token (40 characters)."""
    return "runspec-" + uuid.uuid4().hex


def prepare(
    spec: Any,
    host: str | None = None,
    token: str | None = None,
    *,
    key: str | None = None,
    attempt: int | None = None,
    workspace: Connection | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    transport: wire.Transport | None = None,
    auth: AuthHook | None = None,
    profile: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    idempotency_token: str | None = None,
) -> PreparedRequest:
    """
    The runs/submit request for ``spec``, complete and unsent; ``.send()`` returns the ``RunHandle``.

    Checks the spec, resolves the workspace (``workspace=`` a ``Workspace.resolve()`` result, or
    ``host=`` / ``token=`` / ``profile=`` / ``auth=`` / ``client_id=`` + ``client_secret=``, else the
    environment, else ``~/.databrickscfg``), and picks the idempotency token (derived from ``key=``
    and ``attempt=``, else ``idempotency_token=``, else the spec's, else a fresh random one).
    Nothing is sent. The other arguments are kept for ``send()``; see ``submit()`` for what they
    mean.
    """
    body = _request_body(spec)
    if idempotency_token is not None and not idempotency_token.strip():
        # An empty token is most likely an unset variable: a random one would lose exactly-once.
        raise SpecError(
            [
                Problem(
                    "$.idempotency_token",
                    "invalid-value",
                    "the idempotency token given is empty (an unset variable?); give a token, or leave it out "
                    "and submit() mints one",
                )
            ]
        )
    given = idempotency_token if idempotency_token else None
    in_spec = body.get("idempotency_token") or None
    if key is not None or attempt is not None:
        if key is None:
            raise ValueError("attempt= needs key=: it numbers the runs made under one key")
        if given or in_spec:
            raise SpecError(
                [
                    Problem(
                        "$.idempotency_token",
                        "idempotency-token-conflict",
                        "key= derives the idempotency token; do not give one as well (remove it from the spec or "
                        "from idempotency_token=)",
                    )
                ]
            )
        given = key_token(key, attempt)
    if given and in_spec and given != in_spec:
        raise SpecError(
            [
                Problem(
                    "$.idempotency_token",
                    "idempotency-token-conflict",
                    f"the spec has idempotency token {in_spec!r} but submit() was given {given!r}; use one of them",
                )
            ]
        )
    minted = not (given or in_spec)
    chosen = str(given or in_spec or _mint_token())
    if len(chosen) > MAX_IDEMPOTENCY_TOKEN:
        raise SpecError(
            [
                Problem(
                    "$.idempotency_token",
                    "idempotency-token-too-long",
                    f"the idempotency token has {len(chosen)} characters; the API allows at most "
                    f"{MAX_IDEMPOTENCY_TOKEN}",
                )
            ]
        )
    body["idempotency_token"] = chosen

    workspace = settle(
        workspace,
        host,
        token,
        profile=profile,
        auth=auth,
        client_id=client_id,
        client_secret=client_secret,
        session=session,
        timeout=timeout,
        sleep=sleep,
        clock=clock,
        transport=transport,
    )
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": user_agent(workspace.auth_type),
    }
    if workspace.workspace_id:
        headers["X-Databricks-Workspace-Id"] = workspace.workspace_id
    headers.update(workspace.credentials.cached_headers() or {})
    return PreparedRequest(
        "POST",
        workspace.host + API_PREFIX + SUBMIT_ENDPOINT,
        headers,
        body,
        workspace=workspace,
        options={
            "deadline": deadline,
            "minted": minted,
            "key": key,
            "attempt": attempt,
        },
    )


@overload
def submit(
    spec: Any,
    host: str | None = None,
    token: str | None = None,
    *,
    perform_request: Literal[True] = True,
    key: str | None = ...,
    attempt: int | None = ...,
    workspace: Connection | None = ...,
    timeout: Timeout = ...,
    deadline: float = ...,
    session: requests.Session | None = ...,
    sleep: Callable[[float], None] = ...,
    clock: Callable[[], float] = ...,
    transport: wire.Transport | None = ...,
    auth: AuthHook | None = ...,
    profile: str | None = ...,
    client_id: str | None = ...,
    client_secret: str | None = ...,
    idempotency_token: str | None = ...,
) -> RunHandle: ...


@overload
def submit(
    spec: Any,
    host: str | None = None,
    token: str | None = None,
    *,
    perform_request: Literal[False],
    key: str | None = ...,
    attempt: int | None = ...,
    workspace: Connection | None = ...,
    timeout: Timeout = ...,
    deadline: float = ...,
    session: requests.Session | None = ...,
    sleep: Callable[[float], None] = ...,
    clock: Callable[[], float] = ...,
    transport: wire.Transport | None = ...,
    auth: AuthHook | None = ...,
    profile: str | None = ...,
    client_id: str | None = ...,
    client_secret: str | None = ...,
    idempotency_token: str | None = ...,
) -> PreparedRequest: ...


@overload
def submit(
    spec: Any,
    host: str | None = None,
    token: str | None = None,
    *,
    perform_request: bool,
    key: str | None = ...,
    attempt: int | None = ...,
    workspace: Connection | None = ...,
    timeout: Timeout = ...,
    deadline: float = ...,
    session: requests.Session | None = ...,
    sleep: Callable[[float], None] = ...,
    clock: Callable[[], float] = ...,
    transport: wire.Transport | None = ...,
    auth: AuthHook | None = ...,
    profile: str | None = ...,
    client_id: str | None = ...,
    client_secret: str | None = ...,
    idempotency_token: str | None = ...,
) -> RunHandle | PreparedRequest: ...


def submit(
    spec: Any,
    host: str | None = None,
    token: str | None = None,
    *,
    perform_request: bool = True,
    key: str | None = None,
    attempt: int | None = None,
    workspace: Connection | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    transport: wire.Transport | None = None,
    auth: AuthHook | None = None,
    profile: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    idempotency_token: str | None = None,
) -> RunHandle | PreparedRequest:
    """
    Submit a one-time run (``POST /api/2.2/jobs/runs/submit``) exactly once; a ``RunHandle`` on it.

    The same as ``prepare(...).send()``. ``spec`` is a ``RunSpec``, a ``Run`` (compiled first) or a
    request body dict (checked with ``RunSpec.from_dict``). Host and credentials: ``workspace=``
    (from ``Workspace.resolve()``), or ``host=`` / ``token=``, else the environment, else
    ``~/.databrickscfg`` (see ``runspec.client.auth``); ``client_id`` / ``client_secret`` for
    OAuth machine-to-machine, ``auth=`` for anything that makes headers, ``profile=`` to pick a
    config profile.

    * Idempotency: when neither the spec nor ``idempotency_token=`` has a token, a random one is
      minted for this call and sent on every retry, so however the network fails there is at most
      one run. It is on the handle and in every ``SubmitError``: submitting again with it returns
      the same run.
    * ``key="orders/2026-12-01"``: a name for the run. The idempotency token is derived from it (and
      ``attempt``, default 1; see ``runspec.client.keys``), so the same key and spec reach the same
      run from any process, even after a crash: the handle then has ``reattached`` True (and the
      log says so). A key whose run has another run name or other task keys raises ``KeyConflict``;
      ``attempt=2`` runs the spec again under the same key.
    * ``perform_request=False`` sends nothing and returns the ``PreparedRequest``, like
      ``prepare()`` (print it: the token is masked; ``.send()`` it later).
    * ``timeout``: seconds, or ``(connect, read)``, for each HTTP request (default 10 s / 60 s).
      ``deadline``: seconds the whole call may take, retries and each request included (default
      300). A host that refuses connections (or does not resolve) fails within seconds with
      ``WorkspaceUnreachable``: nothing was sent.
    * ``session``: your ``requests.Session`` (proxies, CA bundle); ``sleep`` and ``clock`` replace
      ``time.sleep`` and ``time.monotonic`` (tests), for submit and for the handle's ``wait()``;
      ``transport`` replaces the network (``runspec.wire``; ``Emulator.transport()`` in tests).
    """
    prepared = prepare(
        spec,
        host,
        token,
        key=key,
        attempt=attempt,
        workspace=workspace,
        timeout=timeout,
        deadline=deadline,
        session=session,
        sleep=sleep,
        clock=clock,
        auth=auth,
        profile=profile,
        client_id=client_id,
        client_secret=client_secret,
        idempotency_token=idempotency_token,
        transport=transport,
    )
    if not perform_request:
        return prepared
    return prepared.send()
