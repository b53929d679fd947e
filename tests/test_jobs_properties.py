"""
Run -> job -> run on random runs built with the builder (tests/strategies.py): the job a run becomes
converts back to the same run, and the named clusters come back as the job clusters of those names.
"""

from __future__ import annotations

from hypothesis import given

from runspec import RunSpec

try:
    from tests.strategies import Drawn, budget, runs
except ImportError:  # tests/ run as a plain directory
    from strategies import Drawn, budget, runs  # type: ignore[no-redef]


@budget(60)
@given(runs(max_tasks=8))
def test_a_run_saved_as_a_job_converts_back_to_the_same_run(drawn: Drawn) -> None:
    spec = drawn.run.compile()
    job = spec.to_job_settings()
    body = spec.to_dict()
    body.pop("idempotency_token", None)  # runs/submit only: a job has none
    back = RunSpec.from_job_settings(job)
    assert back.to_dict() == body
    assert back.to_job_settings() == job
    # A cluster the builder named is a job cluster of that name, shared by the tasks that used it.
    named = {entry["job_cluster_key"] for entry in job.get("job_clusters", [])}
    used = {
        plan.compute.split(":", 1)[1] for plan in drawn.tasks if plan.compute and plan.compute.startswith("cluster:")
    }
    assert used <= named
    assert not [w for w in back.warnings if w.code == "job-field-dropped"]
