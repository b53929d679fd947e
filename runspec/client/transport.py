"""
HTTP to the workspace: one ``requests.Session``, timeouts on every request, retries that cannot
start a second run, and errors that say what happened.

What is retried, and when:

* Requests that are safe to repeat: every GET, ``runs/cancel``, and ``runs/submit`` with an
  idempotency token (``submit()`` always sends one). A POST without a token is retried only when the
  connection could not even be opened, so it cannot have reached the workspace.
* On: connection errors, timeouts, and the statuses 429, 500, 502, 503 and 504. Other 4xx are never
  retried: the same request would fail the same way. Neither is a failed TLS certificate check.
* Waiting: exponential backoff (1 s, 2 s, 4 s, ... up to 30 s, each with random jitter in its upper
  half), or exactly what the ``Retry-After`` header asks (seconds or an HTTP date, read against the
  response's ``Date`` header when it has one).
* Until the call's ``deadline`` (seconds, 300 by default) would be passed by the next wait; then the
  last error is raised, with the attempt count in the message and the underlying error as
  ``__cause__``.

Redirects are followed by hand (at most 5). The credential headers are dropped as soon as a redirect
leaves the workspace's scheme, host and port, a POST is never turned into a GET, and a redirect to
plain ``http://`` (other than loopback) is refused.
"""

from __future__ import annotations

import email.utils
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
from datetime import datetime, timezone
from typing import Any

import requests

from runspec.client.auth import Credentials, Workspace, is_loopback, origin_of
from runspec.errors import (
    ApiError,
    BadRequest,
    NotFound,
    PermissionDenied,
    Problem,
    RateLimited,
    ResourceConflict,
    ServerError,
    SpecError,
    SubmitError,
    TransportError,
    Unauthenticated,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "RetryPolicy",
    "Timeout",
    "Transport",
    "parse_retry_after",
]

#: The Jobs API refuses request bodies over 10 MB.
MAX_BODY_BYTES = 10 * 1024 * 1024

log = logging.getLogger("runspec")

Timeout = float | tuple[float, float]
"""Seconds for both connecting and reading, or ``(connect, read)``."""

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
DEFAULT_DEADLINE = 300.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
API_PREFIX = "/api/2.2/jobs/"
_MAX_REDIRECTS = 5
_REDACTED = "<redacted>"

_CODE_CLASSES: dict[str, type[ApiError]] = {
    "INVALID_PARAMETER_VALUE": BadRequest,
    "INVALID_STATE": BadRequest,
    "BAD_REQUEST": BadRequest,
    "MALFORMED_REQUEST": BadRequest,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
    "RESOURCE_DOES_NOT_EXIST": NotFound,
    "NOT_FOUND": NotFound,
    "ABORTED": ResourceConflict,
    "ALREADY_EXISTS": ResourceConflict,
    "RESOURCE_ALREADY_EXISTS": ResourceConflict,
    "RESOURCE_CONFLICT": ResourceConflict,
    "REQUEST_LIMIT_EXCEEDED": RateLimited,
    "RESOURCE_EXHAUSTED": RateLimited,
    "TOO_MANY_REQUESTS": RateLimited,
}
_STATUS_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: ResourceConflict,
    429: RateLimited,
}


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts: ``initial`` seconds, times ``multiplier``, at most ``maximum``."""

    initial: float = 1.0
    maximum: float = 30.0
    multiplier: float = 2.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed attempt ``attempt`` (1-based), with jitter in its upper half."""
        ceiling = min(self.maximum, self.initial * self.multiplier ** max(0, attempt - 1))
        draw = (rng or random).random()
        return ceiling / 2 + draw * ceiling / 2


