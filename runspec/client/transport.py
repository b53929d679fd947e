"""
The policy around a transport: a deadline on every call, retries that cannot start a second run,
redirects, redaction, and errors that say what happened.

``Transport`` wraps any transport of the seam (``runspec.wire``: ``send(request, *, timeout,
deadline) -> Response``), by default ``RequestsTransport`` (``runspec.client.sending``), so the
rules below hold the same against a workspace, the emulator in-process or a test's handler.

What is retried, and when:

* Requests that are safe to repeat: every GET, ``runs/cancel``, and ``runs/submit`` with an
  idempotency token (``submit()`` always sends one). A POST without a token is retried only when
  the connection could not even be opened, so it cannot have reached the workspace.
* A connection that cannot be opened at all (refused, name not resolved, no route, TLS handshake
  failed) before this transport ever reached the workspace is most likely a wrong host: after
  three quick tries (about two seconds) it raises ``WorkspaceUnreachable``, which names the host,
  where it came from and what went wrong, and says that no run was created. Once the workspace
  has answered, the same failures are retried patiently like the others.
* On: connection errors, timeouts, and the statuses 429, 500, 502, 503 and 504. Other 4xx are never
  retried: the same request would fail the same way.
* Waiting: exponential backoff (1 s, 2 s, 4 s, ... up to 30 s, each with random jitter in its upper
  half), or what the ``Retry-After`` header asks (seconds or an HTTP date), but never less than
  ``RetryPolicy.floor`` (1 s), so ``Retry-After: 0`` cannot make a tight loop.
* Until the call's ``deadline`` (seconds, 300 by default). The deadline bounds the whole call:
  each exchange is given what is left of it, and the default transport counts connecting, the
  status line, the headers and the body against it (a server trickling its answer is cut off when
  the deadline passes). One short log line per retry.

Redirects are followed here (at most 5). The credential headers are dropped
as soon as a redirect leaves the workspace's scheme, host and port, a POST is never turned into a
GET, and a redirect to plain ``http://`` (other than loopback) is refused.
"""

from __future__ import annotations

import json
import logging
import platform
import random
import re
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from requests.structures import CaseInsensitiveDict

from runspec._redact import Redactor
from runspec._version import __version__
from runspec.client.auth import DEFAULT_TIMEOUT, Connection, Timeout
from runspec.client.credentials import Credentials
from runspec.client.hosts import origin_of
from runspec.client.redirects import follow_redirect, redirected_failure
from runspec.client.redirects import path_of as _path_of
from runspec.client.responses import api_error, parse_retry_after, title_of_html, token_answer_error, token_answer_shape
from runspec.client.sending import RequestsTransport
from runspec.errors import (
    ApiError,
    Problem,
    SpecError,
    SubmitError,
    TransportError,
    WorkspaceUnreachable,
)
from runspec.spec.limits import MAX_BODY_BYTES
from runspec.wire import Request, Response, SendFailed

if TYPE_CHECKING:  # pragma: no cover - annotations only
    import requests

    from runspec.wire import Transport as Sender

__all__ = [
    "API_PREFIX",
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "RetryPolicy",
    "Timeout",
    "Transport",
    "parse_retry_after",
    "user_agent",
]


log = logging.getLogger("runspec")
# Retry notices on a logger of their own, so an application (or the command line without -v) can
# leave them out and keep the warnings that need attention.
retry_log = logging.getLogger("runspec.retries")

DEFAULT_DEADLINE = 300.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
API_PREFIX = "/api/2.2/jobs/"
_MAX_REDIRECTS = 5
#: Tries, and the waits between them, for a workspace never reached yet that refuses connections.
_QUICK_WAITS = (0.5, 1.0)
#: The quick tries stop once this many seconds went by (a connect timeout each, say).
_QUICK_BUDGET = 10.0
#: No exchange is given less than this (a deadline about to pass still gets a try).
_MIN_IO = 0.05


