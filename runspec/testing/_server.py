"""
The HTTP side of the emulator: a threading loopback server that reads requests and hands them to a handler.

It knows nothing of the Jobs API: it turns each HTTP request into a ``Request`` value, calls the handler
it was given (``Emulator.handle``) and writes back the ``Response`` value it returns. What it does itself
is what a front end does before a service sees a request: it refuses bodies over the size limit before
reading them, requests whose length it cannot tell (a bad ``Content-Length``, chunked bodies), and drops
connections that stall. Every refusal is still passed to the handler (marked ``refusal``), so it is
logged and answered in the service's error shape.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import re
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from runspec.spec.limits import MAX_BODY_BYTES
from runspec.testing._http import ApiFailure, Request, Response

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["Handler", "Server"]

log = logging.getLogger("runspec.testing")


_KEPT_OF_REFUSED = 1024  # bytes of a refused body kept for the request log
_DRAIN_SECONDS = 1.0  # how long an unread body is drained after a refusal, so the client sees the answer

Handler = Callable[[Request], Response]
"""What the server calls for each request."""

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_DIGITS = re.compile("[0-9]{1,18}")


class _DeadlineReader(socket.SocketIO):
    """A socket's reading side that gives up at ``deadline`` (``time.monotonic()``), however slowly bytes come."""

    deadline = math.inf

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock, "rb")
        self._conn = sock

    def readinto(self, b: WriteableBuffer) -> int | None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        if not math.isinf(remaining):
            self._conn.settimeout(remaining)
        return super().readinto(b)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per response (flushed after each request) and no Nagle delay: headers and
    # body leave together, so keep-alive clients do not wait on delayed ACKs.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: Server
    server_version = "runspec-emulator"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.socket_timeout)
        # Each request must arrive whole (line, headers, body) within socket_timeout of the connection
        # being ready for it: a client trickling a byte at a time, or idling on a kept-alive connection,
        # is dropped then instead of holding a thread for ever.
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + self.server.socket_timeout
        super().handle_one_request()

    def handle_expect_100(self) -> bool:
        """A body the server would refuse is refused now, before the client is told to send it."""
        _, refusal = self._length()
        if refusal is None:
            super().handle_expect_100()
            self.wfile.flush()  # responses are buffered: the client waits for this line before it sends the body
            return True
        self._handle(refusal)
        return False

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s - %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the standard library detects (a bad request line, headers too long): the service's shape."""
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "Error"
        text = message or explain or reason
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # a request line too broken to name a version still gets headers
        self._send(Response.json(code, {"error_code": "BAD_REQUEST", "message": text}))

    def _handle(self, refused: ApiFailure | None = None) -> None:
        """Read the request, pass it to the handler and write its answer; ``refused``: refused unread."""
        split = urlsplit(self.path)
        try:
            params = parse_qs(split.query, keep_blank_values=True, errors="strict")
            query = {k: v[-1] for k, v in params.items()}
            refusal = None
        except UnicodeDecodeError:
            query, refusal = {}, ApiFailure(400, "MALFORMED_REQUEST", "The query string is not valid UTF-8.")
        body = b""
        if refused is not None:
            refusal = refused
        elif refusal is None:
            body, refusal = self._read_body()
        self._reader.deadline = math.inf  # the request is read: answering is not the client's time
        self.connection.settimeout(self.server.socket_timeout)
        request = Request(
            method=self.command,
            path=split.path,
            query=MappingProxyType(query),
            headers=MappingProxyType(dict(self.headers.items())),
            body=body,
            refusal=refusal,
        )
        try:
            response = self.server.handler(request)
        except Exception as exc:  # a bug in the emulator (or a user's script): answer like a 500
            log.error("runspec emulator failed on %s %s:\n%s", self.command, split.path, traceback.format_exc())
            response = Response.json(500, {"error_code": "INTERNAL_ERROR", "message": repr(exc)})
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if refusal is not None:
            self.close_connection = True  # the body (if any) was not read: the connection cannot go on
        self._send(response)
        if refusal is not None:
            self._drain()

    def _length(self) -> tuple[int, ApiFailure | None]:
        """The body's length from the headers, or why the body is refused without reading it."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return 0, ApiFailure(
                411,
                "BAD_REQUEST",
                "Chunked request bodies are not accepted: send the body with a Content-Length header.",
            )
        text = self.headers.get("Content-Length")
        if text is None:
            return 0, None
        if _DIGITS.fullmatch(text.strip(" \t")) is None:  # ASCII digits only: "²".isdigit() is true
            return 0, ApiFailure(400, "BAD_REQUEST", f"Content-Length must be a number of bytes, got {text[:40]!r}.")
        length = int(text)
        if length > MAX_BODY_BYTES:
            return length, ApiFailure(
                413,
                "BAD_REQUEST",
                f"The request body is {length} bytes; the Jobs API takes at most {MAX_BODY_BYTES} bytes (10 MB).",
            )
        return length, None

    def _read_body(self) -> tuple[bytes, ApiFailure | None]:
        """The body, or as much of it as is kept with the reason it was refused."""
        length, refusal = self._length()
        if refusal is not None:
            if refusal.status != 413:
                return b"", refusal
            try:
                kept = self.rfile.read(min(length, _KEPT_OF_REFUSED))
            except OSError:
                kept = b""
            return kept, refusal
        try:
            data = self.rfile.read(length) if length > 0 else b""
        except (TimeoutError, OSError):
            data = b""
        if len(data) < length:
            return data, ApiFailure(400, "BAD_REQUEST", f"The body ended after {len(data)} of {length} bytes.")
        return data, None

    def _drain(self) -> None:
        """Read and discard what the client still sends for a short while, so it reads the refusal."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.2)
            until = time.monotonic() + _DRAIN_SECONDS
            while time.monotonic() < until and self.connection.recv(65536):
                pass

    def _send(self, response: Response) -> None:
        headers = dict(response.headers)
        content_type = headers.pop("Content-Type", "application/json")
        self.connection.settimeout(self.server.socket_timeout)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    """
    A threading HTTP server on ``address`` that hands every request to ``handler``.

    ``backlog`` sizes the listen queue (128: a test suite opening many connections at once gets no
    resets); ``socket_timeout`` drops a client whose request has not arrived whole that many seconds after
    the connection was ready for it (an idle kept-alive connection included). An IPv6 host
    (``"::1"``) is served over IPv6; a host beyond loopback is served with a warning, since the emulator
    accepts runs from anyone who can reach it.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: Handler,
        *,
        backlog: int = 128,
        socket_timeout: float = 30.0,
    ) -> None:
        self.handler = handler
        self.request_queue_size = backlog
        self.socket_timeout = socket_timeout
        host = address[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        if host not in _LOOPBACK:
            warnings.warn(
                f"the runspec emulator is listening on {host}, beyond loopback: "
                "anyone who can reach it can submit runs",
                RuntimeWarning,
                stacklevel=3,
            )
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """
        A client that goes away (killed, reset, timed out) ends its connection quietly, logged at debug
        level; anything else is a fault in the emulator and still prints its traceback.
        """
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("connection from %s ended: %r", client_address, error)
            return
        super().handle_error(request, client_address)

    def url_host(self) -> str:
        """The host part of the server's URL (IPv6 addresses in brackets)."""
        host = str(self.server_address[0])
        return f"[{host}]" if ":" in host else host
