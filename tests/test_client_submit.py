"""submit(): the exact request, idempotency tokens, the prepared request and what accepts a spec."""

from __future__ import annotations

import json
import platform
from typing import Any

import pytest

import runspec
from runspec import NotebookTask, PreparedRequest, Run, RunHandle, submit
from runspec.errors import SpecError, Unauthenticated
from runspec.spec import RunSpec
from runspec.testing import Emulator

try:
    from tests.support import FakeClock, Tap, forget, in_process
except ImportError:  # tests/ run as a plain directory
    from support import FakeClock, Tap, forget, in_process  # type: ignore[no-redef]

TOKEN = "dapi-0123456789abcdef-secret"
BODY: dict[str, Any] = {
    "run_name": "nightly",
    "tasks": [
        {"task_key": "ingest", "notebook_task": {"notebook_path": "/Repos/etl/ingest"}},
        {
            "task_key": "transform",
            "depends_on": [{"task_key": "ingest"}],
            "spark_python_task": {"python_file": "dbfs:/etl/transform.py"},
            "existing_cluster_id": "0101-abcdef",
        },
    ],
}


def make_spec(body: dict[str, Any]) -> RunSpec:
    return RunSpec.from_dict(body)


def _submit(host: str, clock: FakeClock, spec: Any = None, **kwargs: Any) -> RunHandle:
    handle = submit(
        spec if spec is not None else make_spec(BODY),
        host,
        TOKEN,
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )
    assert isinstance(handle, RunHandle)
    return handle


def test_submit_sends_exact_request(host: str, tap: Tap, emulator: Emulator, clock: FakeClock) -> None:
    handle = _submit(host, clock)
    (request,) = tap.calls("runs/submit")
    assert request.method == "POST"
    assert request.url == host + "/api/2.2/jobs/runs/submit"
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    assert request.header("Content-Type") == "application/json"
    assert request.header("Accept") == "application/json"
    assert request.header("User-Agent") == (
        f"runspec/{runspec.__version__} python/{platform.python_version()} os/linux auth/pat"
    )
    (received,) = emulator.requests_to("runs/submit")
    assert (received.path, received.query) == ("/api/2.2/jobs/runs/submit", {})
    sent = dict(received.body)
    token = sent.pop("idempotency_token")
    assert sent == BODY
    assert handle.idempotency_token == token
    assert emulator.run_ids() == [handle.run_id]
    assert handle.host == host
    assert handle.run_page_url is None
    handle.get()
    assert handle.run_page_url == emulator.run(handle.run_id)["run_page_url"]
    handle.close()


def test_minted_token_is_random_short_and_kept_on_handle(host: str, emulator: Emulator, clock: FakeClock) -> None:
    first = _submit(host, clock)
    second = _submit(host, clock)
    tokens = [r.body["idempotency_token"] for r in emulator.requests_to("runs/submit")]
    assert tokens == [first.idempotency_token, second.idempotency_token]
    assert tokens[0] != tokens[1]
    assert all(0 < len(t) <= 64 for t in tokens)
    # Two deliberate submissions of the same spec are two runs.
    assert first.run_id != second.run_id
    assert len(emulator.run_ids()) == 2


def test_caller_token_in_spec_is_kept(host: str, emulator: Emulator, clock: FakeClock) -> None:
    body = {**BODY, "idempotency_token": "my-deploy-42"}
    first = _submit(host, clock, make_spec(body))
    again = _submit(host, clock, make_spec(body))
    assert [r.body["idempotency_token"] for r in emulator.requests_to("runs/submit")] == ["my-deploy-42"] * 2
    assert first.idempotency_token == "my-deploy-42"
    assert first.run_id == again.run_id
    assert len(emulator.run_ids()) == 1


def test_caller_token_argument(host: str, emulator: Emulator, clock: FakeClock) -> None:
    handle = _submit(host, clock, idempotency_token="from-argument")
    assert emulator.requests_to("runs/submit")[0].body["idempotency_token"] == "from-argument"
    assert handle.idempotency_token == "from-argument"


