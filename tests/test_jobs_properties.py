"""
Run -> job -> run on random runs built with the builder (tests/strategies.py): the job a run becomes
converts back to the same run, and the named clusters come back as the job clusters of those names.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given

from runspec import Run, RunSpec, SpecError

try:
    from tests.strategies import Drawn, budget, runs
except ImportError:  # tests/ run as a plain directory
    from strategies import Drawn, budget, runs  # type: ignore[no-redef]


@budget(60)
@given(runs(max_tasks=8))
def test_a_run_saved_as_a_job_converts_back_to_the_same_run(drawn: Drawn) -> None:
    spec = drawn.run.compile()
    job = drawn.run.to_job_settings()
    body = spec.to_dict()
    # A run may read {{job.parameters.x}} (a for_each's inputs, say), but has no job to define x: its job
    # does not either, and converting that back is a problem (see the test below).
    assume("{{job.parameters." not in json.dumps(body))
    body.pop("idempotency_token", None)  # runs/submit only: a job has none
    back = RunSpec.from_job_settings(job)
    assert back.to_dict() == body
    assert Run.from_job_settings(job).to_job_settings() == job
    # A cluster the builder named is a job cluster of that name, shared by the tasks that used it.
    named = {entry["job_cluster_key"] for entry in job.get("job_clusters", [])}
    used = {
        plan.compute.split(":", 1)[1] for plan in drawn.tasks if plan.compute and plan.compute.startswith("cluster:")
    }
    assert used <= named
    assert not [w for w in back.warnings if w.code == "job-field-dropped"]


def test_a_run_reading_a_job_parameter_gives_a_job_that_cannot_be_run_once() -> None:
    body = {
        "run_name": "loop",
        "tasks": [
            {
                "task_key": "each",
                "for_each_task": {
                    "inputs": "{{job.parameters.regions}}",
                    "task": {
                        "task_key": "one",
                        "existing_cluster_id": "0923-164208-meows279",
                        "notebook_task": {"notebook_path": "/a"},
                    },
                },
            }
        ],
    }
    job = RunSpec.from_dict(body).to_job_settings()
    assert job["tasks"] == body["tasks"] and "parameters" not in job
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    assert [(p.path, p.code) for p in info.value.problems] == [
        ("$.tasks[0].for_each_task.inputs", "unknown-job-parameter")
    ]
