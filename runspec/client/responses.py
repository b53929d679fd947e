"""
Reading the workspace's answers: error bodies in every shape the service uses, the error class for
a status and code, and ``Retry-After``. Everything read from a server goes through the caller's
``Redactor`` before it lands in an exception.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from runspec._redact import REDACTED, Redactor
from runspec._text import plural
from runspec.errors import (
    ApiError,
    BadRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ResourceConflict,
    ServerError,
    Unauthenticated,
)

__all__ = [
    "api_error",
    "parse_error_body",
    "parse_retry_after",
    "title_of_html",
    "token_answer_error",
    "token_answer_shape",
]

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


def parse_retry_after(value: str | None, response_date: str | None = None) -> float | None:
    """
    Seconds to wait from a ``Retry-After`` header: a number of seconds, or an HTTP date.

    A date is measured against the response's ``Date`` header when there is one (so a skewed local
    clock does not matter), else against the local clock. ``None`` when absent or unreadable. The
    transport never waits less than its floor, whatever this says.
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


def title_of_html(text: str) -> str | None:
    """The ``<pre>`` or ``<title>`` text of an HTML page, squeezed to one line."""
    for tag in ("pre", "title"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", text, re.IGNORECASE | re.DOTALL)
        if match and match.group(1).strip():
            return re.sub(r"\s+", " ", match.group(1)).strip()
    return None


def parse_error_body(text: str, reason: str, status: int) -> tuple[str | None, str, list[Any]]:
    """(error_code, message, details) from any of the error shapes the workspace uses (unredacted)."""
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    fallback = reason or f"HTTP {status}"
    if isinstance(data, dict):
        code = data.get("error_code")
        message = data.get("message") or data.get("error") or data.get("detail")
        details = data.get("details")
        return (
            code if isinstance(code, str) and code else None,
            str(message) if message else fallback,
            details if isinstance(details, list) else [],
        )
    stripped = text.strip()
    if stripped.startswith("<"):
        return None, title_of_html(stripped) or reason, []
    match = re.match(r"^([A-Z][A-Z_]+): (.*)$", stripped, re.DOTALL)
    if match:
        return match.group(1), match.group(2).strip(), []
    if stripped:
        return None, stripped[:500], []
    return None, fallback, []


# -- the OAuth token endpoint ------------------------------------------------------------------------
# Its answer is the access token itself, so an answer runspec cannot use is described, never quoted:
# only the OAuth error code, a short description and an HTML page's title are shown, each with every
# word long enough to be a token (16 characters of a token's alphabet) replaced, and with the values
# the answer holds under names such as access_token removed.

_TOKEN_WORD = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
_ERROR_CODE = re.compile(r"[A-Za-z_]{1,40}")
_SECRET_NAME = re.compile(r"token|secret|password|assertion", re.IGNORECASE)
_MAX_DESCRIPTION = 200


def _token_safe(text: str, redactor: Redactor, hidden: list[str]) -> str:
    for value in sorted(hidden, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = _TOKEN_WORD.sub(REDACTED, redactor.text(text))
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 3] + "..."


def _hidden_values(data: Any) -> list[str]:
    """The string values of a decoded answer held under names that may be secrets (any depth)."""
    found: list[str] = []
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and len(item) >= 4 and _SECRET_NAME.search(str(key)):
                    found.append(item)
                elif isinstance(item, (dict, list)):
                    stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return found


def token_answer_shape(text: str, content_type: str | None, redactor: Redactor) -> str:
    """
    What a token endpoint answer that is not JSON is, without quoting it: ``text/plain (52 bytes)``,
    ``an HTML page titled 'Sign in'`` (the title with token-long words removed).
    """
    stripped = text.strip()
    if stripped.startswith("<"):
        title = title_of_html(stripped)
        if title:
            return f"an HTML page titled {_token_safe(title, redactor, [])!r}"
        return "an HTML page"
    kind = (content_type or "no content type").split(";")[0].strip() or "no content type"
    size = len(text.encode("utf-8"))
    return f"{kind}, {plural(size, 'byte')}, not shown: it may hold a token"


def token_answer_error(text: str, content_type: str | None, redactor: Redactor) -> str:
    """
    The error answer of the token endpoint as an error body ``api_error`` reads, holding only what is
    safe to show: the OAuth ``error`` (or ``error_code``) and its description, or an HTML page's title,
    or for any other text what it is and its length.
    """
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        hidden = _hidden_values(data)
        code = next(
            (
                v
                for v in (data.get("error"), data.get("error_code"))
                if isinstance(v, str) and _ERROR_CODE.fullmatch(v) and v not in hidden
            ),
            None,
        )
        described = next(
            (v for v in (data.get("error_description"), data.get("message")) if isinstance(v, str) and v.strip()),
            None,
        )
        body: dict[str, str] = {}
        if code is not None and code == data.get("error_code"):
            body["error_code"] = code  # the Databricks shape: the code is shown on its own
            code = None
        safe = described and _token_safe(described, redactor, hidden)
        body["message"] = ": ".join(part for part in (code, safe) if part) or "the answer names no error"
        return json.dumps(body)
    if not text.strip():
        return ""
    return json.dumps({"message": token_answer_shape(text, content_type, redactor)})


def _request_id(headers: Mapping[str, str], details: list[Any]) -> str | None:
    for detail in details:
        if isinstance(detail, dict) and isinstance(detail.get("request_id"), str):
            return str(detail["request_id"])
    for name in ("x-request-id", "x-databricks-request-id"):
        value = headers.get(name)
        if value:
            return value
    return None


def api_error(
    *,
    status: int,
    reason: str,
    text: str,
    headers: Mapping[str, str],
    method: str,
    path: str,
    token: str | None,
    attempts: int,
    redactor: Redactor,
    credentials: tuple[str, str, str] | None = None,
) -> ApiError:
    """
    The ``ApiError`` subclass for an error answer, every server string in it redacted.

    ``credentials`` (the host, the auth type, where the credentials came from) are the fields of a 401 or
    403, and its ``note`` says them in words.
    """
    # The raw text is redacted before it is parsed, so that a message cut to length cannot keep half a secret.
    code, message, details = parse_error_body(redactor.text(text), reason, status)
    request_id = _request_id(headers, details)
    code = redactor.optional(code)
    message = redactor.text(message)
    details = redactor.json(details)
    request_id = redactor.optional(request_id)
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
    host = auth_type = credentials_source = note = None
    if credentials is not None and status in (401, 403):
        host, auth_type, credentials_source = credentials
        note = f"{auth_type} credentials from {credentials_source}"
    return cls(
        message,
        status=status,
        error_code=code,
        method=method,
        path=path,
        details=details,
        retry_after=parse_retry_after(headers.get("Retry-After"), headers.get("Date")),
        request_id=request_id,
        idempotency_token=token,
        attempts=attempts,
        note=note,
        host=host,
        auth_type=auth_type,
        credentials_source=credentials_source,
    )