@dataclass(frozen=True)
class RetryPolicy:
    """
    Backoff between attempts: ``initial`` seconds, times ``multiplier``, at most ``maximum``;
    never less than ``floor``, whatever ``Retry-After`` says.
    """

    initial: float = 1.0
    maximum: float = 30.0
    multiplier: float = 2.0
    floor: float = 1.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed attempt ``attempt`` (1-based), with jitter in its upper half."""
        ceiling = min(self.maximum, self.initial * self.multiplier ** min(max(0, attempt - 1), 64))  # no overflow
        draw = (rng or random).random()
        return max(self.floor, ceiling / 2 + draw * ceiling / 2)


def _os_name() -> str:
    name = sys.platform
    if name.startswith("linux"):
        return "linux"
    if name == "darwin":
        return "darwin"
    if name.startswith("win"):
        return "windows"
    return re.sub(r"[^a-zA-Z0-9_.+-]", "", name) or "unknown"


def user_agent(auth_type: str) -> str:
    """``runspec/<version> python/<x.y.z> os/<os> auth/<type>``."""
    kind = re.sub(r"[^a-zA-Z0-9_.+-]", "-", auth_type) or "unknown"
    return f"runspec/{__version__} python/{platform.python_version()} os/{_os_name()} auth/{kind}"


def _text_of(response: Response) -> str:
    """The body as text, in the charset the answer names (UTF-8 when it names none)."""
    kind = response.header("Content-Type") or ""
    charset = next(
        (
            part.split("=", 1)[1].strip().strip('"')
            for part in kind.split(";")
            if part.strip().lower().startswith("charset=")
        ),
        "utf-8",
    )
    try:
        return response.body.decode(charset, errors="replace")
    except LookupError:
        return response.body.decode("utf-8", errors="replace")


class Transport:
    """
    Sends API requests to one workspace, with the retry rules of this module, through the
    workspace's transport (``Connection.transport``, else ``requests`` over ``session``).

    Arguments left out take the workspace's values. ``sleep`` and ``clock`` (a monotonic clock)
    are injectable so tests never wait. ``session`` is the caller's ``requests.Session`` (proxies,
    custom CA, connection reuse), else the workspace's, else a new one that ``close()`` closes.
    """

    def __init__(
        self,
        workspace: Connection,
        *,
        session: requests.Session | None = None,
        timeout: Timeout | None = None,
        deadline: float = DEFAULT_DEADLINE,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        timeout = workspace.timeout if timeout is None else timeout
        if isinstance(timeout, tuple):
            if len(timeout) != 2:
                raise ValueError("timeout must be seconds or a (connect, read) pair")
            self.timeout: tuple[float, float] = (float(timeout[0]), float(timeout[1]))
        else:
            self.timeout = (float(timeout), float(timeout))
        if deadline < 0:
            raise ValueError("deadline must be >= 0 seconds")
        self.workspace = workspace
        self.host = workspace.host
        self.deadline = float(deadline)
        self.sleep = sleep or workspace.sleep
        self.clock = clock or workspace.clock
        self.retry = retry or RetryPolicy()
        self.rng = rng
        self._own: RequestsTransport | None = None
        if workspace.transport is not None and session is None:
            self.sender: Sender = workspace.transport
        else:
            self._own = RequestsTransport(session if session is not None else workspace.session)
            self.sender = self._own
        self.user_agent = user_agent(workspace.auth_type)
        self.redactor = Redactor(lambda: self.credentials.secrets())
        #: True once the workspace answered anything: connection failures are then not a wrong host.
        self.reached = False

    @property
    def credentials(self) -> Credentials:
        """The credentials requests are signed with."""
        return self.workspace.credentials

    def close(self) -> None:
        """Close the HTTP session if this transport created it."""
        if self._own is not None:
            self._own.close()

    def __repr__(self) -> str:
        return f"Transport(host={self.host!r}, auth_type={self.workspace.auth_type!r})"

    # -- headers and scrubbing ----------------------------------------------------------------

    def base_headers(self, *, post: bool) -> dict[str, str]:
        """Accept, User-Agent, Content-Type for POST, and the workspace id header when set."""
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        if post:
            headers["Content-Type"] = "application/json"
        if self.workspace.workspace_id:
            headers["X-Databricks-Workspace-Id"] = self.workspace.workspace_id
        return headers

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``<redacted>`` (the one redaction of this module)."""
        return self.redactor.text(text)

    # -- OAuth token fetch (TokenFetcher) --------------------------------------------------------

    def post_form(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Any:
        """POST a form (the OAuth token request), with the usual retries; returns the JSON."""
        all_headers = {
            "Accept": "application/json",
            "User-Agent": self.user_agent,
            "Content-Type": "application/x-www-form-urlencoded",
            **headers,
        }
        data = urllib.parse.urlencode(dict(form)).encode("ascii")
        return self._exchange(
            "POST",
            url,
            data=data,
            make_headers=lambda: dict(all_headers),
            secret_headers=frozenset({"authorization"}),
            idempotent=True,
            idempotency_token=None,
            deadline=self.deadline,
            token_answer=True,  # the answer is the access token itself
        )

    # -- API calls ------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        endpoint: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        idempotency_token: str | None = None,
        deadline: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """
        Call ``/api/2.2/jobs/<endpoint>`` and return the decoded JSON answer.

        ``idempotent`` defaults to True for GET and False otherwise. ``idempotency_token`` is only
        reported in errors (it must already be in ``body``).
        """
        url = self.host + API_PREFIX + endpoint.lstrip("/")
        if query:
            params = {
                k: ("true" if v is True else "false" if v is False else str(v))
                for k, v in query.items()
                if v is not None
            }
            url += "?" + urllib.parse.urlencode(params)
        return self.send(
            method,
            url,
            body=body,
            idempotent=idempotent,
            idempotency_token=idempotency_token,
            deadline=deadline,
            headers=headers,
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        body: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        idempotency_token: str | None = None,
        deadline: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """
        Send one request to a full ``url`` with retries; the JSON answer.

        ``headers``, when given, are sent as they are (plus fresh credentials); otherwise the base
        headers and credentials are used.
        """
        method = method.upper()
        post = method != "GET"
        data = json.dumps(dict(body)).encode("utf-8") if body is not None else None
        if data is not None and len(data) > MAX_BODY_BYTES:
            raise SpecError(
                [
                    Problem(
                        "$",
                        "payload-too-large",
                        f"the request body is {len(data):,} bytes; the API takes at most 10 MB",
                    )
                ],
                subject="the request body",
            )

        secret_names: set[str] = {"authorization"}

        def make_headers() -> dict[str, str]:
            result = dict(headers) if headers is not None else self.base_headers(post=post)
            produced = self.credentials.headers(self)
            secret_names.update(name.lower() for name in produced)
            result.update(produced)
            return result

        return self._exchange(
            method,
            url,
            data=data,
            make_headers=make_headers,
            secret_headers=secret_names,
            idempotent=(method == "GET") if idempotent is None else idempotent,
            idempotency_token=idempotency_token,
            deadline=self.deadline if deadline is None else deadline,
        )

    # -- the retry loop -------------------------------------------------------------------------

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None,
        make_headers: Callable[[], dict[str, str]],
        secret_headers: set[str] | frozenset[str],
        idempotent: bool,
        idempotency_token: str | None,
        deadline: float,
        token_answer: bool = False,
    ) -> Any:
        """
        One request with retries; the decoded JSON answer, every string in it redacted. With
        ``token_answer`` (the OAuth token endpoint) the answer is the secret itself: it is returned as
        it is, and an answer that is not a token is described in errors, never quoted.
        """
        path = _path_of(url)
        # Whether a run may exist is said on every error of a submit (a request with a token).
        state = {"sent": False, "ambiguous": False}
        try:
            return self._attempts(
                method,
                url,
                path,
                data=data,
                make_headers=make_headers,
                secret_headers=secret_headers,
                idempotent=idempotent,
                idempotency_token=idempotency_token,
                deadline=deadline,
                token_answer=token_answer,
                state=state,
            )
        except SubmitError as exc:
            if idempotency_token is not None and not isinstance(exc, WorkspaceUnreachable):
                if isinstance(exc, ApiError):
                    exc.may_exist = exc.may_exist or state["ambiguous"] or exc.status >= 500
                else:
                    exc.may_exist = exc.may_exist or state["sent"]
            raise

    def _attempts(
        self,
        method: str,
        url: str,
        path: str,
        *,
        data: bytes | None,
        make_headers: Callable[[], dict[str, str]],
        secret_headers: set[str] | frozenset[str],
        idempotent: bool,
        idempotency_token: str | None,
        deadline: float,
        token_answer: bool,
        state: dict[str, bool],
    ) -> Any:
        """The retry loop of ``_exchange``; ``state`` records whether the request may have arrived."""
        start = self.clock()
        ends = start + deadline
        attempt = 0
        maybe_sent = False
        previous: BaseException | None = None
        while True:
            attempt += 1
            retry_after: float | None = None
            cause: BaseException | None
            try:
                request_headers = make_headers()
                status, text, reply_headers, reason = self._fetch(
                    method, url, request_headers, data, secret_headers, ends
                )
            except SendFailed as exc:
                failure = None if exc.sent else exc.reason
                if failure is not None and not maybe_sent and not self.reached:
                    elapsed = self.clock() - start
                    hopeless = not exc.retryable  # a failed TLS check: retrying cannot help
                    if hopeless or attempt > len(_QUICK_WAITS) or elapsed >= min(_QUICK_BUDGET, deadline):
                        raise self._unreachable(failure, exc.cause, method, path, attempt) from exc
                    wait = _QUICK_WAITS[attempt - 1]
                    retry_log.warning("%s %s: %s; trying again in %.1f s", method, path, failure.split(" (")[0], wait)
                    self.sleep(wait)
                    continue
                maybe_sent = maybe_sent or exc.sent
                state["sent"] = maybe_sent
                state["ambiguous"] = state["ambiguous"] or exc.sent
                error: SubmitError = self._transport_error(exc, maybe_sent, method, path, idempotency_token, attempt)
                cause = None
                # A POST that is not safe to repeat is retried only if it never left this machine.
                retryable = exc.retryable and (idempotent or not exc.sent)
                short = exc.reason.split(" (")[0]
            except SubmitError:
                state["sent"] = True  # the workspace answered (a redirect runspec does not follow)
                raise
            else:
                self.reached = True
                maybe_sent = True
                state["sent"] = True
                if 200 <= status < 300:
                    decoded = self._decode(
                        status, text, reply_headers, method, path, idempotency_token, attempt, quote=not token_answer
                    )
                    return decoded if token_answer else self.redactor.answer(text, decoded)
                kind = reply_headers.get("Content-Type")
                error = api_error(
                    status=status,
                    reason=reason,
                    text=token_answer_error(text, kind, self.redactor) if token_answer else text,
                    headers=reply_headers,
                    method=method,
                    path=path,
                    token=idempotency_token,
                    attempts=attempt,
                    redactor=self.redactor,
                    credentials=(self.workspace.host, self.workspace.auth_type, self.workspace.credentials_source),
                )
                cause = previous
                error.may_exist = state["ambiguous"] or status >= 500
                state["ambiguous"] = state["ambiguous"] or status >= 500
                retryable = idempotent and status in RETRY_STATUSES
                retry_after = parse_retry_after(reply_headers.get("Retry-After"), reply_headers.get("Date"))
                short = f"HTTP {status}"

            if not retryable:
                raise error from cause
            elapsed = self.clock() - start
            wait = self.retry.delay(attempt, self.rng) if retry_after is None else max(self.retry.floor, retry_after)
            if elapsed + wait > deadline:
                if attempt > 1 or wait > 0:
                    why = (
                        f"the workspace asked to wait {wait:.0f} s, past the {deadline:.0f} s deadline"
                        if retry_after is not None and elapsed + retry_after > deadline
                        else f"the {deadline:.0f} s deadline ran out"
                    )
                    error.message += f" (gave up after {attempt} attempts in {elapsed:.1f} s: {why})"
                raise error from cause
            retry_log.warning("%s %s: %s; retrying in %.1f s (attempt %d)", method, path, short, wait, attempt + 1)
            previous = error
            self.sleep(wait)

    def _unreachable(
        self, failure: str, cause: str | None, method: str, path: str, attempts: int
    ) -> WorkspaceUnreachable:
        workspace = self.workspace
        tries = f"{attempts} tr{'ies' if attempts != 1 else 'y'}"
        return WorkspaceUnreachable(
            f"cannot connect to {workspace.host} (host from {workspace.host_source}): {failure}; "
            f"gave up after {tries}. Nothing reached the workspace: no run was created. Check the host",
            host=workspace.host,
            host_source=workspace.host_source,
            reason=failure,
            cause=cause,
            method=method,
            path=path,
            attempts=attempts,
        )

    def _fetch(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None,
        secret_headers: set[str] | frozenset[str],
        ends: float,
    ) -> tuple[int, str, CaseInsensitiveDict[str], str]:
        """One exchange (following redirects) within the deadline: status, body text, headers, reason."""
        home = origin_of(url)
        current = url
        for hop in range(_MAX_REDIRECTS + 1):
            remaining = max(ends - self.clock(), _MIN_IO)
            started = time.monotonic()
            try:
                response = self.sender.send(
                    Request(method, current, headers, data if data is not None else b""),
                    timeout=self.timeout,
                    deadline=remaining,
                )
            except SendFailed as exc:
                if hop == 0 or exc.sent:
                    raise
                raise redirected_failure(exc, current, self.redactor) from None
            self.reached = True
            location = response.header("Location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                log.debug(
                    "%s %s -> %d in %.3f s", method, _path_of(current), response.status, time.monotonic() - started
                )
                return response.status, _text_of(response), CaseInsensitiveDict(response.headers), response.reason
            current, headers = follow_redirect(
                method, url, current, location, response.status, headers, home, secret_headers, self.redactor
            )
        raise SubmitError(
            f"{method} {_path_of(url)}: more than {_MAX_REDIRECTS} redirects",
            method=method,
            path=_path_of(url),
        )

    # -- building answers and errors ------------------------------------------------------------

    def _decode(
        self,
        status: int,
        text: str,
        headers: Mapping[str, str],
        method: str,
        path: str,
        token: str | None,
        attempts: int,
        *,
        quote: bool = True,
    ) -> Any:
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError:
            pass  # the error is raised below, outside the handler: its context would keep the text
        kind = headers.get("Content-Type", "unknown type")
        if quote:
            snippet = title_of_html(text) or self.scrub(text.strip())[:120]  # redacted whole, then cut
            what = f"({kind}: {snippet!r})"
        else:  # the OAuth token endpoint: its answer may be the token in another form
            what = f"({token_answer_shape(text, kind, self.redactor)})"
        raise SubmitError(
            self.scrub(f"{method} {path} answered {status} but not with JSON {what}; is the host the workspace URL?"),
            method=method,
            path=path,
            idempotency_token=token,
            attempts=attempts,
            may_exist=token is not None,
        )

    def _transport_error(
        self,
        exc: SendFailed,
        maybe_sent: bool,
        method: str,
        path: str,
        token: str | None,
        attempts: int,
    ) -> TransportError:
        reached = "the request may have reached the workspace" if maybe_sent else "nothing reached the workspace"
        return TransportError(
            f"{method} {path}: {exc.reason} ({reached})",
            method=method,
            path=path,
            idempotency_token=token,
            attempts=attempts,
        )