def parse_retry_after(value: str | None, response_date: str | None = None) -> float | None:
    """
    Seconds to wait from a ``Retry-After`` header: a number of seconds, or an HTTP date.

    A date is measured against the response's ``Date`` header when there is one (so a skewed local
    clock does not matter), else against the local clock. ``None`` when absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN check
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    reference = datetime.now(timezone.utc)
    if response_date:
        try:
            parsed = email.utils.parsedate_to_datetime(response_date)
            reference = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except (TypeError, ValueError, IndexError):
            pass
    return max(0.0, (when - reference).total_seconds())


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
    from runspec import __version__

    kind = re.sub(r"[^a-zA-Z0-9_.+-]", "-", auth_type) or "unknown"
    return f"runspec/{__version__} python/{platform.python_version()} os/{_os_name()} auth/{kind}"


def _title_of_html(text: str) -> str | None:
    for tag in ("pre", "title"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", text, re.IGNORECASE | re.DOTALL)
        if match and match.group(1).strip():
            return re.sub(r"\s+", " ", match.group(1)).strip()
    return None


def _parse_error_body(response: requests.Response) -> tuple[str | None, str, list[Any]]:
    """(error_code, message, details) from any of the error shapes the workspace uses."""
    text = response.text or ""
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = data.get("error_code")
        message = data.get("message") or data.get("error") or data.get("detail")
        details = data.get("details")
        return (
            code if isinstance(code, str) and code else None,
            str(message) if message else (response.reason or f"HTTP {response.status_code}"),
            details if isinstance(details, list) else [],
        )
    stripped = text.strip()
    if stripped.startswith("<"):
        return None, _title_of_html(stripped) or (response.reason or ""), []
    match = re.match(r"^([A-Z][A-Z_]+): (.*)$", stripped, re.DOTALL)
    if match:
        return match.group(1), match.group(2).strip(), []
    if stripped:
        return None, stripped[:500], []
    return None, response.reason or f"HTTP {response.status_code}", []


def _request_id(response: requests.Response, details: list[Any]) -> str | None:
    for detail in details:
        if isinstance(detail, dict) and isinstance(detail.get("request_id"), str):
            return str(detail["request_id"])
    for name in ("x-request-id", "x-databricks-request-id"):
        value = response.headers.get(name)
        if value:
            return value
    return None


def _transient(exc: requests.RequestException) -> bool:
    """Worth another try: connection failures and timeouts, but not a failed certificate check."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError))


def _path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


