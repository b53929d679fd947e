"""Where host and credentials come from, host normalisation, and OAuth machine-to-machine."""

from __future__ import annotations

import base64
import textwrap
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests

from runspec import ConfigError, PreparedRequest, RunHandle, submit
from runspec.client import normalize_host
from runspec.spec import RunSpec
from runspec.testing import Emulator

try:
    from tests.support import DATABRICKS_VARS, FakeClock, Tap, endpoint
except ImportError:  # tests/ run as a plain directory
    from support import DATABRICKS_VARS, FakeClock, Tap, endpoint  # type: ignore[no-redef]


def make_spec() -> RunSpec:
    return RunSpec.from_dict(
        {"run_name": "auth", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}}]}
    )


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in DATABRICKS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def write_cfg(home: Path, text: str, name: str = ".databrickscfg") -> Path:
    path = home / name
    path.write_text(textwrap.dedent(text))
    return path


def prepared(**kwargs: Any) -> PreparedRequest:
    result = submit(make_spec(), perform_request=False, **kwargs)
    assert isinstance(result, PreparedRequest)
    return result


def used(**kwargs: Any) -> tuple[str, str | None]:
    """(host, Authorization header) that submit would use."""
    request = prepared(**kwargs)
    host = request.url.removesuffix("/api/2.2/jobs/runs/submit")
    return host, request.headers.get("Authorization")


# -- the order of places ---------------------------------------------------------------------


def test_arguments_only() -> None:
    assert used(host="https://adb-1.azuredatabricks.net", token="t-arg") == (
        "https://adb-1.azuredatabricks.net",
        "Bearer t-arg",
    )


def test_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "https://env.cloud.databricks.com/")
    monkeypatch.setenv("DATABRICKS_TOKEN", "t-env")
    assert used() == ("https://env.cloud.databricks.com", "Bearer t-env")


def test_default_profile_only(home: Path) -> None:
    write_cfg(home, "[DEFAULT]\nhost = https://file.cloud.databricks.com\ntoken = t-file\n")
    assert used() == ("https://file.cloud.databricks.com", "Bearer t-file")


def test_arguments_beat_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "https://env.cloud.databricks.com")
    monkeypatch.setenv("DATABRICKS_TOKEN", "t-env")
    write_cfg(home, "[DEFAULT]\nhost = https://file.cloud.databricks.com\ntoken = t-file\n")
    assert used(host="https://arg.cloud.databricks.com", token="t-arg") == (
        "https://arg.cloud.databricks.com",
        "Bearer t-arg",
    )
    # Each of host and credentials comes from the first place that has it.
    assert used(token="t-arg") == ("https://env.cloud.databricks.com", "Bearer t-arg")
    assert used(host="https://arg.cloud.databricks.com") == (
        "https://arg.cloud.databricks.com",
        "Bearer t-env",
    )


def test_environment_beats_profile_and_file_is_not_read(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    write_cfg(home, "this is [not an ini file\n")
    monkeypatch.setenv("DATABRICKS_HOST", "https://env.cloud.databricks.com/")
    monkeypatch.setenv("DATABRICKS_TOKEN", "t-env")
    assert used() == ("https://env.cloud.databricks.com", "Bearer t-env")


def test_profile_named_in_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    write_cfg(
        home,
        """
        [DEFAULT]
        host = https://default.cloud.databricks.com
        token = t-default
        [prod]
        host = https://prod.cloud.databricks.com
        token = t-prod
        """,
    )
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "prod")
    assert used() == ("https://prod.cloud.databricks.com", "Bearer t-prod")
    # The environment's own values still come before the profile it names.
    monkeypatch.setenv("DATABRICKS_TOKEN", "t-env")
    assert used() == ("https://prod.cloud.databricks.com", "Bearer t-env")


def test_profile_argument_replaces_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    write_cfg(home, "[prod]\nhost = https://prod.cloud.databricks.com\ntoken = t-prod\n")
    monkeypatch.setenv("DATABRICKS_HOST", "https://dev.cloud.databricks.com")
    monkeypatch.setenv("DATABRICKS_TOKEN", "t-dev")
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "other")
    assert used(profile="prod") == ("https://prod.cloud.databricks.com", "Bearer t-prod")
    # Explicit arguments still win over the profile.
    assert used(profile="prod", token="t-arg") == ("https://prod.cloud.databricks.com", "Bearer t-arg")


def test_settings_default_profile(home: Path) -> None:
    write_cfg(
        home,
        """
        [__settings__]
        default_profile = staging
        [DEFAULT]
        host = https://default.cloud.databricks.com
        token = t-default
        [staging]
        host = https://staging.cloud.databricks.com
        token = t-staging
        """,
    )
    assert used() == ("https://staging.cloud.databricks.com", "Bearer t-staging")


def test_named_profile_is_not_merged_with_default(home: Path) -> None:
    write_cfg(
        home,
        """
        [DEFAULT]
        token = t-default
        [prod]
        host = https://prod.cloud.databricks.com
        """,
    )
    with pytest.raises(ConfigError, match=r"no Databricks credentials found.*profile \[prod\]"):
        used(profile="prod")


