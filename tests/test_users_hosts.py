"""
Host values as the Databricks SDK and CLI read them: a bare host name means ``https://`` in every
place a host is read (argument, ``--host``, ``DATABRICKS_HOST``, a ``~/.databrickscfg`` profile); a bare
loopback host is refused with both forms; a value that looks like a token is refused, masked, before
anything is looked up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runspec import HostError, NotebookTask, Run, RunSpec, prepare
from runspec.cli import main

BARE = "adb-123.4.azuredatabricks.net"
TOKEN = "dapi0123456789abcdef0123456789abcdef"


def spec() -> RunSpec:
    return Run("hosts").task(NotebookTask("/w/x"), existing_cluster_id="0101-abc").compile()


def test_bare_host_name_means_https_as_an_argument() -> None:
    request = prepare(spec(), host=BARE, token="t")
    assert request.url == f"https://{BARE}/api/2.2/jobs/runs/submit"


def test_bare_host_name_means_https_in_databricks_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", BARE + "/")
    monkeypatch.setenv("DATABRICKS_TOKEN", "t")
    assert prepare(spec()).url == f"https://{BARE}/api/2.2/jobs/runs/submit"


def test_bare_host_name_means_https_in_a_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "databrickscfg"
    config.write_text(f"[DEFAULT]\nhost = {BARE}\ntoken = t\n\n[dev]\nhost = {BARE}/?o=123#job/5\ntoken = t\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    assert prepare(spec()).url == f"https://{BARE}/api/2.2/jobs/runs/submit"
    assert prepare(spec(), profile="dev").url == f"https://{BARE}/api/2.2/jobs/runs/submit"


def test_bare_host_name_means_https_in_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "run.json"
    body.write_text(spec().to_json())
    monkeypatch.setenv("DATABRICKS_TOKEN", "t")
    assert main(["render", str(body), "--request", "--host", BARE]) == 0
    out, _ = capsys.readouterr()
    assert f"POST https://{BARE}/api/2.2/jobs/runs/submit" in out


def test_bare_loopback_host_is_refused_with_both_forms() -> None:
    with pytest.raises(HostError) as refused:
        prepare(spec(), host="127.0.0.1:8811", token="t")
    assert "http://127.0.0.1:8811" in str(refused.value)
    assert "https://127.0.0.1:8811" in str(refused.value)


def test_a_host_with_a_path_that_is_not_a_workspace_page_is_still_refused() -> None:
    with pytest.raises(HostError, match=f"write the host as https://{BARE}"):
        prepare(spec(), host=f"{BARE}/some/prefix", token="t")


@pytest.mark.parametrize(
    "value",
    [
        TOKEN,
        TOKEN + "-2",
        "0123456789abcdef0123456789abcdef",
        f"https://{TOKEN}",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx.sig",
    ],
)
def test_token_looking_host_is_refused_masked(value: str) -> None:
    with pytest.raises(HostError) as refused:
        prepare(spec(), host=value, token="t")
    message = str(refused.value)
    assert "looks like a token" in message
    secret = value.removeprefix("https://")
    assert secret not in message and secret[4:12] not in message


def test_token_looking_host_is_refused_masked_in_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "run.json"
    body.write_text(spec().to_json())
    monkeypatch.setenv("DATABRICKS_HOST", TOKEN)
    monkeypatch.setenv("DATABRICKS_TOKEN", "t")
    assert main(["submit", str(body)]) == 2
    out, err = capsys.readouterr()
    assert "DATABRICKS_HOST 'dapi...' (36 characters) looks like a token" in err
    assert TOKEN not in out + err and TOKEN[4:] not in out + err
