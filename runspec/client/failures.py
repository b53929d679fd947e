"""
What went wrong with a request sent with ``requests``, in words: a connection that could not be
opened at all (nothing was sent), a timeout, a connection lost before the answer came.
"""

from __future__ import annotations

import socket

import requests

__all__ = ["connect_failure", "timeout_words", "transient"]


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (``reason``, ``__cause__``, ``__context__``, args)."""
    found: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(found) < 20:
        current = todo.pop(0)
        if current in found:
            continue
        found.append(current)
        for nxt in (getattr(current, "reason", None), current.__cause__, current.__context__, *current.args):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return found


def connect_failure(exc: requests.RequestException) -> tuple[str, str] | None:
    """
    What went wrong when a connection could not be opened at all (so nothing was sent): a stable
    word (``tls``, ``dns``, ``refused``, ``timeout``, ``no-route``, ``connect``; ``SendFailed.cause``)
    and the same in words. ``None`` when the request may have reached the server.
    """
    chain = _causes(exc)
    names = {type(c).__name__ for c in chain}
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            "tls",
            "the TLS handshake failed (is it a plain http:// server? For a private CA, pass session= "
            "a requests.Session whose verify= is the CA bundle)",
        )
    if "NameResolutionError" in names or any(isinstance(c, socket.gaierror) for c in chain):
        return "dns", "the host name does not resolve (DNS)"
    if any(isinstance(c, ConnectionRefusedError) for c in chain):
        return "refused", "the connection was refused (nothing listens on that port)"
    if isinstance(exc, requests.ConnectTimeout):
        return "timeout", "connecting timed out (no route to the host, or a firewall drops the connection)"
    if any(isinstance(c, OSError) and c.errno in (101, 113, 65, 51) for c in chain):
        return "no-route", "there is no route to the host"
    if "NewConnectionError" in names:
        return "connect", "the connection could not be opened"
    return None


def transient(exc: requests.RequestException) -> bool:
    """Worth another try: connection failures and timeouts, but not a failed TLS check."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError))


def timeout_words(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "the workspace did not answer in time"
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return "the connection was lost before the answer came"
    return "the request failed"
