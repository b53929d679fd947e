"""The emulator's request log: what each request looked like, with credentials masked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runspec._redact import is_sensitive_header, mask_header

__all__ = ["KEPT_BODY", "RecordedRequest", "endpoint_of", "is_secret", "mask_headers", "masked_form", "short_body"]

API_PATH = re.compile(r"/api/(?P<version>\d+\.\d+)/jobs/(?P<name>runs/[A-Za-z-]+)")
MASK = "****"
KEPT_BODY = 1024  # bytes of a refused request's body kept in the request log


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
    match = API_PATH.fullmatch(path)
    return match.group("name") if match else path


def is_secret(name: str) -> bool:
    """Whether a header or form field named ``name`` holds a credential (runspec's one rule for it)."""
    return is_sensitive_header(name)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credentials replaced by ``****`` (the scheme of Authorization stays)."""
    return {name: mask_header(name, value, MASK) for name, value in headers.items()}


def short_body(raw: bytes) -> str | None:
    """A refused body as the request log keeps it: its first kilobyte, and its size when cut."""
    if not raw:
        return None
    text = raw[:KEPT_BODY].decode("utf-8", errors="replace")
    return text if len(raw) <= KEPT_BODY else f"{text}... ({len(raw)} bytes)"


def masked_form(body: Any) -> Any:
    """A form body (OAuth) as the request log keeps it: secret fields masked."""
    if not isinstance(body, dict):
        return body
    return {k: MASK if is_secret(k) else v for k, v in body.items()}