class Transport:
    """
    Sends API requests to one workspace, with the retry rules of this module.

    ``sleep`` and ``clock`` (a monotonic clock) are injectable so tests never wait. ``session`` is
    the caller's ``requests.Session`` (proxies, custom CA, connection reuse), or a new one that
    ``close()`` closes.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
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
        self.sleep = sleep
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.rng = rng
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self.user_agent = user_agent(workspace.auth_type)

    @property
    def credentials(self) -> Credentials:
        """The credentials requests are signed with."""
        return self.workspace.credentials

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._own_session:
            self.session.close()

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
        """``text`` with every known secret replaced by ``<redacted>``."""
        for secret in self.credentials.secrets():
            if secret and len(secret) >= 4 and secret in text:
                text = text.replace(secret, _REDACTED)
        return text

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
    ) -> Any:
        path = _path_of(url)
        start = self.clock()
        attempt = 0
        previous: BaseException | None = None
        while True:
            attempt += 1
            retry_after: float | None = None
            cause: BaseException | None
            try:
                request_headers = make_headers()
                response = self._send_following_redirects(method, url, request_headers, data, secret_headers)
            except requests.RequestException as exc:
                error: SubmitError = self._transport_error(exc, method, path, idempotency_token, attempt)
                cause = exc
                # A POST that is not safe to repeat is retried only if it never left this machine.
                retryable = _transient(exc) and (idempotent or isinstance(exc, requests.ConnectTimeout))
                reason = self.scrub(f"{type(exc).__name__}: {exc}")
            else:
                if 200 <= response.status_code < 300:
                    return self._decode(response, method, path, idempotency_token, attempt)
                error = self._api_error(response, method, path, idempotency_token, attempt)
                cause = previous
                retryable = idempotent and response.status_code in RETRY_STATUSES
                retry_after = parse_retry_after(response.headers.get("Retry-After"), response.headers.get("Date"))
                reason = f"HTTP {response.status_code}"
                response.close()

            if not retryable:
                raise error from cause
            elapsed = self.clock() - start
            wait = retry_after if retry_after is not None else self.retry.delay(attempt, self.rng)
            if elapsed + wait > deadline:
                if attempt > 1 or wait > 0:
                    why = (
                        f"the workspace asked to wait {wait:.0f} s, past the {deadline:.0f} s deadline"
                        if retry_after is not None and elapsed + retry_after > deadline
                        else f"the {deadline:.0f} s deadline ran out"
                    )
                    error.message += f" (gave up after {attempt} attempts in {elapsed:.1f} s: {why})"
                raise error from cause
            log.warning(
                "%s %s failed (%s); retrying in %.1f s (attempt %d)",
                method,
                path,
                reason,
                wait,
                attempt + 1,
            )
            previous = error
            self.sleep(wait)

    def _send_following_redirects(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None,
        secret_headers: set[str] | frozenset[str],
    ) -> requests.Response:
        home = origin_of(url)
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            started = time.monotonic()
            response = self.session.request(
                method,
                current,
                headers=headers,
                data=data,
                timeout=self.timeout,
                allow_redirects=False,
            )
            log.debug(
                "%s %s -> %d in %.3f s",
                method,
                _path_of(current),
                response.status_code,
                time.monotonic() - started,
            )
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return response
            response.close()
            target = urllib.parse.urljoin(current, location)
            scheme, hostname, _ = origin_of(target)
            if scheme not in ("http", "https") or (scheme == "http" and not is_loopback(hostname)):
                raise SubmitError(
                    f"{method} {_path_of(url)} was redirected to {scheme}://{hostname}, which "
                    "is not https; runspec does not follow it",
                    method=method,
                    path=_path_of(url),
                )
            if method != "GET" and response.status_code in (301, 302, 303):
                raise SubmitError(
                    f"{method} {_path_of(url)} was redirected ({response.status_code}) to "
                    f"{scheme}://{hostname}{_path_of(target)}; runspec does not turn a {method} "
                    "into a GET. Check that the host is the workspace URL",
                    method=method,
                    path=_path_of(url),
                )
            if origin_of(target) != home:
                headers = {k: v for k, v in headers.items() if k.lower() not in secret_headers}
                log.info(
                    "%s %s redirected to %s://%s; credentials are not sent there",
                    method,
                    _path_of(url),
                    scheme,
                    hostname,
                )
            current = target
        raise SubmitError(
            f"{method} {_path_of(url)}: more than {_MAX_REDIRECTS} redirects",
            method=method,
            path=_path_of(url),
        )

    # -- building answers and errors ------------------------------------------------------------

    def _decode(
        self,
        response: requests.Response,
        method: str,
        path: str,
        token: str | None,
        attempts: int,
    ) -> Any:
        text = response.text
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown type")
            snippet = _title_of_html(text) or text.strip()[:120]
            raise SubmitError(
                self.scrub(
                    f"{method} {path} answered {response.status_code} but not with JSON "
                    f"({kind}: {snippet!r}); is the host the workspace URL?"
                ),
                method=method,
                path=path,
                idempotency_token=token,
                attempts=attempts,
            ) from None

    def _transport_error(
        self,
        exc: requests.RequestException,
        method: str,
        path: str,
        token: str | None,
        attempts: int,
    ) -> TransportError:
        if isinstance(exc, requests.exceptions.SSLError):
            what = (
                "the TLS connection failed (for a private CA, pass session= a requests.Session "
                "whose verify= is the CA bundle)"
            )
        elif isinstance(exc, requests.ConnectTimeout):
            what = "connecting timed out"
        elif isinstance(exc, requests.Timeout):
            what = "the workspace did not answer in time"
        elif isinstance(exc, requests.ConnectionError):
            what = "the connection failed"
        else:
            what = "the request failed"
        detail = self.scrub(str(exc))
        return TransportError(
            f"{method} {path}: {what} ({type(exc).__name__}: {detail})",
            method=method,
            path=path,
            idempotency_token=token,
            attempts=attempts,
        )

    def _api_error(
        self,
        response: requests.Response,
        method: str,
        path: str,
        token: str | None,
        attempts: int,
    ) -> ApiError:
        status = response.status_code
        code, message, details = _parse_error_body(response)
        message = self.scrub(message)
        cls: type[ApiError]
        if (
            path.endswith("/runs/get")
            and status == 400
            and code == "INVALID_PARAMETER_VALUE"
            and "does not exist" in message
        ):
            cls = NotFound
        elif code is not None and code in _CODE_CLASSES:
            cls = _CODE_CLASSES[code]
        elif status in _STATUS_CLASSES:
            cls = _STATUS_CLASSES[status]
        elif status >= 500:
            cls = ServerError
        else:
            cls = ApiError
        if status == 429 and path.endswith("/runs/submit"):
            message = f"the workspace has no capacity to start this run right now: {message}"
        return cls(
            message,
            status=status,
            error_code=code,
            method=method,
            path=path,
            details=details,
            retry_after=parse_retry_after(response.headers.get("Retry-After"), response.headers.get("Date")),
            request_id=_request_id(response, details),
            idempotency_token=token,
            attempts=attempts,
        )