def test_missing_profile_lists_the_known_ones(home: Path) -> None:
    write_cfg(home, "[dev]\nhost = h\ntoken = t\n[prod]\nhost = h\ntoken = t\n")
    with pytest.raises(ConfigError) as error:
        used(profile="qa")
    assert "no [qa] profile" in str(error.value)
    assert "dev, prod" in str(error.value)


def test_named_profile_without_file(home: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        used(profile="prod")


def test_config_file_from_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    path = write_cfg(home, "[DEFAULT]\nhost = https://elsewhere.cloud.databricks.com\ntoken = t-x\n", "cfg.ini")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(path))
    assert used() == ("https://elsewhere.cloud.databricks.com", "Bearer t-x")


def test_empty_environment_values_count_as_unset(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    write_cfg(home, "[DEFAULT]\nhost = https://file.cloud.databricks.com\ntoken = t-file\n")
    monkeypatch.setenv("DATABRICKS_HOST", "")
    monkeypatch.setenv("DATABRICKS_TOKEN", "  ")
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "")
    assert used() == ("https://file.cloud.databricks.com", "Bearer t-file")


def test_nothing_found_lists_every_place(home: Path) -> None:
    with pytest.raises(ConfigError) as error:
        used()
    text = str(error.value)
    assert "no Databricks workspace host found" in text
    assert "arguments" in text
    assert "DATABRICKS_HOST" in text and "DATABRICKS_TOKEN" in text
    assert ".databrickscfg (no such file)" in text


def test_host_without_credentials_says_the_file_was_skipped(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    write_cfg(home, "[DEFAULT]\nhost = https://file.cloud.databricks.com\ntoken = t-file\n")
    monkeypatch.setenv("DATABRICKS_HOST", "https://other.cloud.databricks.com")
    with pytest.raises(ConfigError) as error:
        used()
    text = str(error.value)
    assert "no Databricks credentials found for https://other.cloud.databricks.com" in text
    assert "not read" in text and "DATABRICKS_CONFIG_PROFILE" in text
    assert "t-file" not in text


def test_two_methods_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "https://env.cloud.databricks.com")
    monkeypatch.setenv("DATABRICKS_TOKEN", "t-env")
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "sp-id")
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "sp-secret")
    with pytest.raises(ConfigError) as error:
        used()
    text = str(error.value)
    assert "pat (DATABRICKS_TOKEN)" in text
    assert "oauth-m2m (DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET)" in text
    assert "t-env" not in text and "sp-secret" not in text
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")
    assert used() == ("https://env.cloud.databricks.com", "Bearer t-env")


def test_two_methods_in_arguments() -> None:
    with pytest.raises(ConfigError, match=r"custom \(auth=\) and pat \(token=\)"):
        used(host="https://h.cloud.databricks.com", token="t", auth=lambda: {"Authorization": "x"})


def test_two_methods_in_a_profile(home: Path) -> None:
    write_cfg(
        home,
        "[DEFAULT]\nhost = https://h.cloud.databricks.com\ntoken = t\nclient_id = i\nclient_secret = s\n",
    )
    with pytest.raises(ConfigError, match=r"pat \(token in \[DEFAULT\]\) and oauth-m2m"):
        used()
    write_cfg(
        home,
        "[DEFAULT]\nhost = https://h.cloud.databricks.com\ntoken = t\n"
        "client_id = i\nclient_secret = s\nauth_type = pat\n",
    )
    assert used() == ("https://h.cloud.databricks.com", "Bearer t")


def test_methods_at_different_levels_do_not_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "https://env.cloud.databricks.com")
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "sp-id")
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "sp-secret")
    assert used(token="t-arg") == ("https://env.cloud.databricks.com", "Bearer t-arg")


def test_half_an_oauth_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "https://env.cloud.databricks.com")
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "sp-id")
    with pytest.raises(ConfigError, match="DATABRICKS_CLIENT_SECRET is missing"):
        used()


