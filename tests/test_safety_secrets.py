"""
Secrets within reach: a token that cannot travel in a header is refused before anything is sent, a
token pasted where the host goes is not echoed, and no error keeps the token in its context.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from runspec import ConfigError, RunHandle, RunSpec, prepare, submit
from runspec.cli import main
from runspec.client import Workspace
from tests.wire_server import Reply, Seen, WireServer

BODY = {
    "run_name": "r",
    "tasks": [{"task_key": "t", "existing_cluster_id": "c", "notebook_task": {"notebook_path": "/n"}}],
}


def workspace(seen: Seen) -> Reply:
    return Reply.json(200, {"run_id": 5})


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer(workspace) as running:
        yield running


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ("dapi\u2019abc", "U+2019"),  # a pasted typographic quote
        ("dapi\r\nX-Injected: 1", "line break"),
        ("dapi\x00abc", "control character"),
    ],
)
def test_a_token_headers_cannot_carry_is_a_config_error_and_nothing_is_sent(
    token: str, said: str, server: WireServer
) -> None:
    with pytest.raises(ConfigError) as info:
        submit(RunSpec.from_dict(BODY), host=server.url, token=token)
    assert said in str(info.value)
    assert "nothing was sent" in str(info.value)
    assert token not in str(info.value)
    assert server.seen == []


def test_the_cli_says_so_in_one_line(
    server: WireServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "run.json"
    spec.write_text(RunSpec.from_dict(BODY).to_json(), encoding="utf-8")
    monkeypatch.setenv("DATABRICKS_HOST", server.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi\u2019abc")
    monkeypatch.delenv("DATABRICKS_CONFIG_PROFILE", raising=False)
    assert main(["submit", str(spec)]) == 3
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "U+2019" in err, err
    assert "Traceback" not in out + err
    assert server.seen == []


def test_a_token_pasted_into_the_host_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token = "dapi0123456789abcdef0123456789abcdef"
    spec = tmp_path / "run.json"
    spec.write_text(RunSpec.from_dict(BODY).to_json(), encoding="utf-8")
    monkeypatch.setenv("DATABRICKS_HOST", token)
    monkeypatch.setenv("DATABRICKS_TOKEN", "t")
    code = main(["submit", str(spec)])
    out, err = capsys.readouterr()
    assert code != 0
    assert token not in out + err
    assert "DATABRICKS_HOST" in err


# -- pickles hold no credentials ---------------------------------------------------------------------

SECRET_TOKEN = "dapi-pickle-8e21f0"
CLIENT_SECRET = "oauth-pickle-secret-77"


def runs_workspace(seen: Seen) -> Reply:
    if seen.path.startswith("/api/2.2/jobs/runs/submit"):
        return Reply.json(200, {"run_id": 31})
    return Reply.json(
        200,
        {
            "run_id": 31,
            "run_name": "r",
            "state": {"life_cycle_state": "RUNNING"},
            "tasks": [{"task_key": "t", "run_id": 32, "state": {"life_cycle_state": "RUNNING"}}],
        },
    )


@pytest.fixture
def runs_server() -> Iterator[WireServer]:
    with WireServer(runs_workspace) as running:
        yield running


def test_a_workspace_pickles_without_credentials_and_never_reads_them_from_its_new_environment(
    runs_server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = Workspace.resolve(host=runs_server.url, token=SECRET_TOKEN)
    data = pickle.dumps(workspace)
    assert SECRET_TOKEN.encode() not in data
    monkeypatch.setenv("DATABRICKS_TOKEN", "from-the-new-environment")
    back = pickle.loads(data)
    assert back.host == workspace.host
    with pytest.raises(ConfigError, match="unpickled"):
        back.submit(RunSpec.from_dict(BODY))
    assert runs_server.seen == []
    handle = back.with_credentials(token=SECRET_TOKEN).submit(RunSpec.from_dict(BODY))
    assert handle.run_id == 31
    assert [s.header("Authorization") for s in runs_server.seen] == [f"Bearer {SECRET_TOKEN}"]


def test_oauth_credentials_stay_out_of_a_pickle(runs_server: WireServer) -> None:
    workspace = Workspace.resolve(host=runs_server.url, client_id="sp", client_secret=CLIENT_SECRET)
    assert CLIENT_SECRET.encode() not in pickle.dumps(workspace)


def test_a_run_handle_pickles_without_credentials_and_is_attached_again_to_send(runs_server: WireServer) -> None:
    handle = submit(RunSpec.from_dict(BODY), host=runs_server.url, token=SECRET_TOKEN)
    data = pickle.dumps(handle)
    assert SECRET_TOKEN.encode() not in data
    back = pickle.loads(data)
    assert (back.run_id, back.host, back.idempotency_token) == (handle.run_id, handle.host, handle.idempotency_token)
    before = len(runs_server.seen)
    with pytest.raises(ConfigError, match="unpickled"):
        back.get()
    assert len(runs_server.seen) == before
    again = RunHandle.attach(back.run_id, workspace=Workspace.resolve(host=back.host, token=SECRET_TOKEN))
    assert again.get().run_id == 31


def test_a_prepared_request_pickles_without_its_authorization_header(runs_server: WireServer) -> None:
    request = prepare(RunSpec.from_dict(BODY), host=runs_server.url, token=SECRET_TOKEN)
    data = pickle.dumps(request)
    assert SECRET_TOKEN.encode() not in data
    back = pickle.loads(data)
    assert back.idempotency_token == request.idempotency_token
    with pytest.raises(ConfigError, match="unpickled"):
        back.send()
    assert runs_server.seen == []
    back.headers["Authorization"] = f"Bearer {SECRET_TOKEN}"
    assert back.send().run_id == 31
    sent = runs_server.seen[0]
    assert sent.header("Authorization") == f"Bearer {SECRET_TOKEN}"
    assert sent.json()["idempotency_token"] == request.idempotency_token
