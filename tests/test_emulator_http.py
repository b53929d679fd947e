"""The emulator's HTTP surface: auth, routing, validation answers, the request log, start and stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import pytest
import requests

from runspec.testing import DEFAULT_TOKEN, Emulator, ManualClock

try:
    from tests.emulator_support import TOKEN, Api, api, body, check_shape, emu, task
except ImportError:  # tests/ run as a plain directory
    from emulator_support import (  # type: ignore[no-redef,import-not-found]  # noqa: F401 - fixtures
        TOKEN,
        Api,
        api,
        body,
        check_shape,
        emu,
        task,
    )

SHARED = "Shared job cluster feature is not supported in runs/submit API."


def error(response: requests.Response) -> dict[str, Any]:
    payload: dict[str, Any] = response.json()
    check_shape("ErrorResponse", payload)
    return payload


# -- auth -----------------------------------------------------------------------------------------


def test_missing_token_is_401(api: Api) -> None:
    response = api.call("GET", "runs/list", token=None)
    assert response.status_code == 401
    assert error(response)["error_code"] == "UNAUTHENTICATED"
    basic = api.call("GET", "runs/list", token=None, headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401


def test_wrong_token_is_403_invalid_access_token(api: Api) -> None:
    response = api.call("GET", "runs/list", token="not-the-token")
    assert response.status_code == 403
    assert error(response) == {"error_code": "PERMISSION_DENIED", "message": "Invalid access token."}


def test_wrong_token_status_can_be_401() -> None:
    with Emulator(token=TOKEN, invalid_token_status=401) as emulator:
        client = Api(emulator, token="wrong")
        assert client.call("GET", "runs/list").status_code == 401
        client.close()


def test_forbidden_tokens_get_403_permission_denied(emu: Emulator, api: Api) -> None:
    emu.forbid(TOKEN)
    response = api.call("POST", "runs/submit", json=body(task("a")))
    assert response.status_code == 403
    assert error(response)["error_code"] == "PERMISSION_DENIED"
    assert emu.run_ids() == []
    with Emulator(token=None, forbidden_tokens=["viewer"]) as open_emulator:
        viewer = Api(open_emulator, token="viewer")
        assert viewer.call("GET", "runs/list").status_code == 403
        assert viewer.call("GET", "runs/list", token="anyone").status_code == 200
        assert viewer.call("GET", "runs/list", token=None).status_code == 401
        viewer.close()


def test_default_token() -> None:
    with Emulator() as emulator:
        assert emulator.token == DEFAULT_TOKEN
        client = Api(emulator, token=DEFAULT_TOKEN)
        assert client.call("GET", "runs/list").status_code == 200
        client.close()


def test_host_metadata_probe_answers_without_a_token(emu: Emulator) -> None:
    response = requests.get(f"{emu.url}/.well-known/databricks-config", timeout=5)
    assert response.status_code == 200
    assert response.json() == {
        "oidc_endpoint": f"{emu.url}/oidc",
        "workspace_id": str(emu.workspace_id),
    }


# -- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/2.2/jobs/runs/submit"),
        ("POST", "/api/2.2/jobs/runs/get"),
        ("GET", "/api/2.2/jobs/runs/nonsense"),
        ("GET", "/api/1.2/jobs/runs/get"),
        ("GET", "/api/2.2/clusters/list"),
    ],
)
def test_unknown_endpoints_are_404(emu: Emulator, method: str, path: str) -> None:
    response = requests.request(method, emu.url + path, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert response.status_code == 404
    assert error(response) == {
        "error_code": "ENDPOINT_NOT_FOUND",
        "message": f"No API found for '{method} {path}'",
    }


def test_index_page_lists_runs(emu: Emulator, api: Api) -> None:
    run_id = api.submit(body(task("a"), run_name="<nightly>"))
    page = requests.get(emu.url + "/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert str(run_id) in page.text and "&lt;nightly&gt;" in page.text


# -- validation -----------------------------------------------------------------------------------


def test_shared_job_clusters_get_the_workspace_message(api: Api) -> None:
    with_clusters = body(task("a"), job_clusters=[{"job_cluster_key": "c", "new_cluster": {}}])
    with_key = body(task("a", job_cluster_key="c"))
    for payload in (with_clusters, with_key):
        response = api.call("POST", "runs/submit", json=payload)
        assert response.status_code == 400
        assert error(response)["error_code"] == "INVALID_PARAMETER_VALUE"
        assert response.json()["message"] == SHARED


def test_invalid_bodies_are_400_with_every_problem_in_details(emu: Emulator, api: Api) -> None:
    bad = body(task("a", "missing"), task("b", "c"), task("c", "b"))
    response = api.call("POST", "runs/submit", json=bad)
    assert response.status_code == 400
    payload = error(response)
    assert payload["error_code"] == "INVALID_PARAMETER_VALUE"
    violations = payload["details"][0]["field_violations"]
    assert payload["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert any(v["field"] == "$.tasks[0].depends_on[0].task_key" for v in violations)
    assert any("[dependency-cycle]" in v["description"] for v in violations)
    assert emu.run_ids() == []


def test_structural_checks_stay_on_without_runspec_validation() -> None:
    with Emulator(token=TOKEN, clock=ManualClock(), validate=False) as loose:
        client = Api(loose)
        lenient = client.call("POST", "runs/submit", json=body(task("a", notebook_task={})))
        assert lenient.status_code == 200
        cycle = client.call("POST", "runs/submit", json=body(task("a", "b"), task("b", "a")))
        assert cycle.status_code == 400
        assert "cycle" in cycle.json()["message"]
        empty = client.call("POST", "runs/submit", json={"run_name": "x", "tasks": []})
        assert empty.status_code == 400
        shared = client.call("POST", "runs/submit", json=body(task("a", job_cluster_key="c")))
        assert shared.json()["message"] == SHARED
        client.close()


@pytest.mark.parametrize("run_if", [[], {}, ["ALL_DONE"], 5])
def test_a_run_if_of_another_type_runs_as_all_success_without_runspec_validation(run_if: Any) -> None:
    """With validation off, a run_if that is not a string is the default ALL_SUCCESS, as an unknown string is."""
    with Emulator(token=TOKEN, clock=ManualClock(), validate=False) as loose:
        client = Api(loose)
        response = client.call("POST", "runs/submit", json=body(task("a"), task("b", "a", run_if=run_if)))
        assert response.status_code == 200
        run_id = response.json()["run_id"]
        loose.wait(run_id)
        run = client.ok("GET", "runs/get", params={"run_id": run_id})
        assert run["state"]["result_state"] == "SUCCESS"
        assert [t["state"]["result_state"] for t in run["tasks"]] == ["SUCCESS", "SUCCESS"]
        client.close()


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"text"'])
def test_malformed_bodies(api: Api, payload: bytes) -> None:
    response = api.call("POST", "runs/submit", data=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error(response)["error_code"] == "MALFORMED_REQUEST"


def test_unknown_fields_pass_as_a_workspace_lets_them(api: Api) -> None:
    response = api.call("POST", "runs/submit", json=body(task("a", brand_new_field=1)))
    assert response.status_code == 200


def test_concurrent_submits_with_one_token_make_one_run(emu: Emulator) -> None:
    results: list[int] = []

    def submit() -> None:
        client = Api(emu)
        results.append(client.submit(body(task("a"), idempotency_token="same")))
        client.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert emu.run_ids() == [results[0]]


# -- the request log ------------------------------------------------------------------------------


def test_requests_are_recorded_with_tokens_masked(emu: Emulator, api: Api) -> None:
    run_id = api.submit(body(task("a"), idempotency_token="abc"))
    api.get(run_id, include_history="true")
    api.call("GET", "runs/list", token="wrong")
    submit, get, denied = emu.requests
    assert (submit.method, submit.path, submit.endpoint) == (
        "POST",
        "/api/2.2/jobs/runs/submit",
        "runs/submit",
    )
    assert submit.body["idempotency_token"] == "abc"
    assert submit.status == 200 and submit.fault is None
    assert submit.headers["Authorization"] == "Bearer ****"
    assert get.query == {"run_id": str(run_id), "include_history": "true"}
    assert get.body is None
    assert denied.status == 403
    assert TOKEN not in repr(emu.requests) and "wrong" not in repr(emu.requests)
    assert emu.requests_to("runs/get") == [get]
    assert emu.requests_to("/api/2.2/jobs/runs/submit", "post") == [submit]
    emu.clear_requests()
    assert emu.requests == []


# -- start and stop -------------------------------------------------------------------------------


def test_stop_releases_the_port_and_url_needs_a_running_server() -> None:
    emulator = Emulator(token=TOKEN)
    with pytest.raises(RuntimeError):
        emulator.url  # noqa: B018
    with emulator:
        port = int(emulator.url.rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    with pytest.raises(RuntimeError):
        emulator.url  # noqa: B018
    assert "not running" in repr(emulator)


def test_clock_and_speed_are_exclusive() -> None:
    with pytest.raises(ValueError):
        Emulator(clock=ManualClock(), speed=2)


def test_serve_runs_in_the_foreground_until_interrupted(tmp_path: Any) -> None:
    code = "from runspec.testing import serve; serve(port=0, token='shell-token')"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        # A shell that starts CI in the background may ignore SIGINT; the child must not inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        url = banner.split(" on ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        assert "shell-token" not in banner
        denied = requests.get(f"{url}/api/2.2/jobs/runs/list", timeout=5)
        assert denied.status_code == 401
        listed = requests.get(
            f"{url}/api/2.2/jobs/runs/list",
            headers={"Authorization": "Bearer shell-token"},
            timeout=5,
        )
        assert listed.json() == {"has_more": False}
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out


# -- OAuth machine-to-machine ---------------------------------------------------------------------


def test_oauth_client_credentials_tokens_work_as_bearer_tokens() -> None:
    with Emulator(token=TOKEN, service_principals={"sp-1": "s3cret"}) as emulator:
        discovery = requests.get(f"{emulator.url}/oidc/.well-known/oauth-authorization-server", timeout=5)
        token_url = discovery.json()["token_endpoint"]
        assert token_url == f"{emulator.url}/oidc/v1/token"
        basic = requests.post(
            token_url,
            data={"grant_type": "client_credentials", "scope": "all-apis"},
            auth=("sp-1", "s3cret"),
            timeout=5,
        )
        assert basic.status_code == 200
        grant = basic.json()
        assert grant["token_type"] == "Bearer" and grant["expires_in"] == 3600
        in_form = requests.post(
            token_url,
            data={"grant_type": "client_credentials", "client_id": "sp-1", "client_secret": "s3cret"},
            timeout=5,
        )
        assert in_form.status_code == 200
        client = Api(emulator, token=grant["access_token"])
        assert client.call("GET", "runs/list").status_code == 200
        client.close()
        wrong = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=("sp-1", "no"), timeout=5)
        assert wrong.status_code == 401
        assert wrong.json() == {"error": "invalid_client", "error_description": "Client authentication failed."}
        grant_type = requests.post(token_url, data={"grant_type": "password"}, auth=("sp-1", "s3cret"), timeout=5)
        assert grant_type.status_code == 400
        assert grant_type.json()["error"] == "unsupported_grant_type"
        recorded = emulator.requests_to("/oidc/v1/token")
        assert recorded[1].body == {"grant_type": "client_credentials", "client_id": "sp-1", "client_secret": "****"}
        assert recorded[0].headers["Authorization"] == "Basic ****"
        assert "s3cret" not in repr(emulator.requests)
        assert grant["access_token"] not in repr(emulator.requests)


def test_token_endpoint_without_service_principals() -> None:
    with Emulator(token=None) as open_emulator:
        anyone = requests.post(
            f"{open_emulator.url}/oidc/v1/token", data={"grant_type": "client_credentials"}, auth=("x", "y"), timeout=5
        )
        assert anyone.status_code == 200
    with Emulator(token=TOKEN) as closed:
        nobody = requests.post(
            f"{closed.url}/oidc/v1/token", data={"grant_type": "client_credentials"}, auth=("x", "y"), timeout=5
        )
        assert nobody.status_code == 401


def test_importing_the_emulator_does_not_import_requests() -> None:
    code = "import sys, runspec.testing; assert 'requests' not in sys.modules, 'requests imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
