"""``runspec convert`` and ``runspec submit --from-job``, run as ``python -m runspec`` subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from runspec.testing import Emulator
from tests import support

try:
    from tests.test_jobs import WORKFLOW
except ImportError:  # tests/ run as a plain directory
    from test_jobs import WORKFLOW  # type: ignore[no-redef,import-not-found]

REPO = Path(__file__).resolve().parents[1]
TOKEN = "jobs-cli-token-5e2a81"
GOLDEN = REPO / "tests" / "golden" / "jobs"


def run_cli(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``runspec ARGS`` in-process (``runspec.cli.main``), in ``cwd``, which is also HOME."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    environment.update(HOME=str(cwd), NO_COLOR="1", **(env or {}))
    result = support.run_cli(args, env=environment, stdin=stdin, cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    return result


def write(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def fixture_data(name: str) -> Any:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))["data"]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(token=TOKEN, speed=20) as emulator:
        yield emulator


def test_convert_a_jobs_get_response_to_a_run(tmp_path: Path) -> None:
    job = write(tmp_path / "job.json", fixture_data("tf_get_job_14"))
    result = run_cli("convert", job, "--to", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["run_name"] == "Demo job"
    assert body["tasks"][0]["notebook_task"] == {"notebook_path": "/Production/MakeFeatures"}
    assert "schedule" not in body and "max_concurrent_runs" not in body
    warnings = result.stderr.splitlines()
    assert any("$.settings.schedule" in line and "[job-field-dropped]" in line for line in warnings), warnings
    assert any("$.settings.max_concurrent_runs" in line for line in warnings), warnings


def test_convert_writes_to_a_file_and_back_to_the_same_job(tmp_path: Path) -> None:
    job = write(tmp_path / "job.json", WORKFLOW)
    result = run_cli("convert", job, "--to", "run", "-o", "run.json", "--param", "region=apac", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    body = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert body["tasks"][0]["condition_task"]["left"] == "apac"
    assert "[job-parameters-inlined]" in result.stderr

    back = run_cli("convert", "run.json", "--to", "job", "--name", "orders-once", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    saved = json.loads(back.stdout)
    assert saved["name"] == "orders-once"
    # A run body read from a file has no cluster names; one task's own cluster stays its new_cluster.
    assert "job_clusters" not in saved
    assert saved["tasks"][2]["for_each_task"]["task"]["new_cluster"] == WORKFLOW["job_clusters"][0]["new_cluster"]
    assert "idempotency_token" not in saved and "parameters" not in saved


def test_convert_reports_every_problem_and_exits_2(tmp_path: Path) -> None:
    job = dict(WORKFLOW, schedul={})
    job["tasks"] = [dict(WORKFLOW["tasks"][0], job_cluster_key="nope")]
    result = run_cli("convert", write(tmp_path / "job.json", job), "--to", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    [unknown] = [line for line in result.stderr.splitlines() if line.startswith("  $.schedul:")]
    assert "JobSettings has no field 'schedul'; did you mean 'schedule'?" in unknown
    assert unknown.endswith("[unknown-field]")
    assert "$.tasks[0].job_cluster_key:" in result.stderr and "[unknown-job-cluster]" in result.stderr


def test_convert_a_bundle_picks_the_job_with_dash_dash_job(tmp_path: Path) -> None:
    output = {"resources": {"jobs": {"nightly": WORKFLOW, "hourly": dict(WORKFLOW, name="hourly")}}}
    result = run_cli("convert", "-", "--to", "run", "--job", "hourly", cwd=tmp_path, stdin=json.dumps(output))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run_name"] == "hourly"
    assert "$.resources.jobs.hourly.schedule" in result.stderr

    unsure = run_cli("convert", "-", "--to", "run", cwd=tmp_path, stdin=json.dumps(output))
    assert unsure.returncode == 2
    assert "the bundle has 2 jobs; pick one with --job NAME (jobs: hourly, nightly)" in unsure.stderr


def test_submit_from_job_with_params_waits_for_the_run(tmp_path: Path, emu: Emulator) -> None:
    job = write(tmp_path / "job.json", dict(WORKFLOW, name="from-job-cli"))
    env = {"DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": TOKEN}
    result = run_cli(
        "submit", job, "--from-job", "--param", "region=us", "--wait", "--poll-interval", "0.1", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[job-field-dropped]" in result.stderr
    [sent] = [r for r in emu.requests_to("runs/submit") if r.body.get("run_name") == "from-job-cli"]
    assert sent.body["tasks"][0]["condition_task"]["left"] == "us"
    assert "job_clusters" not in sent.body
    run_id = next(i for i in emu.run_ids() if emu.run(i)["run_name"] == "from-job-cli")
    assert emu.run(run_id)["state"]["result_state"] == "SUCCESS"


def test_param_without_from_job_is_a_usage_error(tmp_path: Path) -> None:
    job = write(tmp_path / "job.json", WORKFLOW)
    result = run_cli("submit", job, "--param", "region=us", cwd=tmp_path)
    assert result.returncode == 2
    assert "--param gives a job parameter: use it with --from-job" in result.stderr
    bad = run_cli("convert", job, "--to", "run", "--param", "region", cwd=tmp_path)
    assert bad.returncode == 2
    assert "expected NAME=VALUE" in bad.stderr


@pytest.mark.process
def test_convert_does_not_load_the_client(tmp_path: Path) -> None:
    job = write(tmp_path / "job.json", fixture_data("tf_get_job_14"))
    code = (
        "import sys; from runspec.cli import main; "
        f"rc = main(['convert', {job!r}, '--to', 'run', '-o', 'run.json']); "
        "print(rc, 'requests' in sys.modules, 'runspec.client' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=str(tmp_path),
        timeout=60,
    )
    assert result.stdout.split() == ["0", "False", "False"], result.stderr
