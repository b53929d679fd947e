"""
Recorded request shapes of the Databricks clients people use, replayed against the emulator.

Each class sends what its client sends on the wire (paths, methods, headers, bodies, query strings), as
read from the client's source and seen from a workspace's side (see the reference notes on real
clients). Installing Airflow or the legacy CLI in CI is too heavy; their requests are small and fixed.
"""

from __future__ import annotations

import json
from typing import Any

import requests

# -- bodies as the clients build them -----------------------------------------------------------------

#: DatabricksSubmitRunOperator(json=...) after normalise_json_content(): every number a string.
AIRFLOW_TASKS_BODY: dict[str, Any] = {
    "run_name": "airflow-nightly",
    "timeout_seconds": "3600",
    "tasks": [
        {
            "task_key": "ingest",
            "notebook_task": {"notebook_path": "/Shared/ingest", "base_parameters": {"day": "2026-12-01"}},
            "new_cluster": {
                "spark_version": "15.4.x-scala2.12",
                "node_type_id": "i3.xlarge",
                "num_workers": "2",
                "autotermination_minutes": "30",
            },
            "max_retries": "1",
            "min_retry_interval_millis": "0",
            "timeout_seconds": "600",
        },
        {
            "task_key": "report",
            "depends_on": [{"task_key": "ingest"}],
            "spark_python_task": {"python_file": "dbfs:/jobs/report.py", "parameters": ["--top", "10"]},
            "existing_cluster_id": "1234-567890-abcde123",
        },
    ],
}

#: DatabricksSubmitRunOperator(notebook_task=..., existing_cluster_id=..., libraries=...): the single-task
#: form at the top level, posted to /api/2.2/jobs/runs/submit, numbers as strings.
AIRFLOW_NAMED_ARGS_BODY: dict[str, Any] = {
    "run_name": "prepare_data",
    "notebook_task": {"notebook_path": "/Users/airflow@example.com/PrepareData"},
    "existing_cluster_id": "1234-567890-abcde123",
    "libraries": [{"pypi": {"package": "simplejson==3.19.2"}}],
    "timeout_seconds": "3600",
}

#: Airflow's own example of a notebook from git: the provider written in lower case.
AIRFLOW_GIT_BODY: dict[str, Any] = {
    "run_name": "airflow-git",
    "git_source": {"git_url": "https://github.com/apache/airflow", "git_provider": "github", "git_branch": "main"},
    "tasks": [
        {
            "task_key": "notebook",
            "notebook_task": {"notebook_path": "notebooks/demo", "source": "GIT"},
            "existing_cluster_id": "1234-567890-abcde123",
        }
    ],
}

#: The legacy databricks-cli `runs submit --json-file`: the 2.0 single-task body.
LEGACY_CLI_BODY: dict[str, Any] = {
    "run_name": "legacy-cli-run",
    "new_cluster": {"spark_version": "13.3.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1},
    "spark_python_task": {"python_file": "dbfs:/scripts/etl.py", "parameters": ["--day", "2026-12-01"]},
    "libraries": [{"pypi": {"package": "requests"}}],
    "timeout_seconds": 3600,
}

#: prefect-databricks `jobs_runs_submit`: pydantic models dumped with their unset fields as null.
PREFECT_BODY: dict[str, Any] = {
    "run_name": "prefect-flow",
    "timeout_seconds": None,
    "idempotency_token": None,
    "git_source": None,
    "access_control_list": None,
    "tasks": [
        {
            "task_key": "extract",
            "description": None,
            "depends_on": None,
            "existing_cluster_id": "1234-567890-abcde123",
            "new_cluster": None,
            "notebook_task": {"notebook_path": "/Shared/extract", "base_parameters": None},
            "spark_jar_task": None,
            "spark_python_task": None,
            "libraries": None,
            "timeout_seconds": None,
            "max_retries": None,
        }
    ],
}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Airflow:
    """DatabricksHook: sync calls through requests, async (deferrable) through aiohttp's GET with a body."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.http = requests.Session()

    def submit(self, body: dict[str, Any]) -> int:
        response = self.http.post(f"{self.url}/api/2.2/jobs/runs/submit", json=body, headers=_bearer(self.token))
        assert response.status_code == 200, response.text
        return int(response.json()["run_id"])

    def get_run(self, run_id: int) -> dict[str, Any]:
        response = self.http.get(
            f"{self.url}/api/2.2/jobs/runs/get", params={"run_id": run_id}, headers=_bearer(self.token)
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def a_get_run(self, run_id: int, endpoint: str = "runs/get", **extra: Any) -> requests.Response:
        """``_a_do_api_call``: ``GET`` with ``{"run_id": N}`` as a JSON body and no query string."""
        return self.http.request(
            "GET",
            f"{self.url}/api/2.2/jobs/{endpoint}",
            data=json.dumps({"run_id": run_id, **extra}),
            headers={**_bearer(self.token), "Content-Type": "application/json"},
        )

    def get_latest_repair_id(self, run_id: int) -> int | None:
        """As the hook does: None with one history item, else the last item's id (KeyError if missing)."""
        response = self.http.get(
            f"{self.url}/api/2.2/jobs/runs/get",
            params={"run_id": run_id, "include_history": "true"},
            headers=_bearer(self.token),
        )
        history = response.json()["repair_history"]
        return None if len(history) == 1 else int(history[-1]["id"])


class LegacyCli:
    """databricks-cli 0.18 (and databricks-api 0.9, built on it): /api/2.0/, ``Content-Type: text/json``."""

    def __init__(self, url: str, token: str, version: str = "2.0") -> None:
        self.base = f"{url}/api/{version}"
        self.headers = {**_bearer(token), "Content-Type": "text/json", "user-agent": "databricks-cli-0.18.0-"}
        self.http = requests.Session()

    def perform_query(self, method: str, path: str, data: dict[str, Any]) -> requests.Response:
        """The CLI's ApiClient: GET parameters in the query string, anything else as a JSON body."""
        if method == "GET":
            params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in data.items()}
            return self.http.request(method, self.base + path, params=params, headers=self.headers)
        return self.http.request(method, self.base + path, data=json.dumps(data), headers=self.headers)


class Prefect:
    """prefect-databricks: httpx on /api/2.1/, JSON bodies, ``limit=25`` on runs/list."""

    def __init__(self, url: str, token: str) -> None:
        self.base = f"{url}/api/2.1/jobs"
        self.headers = _bearer(token)
        self.http = requests.Session()

    def submit(self, body: dict[str, Any]) -> requests.Response:
        return self.http.post(f"{self.base}/runs/submit", json=body, headers=self.headers)

    def list_runs(self, **params: Any) -> requests.Response:
        query = {"active_only": "false", "completed_only": "false", "offset": 0, "limit": 25, "expand_tasks": "false"}
        return self.http.get(f"{self.base}/runs/list", params={**query, **params}, headers=self.headers)
