"""
Saved jobs and one-time runs, both ways.

``job_to_run`` turns a saved job's settings (a ``jobs/create`` body, a ``jobs/get`` response, or a
job of ``databricks bundle validate --output json``) into a checked ``RunSpec``: every shared job
cluster is copied into the tasks that name it, job parameters are put where a run of the job would
see them, and what a one-time run cannot carry is dropped with one warning each. Whatever cannot be
converted faithfully is a ``SpecError`` with its path in the input, never a quiet change.

``run_to_job`` goes the other way: a ``jobs/create`` body in which the per-task copies of one cluster
become a single ``job_clusters`` entry again.

The work is done in ``runspec.spec.job_conversion``; this module gives it its public names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from runspec.errors import Problem
from runspec.spec.job_conversion._job_to_run import CARRIED_FIELDS, JOB_ONLY_FIELDS, convert_bundle_job, convert_job
from runspec.spec.job_conversion._run_to_job import job_body
from runspec.spec.model._job_objects import CreateJob, JobSettings
from runspec.spec.run_spec import RunSpec

__all__ = [
    "CARRIED_FIELDS",
    "JOB_ONLY_FIELDS",
    "CreateJob",
    "JobConversion",
    "JobSettings",
    "bundle_job_to_run",
    "job_to_run",
    "run_to_job",
]


class JobConversion(NamedTuple):
    """The run made from a job, and the warnings the conversion itself gave (also in ``spec.warnings``)."""

    spec: RunSpec
    warnings: tuple[Problem, ...]
    #: task key -> the job cluster key its cluster came from, for ``RunSpec.to_job_settings(cluster_names=...)``
    cluster_names: Mapping[str, str] = {}


def job_to_run(
    settings: Mapping[str, Any],
    *,
    run_name: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> JobConversion:
    """
    Convert job settings (a ``jobs/create`` body or a ``jobs/get`` response) into a checked run.

    See ``RunSpec.from_job_settings``.
    """
    return JobConversion(*convert_job(settings, RunSpec.from_dict, run_name=run_name, parameters=parameters))


def bundle_job_to_run(
    resolved: Mapping[str, Any],
    job: str,
    *,
    run_name: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> JobConversion:
    """Convert job ``job`` of ``databricks bundle validate --output json`` output; see ``RunSpec.from_bundle``."""
    made = convert_bundle_job(resolved, job, RunSpec.from_dict, run_name=run_name, parameters=parameters)
    return JobConversion(*made)


def run_to_job(
    spec: RunSpec, *, name: str | None = None, cluster_names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The ``jobs/create`` body for ``spec``; see ``RunSpec.to_job_settings``."""
    if not isinstance(spec, RunSpec):
        raise TypeError(f"to_job_settings() needs a RunSpec (got a {type(spec).__name__})")
    return job_body(spec.to_dict(), name=name, cluster_names=cluster_names)
