"""
Credentials read from a profile go only to that profile's host.

Two real servers on loopback: ``prod``'s workspace (the profile's host) and another one, named by an
argument, a flag or the environment. Over every combination of where the host is set, how the profile
is chosen and which credentials the profile holds, no request carries prod's token or client secret
to anything but prod's host; where the host set elsewhere would have received them, the call is a
``ConfigError`` naming both sources (exit 3 with one line from the command).
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from runspec import ConfigError, RunSpec, submit
from runspec.cli import main
from tests.wire_server import Reply, Seen, WireServer

PROD_TOKEN = "dapi-prod-7f3e1c0a"
PROD_SECRET = "prod-oauth-secret-9b2d"
BODY = {
    "run_name": "r",
    "tasks": [{"task_key": "t", "existing_cluster_id": "c", "notebook_task": {"notebook_path": "/n"}}],
}


def workspace(seen: Seen) -> Reply:
    if seen.path.startswith("/oidc/v1/token"):
        return Reply.json(200, {"access_token": "short-lived", "token_type": "Bearer", "expires_in": 3600})
    if seen.path.startswith("/api/2.2/jobs/runs/submit"):
        return Reply.json(200, {"run_id": 77})
    return Reply.json(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "no"})


@pytest.fixture
def servers() -> Iterator[tuple[WireServer, WireServer]]:
    with WireServer(workspace) as prod, WireServer(workspace) as other:
        yield prod, other


def carries_secret(seen: Seen) -> bool:
    texts = [seen.body.decode("latin-1"), *seen.headers.values()]
    for value in seen.headers.values():
        scheme, _, rest = value.partition(" ")
        if scheme.lower() == "basic":
            texts.append(base64.b64decode(rest).decode("latin-1", "replace"))
    return any(PROD_TOKEN in t or PROD_SECRET in t for t in texts)


def write_profile(tmp_path: Path, prod_url: str, credentials: str) -> Path:
    lines = ["[prod]", f"host = {prod_url}"]
    if credentials == "pat":
        lines.append(f"token = {PROD_TOKEN}")
    else:
        lines += ["client_id = prod-client", f"client_secret = {PROD_SECRET}"]
    path = tmp_path / "databrickscfg"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in (
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
        "DATABRICKS_CONFIG_PROFILE",
        "DATABRICKS_AUTH_TYPE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return monkeypatch


@pytest.mark.parametrize(
    ("host_from", "profile_from", "credentials"),
    list(itertools.product(["host=", "DATABRICKS_HOST"], ["DATABRICKS_CONFIG_PROFILE", "profile="], ["pat", "oauth"])),
)
def test_python_no_request_carries_a_profiles_credentials_to_another_host(
    host_from: str,
    profile_from: str,
    credentials: str,
    servers: tuple[WireServer, WireServer],
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    prod, other = servers
    clean_env.setenv("DATABRICKS_CONFIG_FILE", str(write_profile(tmp_path, prod.url, credentials)))
    kwargs: dict[str, str] = {}
    if host_from == "host=":
        kwargs["host"] = other.url
    else:
        clean_env.setenv("DATABRICKS_HOST", other.url)
    if profile_from == "profile=":
        kwargs["profile"] = "prod"
    else:
        clean_env.setenv("DATABRICKS_CONFIG_PROFILE", "prod")
    # profile= in code sets the environment aside, so DATABRICKS_HOST is then simply not used.
    crossing = host_from == "host=" or profile_from == "DATABRICKS_CONFIG_PROFILE"
    if crossing:
        with pytest.raises(ConfigError) as info:
            submit(RunSpec.from_dict(BODY), **kwargs)
        message = str(info.value)
        assert other.url in message
        assert host_from in message
        assert "[prod]" in message
        assert PROD_TOKEN not in message and PROD_SECRET not in message
    else:
        assert submit(RunSpec.from_dict(BODY), **kwargs).run_id == 77
    assert not any(carries_secret(s) for s in other.seen), other.seen
    assert other.seen == []


@pytest.mark.parametrize(
    ("host_from", "profile_from", "credentials"),
    list(
        itertools.product(["--host", "DATABRICKS_HOST"], ["DATABRICKS_CONFIG_PROFILE", "--profile"], ["pat", "oauth"])
    ),
)
def test_cli_no_request_carries_a_profiles_credentials_to_another_host(
    host_from: str,
    profile_from: str,
    credentials: str,
    servers: tuple[WireServer, WireServer],
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prod, other = servers
    clean_env.setenv("DATABRICKS_CONFIG_FILE", str(write_profile(tmp_path, prod.url, credentials)))
    spec = tmp_path / "run.json"
    spec.write_text(RunSpec.from_dict(BODY).to_json(), encoding="utf-8")
    argv = ["submit", str(spec)]
    if host_from == "--host":
        argv += ["--host", other.url]
    else:
        clean_env.setenv("DATABRICKS_HOST", other.url)
    if profile_from == "--profile":
        argv += ["--profile", "prod"]
    else:
        clean_env.setenv("DATABRICKS_CONFIG_PROFILE", "prod")
    code = main(argv)
    out, err = capsys.readouterr()
    crossing = host_from == "--host" or profile_from == "DATABRICKS_CONFIG_PROFILE"
    if crossing:
        assert code == 3, out + err
        assert err.count("\n") == 1, err
        assert other.url in err and host_from in err and "[prod]" in err
    else:
        assert code == 0, out + err
    assert PROD_TOKEN not in out + err and PROD_SECRET not in out + err
    assert other.seen == []


def test_a_host_set_elsewhere_that_is_the_profiles_own_host_is_used(
    servers: tuple[WireServer, WireServer], clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    prod, _ = servers
    clean_env.setenv("DATABRICKS_CONFIG_FILE", str(write_profile(tmp_path, prod.url, "pat")))
    clean_env.setenv("DATABRICKS_CONFIG_PROFILE", "prod")
    clean_env.setenv("DATABRICKS_HOST", prod.url + "/")
    assert submit(RunSpec.from_dict(BODY)).run_id == 77
    assert [s.header("Authorization") for s in prod.seen] == [f"Bearer {PROD_TOKEN}"]


def test_a_profile_without_a_host_sends_its_token_nowhere_else(
    servers: tuple[WireServer, WireServer], clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, other = servers
    path = tmp_path / "databrickscfg"
    path.write_text(f"[prod]\ntoken = {PROD_TOKEN}\n", encoding="utf-8")
    clean_env.setenv("DATABRICKS_CONFIG_FILE", str(path))
    clean_env.setenv("DATABRICKS_CONFIG_PROFILE", "prod")
    with pytest.raises(ConfigError, match="names no host"):
        submit(RunSpec.from_dict(BODY), host=other.url)
    assert other.seen == []