# -- hosts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://adb-123.4.azuredatabricks.net", "https://adb-123.4.azuredatabricks.net"),
        ("https://x.cloud.databricks.com/", "https://x.cloud.databricks.com"),
        ("https://X.Cloud.Databricks.com:443/", "https://x.cloud.databricks.com"),
        ("https://x.cloud.databricks.com/?o=123#job/5", "https://x.cloud.databricks.com"),
        ("https://x.cloud.databricks.com/browse/folders/1", "https://x.cloud.databricks.com"),
        ("  https://x.cloud.databricks.com:8443/api ", "https://x.cloud.databricks.com:8443"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://127.0.0.1", "http://127.0.0.1"),
        ("http://127.9.9.9:1234", "http://127.9.9.9:1234"),
        ("http://[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_host_normalisation(given: str, expected: str) -> None:
    assert normalize_host(given) == expected


@pytest.mark.parametrize(
    "host",
    ["http://x.cloud.databricks.com", "http://10.0.0.1:8080", "http://[2001:db8::1]", "http://localhost.evil.com"],
)
def test_plain_http_is_refused_before_any_connection(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Recording(requests.Session):
        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            calls.append(url)
            raise AssertionError("no request may be made")

    with pytest.raises(ConfigError, match="clear text"):
        submit(make_spec(), host, "t-secret", session=Recording())
    with pytest.raises(ConfigError, match="clear text"):
        RunHandle.attach(1, host, "t-secret", session=Recording())
    monkeypatch.setenv("DATABRICKS_HOST", host)
    monkeypatch.setenv("DATABRICKS_TOKEN", "t-secret")
    with pytest.raises(ConfigError, match=r"DATABRICKS_HOST.*clear text"):
        submit(make_spec(), session=Recording())
    assert calls == []


@pytest.mark.parametrize("host", ["ftp://x.cloud.databricks.com", "https://user:pw@x.cloud.databricks.com", "https://"])
def test_unusable_hosts(host: str) -> None:
    with pytest.raises(ConfigError):
        normalize_host(host)


# -- OAuth machine-to-machine and hooks ------------------------------------------------------------


def test_oauth_m2m_fetches_caches_and_renews(host: str, tap: Tap, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setenv("DATABRICKS_HOST", host)
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "sp-id")
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "sp-secret-value")
    handle = submit(make_spec(), sleep=clock.sleep, clock=clock)
    handle.get()
    handle.get()
    (token_request,) = tap.calls("/oidc/v1/token")
    assert token_request.method == "POST"
    assert urllib.parse.parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": ["all-apis"],
    }
    assert token_request.header("Authorization") == "Basic " + base64.b64encode(b"sp-id:sp-secret-value").decode()
    api = [r for r in tap.sent if "/api/" in r.url]
    first = api[0].header("Authorization")
    assert first is not None and first.startswith("Bearer emulator-oauth-")
    assert [r.header("Authorization") for r in api] == [first] * 3
    assert "auth/oauth-m2m" in (api[0].header("User-Agent") or "")
    clock.now += 3600  # the emulator's tokens last an hour
    handle.get()
    assert len(tap.calls("/oidc/v1/token")) == 2
    renewed = tap.sent[-1].header("Authorization")
    assert renewed is not None and renewed.startswith("Bearer emulator-oauth-") and renewed != first
    assert "sp-secret-value" not in repr(handle)
    handle.close()


def test_oauth_prepared_request_gets_its_token_when_sent(host: str, tap: Tap) -> None:
    request = prepared(host=host, client_id="sp-id", client_secret="sp-secret-value")
    assert "Authorization" not in request.headers
    assert tap.sent == []
    handle = request.send()
    assert [endpoint(r.url) for r in tap.sent] == ["/oidc/v1/token", "runs/submit"]
    assert (tap.calls("runs/submit")[0].header("Authorization") or "").startswith("Bearer emulator-oauth-")
    handle.close()


def test_oauth_bad_secret_is_an_error_without_the_secret() -> None:
    from runspec import Unauthenticated

    # The workspace knows this service principal by another secret: its token endpoint refuses.
    emulator = Emulator(token=None, service_principals={"sp-id": "the-right-secret"})
    with pytest.raises(Unauthenticated) as error:
        submit(make_spec(), client_id="sp-id", client_secret="sp-secret-value", transport=emulator.transport())
    assert error.value.path == "/oidc/v1/token"
    assert "sp-secret-value" not in str(error.value)
    assert emulator.requests_to("runs/submit") == []
    assert [r.status for r in emulator.requests_to("/oidc/v1/token")] == [401]


def test_auth_hook_callable(host: str, tap: Tap) -> None:
    handle = submit(make_spec(), host, auth=lambda: {"Authorization": "Bearer from-hook", "X-Extra": "1"})
    sent = tap.calls("runs/submit")[0]
    assert sent.header("Authorization") == "Bearer from-hook"
    assert sent.header("X-Extra") == "1"
    assert "auth/custom" in (sent.header("User-Agent") or "")
    handle.close()


def test_auth_hook_object_supplies_host(host: str, tap: Tap) -> None:
    class Provider:
        auth_type = "my-sso"

        def authenticate(self) -> dict[str, str]:
            return {"Authorization": "Bearer provider-token"}

    Provider.host = host  # type: ignore[attr-defined]
    handle = submit(make_spec(), auth=Provider())
    sent = tap.calls("runs/submit")[0]
    assert sent.header("Authorization") == "Bearer provider-token"
    assert "auth/my-sso" in (sent.header("User-Agent") or "")
    handle.close()


@pytest.mark.socket
def test_auth_hook_accepts_the_official_sdk_config() -> None:
    core = pytest.importorskip("databricks.sdk.core")
    # The SDK's Config talks to the host itself, over HTTP; the emulator takes this token only.
    with Emulator(token="sdk-pat-token") as emulator:
        config = core.Config(host=emulator.url, token="sdk-pat-token", auth_type="pat")
        handle = submit(make_spec(), auth=config)
        (sent,) = emulator.requests_to("runs/submit")
        assert (sent.status, sent.headers["Authorization"]) == (200, "Bearer ****")
        handle.close()
