"""
``Emulator.transport()``: the emulator as a transport of the client's seam, answering in-process.

The client hands a ``runspec.wire.Request`` to ``send()``; it becomes the emulator's own ``Request``
(path and query split from the URL, as its HTTP server does) and ``Emulator.handle`` answers it in the
calling thread: no socket, no thread. An injected dropped connection raises ``SendFailed`` as a lost
connection would; a body over the API's limit gets the server's 413. An injected delay waits in the
calling thread, up to the client's read timeout and deadline as over HTTP: a longer delay ends there
with the ``SendFailed`` of a read timeout (the request still takes effect, as on a server that answers
late).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from urllib.parse import parse_qs, urlsplit

from runspec.spec.limits import MAX_BODY_BYTES
from runspec.testing._http import ApiFailure, Request, Response
from runspec.wire import Request as WireRequest
from runspec.wire import Response as WireResponse
from runspec.wire import SendFailed

__all__ = ["IN_PROCESS_URL", "EmulatorTransport"]

#: The host a client of an emulator that is not serving over HTTP uses (loopback, so plain http is allowed).
IN_PROCESS_URL = "http://emulator.localhost"


class EmulatorTransport:
    """
    A transport that calls ``handle`` (``Emulator.handle``) with each request, in the calling thread.

    ``host`` is the URL a client gives as its workspace host: ``Workspace.resolve(transport=...)``
    takes it when no host is given.
    """

    def __init__(self, handle: Callable[[Request], Response], host: str) -> None:
        self._handle = handle
        self.host = host

    def __repr__(self) -> str:
        return f"EmulatorTransport(host={self.host!r})"

    def send(self, request: WireRequest, *, timeout: tuple[float, float], deadline: float) -> WireResponse:
        split = urlsplit(request.url)
        refusal: ApiFailure | None = None
        try:
            params = parse_qs(split.query, keep_blank_values=True, errors="strict")
            query = {k: v[-1] for k, v in params.items()}
        except UnicodeDecodeError:
            query, refusal = {}, ApiFailure(400, "MALFORMED_REQUEST", "The query string is not valid UTF-8.")
        body = request.body
        if refusal is None and len(body) > MAX_BODY_BYTES:
            refusal = ApiFailure(
                413,
                "BAD_REQUEST",
                f"The request body is {len(body)} bytes; the Jobs API takes at most {MAX_BODY_BYTES} bytes (10 MB).",
            )
        headers = dict(request.headers)
        if body:
            headers.setdefault("Content-Length", str(len(body)))
        answer = self._handle(
            Request(
                method=request.method,
                path=split.path or "/",
                query=MappingProxyType(query),
                headers=MappingProxyType(headers),
                body=body,
                refusal=refusal,
                patience=max(0.0, min(timeout[1], deadline)),
            )
        )
        if answer.late:
            raise SendFailed("the workspace did not answer in time", sent=True)
        if answer.drop:
            raise SendFailed("the connection was lost before the answer came", sent=True)
        return WireResponse(answer.status, dict(answer.headers), answer.body, "")
