"""
The values the emulator and its HTTP server exchange: a request, a response, an API error.

The server turns bytes on a socket into a ``Request``, hands it to a handler (``Emulator.handle``) and
writes the ``Response`` it gets back; neither side knows the other's insides, as with httpx's
``MockTransport`` and its handler. An ``ApiFailure`` is the Jobs API's error answer, raised anywhere
below the handler and turned into a response in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["ApiFailure", "Request", "Response", "error_response", "invalid"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Request:
    """
    One HTTP request as the server read it.

    ``query`` holds the last value of each query parameter; ``headers`` the headers as sent (the server
    does not mask them: the handler does, before logging). ``body`` is the raw body, possibly cut short:
    when ``refusal`` is set, the server refused to read the body (too large, a bad ``Content-Length``,
    chunked) and the handler must answer with that error. ``patience`` is how many seconds the client
    waits for the answer, when the caller knows it (the in-process transport: the client's read timeout
    and deadline): an injected delay longer than that is cut there and the answer is lost, as a client
    that stops waiting loses it over HTTP; ``None`` waits out every delay.
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    body: bytes = b""
    refusal: ApiFailure | None = None
    patience: float | None = None

    def header(self, name: str, default: str = "") -> str:
        """The value of header ``name`` (case-insensitive), or ``default``."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)


@dataclass(frozen=True)
class Response:
    """
    What the server sends: ``status``, ``body`` bytes and ``headers`` (``Content-Type`` included).

    ``drop=True`` closes the connection without an answer (an injected lost connection); ``late=True``
    says the answer came after the client's ``patience`` ran out (an injected delay), so it is lost too.
    """

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    late: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        """A JSON response."""
        data = json.dumps(payload).encode("utf-8")
        return cls(status, data, {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        """An HTML page."""
        return cls(status, text.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})


class ApiFailure(Exception):
    """An error answer: HTTP status, Databricks ``error_code`` and ``message``."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        *,
        oauth: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.details = details
        self.oauth = oauth

    def body(self) -> dict[str, Any]:
        """The error as a workspace sends it (OAuth endpoints use the OAuth error shape)."""
        if self.oauth:
            return {"error": self.error_code, "error_description": self.message}
        out: dict[str, Any] = {"error_code": self.error_code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


def invalid(message: str) -> ApiFailure:
    """A 400 ``INVALID_PARAMETER_VALUE``, the workspace's answer to most bad requests."""
    return ApiFailure(400, "INVALID_PARAMETER_VALUE", message)


def malformed(message: str = "Invalid JSON given in the body of the request - expected a map") -> ApiFailure:
    """A 400 ``MALFORMED_REQUEST``: a body the service cannot read."""
    return ApiFailure(400, "MALFORMED_REQUEST", message)


def error_response(failure: ApiFailure, headers: Mapping[str, str] | None = None) -> Response:
    """``failure`` as a response in the service's error shape."""
    return Response.json(failure.status, failure.body(), headers)