def test_conflicting_or_long_tokens_are_refused_before_sending(host: str, emulator: Emulator, clock: FakeClock) -> None:
    with pytest.raises(SpecError) as conflict:
        _submit(host, clock, make_spec({**BODY, "idempotency_token": "a"}), idempotency_token="b")
    assert conflict.value.codes == ("idempotency-token-conflict",)
    with pytest.raises(SpecError) as long:
        _submit(host, clock, idempotency_token="x" * 65)
    assert "at most 64" in str(long.value)
    assert emulator.requests == []


def test_builder_is_compiled(host: str, emulator: Emulator, clock: FakeClock) -> None:
    run = Run("built").task(NotebookTask("/Repos/etl/ingest"), key="ingest")
    _submit(host, clock, run)
    sent = emulator.requests_to("runs/submit")[0].body
    sent.pop("idempotency_token")
    assert sent == run.compile().to_dict()


def test_anything_with_compile_is_compiled(host: str, emulator: Emulator, clock: FakeClock) -> None:
    class Builder:
        def compile(self) -> RunSpec:
            return make_spec(BODY)

    _submit(host, clock, Builder())
    sent = emulator.requests_to("runs/submit")[0].body
    sent.pop("idempotency_token")
    assert sent == BODY


def test_spec_is_not_modified(host: str, emulator: Emulator, clock: FakeClock) -> None:
    spec = make_spec(BODY)
    _submit(host, clock, spec)
    assert "idempotency_token" not in spec.to_dict()
    assert "idempotency_token" not in BODY


def test_other_objects_are_refused(host: str, emulator: Emulator, clock: FakeClock) -> None:
    with pytest.raises(TypeError, match="RunSpec"):
        _submit(host, clock, 42)


def test_dict_body_is_checked_by_the_spec_layer(host: str, emulator: Emulator, clock: FakeClock) -> None:
    handle = _submit(host, clock, {"run_name": "d", "tasks": [BODY["tasks"][0]]})
    assert emulator.requests_to("runs/submit")[0].body["tasks"] == [BODY["tasks"][0]]
    handle.close()
    with pytest.raises(SpecError) as error:
        _submit(host, clock, {"run_name": "d", "taks": []})
    assert "$.taks" in str(error.value)
    assert len(emulator.requests_to("runs/submit")) == 1


def test_prepared_request_sends_nothing(clock: FakeClock) -> None:
    # A host nothing listens on: building the request needs no network at all.
    prepared = submit(make_spec(BODY), "https://adb-123.4.azuredatabricks.net/", TOKEN, perform_request=False)
    assert isinstance(prepared, PreparedRequest)
    assert prepared.method == "POST"
    assert prepared.url == "https://adb-123.4.azuredatabricks.net/api/2.2/jobs/runs/submit"
    assert prepared.headers["Authorization"] == f"Bearer {TOKEN}"
    assert prepared.headers["Content-Type"] == "application/json"
    body = dict(prepared.json)
    token = body.pop("idempotency_token")
    assert body == BODY
    assert prepared.idempotency_token == token
    for text in (repr(prepared), str(prepared), json.dumps(prepared.redacted())):
        assert TOKEN not in text
        assert "<redacted>" in text
    assert prepared.redacted()["headers"]["Authorization"] == "Bearer <redacted>"
    assert prepared.redacted()["json"] == prepared.json
    text = str(prepared)
    assert text.splitlines()[0] == f"POST {prepared.url}"
    assert json.loads(text.split("\n\n", 1)[1]) == prepared.json


def test_prepared_request_can_be_sent_as_is(host: str, tap: Tap, emulator: Emulator, clock: FakeClock) -> None:
    prepared = submit(make_spec(BODY), host, TOKEN, perform_request=False)
    assert emulator.requests == []
    handle = prepared.send(sleep=clock.sleep, clock=clock)
    again = prepared.send(sleep=clock.sleep, clock=clock)
    assert handle.run_id == again.run_id
    assert len(emulator.run_ids()) == 1
    assert emulator.requests_to("runs/submit")[0].body == prepared.json
    assert tap.calls("runs/submit")[0].header("Authorization") == prepared.headers["Authorization"]
    handle.close()
    again.close()


