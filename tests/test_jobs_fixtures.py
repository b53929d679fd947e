"""
Real job definitions (tests/golden/jobs/*.json, each citing where it comes from) converted to one-time
runs and back to jobs.

Each fixture holds the job as published (``data``), what converting it as published reports
(``published``: problems or warnings, by path and code), and, where the published job cannot be sent,
the edits that make it sendable (``edits``, ``resolve``), each with its reason. The sendable job must
convert to a run whose every shared cluster is inlined and every dropped field warned about, that
loads as a runs/submit body, and whose ``to_job_settings()`` gives the same job back, up to the
fields the warnings listed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from runspec import Run, RunSpec, SpecError

FIXTURES = sorted((Path(__file__).parent / "golden" / "jobs").glob("*.json"))
# The job fields a one-time run cannot carry (the list, plus description).
JOB_ONLY = ["schedule", "trigger", "continuous", "max_concurrent_runs", "tags", "format", "edit_mode", "deployment"]
JOB_ONLY += ["description", "parameters"]


def load(path: Path) -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return fixture


def convert(fixture: dict[str, Any], data: dict[str, Any]) -> RunSpec:
    if fixture["input"] == "bundle":
        return RunSpec.from_bundle(data, fixture["bundle_job"])
    return RunSpec.from_job_settings(data)


def settings_of(fixture: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The job settings inside the input, and the JSON path they are at."""
    if fixture["input"] == "bundle":
        name = fixture["bundle_job"]
        base = f"$.resources.jobs.{name}" if name.isidentifier() else f"$.resources.jobs['{name}']"
        return data["resources"]["jobs"][name], base
    if fixture["input"] == "jobs/get":
        return data["settings"], "$.settings"
    return data, "$"


def sendable(fixture: dict[str, Any]) -> dict[str, Any]:
    """The fixture's job with its edits applied (references resolved, what the API refuses mended)."""
    text = json.dumps(fixture["data"])
    for reference, value in fixture.get("resolve", {}).items():
        text = text.replace(reference, value)
    data: dict[str, Any] = json.loads(text)
    for edit in fixture.get("edits", []):
        *parents, last = edit["path"]
        node: Any = data
        for step in parents:
            node = node[step]
        if edit.get("drop"):
            del node[last]
        else:
            node[last] = edit["set"]
    return data


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def expected_job(fixture: dict[str, Any], settings: dict[str, Any], warned: set[str]) -> dict[str, Any]:
    """The job a round trip should give: the settings less what the warnings dropped, nulls left out."""
    job = without_nulls(copy.deepcopy(settings))
    for field in warned:
        job.pop(field, None)
    if "permissions" in job:  # a bundle's permissions are the job's access control list
        permissions = job.pop("permissions")
        job["access_control_list"] = [
            {("permission_level" if k == "level" else k): v for k, v in entry.items()} for entry in permissions
        ]
    for task in job.get("tasks", []):
        for kind, fields in fixture.get("pushed_down", {}).get(task["task_key"], {}).items():
            task[kind].update(fields)
    return job


def pairs(problems: Any) -> list[list[str]]:
    return [[p.path, p.code] for p in problems]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_converting_the_job_as_published(path: Path) -> None:
    """What the conversion reports for the job as its source published it: problems or warnings, with paths."""
    fixture = load(path)
    expected = fixture["published"]
    if "problems" in expected:
        with pytest.raises(SpecError) as info:
            convert(fixture, copy.deepcopy(fixture["data"]))
        assert pairs(info.value.problems) == expected["problems"]
        assert all(p.message for p in info.value.problems)
    else:
        spec = convert(fixture, copy.deepcopy(fixture["data"]))
        assert pairs(spec.warnings) == expected["warnings"]


SENDABLE = [p for p in FIXTURES if "warnings" in load(p)["published"] or "edits" in load(p) or "resolve" in load(p)]


@pytest.mark.parametrize("path", SENDABLE, ids=[p.stem for p in SENDABLE])
def test_a_real_job_becomes_a_run_and_the_same_job_again(path: Path) -> None:
    fixture = load(path)
    data = sendable(fixture)
    settings, base = settings_of(fixture, data)
    spec = convert(fixture, data)
    body = spec.to_dict()

    # The run loads as a runs/submit body on its own, and says nothing of shared clusters.
    assert RunSpec.from_dict(body).to_dict() == body
    assert "job_clusters" not in body
    clusters = {c["job_cluster_key"]: without_nulls(c["new_cluster"]) for c in settings.get("job_clusters", [])}
    for job_task, run_task in zip(settings["tasks"], body["tasks"], strict=True):
        assert "job_cluster_key" not in run_task
        if "job_cluster_key" in job_task:  # every shared cluster is inlined into each task naming it
            assert run_task["new_cluster"] == clusters[job_task["job_cluster_key"]]

    # Every field a run cannot carry has one warning at its path; nothing else is dropped silently.
    dropped = [w for w in spec.warnings if w.code in ("job-field-dropped", "job-parameters-inlined")]
    warned = {w.path[len(base) + 1 :] for w in dropped}
    assert warned == {field for field in JOB_ONLY if settings.get(field) is not None}
    if settings.get("name") is not None:
        assert body["run_name"] == settings["name"]

    # Back to a job: the same job, up to the dropped fields. The builder remembers each task's job cluster
    # key (a RunSpec is the body alone: see test_a_compiled_run_becomes_a_job_with_its_named_clusters_shared).
    builder = (
        Run.from_bundle(data, fixture["bundle_job"]) if fixture["input"] == "bundle" else Run.from_job_settings(data)
    )
    job = builder.to_job_settings()
    assert job == expected_job(fixture, settings, warned)
    # And that job converts to the same run again.
    again = Run.from_job_settings(job)
    assert again.compile().to_dict() == body
    assert again.to_job_settings() == job


SETTINGS = [p for p in SENDABLE if load(p)["input"] != "bundle"]


@pytest.mark.parametrize("path", SETTINGS, ids=[p.stem for p in SETTINGS])
def test_the_builder_takes_a_real_job_too(path: Path) -> None:
    """
    ``Run.from_job_settings`` compiles to the same body; compile() repeats the conversion's warnings (paths
    in the job) and finds the run's own (paths in the run body it compiles).
    """
    fixture = load(path)
    spec = convert(fixture, sendable(fixture))
    compiled = Run.from_job_settings(sendable(fixture)).compile()
    assert compiled.to_dict() == spec.to_dict()
    assert [w.code for w in compiled.warnings] == [w.code for w in spec.warnings]
    own = ("job-field-dropped", "job-parameters-inlined", "cluster-per-task")
    conversion = [w for w in spec.warnings if w.code in own]
    assert [w for w in compiled.warnings if w in conversion] == conversion
