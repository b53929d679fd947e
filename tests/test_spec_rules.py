"""
The checks run the same rules on every object and every task, however the run was made.

A rule added as ``runspec.spec.checks._checks`` says (``@task_rule`` or ``@object_rule``) applies to each of
the 1000 tasks of a run built with the builder, with the classes and with ``from_dict``; and the spec
base (objects, classes, conversion, loading) does not reach into the checks at all.
"""

from __future__ import annotations

import ast
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runspec import NewCluster, NotebookTask, PyPI, Run, RunSpec, SparkPythonTask, SpecError
from runspec.spec import SubmitTask, Task, TaskDependency
from runspec.spec.checks._checks import Report, TaskScope
from runspec.spec.checks._rules import (
    OBJECT_RULES,
    TASK_RULES,
    forget_plans,
    object_rule,
    shaped_task_rule,
    task_rule,
)
from runspec.spec.objects._convert import jpath
from runspec.spec.objects._object import SpecObject, set_fields

N = 1000
CLUSTER = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1)


def built_by_builder() -> RunSpec:
    run = Run("planted").cluster("c", CLUSTER)
    for i in range(N):
        run = run.task(
            NotebookTask(f"/n/{i}"),
            key=f"t{i}",
            depends_on=[f"t{i - 1}"] if i else (),
            cluster="c",
            libraries=[PyPI("p")],
        )
    return run.compile()


def built_by_classes() -> RunSpec:
    tasks = [
        SubmitTask(
            f"t{i}",
            notebook_task=NotebookTask(f"/n/{i}"),
            depends_on=[TaskDependency(f"t{i - 1}")] if i else None,
            new_cluster=CLUSTER,
            libraries=[PyPI("p")],
        )
        for i in range(N)
    ]
    return RunSpec(run_name="planted", tasks=tasks)


def built_by_from_dict() -> RunSpec:
    return RunSpec.from_dict(built_by_classes().to_dict())


MAKERS: dict[str, Callable[[], RunSpec]] = {
    "builder": built_by_builder,
    "classes": built_by_classes,
    "from_dict": built_by_from_dict,
}


