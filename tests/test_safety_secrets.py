"""
Secrets within reach: a token that cannot travel in a header is refused before anything is sent, a
token pasted where the host goes is not echoed, and no error keeps the token in its context.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runspec import ConfigError, RunSpec, submit
from runspec.cli import main
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
