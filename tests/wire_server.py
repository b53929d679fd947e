"""
Misbehaving servers on loopback, for tests where the fault is on the wire.

``WireServer`` reads each request whole and answers it with a ``Reply``; ``RawServer`` hands each raw
connection to a function, for answers no HTTP server would send (never answering, trickling a body or a
status line, a proxy that records what passes through it).

Each request is read whole (request line, headers, a ``Content-Length`` body), recorded in ``seen``, and
answered by the ``Reply`` the server's ``answer`` function picks for it: a normal JSON answer, a
redirect, an answer cut off inside its headers, headers trickled a byte at a time, or a closed
connection. The server is plain sockets, so what a client sees is exactly what was sent.

    with WireServer(lambda seen: Reply.json(200, {"run_id": 1})) as server:
        submit(spec, host=server.url, token="t")
        assert server.seen[0].path == "/api/2.2/jobs/runs/submit"
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = [
    "RawServer",
    "Reply",
    "Seen",
    "WireServer",
    "recording_proxy",
    "silent_server",
    "trickling_head_server",
    "trickling_server",
    "unreachable_url",
]


@dataclass(frozen=True)
class Seen:
    """One request as the server read it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Reply:
    """What the server does with a request."""

    kind: str  # "answer", "cut", "trickle", "close"
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # "trickle": seconds between header bytes

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(
            "answer", status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}
        )

    @classmethod
    def redirect(cls, location: str, status: int = 307) -> Reply:
        return cls("answer", status, b"", {"Location": location})

    @classmethod
    def cut(cls, status: int = 200) -> Reply:
        """The status line and part of the headers, then the connection is closed."""
        return cls("cut", status)

    @classmethod
    def trickle(cls, status: int, payload: Any, delay: float = 1.0) -> Reply:
        """A JSON answer whose status line and headers come one byte every ``delay`` seconds."""
        return cls("trickle", status, json.dumps(payload).encode(), {"Content-Type": "application/json"}, delay)

    @classmethod
    def close(cls) -> Reply:
        """Close the connection without answering."""
        return cls("close")


Answer = Callable[[Seen], Reply]


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)
            self.server.handlers.add(threading.current_thread())

    def handle(self) -> None:
        while not self.server.stopping.is_set():
            seen = self._read()
            if seen is None:
                return
            self.server.owner.seen.append(seen)
            reply = self.server.owner.answer(seen)
            if not self._send(reply):
                return

    def _read(self) -> Seen | None:
        try:
            line = self.rfile.readline(65537)
            if not line.strip():
                return None
            method, path, _ = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                raw = self.rfile.readline(65537)
                if raw in (b"\r\n", b"\n", b""):
                    break
                name, _, value = raw.decode("latin-1").partition(":")
                headers[name.strip()] = value.strip()
            length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
            body = self.rfile.read(length) if length else b""
        except (OSError, ValueError):
            return None
        return Seen(method, path, headers, body)

    def _send(self, reply: Reply) -> bool:
        """Write ``reply``; whether the connection can carry another request."""
        if reply.kind == "close":
            return False
        head = [f"HTTP/1.1 {reply.status} {'OK' if reply.status < 400 else 'Error'}"]
        head += [f"{k}: {v}" for k, v in reply.headers.items()]
        head.append(f"Content-Length: {len(reply.body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        try:
            if reply.kind == "cut":
                self.wfile.write(head[0].encode("latin-1") + b"\r\nContent-Type: appl")
                self.wfile.flush()
                return False
            if reply.kind == "trickle":
                for byte in data:
                    if self.server.stopping.wait(reply.delay):
                        return False
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                self.wfile.write(reply.body)
                self.wfile.flush()
                return True
            self.wfile.write(data + reply.body)
            self.wfile.flush()
        except OSError:
            return False
        return True


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: WireServer) -> None:
        self.owner = owner
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.handlers: set[threading.Thread] = set()
        super().__init__(("127.0.0.1", 0), _Handler)


class WireServer:
    """A loopback HTTP server answering each request with ``answer(seen)``; a context manager."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> WireServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        server = self._server
        server.stopping.set()
        server.shutdown()
        server.server_close()
        self._thread.join(timeout=5)
        # Every connection is closed and every thread has ended when the block is left, so no test
        # that follows sees a thread of this one end.
        with server.lock:
            connections, handlers = list(server.connections), list(server.handlers)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in handlers:
            thread.join(timeout=5)

    def paths(self) -> list[str]:
        return [s.path.split("?", 1)[0] for s in self.seen]


def unreachable_url() -> str:
    """A loopback URL nothing listens on (a port that was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    time.sleep(0)
    return f"http://127.0.0.1:{port}"


# -- raw sockets: servers that answer in ways no HTTP server library would ------------------------------


class RawServer:
    """
    A TCP server on 127.0.0.1 whose every connection is handed to ``serve(conn)`` in a thread:
    the building block of the misbehaving servers below. ``connections`` counts accepted ones.
    """

    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self._serve = serve
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.received: list[bytes] = []
        self._open: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self._serve(conn)

    def read_request(self, conn: socket.socket) -> bytes:
        """Read one request's head (and nothing more); record it."""
        data = b""
        conn.settimeout(5)
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        self.received.append(data)
        return data

    def close(self) -> None:
        self._closed.set()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()
        with contextlib.suppress(OSError):
            self._sock.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def silent_server() -> RawServer:
    """Accepts connections, reads the request, and never answers."""

    def serve(conn: socket.socket) -> None:
        server.read_request(conn)
        server._closed.wait(60)

    server = RawServer(serve)
    return server


def trickling_server(interval: float = 0.2, size: int = 10_000) -> RawServer:
    """Answers 200 at once, then sends its JSON body one byte every ``interval`` seconds."""

    def serve(conn: socket.socket) -> None:
        server.read_request(conn)
        body = json.dumps({"run_id": 1, "pad": "x" * size}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        conn.sendall(head.encode())
        for byte in body:
            if server._closed.wait(interval):
                return
            conn.sendall(bytes([byte]))

    server = RawServer(serve)
    return server


def recording_proxy() -> RawServer:
    """A proxy that records every request sent through it and answers 502."""

    def serve(conn: socket.socket) -> None:
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    server = RawServer(serve)
    return server


def trickling_head_server(interval: float, limit: int = 40) -> RawServer:
    """Sends its status line and then a header one byte every ``interval`` seconds (``limit`` bytes at most)."""

    def serve(conn: socket.socket) -> None:
        server.read_request(conn)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"x" * 1000
        for byte in head[:limit]:
            if server._closed.wait(interval):
                return
            conn.sendall(bytes([byte]))
        server._closed.wait(30)

    server = RawServer(serve)
    return server
