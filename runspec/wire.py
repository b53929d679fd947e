"""
The transport seam: what the client sends and what it gets back, as plain values.

A transport is anything with ``send(request, *, timeout, deadline) -> Response``. The client wraps
every transport in the same policy (retries, redirects, redaction, errors that say what happened),
so a transport does one exchange and nothing more:

* ``request`` is a ``Request``: ``method``, full ``url``, ``headers`` and ``body`` bytes;
* ``timeout`` is ``(connect, read)`` seconds for one socket operation, ``deadline`` the seconds the
  whole exchange may take (connecting, the status line, headers and body all count);
* it returns a ``Response`` (``status``, ``headers``, ``body`` bytes) for any status, redirects
  included (the client follows them);
* when no answer came it raises ``SendFailed``, saying whether the request may have reached the
  server (``sent``) and whether trying again can help (``retryable``).

``MockTransport(handler)`` turns a function ``handler(request) -> Response`` into a transport (as
httpx's ``MockTransport``); ``runspec.testing.Emulator.transport()`` is one that answers from the
emulator in-process. The default transport (``runspec.client.transport.RequestsTransport``) uses
``requests``. This module imports neither ``requests`` nor the client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

__all__ = ["MockTransport", "Request", "Response", "SendFailed", "Transport"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


def _header(headers: Mapping[str, str], name: str, default: str | None) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), default)


@dataclass(frozen=True)
class Request:
    """One HTTP request: ``method``, full ``url`` (with its query), ``headers`` and ``body`` bytes."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``default``."""
        return _header(self.headers, name, default)

    def __repr__(self) -> str:  # headers hold credentials: never shown
        return f"Request(method={self.method!r}, url={self.url!r}, body=<{len(self.body)} bytes>)"


@dataclass(frozen=True)
class Response:
    """One HTTP answer: ``status``, ``headers``, ``body`` bytes and the status line's ``reason``."""

    status: int
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    body: bytes = b""
    reason: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``default``."""
        return _header(self.headers, name, default)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        """A JSON answer."""
        data = json.dumps(payload).encode("utf-8")
        return cls(status, {"Content-Type": "application/json", **(headers or {})}, data)


class SendFailed(Exception):
    """
    No answer came. ``reason`` says why in words; ``sent`` is False only when the request surely
    did not reach the server (the connection could not be opened); ``retryable`` is False when
    trying again cannot help (a failed TLS check, say). ``cause`` says what failed to connect as a
    stable word (``tls``, ``dns``, ``refused``, ``timeout``, ``no-route``, ``connect``), when known;
    it becomes ``WorkspaceUnreachable.cause``.
    """

    def __init__(self, reason: str, *, sent: bool, retryable: bool = True, cause: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.retryable = retryable
        self.cause = cause


@runtime_checkable
class Transport(Protocol):
    """Anything that does one HTTP exchange (see the module documentation)."""

    def send(self, request: Request, *, timeout: tuple[float, float], deadline: float) -> Response: ...


class MockTransport:
    """A transport that answers with ``handler(request)``: no socket, no thread."""

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        self.handler = handler

    def send(self, request: Request, *, timeout: tuple[float, float], deadline: float) -> Response:
        return self.handler(request)

    def __repr__(self) -> str:
        return f"MockTransport({getattr(self.handler, '__qualname__', self.handler)!r})"