def test_hand_made_prepared_request_is_sent_with_its_headers(host: str, tap: Tap) -> None:
    prepared = PreparedRequest(
        "POST",
        host + "/api/2.2/jobs/runs/submit",
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        {**BODY, "idempotency_token": "hand-made"},
    )
    handle = prepared.send()
    assert handle.idempotency_token == "hand-made"
    assert tap.calls("runs/submit")[0].header("Authorization") == f"Bearer {TOKEN}"
    assert TOKEN not in repr(prepared)
    handle.close()


def test_lazy_names_resolve() -> None:
    assert runspec.submit is submit
    assert runspec.RunHandle is RunHandle
    assert runspec.PreparedRequest is PreparedRequest


def test_workspace_id_header(host: str, emulator: Emulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_WORKSPACE_ID", "1234567")
    _submit(host, clock).close()
    assert emulator.requests_to("runs/submit")[0].headers["X-Databricks-Workspace-Id"] == "1234567"


def test_prepared_request_sent_elsewhere_carries_only_its_own_headers(host: str, emulator: Emulator) -> None:
    prepared = submit(make_spec(BODY), host, TOKEN, perform_request=False)
    other = Tap(Emulator(token=None))
    elsewhere = in_process(other)
    try:
        prepared.url = elsewhere + "/api/2.2/jobs/runs/submit"
        del prepared.headers["Authorization"]
        with pytest.raises(Unauthenticated):  # a workspace answers a request without credentials 401
            prepared.send()
        assert other.calls("runs/submit")[0].header("Authorization") is None
        assert emulator.requests == []
    finally:
        forget(elsewhere)


# -- prepare() and the one workspace resolver ------------------------------------------------------


def test_prepare_is_the_request_as_a_value_and_send_submits_it(host: str, emulator: Emulator, clock: FakeClock) -> None:
    request = runspec.prepare(make_spec(BODY), host, TOKEN, sleep=clock.sleep, clock=clock)
    assert isinstance(request, PreparedRequest)
    assert emulator.requests == []
    assert TOKEN not in repr(request) and TOKEN not in str(request)
    assert "Bearer <redacted>" in str(request)
    handle = request.send()
    (sent,) = emulator.requests_to("runs/submit")
    assert sent.body == {**BODY, "idempotency_token": request.idempotency_token}
    assert handle.idempotency_token == request.idempotency_token
    # Sending it again reaches the same run.
    assert request.send().run_id == handle.run_id
    assert len(emulator.run_ids()) == 1


def test_submit_is_prepare_then_send(host: str, emulator: Emulator, clock: FakeClock) -> None:
    prepared = runspec.prepare(make_spec(BODY), host, TOKEN, idempotency_token="same-token")
    unsent = submit(make_spec(BODY), host, TOKEN, idempotency_token="same-token", perform_request=False)
    assert unsent.redacted() == prepared.redacted()
    handle = _submit(host, clock, idempotency_token="same-token")
    assert emulator.requests_to("runs/submit")[0].body == prepared.json
    assert handle.run_id == prepared.send().run_id


def test_workspace_resolve_says_where_each_setting_came_from(
    host: str, tap: Tap, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    from runspec.client import Workspace

    monkeypatch.setenv("DATABRICKS_HOST", host)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    workspace = Workspace.resolve()
    assert (workspace.host, workspace.host_source, workspace.credentials_source) == (
        host,
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
    )
    cli_names = {"host": "--host", "token": "--token", "profile": "--profile"}
    given = Workspace.resolve(host, "other-token", names=cli_names)
    assert (given.host_source, given.credentials_source) == ("--host", "--token")
    assert TOKEN not in repr(workspace) and "other-token" not in repr(given)
    # submit, prepare and attach all take the resolved workspace.
    handle = submit(make_spec(BODY), workspace=workspace, sleep=clock.sleep, clock=clock)
    attached = RunHandle.attach(handle.run_id, workspace=given)
    assert attached.get().run_id == handle.run_id
    assert tap.sent[-1].header("Authorization") == "Bearer other-token"


def test_an_empty_idempotency_token_is_refused(host: str, emulator: Emulator) -> None:
    with pytest.raises(SpecError) as error:
        submit(make_spec(BODY), host, TOKEN, idempotency_token="")
    assert error.value.codes == ("invalid-value",)
    assert "empty (an unset variable?)" in str(error.value)
    assert emulator.requests == []
