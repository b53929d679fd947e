"""
``compile()``: the operations of a ``Run`` folded into what they say, then into a checked ``RunSpec``.

Folding resolves what the builder left open: task keys not given are derived from the task (its
task type's naming rule), named clusters are copied into each task that uses them (runs/submit has no
shared job clusters), edits apply to the tasks that existed when they were made. Then the whole run
is checked, once, by the same checks every ``RunSpec`` gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runspec.build._ops import (
    AS_LOADED,
    AddCluster,
    AddEnvironment,
    AddHealthRule,
    Append,
    ClusterKeys,
    LoadWarnings,
    Record,
    RemoveTask,
    SetExtra,
    SetField,
    UpdateTask,
)
from runspec.errors import Problem
from runspec.spec import (
    ForEachTask,
    JobEnvironment,
    JobsHealthRule,
    JobsHealthRules,
    NewCluster,
    RunSpec,
    SubmitTask,
    Task,
)
from runspec.spec.limits import MAX_TASK_KEY
from runspec.spec.objects import set_fields
from runspec.spec.schema._schema import closest
from runspec.spec.task_types import TASK_TYPES, suggest_key

__all__ = ["Compiled", "Intent"]


class Compiled:
    """
    What ``compile()`` made: the spec, and which named cluster each task got (``cluster_names``, for the
    pictures and ``to_job_settings``, worked out when first read: ``compile()`` itself never needs it).
    """

    __slots__ = ("_loaded", "_used", "spec")

    def __init__(self, spec: RunSpec, used: dict[str, list[int]], loaded: dict[str, str]) -> None:
        self.spec = spec
        self._used = used
        self._loaded = loaded

    @property
    def cluster_names(self) -> dict[str, str]:
        """Task key -> the name of its cluster: the named cluster given to it, or a loaded job's cluster key."""
        keys, loaded = [task.task_key for task in self.spec.tasks or ()], self._loaded
        named = {key: loaded[key] for key in keys if key in loaded} if loaded else {}
        named.update({keys[i]: name for name, indexes in self._used.items() for i in indexes})
        return named


