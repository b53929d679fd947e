"""
The OAuth token endpoint's answer is the access token itself: an answer runspec cannot use (JSON without
the fields, another format, an HTML page, an error) is described in errors, logs and command output, and
never quoted, so no minted token (nor the client secret) appears in any of them.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from runspec import ApiError, ConfigError, RunSpec, SubmitError
from runspec.cli import main
from runspec.client import Workspace
from runspec.client.credentials import clear_token_cache
from runspec.wire import MockTransport, Request, Response
from tests.wire_server import Reply, Seen, WireServer

MINTED = "Zq81opaqueMintedToken7781xx"  # opaque: no pattern of a known token shape finds it
SHORT = "q7Zx"  # too short to look like a token anywhere
SECRET = "sp-secret-value-1234"
BODY = {
    "run_name": "r",
    "tasks": [{"task_key": "t", "existing_cluster_id": "c", "notebook_task": {"notebook_path": "/n"}}],
}
HTML = f"<html><head><title>Sign in {MINTED}</title></head><body>{MINTED}</body></html>"

# (status, content type, body, what the error says instead of the body)
ANSWERS = {
    "json without access_token": (
        200,
        "application/json",
        json.dumps({"accessToken": MINTED, "token_type": "Bearer", "expires_in": 3600}),
        "answered without an access_token: it has expires_in, token_type and 1 other field",
    ),
    "json with a non-string access_token": (
        200,
        "application/json",
        json.dumps({"access_token": {"value": MINTED}}),
        "its access_token is not a string but dict",
    ),
    "json array": (200, "application/json", json.dumps([MINTED]), "its JSON is an array"),
    "form-encoded": (
        200,
        "application/x-www-form-urlencoded",
        f"access_token={MINTED}&token_type=Bearer&expires_in=3600",
        "not with JSON (application/x-www-form-urlencoded, 74 bytes, not shown: it may hold a token)",
    ),
    "plain text": (200, "text/plain", f"token: {MINTED}", "text/plain, 34 bytes, not shown"),
    "html page": (200, "text/html", HTML, "an HTML page titled 'Sign in <redacted>'"),
    "html error page": (403, "text/html", HTML, "403: an HTML page titled 'Sign in <redacted>'"),
    "text error": (400, "text/plain", f"bad request, token {MINTED}", "400: text/plain, 46 bytes, not shown"),
    "oauth error echoing": (
        400,
        "application/json",
        json.dumps({"error": "invalid_request", "error_description": f"got {MINTED}"}),
        "400: invalid_request: got <redacted>",
    ),
    "oauth error echoing a short token": (
        400,
        "application/json",
        json.dumps({"error": "invalid_grant", "access_token": SHORT, "error_description": f"not {SHORT} again"}),
        "400: invalid_grant: not <redacted> again",
    ),
    "databricks error echoing": (
        400,
        "application/json",
        json.dumps({"error_code": "INVALID_PARAMETER_VALUE", "message": f"token {MINTED} is odd"}),
        "400 INVALID_PARAMETER_VALUE: token <redacted> is odd",
    ),
}


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    clear_token_cache()
    yield
    clear_token_cache()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def leaks(text: str) -> bool:
    return any(secret in text for secret in (MINTED, SHORT, SECRET))


@pytest.mark.parametrize("case", list(ANSWERS))
def test_an_unusable_token_answer_is_described_never_quoted(case: str, caplog: pytest.LogCaptureFixture) -> None:
    status, kind, text, said = ANSWERS[case]
    api: list[Request] = []

    def handler(request: Request) -> Response:
        if "/oidc/v1/token" in request.url:
            return Response(status, {"Content-Type": kind}, text.encode())
        api.append(request)
        return Response.json(200, {"run_id": 1})

    clock = Clock()
    workspace = Workspace.resolve(
        "https://adb-1.azuredatabricks.net",
        client_id="sp-id",
        client_secret=SECRET,
        transport=MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
    )
    caplog.set_level(logging.DEBUG, logger="runspec")
    with pytest.raises((ConfigError, SubmitError)) as info:
        workspace.submit(RunSpec.from_dict(BODY))
    error = info.value
    shown = [str(error), repr(error), caplog.text, *map(str, getattr(error, "details", []) or [])]
    if isinstance(error, ApiError):
        shown.append(error.message)
    assert not any(leaks(text) for text in shown), shown
    assert said in str(error)
    assert api == []  # nothing went on with an answer that is not a token


def token_server(answer: tuple[int, str, str]) -> WireServer:
    status, kind, text = answer

    def reply(seen: Seen) -> Reply:
        if seen.path.startswith("/oidc/v1/token"):
            return Reply("answer", status, text.encode(), {"Content-Type": kind})
        return Reply.json(200, {"run_id": 7, "state": {"life_cycle_state": "RUNNING"}})

    return WireServer(reply)


@pytest.mark.parametrize("case", ["json without access_token", "plain text", "html page", "oauth error echoing"])
def test_the_command_line_shows_no_minted_token(case: str, tmp_path: Path) -> None:
    status, kind, text, said = ANSWERS[case]
    spec = tmp_path / "run.json"
    spec.write_text(json.dumps(BODY), encoding="utf-8")
    with token_server((status, kind, text)) as server:
        env = {
            "HOME": str(tmp_path),
            "DATABRICKS_HOST": server.url,
            "DATABRICKS_CLIENT_ID": "sp-id",
            "DATABRICKS_CLIENT_SECRET": SECRET,
        }
        for argv in (["submit", str(spec)], ["status", "7", "--json"], ["submit", str(spec), "-v"]):
            out, err = io.StringIO(), io.StringIO()
            code = main(argv, stdout=out, stderr=err, env=env)
            assert code == 3, (argv, out.getvalue(), err.getvalue())
            assert not leaks(out.getvalue() + err.getvalue()), (argv, out.getvalue(), err.getvalue())
            assert said.split(": ")[-1] in out.getvalue() + err.getvalue()
        assert all(seen.path.startswith("/oidc/") for seen in server.seen)


@pytest.mark.parametrize(
    ("minted", "said"),
    [(MINTED + "\u2019", "U+2019"), (MINTED + "\r\nX-Injected: 1", "line break"), (MINTED + "\x00", "U+0000")],
)
def test_a_minted_token_no_header_can_carry_is_refused_unshown(minted: str, said: str) -> None:
    with token_server((200, "application/json", json.dumps({"access_token": minted, "expires_in": 3600}))) as server:
        with pytest.raises(ConfigError) as info:
            Workspace.resolve(server.url, client_id="sp-id", client_secret=SECRET).submit(RunSpec.from_dict(BODY))
        assert said in str(info.value)
        assert "nothing was sent with it" in str(info.value)
        assert not leaks(str(info.value) + repr(info.value))
        assert [seen.path for seen in server.seen] == ["/oidc/v1/token"]


def test_an_auth_hook_header_no_request_can_carry_is_refused_unshown() -> None:
    with token_server((200, "application/json", "{}")) as server:
        workspace = Workspace.resolve(server.url, auth=lambda: {"Authorization": f"Bearer {MINTED}\u2019"})
        with pytest.raises(ConfigError) as info:
            workspace.submit(RunSpec.from_dict(BODY))
        assert "the Authorization header from the auth= hook holds" in str(info.value)
        assert not leaks(str(info.value) + repr(info.value))
        assert server.seen == []
