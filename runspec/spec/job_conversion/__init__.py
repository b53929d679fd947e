"""
Saved jobs and one-time runs, both ways: a job's settings to a run body (``_job_to_run``), the job's
parameters pushed into its tasks (``_job_parameters``) and a run back to a ``jobs/create`` body
(``_run_to_job``). ``RunSpec`` calls these with its own class; ``runspec.spec.jobs`` is their public face.
"""
