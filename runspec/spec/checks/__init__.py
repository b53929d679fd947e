"""
The checks of a run: the rule registry (``_rules``), the per-object rules (``_object_rules``), the per-task
rules (``_task_rules``), the whole-run checks that run them all (``_checks``) and the reading of a body in
the single-task form (``_single``). They read the model and the task-type table, never ``RunSpec``'s
module: ``RunSpec`` calls them.
"""
