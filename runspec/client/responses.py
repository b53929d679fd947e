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

from runspec._redact import Redactor
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

__all__ = ["api_error", "parse_error_body", "parse_retry_after", "title_of_html"]

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
