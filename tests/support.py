"""
Helpers shared by the test modules.

* ``run_cli``: the ``runspec`` command run in-process through ``runspec.cli.main``.
* ``FakeClock``: a clock the client sleeps on without waiting.
* ``in_process(transport)``: a URL whose requests the suite's default transport hands to ``transport``
  (an ``Emulator.transport()``, a ``Tap``) without a socket, for the tests that give a host by name,
  environment or profile; ``Tap``: the emulator through a ``MockTransport``, recording the requests as
  sent and giving the few one-off answers a test needs that the emulator does not give.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import socket
import subprocess
import sys
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from runspec import wire
from runspec.cli import main
from runspec.testing import Emulator
from runspec.testing import Request as EmulatorRequest
from runspec.testing._log import endpoint_of


def run_cli(
    args: Sequence[str], *, env: Mapping[str, str], stdin: str = "", cwd: Path
) -> subprocess.CompletedProcess[str]:
    """
    ``runspec ARGS`` through ``runspec.cli.main`` in this process, in ``cwd`` with environment ``env``;
    the exit code and both outputs, as ``subprocess.run`` gives them. Modules the command imported from
    ``cwd`` (a ``module:attribute`` SPEC) are forgotten afterwards, so the next test imports its own.
    """
    out, err = io.StringIO(), io.StringIO()
    modules, path, before = set(sys.modules), list(sys.path), os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args), stdin=io.StringIO(stdin), stdout=out, stderr=err, env=dict(env))
    finally:
        os.chdir(before)
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            where = getattr(sys.modules[name], "__file__", None) or ""
            if where.startswith(str(cwd)):
                del sys.modules[name]
    return subprocess.CompletedProcess(["runspec", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """
    A loopback port that refuses connections for as long as the block lasts: bound, never listening.

    Holding the socket keeps the port from anyone else (a port found free and closed again can be taken by
    a server of a test running beside this one, and then a connection there is answered, not refused).
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


class FakeClock:
    """A monotonic clock that moves only when the client sleeps on it (``sleeps`` records each wait)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


#: Transports answering in-process, by the URL a test gives as its host: the tests' default transport
#: hands them the requests to that URL (tests/conftest.py), so a host given by name, environment or
#: profile (the CLI, ``RunHandle.attach(run_id)``) reaches the emulator without a socket.
IN_PROCESS: dict[str, wire.Transport] = {}
_NUMBERS = itertools.count(1)


def in_process(transport: wire.Transport) -> str:
    """A URL of its own for ``transport`` (``http://workspace-N.localhost``); ``forget(url)`` drops it."""
    url = f"http://workspace-{next(_NUMBERS)}.localhost"
    IN_PROCESS[url] = transport
    return url


def forget(url: str) -> None:
    IN_PROCESS.pop(url, None)


def routed(url: str) -> wire.Transport | None:
    """The in-process transport ``url`` (a full request URL) belongs to, if any."""
    parts = urllib.parse.urlsplit(url)
    return IN_PROCESS.get(f"{parts.scheme}://{parts.netloc}")


def endpoint(url: str) -> str:
    """``"runs/get"`` for ``.../api/2.2/jobs/runs/get?run_id=1``; the path for anything else."""
    return endpoint_of(urllib.parse.urlsplit(url).path)


def call(emulator: Emulator, method: str, name: str, body: Any = None, **query: Any) -> Any:
    """One Jobs API request (``"runs/delete"``) to ``emulator``, answered in-process; its JSON answer."""
    answer = emulator.handle(
        EmulatorRequest(
            method,
            f"/api/2.2/jobs/{name}",
            query={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()},
            headers={"Authorization": f"Bearer {emulator.token or 'any-token'}"},
            body=json.dumps(body).encode() if body is not None else b"",
        )
    )
    assert answer.status == 200, answer.body
    return json.loads(answer.body)


Answer = Callable[[wire.Request], wire.Response]


class Tap(wire.MockTransport):
    """
    The emulator in-process (``Emulator.transport()``) seen through a ``MockTransport``: ``sent`` keeps
    every request as the client sent it (headers unmasked, which the emulator's request log masks), and
    ``answer(endpoint, ...)`` queues one-off answers the emulator does not give (a body that is not JSON,
    a redirect, a page token that repeats): each is a response or a function of the request, and
    ``forward(request)`` is the emulator's own answer to build one from.
    """

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(self._answer)
        self.emulator = emulator
        self.inner = emulator.transport()
        self.host = self.inner.host
        self.sent: list[wire.Request] = []
        self._limits: tuple[tuple[float, float], float] = ((10.0, 60.0), 60.0)
        self._queued: dict[tuple[str | None, str], deque[wire.Response | Answer]] = defaultdict(deque)

    def answer(self, endpoint: str, *answers: wire.Response | Answer, method: str | None = None) -> None:
        """The next requests to ``endpoint`` (``"runs/get"`` or a path) get ``answers``, in turn."""
        self._queued[(method, endpoint)].extend(answers)

    def send(self, request: wire.Request, *, timeout: tuple[float, float], deadline: float) -> wire.Response:
        self._limits = (timeout, deadline)  # the client's, for the emulator (an injected delay)
        return super().send(request, timeout=timeout, deadline=deadline)

    def change(
        self, endpoint: str, change: Callable[[Any], None], *, times: int = 1, method: str | None = None
    ) -> None:
        """The next ``times`` answers to ``endpoint`` are the emulator's, with ``change(json)`` applied."""

        def changed(request: wire.Request) -> wire.Response:
            answer = self.forward(request)
            payload = json.loads(answer.body)
            change(payload)
            return wire.Response.json(answer.status, payload)

        self.answer(endpoint, *[changed] * times, method=method)

    def forward(self, request: wire.Request) -> wire.Response:
        """The emulator's answer to ``request``."""
        timeout, deadline = self._limits
        return self.inner.send(request, timeout=timeout, deadline=deadline)

    def calls(self, name: str) -> list[wire.Request]:
        """The requests sent to ``name`` (``"runs/get"`` or a path), as sent."""
        return [r for r in self.sent if endpoint(r.url) == name]

    def _answer(self, request: wire.Request) -> wire.Response:
        self.sent.append(request)
        name = endpoint(request.url)
        for key in ((request.method, name), (None, name)):
            queue = self._queued.get(key)
            if queue:
                answer = queue.popleft()
                return answer(request) if callable(answer) else answer
        return self.forward(request)


DATABRICKS_VARS = (
    "DATABRICKS_HOST",
    "DATABRICKS_TOKEN",
    "DATABRICKS_CLIENT_ID",
    "DATABRICKS_CLIENT_SECRET",
    "DATABRICKS_CONFIG_PROFILE",
    "DATABRICKS_CONFIG_FILE",
    "DATABRICKS_AUTH_TYPE",
    "DATABRICKS_WORKSPACE_ID",
)