@pytest.fixture
def planted_task_rule() -> Iterator[None]:
    """A per-task rule added the documented way: it warns about every task it sees."""

    @task_rule
    def _every_task(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
        r.warn(jpath(path, "task_key"), "planted", f"saw {task.task_key} with {scope.types}")

    try:
        yield
    finally:
        TASK_RULES[:] = [e for e in TASK_RULES if e.rule is not _every_task]


@pytest.fixture
def planted_object_rule() -> Iterator[None]:
    """A per-object rule added the documented way: it warns about every notebook task it sees."""

    @object_rule(NotebookTask)
    def _every_notebook(task: NotebookTask, path: str, r: Report) -> None:
        r.warn(jpath(path, "notebook_path"), "planted", task.notebook_path)

    try:
        yield
    finally:
        OBJECT_RULES[NotebookTask].remove(_every_notebook)
        forget_plans()


def _planted(spec: RunSpec) -> list[tuple[str, str]]:
    return [(w.path, w.message) for w in spec.warnings if w.code == "planted"]


@pytest.mark.parametrize("made_by", MAKERS)
def test_a_planted_task_rule_fires_on_every_task(made_by: str, planted_task_rule: None) -> None:
    found = _planted(MAKERS[made_by]())
    assert found == [(f"$.tasks[{i}].task_key", f"saw t{i} with ['notebook_task']") for i in range(N)]


@pytest.mark.parametrize("made_by", MAKERS)
def test_a_planted_object_rule_fires_on_every_object(made_by: str, planted_object_rule: None) -> None:
    found = _planted(MAKERS[made_by]())
    assert found == [(f"$.tasks[{i}].notebook_task.notebook_path", f"/n/{i}") for i in range(N)]


def test_a_planted_task_rule_sees_the_task_inside_a_for_each(planted_task_rule: None) -> None:
    from runspec.spec import ForEachTask

    inner = Task("inner", notebook_task=NotebookTask("/n"), existing_cluster_id="c")
    spec = Run("x").task(ForEachTask("[1, 2]", inner), key="loop").compile()
    assert [p for p, _ in _planted(spec)] == ["$.tasks[0].task_key", "$.tasks[0].for_each_task.task.task_key"]


def test_a_rule_that_reads_some_fields_runs_on_the_tasks_that_set_them() -> None:
    @task_rule(reads=("timeout_seconds",))
    def _timed(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
        r.warn(path, "planted", "timed")

    try:
        run = (
            Run("x")
            .task(NotebookTask("/a"), key="a", existing_cluster_id="c", timeout_seconds=5)
            .task(NotebookTask("/b"), key="b", existing_cluster_id="c")
        )
        assert [p for p, _ in _planted(run.compile())] == ["$.tasks[0]"]
    finally:
        TASK_RULES[:] = [e for e in TASK_RULES if e.rule is not _timed]


def test_a_planted_error_stops_every_way_of_making_a_run() -> None:
    @task_rule
    def _no_t7(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
        if task.task_key == "t7":
            r.error(path, "planted", "t7 is not allowed")

    try:
        for made_by, make in MAKERS.items():
            with pytest.raises(Exception) as err:
                make()
            problems: Any = getattr(err.value, "problems", ())
            assert [(p.path, p.code) for p in problems] == [("$.tasks[7]", "planted")], made_by
    finally:
        TASK_RULES[:] = [e for e in TASK_RULES if e.rule is not _no_t7]


def test_a_rule_guarded_by_task_types_runs_on_the_tasks_of_those_types() -> None:
    @task_rule(when=lambda entries: any(e.field == "spark_python_task" for e in entries))
    def _python_only(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
        r.warn(path, "planted", str(task.task_key))

    try:
        run = (
            Run("x")
            .task(NotebookTask("/a"), key="a", existing_cluster_id="c")
            .task(SparkPythonTask("/b.py"), key="b", existing_cluster_id="c")
            .task(NotebookTask("/c"), key="c", existing_cluster_id="c")
        )
        assert _planted(run.compile()) == [("$.tasks[1]", "b")]
    finally:
        TASK_RULES[:] = [e for e in TASK_RULES if e.rule is not _python_only]


def test_a_rule_made_per_shape_runs_on_every_task_of_each_shape_it_makes_a_rule_for() -> None:
    shapes: list[tuple[str, ...]] = []

    @shaped_task_rule
    def _per_shape(names: tuple[str, ...], entries: Any) -> Any:
        shapes.append(names)
        if "timeout_seconds" not in names:
            return None
        kinds = ",".join(e.field for e in entries)

        def rule(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
            r.warn(path, "planted", f"{task.task_key} {kinds}")

        return rule

    try:
        run = Run("x")
        for i in range(6):
            run = run.task(NotebookTask(f"/{i}"), key=f"t{i}", existing_cluster_id="c", timeout_seconds=i or None)
        assert _planted(run.compile()) == [(f"$.tasks[{i}]", f"t{i} notebook_task") for i in range(1, 6)]
        assert len(shapes) == 2  # the first task's shape, and the other five's
    finally:
        TASK_RULES[:] = [e for e in TASK_RULES if e.rule is not _per_shape]


def test_a_rule_on_a_class_with_nothing_else_to_check_fires_on_every_object() -> None:
    # A dependency has no enum or integer field and no rule of its own: the walk skips dependencies
    # until a rule about them is added.
    @object_rule(TaskDependency)
    def _every_dependency(dep: TaskDependency, path: str, r: Report) -> None:
        r.warn(path, "planted", dep.task_key)

    try:
        spec = RunSpec.from_dict(built_by_classes().to_dict())
        assert _planted(spec) == [(f"$.tasks[{i}].depends_on[0]", f"t{i - 1}") for i in range(1, N)]
    finally:
        OBJECT_RULES[TaskDependency].remove(_every_dependency)
        forget_plans()


def test_a_subclass_made_after_the_first_check_is_checked_as_its_class() -> None:
    Run("x").task(NotebookTask("/a"), key="a", existing_cluster_id="c").compile()

    class LaterNotebook(NotebookTask):
        pass

    task = SubmitTask("a", notebook_task=LaterNotebook("/n", source="GITT"), existing_cluster_id="c")  # type: ignore[arg-type]
    with pytest.raises(SpecError) as err:
        RunSpec(tasks=[task])
    assert [(p.path, p.code) for p in err.value.problems] == [("$.tasks[0].notebook_task.source", "invalid-enum")]


def test_an_object_met_twice_is_reported_once() -> None:
    from runspec.spec import ConditionTask

    shared = ConditionTask("a", "EQUALS", "b")  # type: ignore[arg-type]  # an op the API does not have
    with pytest.raises(SpecError) as err:
        RunSpec(tasks=[SubmitTask("x", condition_task=shared), SubmitTask("y", condition_task=shared)])
    assert [(p.path, p.code) for p in err.value.problems] == [("$.tasks[0].condition_task.op", "invalid-enum")]


def test_an_object_with_rules_met_twice_is_reported_once() -> None:
    from runspec.spec import SparkJarTask

    shared = SparkJarTask(main_class_name="M", jar_uri="dbfs:/a.jar")
    quiet = NotebookTask("/n")
    spec = RunSpec(
        tasks=[
            SubmitTask("x", spark_jar_task=shared, existing_cluster_id="c"),
            SubmitTask("y", spark_jar_task=shared, existing_cluster_id="c"),
            SubmitTask("z", notebook_task=quiet, existing_cluster_id="c"),
            SubmitTask("w", notebook_task=quiet, existing_cluster_id="c"),
        ]
    )
    assert [(p.path, p.code) for p in spec.warnings] == [("$.tasks[0].spark_jar_task.jar_uri", "deprecated")]


# -- the spec base does not reach into the checks ---------------------------------------------------------

PACKAGE = Path(__file__).resolve().parent.parent / "runspec"
BASE_MODULES = [
    "spec/objects/_base",
    "spec/objects/_classes",
    "spec/objects/_convert",
    "spec/objects/_load",
    "spec/objects/_object",
    "spec/schema/_schema",
    "_text",
    "spec/limits",
    "spec/task_types",
]
CHECK_MODULES = {"_checks", "_rules", "_object_rules", "_task_rules", "_class_checks"}


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top, in functions or under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", BASE_MODULES)
def test_the_spec_base_does_not_import_the_checks(module: str) -> None:
    imported = _imported_modules(PACKAGE / f"{module}.py")
    reached = {m for m in imported if m.rsplit(".", 1)[-1] in CHECK_MODULES}
    assert reached == set()


def test_the_task_shapes_kept_between_checks_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Checking body after body whose tasks set their fields in ever new orders keeps a bounded table of task
    shapes (a service validating bodies does not grow without end), and every body is told the same.
    """
    from runspec.spec.checks import _checks

    monkeypatch.setattr(_checks, "_MAX_SHAPES", 8, raising=False)
    values = {
        "timeout_seconds": 60,
        "max_retries": 1,
        "description": "d",
        "retry_on_timeout": True,
        "run_if": "ALL_DONE",
    }
    told = set()
    for order in itertools.permutations(values, 3):  # 60 shapes
        task = {"task_key": "a", **{k: values[k] for k in order}, "notebook_task": {"notebook_path": "/a"}}
        body = {"tasks": [{**task, "existing_cluster_id": "c", "depends_on": [{"task_key": "gone"}]}]}
        with pytest.raises(SpecError) as caught:
            RunSpec.from_dict(body)
        told.add(tuple((p.path, p.code) for p in caught.value.problems))
        assert _checks._plans is not None and len(_checks._plans.shapes) <= 8
    assert told == {(("$.tasks[0].depends_on[0].task_key", "unknown-dependency"),)}


def test_the_item_paths_kept_between_checks_are_bounded(
    monkeypatch: pytest.MonkeyPatch, planted_object_rule: None
) -> None:
    """A list longer than the item paths kept between checks is walked whole, each item told at its path."""
    from runspec.spec.checks import _rules

    monkeypatch.setattr(_rules, "_MAX_INDEXES", 3)
    monkeypatch.setattr(_rules, "_INDEXES", [])
    for n in (2, 5, 3, 4):
        notebooks = [NotebookTask(f"/n/{i}") for i in range(n)]
        spec = RunSpec(
            tasks=[SubmitTask(f"t{i}", notebook_task=nb, existing_cluster_id="c") for i, nb in enumerate(notebooks)]
        )
        assert _planted(spec) == [(f"$.tasks[{i}].notebook_task.notebook_path", f"/n/{i}") for i in range(n)]
        assert len(_rules._INDEXES) <= 3


def _every_object(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Each spec object in ``value`` and its path, found by reading set fields (not by the checks' walks)."""
    if isinstance(value, SpecObject):
        yield path, type(value).__name__
        for name, item in set_fields(value).items():
            yield from _every_object(item, jpath(path, name))
    elif type(value) is tuple:
        for i, item in enumerate(value):
            yield from _every_object(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _every_object(item, jpath(path, key))


@pytest.mark.parametrize("body", sorted(p.name for p in (Path(__file__).parent / "golden" / "bodies").glob("*.json")))
def test_an_object_rule_meets_every_object_of_a_run_once_at_its_path(body: str) -> None:
    """
    The walk of a run's tasks (written for tasks, beside the generated walk of every other class) and the
    generated walks meet each object of a run once, at its path: a rule on every class sees what reading
    the objects' set fields finds.
    """

    @object_rule(SpecObject)
    def _every(obj: SpecObject, path: str, r: Report) -> None:
        r.warn(path, "planted", type(obj).__name__)

    try:
        spec = RunSpec.from_dict(json.loads((Path(__file__).parent / "golden" / "bodies" / body).read_text()))
        found = [(w.path, w.message) for w in spec.warnings if w.code == "planted"]
    finally:
        del OBJECT_RULES[SpecObject]
        forget_plans()
    assert len(found) > 1 and sorted(found) == sorted(_every_object(spec, "$"))


def test_a_task_holds_objects_only_alone_or_in_lists() -> None:
    """
    The walk of a run's tasks steps into a field holding one object or a list of them (as the generated
    walks do); a task field holding a map of objects would need a step it does not have. The schema has
    none: if a refresh brings one, this says where the walk must learn it.
    """

    def holds_objects(desc: tuple[Any, ...]) -> bool:
        return desc[0] == "object" or any(type(d) is tuple and holds_objects(d) for d in desc[1:])

    unwalked = [
        name
        for name, desc, *_ in SubmitTask._table
        if holds_objects(desc) and desc[0] != "object" and not (desc[0] == "array" and desc[1][0] == "object")
    ]
    assert unwalked == []