class Intent:
    """The calls that made a Run (their records, first to last) folded into what they say, then compiled."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.top: dict[str, Any] = {}
        self.extra: Any = None
        #: Each task's fields (see ``Record``) and the named cluster it asked for, in the order added.
        self.tasks: list[dict[str, Any]] = []
        self.task_clusters: list[str | None] = []
        self.clusters: dict[str, NewCluster] = {}
        self.problems: list[Problem] = []
        self.environments: list[JobEnvironment] = []
        self.health: list[JobsHealthRule] = []
        self.appended: dict[str, list[Any]] = {}
        # Each edit with the number of tasks when it was called: it applies to those tasks only.
        self.edits: list[tuple[int, str, dict[str, Any] | None]] = []
        self.load_warnings: tuple[Problem, ...] = ()
        self.cluster_keys: dict[str, str] = {}
        #: The tasks (by index in the run compiled) given a named cluster that are for_each tasks.
        self.loops: set[int] = set()
        tasks, task_clusters = self.tasks, self.task_clusters
        for _, fields, op in records:
            if fields is not None:
                tasks.append(fields)
                task_clusters.append(op)  # a task's record holds the cluster it named, others an operation
                continue
            if isinstance(op, SetField):
                if op.value is None:
                    self.top.pop(op.name, None)
                else:
                    self.top[op.name] = op.value
            elif isinstance(op, AddCluster):
                self._add_cluster(op)
            elif isinstance(op, AddEnvironment):
                self.environments.append(op.environment)
            elif isinstance(op, Append):
                self.appended.setdefault(op.name, []).append(op.item)
            elif isinstance(op, AddHealthRule):
                self.health.append(op.rule)
            elif isinstance(op, UpdateTask):
                self.edits.append((len(tasks), op.key, op.changes))
            elif isinstance(op, RemoveTask):
                self.edits.append((len(tasks), op.key, None))
            elif isinstance(op, SetExtra):
                self.extra = op.extra
            elif isinstance(op, LoadWarnings):
                self.load_warnings = op.warnings
            elif isinstance(op, ClusterKeys):
                self.cluster_keys.update(op.names)

    def _add_cluster(self, op: AddCluster) -> None:
        if op.name in self.clusters:
            self.problems.append(
                Problem(
                    "$",
                    "duplicate-cluster",
                    f"cluster {op.name!r} is declared twice; give each .cluster() its own name",
                )
            )
        self.clusters[op.name] = op.cluster

    def compile(self) -> Compiled:
        tasks, asked, keys = self._apply_edits()
        used: dict[str, list[int]] = {}
        clusters = self.clusters
        only = next(iter(clusters)) if len(clusters) == 1 else None
        built: list[SubmitTask] = []
        new_task = SubmitTask._new
        for i, fields in enumerate(tasks):
            # A task's record is made into its SubmitTask as it is, unless the task needs a key derived,
            # a named cluster added or its extra fields set apart (then into a new dict: runs share records).
            name = asked[i]
            if name is None:
                if only is not None and _wants_cluster(fields):
                    name = only
            elif name == AS_LOADED:
                name = None
            if "task_key" in fields:
                d = fields
            else:
                if keys is None:
                    keys = _derive_keys(tasks)
                d = {"task_key": keys[i], **fields}
            if name is not None:
                cluster = clusters.get(name)
                if (
                    cluster is not None
                    and "new_cluster" not in d
                    and "existing_cluster_id" not in d
                    and ("for_each_task" not in d)
                ):
                    indexes = used.get(name)
                    if indexes is None:
                        used[name] = [i]
                    else:
                        indexes.append(i)
                    if d is fields:
                        d = dict(fields)
                    d["new_cluster"] = cluster
                else:
                    if d is fields:
                        d = dict(fields)
                    self._attach_cluster(d, name, d["task_key"], i, used)
            if "extra" in d:
                if d is fields:
                    d = dict(fields)
                built.append(new_task(d, d.pop("extra")))
            else:
                built.append(new_task(d))
        for name in clusters:
            if name not in used:
                self.problems.append(
                    Problem(
                        "$",
                        "unused-cluster",
                        f"cluster {name!r} is declared but no task uses it; "
                        f"pass cluster={name!r} to .task() or remove it",
                    )
                )
        top = dict(self.top)
        if self.environments:
            top["environments"] = (*top.get("environments", ()), *self.environments)
        for field, items in self.appended.items():
            top[field] = (*top.get(field, ()), *items)
        if self.health:
            rules = top.get("health")
            existing = rules.rules if isinstance(rules, JobsHealthRules) and rules.rules else ()
            top["health"] = JobsHealthRules(rules=[*existing, *self.health])
        fields = {"run_name": top.pop("run_name")} if "run_name" in top else {}
        if built:
            fields["tasks"] = tuple(built)
        fields.update(top)
        spec = RunSpec._new(fields, self.extra)
        loops = self.loops
        warnings = [_cluster_per_task(name, indexes, built, loops) for name, indexes in used.items() if len(indexes) > 1]
        warnings += [
            _cluster_per_task(name, indexes, built, loops)
            for name, indexes in used.items()
            if len(indexes) == 1 and indexes[0] in loops
        ]
        spec._finish(self.problems, self.load_warnings, extra_warnings=warnings)
        return Compiled(spec, used, self.cluster_keys)

    def _apply_edits(self) -> tuple[list[dict[str, Any]], list[str | None], list[str] | None]:
        """
        The tasks, the clusters they asked for and their keys after ``update_task`` / ``remove_task``,
        applied in the order called (the keys None when there is no edit: ``compile()`` derives them when a
        task has none).

        An edit finds its task by key (given or derived) among the tasks that existed when it was
        called, so ``.remove_task("a").task(..., key="a")`` keeps the new task.
        """
        tasks = self.tasks
        if not self.edits:
            return tasks, self.task_clusters, None
        keys = _derive_keys(tasks)
        entries = list(tasks)
        alive = [True] * len(entries)
        for count, key, changes in self.edits:
            name = "remove_task" if changes is None else "update_task"
            index = next((i for i in range(count - 1, -1, -1) if alive[i] and keys[i] == key), None)
            if index is None:
                self.problems.append(Problem("$", "unknown-task", f"{name}({key!r}): no task has that key"))
            elif changes is None:
                alive[index] = False
            else:
                fields = dict(entries[index])
                for field, value in changes.items():
                    if value is None:
                        fields.pop(field, None)
                    else:
                        fields[field] = value
                entries[index] = fields
        kept = [i for i, keep in enumerate(alive) if keep]
        asked = self.task_clusters
        return [entries[i] for i in kept], [asked[i] for i in kept], [keys[i] for i in kept]

    def _attach_cluster(
        self, task: dict[str, Any], name: str, key: str, index: int, used: dict[str, list[int]]
    ) -> None:
        """Put named cluster ``name`` into ``task`` (the fields of task ``index``), or note why not."""
        cluster = self.clusters.get(name)
        path = f"$.tasks[{index}]"
        if cluster is None:
            guess = closest(name, self.clusters)
            hint = f"did you mean {guess!r}? " if guess else ""
            declared = ", ".join(repr(c) for c in self.clusters) or "none"
            self.problems.append(
                Problem(
                    path,
                    "unknown-cluster",
                    f"task {key!r} names cluster {name!r}, which is not declared; {hint}declared: {declared}",
                )
            )
            return
        used.setdefault(name, []).append(index)
        loop = task.get("for_each_task")
        if loop is not None:
            self.loops.add(index)
        if isinstance(loop, ForEachTask) and isinstance(loop.task, Task):
            # A for_each task has no cluster of its own: the cluster goes to the task it repeats.
            inner = loop.task
            inner_fields = set_fields(inner)
            if "new_cluster" in inner_fields or "existing_cluster_id" in inner_fields:
                self.problems.append(
                    Problem(
                        f"{path}.for_each_task.task",
                        "multiple-compute",
                        f"the task inside {key!r} already has a cluster; drop cluster={name!r}",
                    )
                )
                return
            new_inner = Task._new({**inner_fields, "new_cluster": cluster})
            task["for_each_task"] = ForEachTask._new({**set_fields(loop), "task": new_inner})
            return
        if "new_cluster" in task or "existing_cluster_id" in task:
            self.problems.append(
                Problem(
                    path,
                    "multiple-compute",
                    f"task {key!r} names cluster {name!r} and also sets its own cluster; keep one",
                )
            )
            return
        task["new_cluster"] = cluster


def _first_keys(built: list[SubmitTask], indexes: list[int]) -> str:
    shown = ", ".join(repr(built[i].task_key) for i in indexes[:5])
    return shown + (f" and {len(indexes) - 5} more" if len(indexes) > 5 else "")


def _wants_cluster(fields: dict[str, Any]) -> bool:
    """True for a task that needs classic compute and names none (so the run's one cluster applies)."""
    if "new_cluster" in fields or "existing_cluster_id" in fields or "environment_key" in fields:
        return False
    loop = fields.get("for_each_task")
    if isinstance(loop, ForEachTask) and isinstance(loop.task, Task):
        inner = set_fields(loop.task)
        return _wants_cluster({k: v for k, v in inner.items() if k != "task_key"})
    kinds = [entry for k in fields if (entry := TASK_TYPES.get(k)) is not None and entry.compute == "cluster"]
    return len(kinds) == 1 and kinds[0].runs_elsewhere(fields[kinds[0].field]) is None


# -- task keys ----------------------------------------------------------------------------------


def _derive_keys(tasks: list[dict[str, Any]]) -> list[str]:
    """Each task's key: the one given, or one derived from the task and made unique in the run."""
    keys: list[str] = [fields["task_key"] for fields in tasks if "task_key" in fields]
    if len(keys) == len(tasks):
        return keys  # every key given
    taken = set(keys)
    counts: dict[str, int] = {}
    keys = []
    for fields in tasks:
        given = fields.get("task_key")
        if given is not None:
            keys.append(given)
            continue
        base = suggest_key(fields) or "task"
        n = counts.get(base, 0)
        key = base
        while key in taken:
            n += 1
            suffix = f"_{n + 1}"
            key = base[: MAX_TASK_KEY - len(suffix)] + suffix
        counts[base] = n
        taken.add(key)
        keys.append(key)
    return keys


def _cluster_per_task(name: str, indexes: list[int], built: list[SubmitTask], loops: set[int]) -> Problem:
    """
    The ``cluster-per-task`` warning of a named cluster: runs/submit starts one for each task that uses
    it, and a for_each task starts one for each iteration of the task it repeats.
    """
    looped = [built[i].task_key for i in indexes if i in loops] if loops else []
    per_iteration = (
        f"; the for_each task{'s' if len(looped) > 1 else ''} {', '.join(map(repr, looped))} start"
        f"{'' if len(looped) > 1 else 's'} one for each iteration"
        if looped
        else ""
    )
    if len(indexes) == 1:
        return Problem(
            f"$.tasks[{indexes[0]}].for_each_task.task.new_cluster",
            "cluster-per-task",
            f"cluster {name!r} goes to the task that for_each task {built[indexes[0]].task_key!r} repeats; runs/submit "
            f"starts a separate cluster for each iteration",
        )
    path = f"$.tasks[{indexes[0]}]" + (".for_each_task.task" if indexes[0] in loops else "")
    return Problem(
        f"{path}.new_cluster",
        "cluster-per-task",
        f"cluster {name!r} is copied into {len(indexes)} tasks ({_first_keys(built, indexes)}); runs/submit "
        f"starts a separate cluster for each of them{per_iteration}",
    )
