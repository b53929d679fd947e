"""A ``Run`` is a value: copies, deep copies and pickles work at the API's 1000 tasks and compare equal."""

from __future__ import annotations

import copy
import pickle

import pytest

from runspec import NewCluster, NotebookTask, PyPI, Run, TaskDependency
from runspec.build._ops import SetField, Start


def _run(n: int) -> Run:
    run = Run("values").cluster("c", NewCluster(spark_version="15.4.x-scala2.12", num_workers=1))
    for i in range(n):
        run = run.task(
            NotebookTask(f"/n/{i}"), key=f"t{i}", depends_on=[f"t{i - 1}"] if i else (), libraries=[PyPI("p")]
        )
    return run.timeout(60).update_task("t0", description="first")


@pytest.mark.parametrize("n", [0, 1, 300, 1000])
def test_copy_deepcopy_and_pickle_of_a_run(n: int) -> None:
    run = _run(n)
    body = run.compile().to_dict() if n else None
    for other in (copy.copy(run), copy.deepcopy(run), pickle.loads(pickle.dumps(run))):
        assert other == run
        assert hash(other) == hash(run)
        if body is not None:
            assert other.compile().to_dict() == body


def test_a_pickled_run_keeps_growing_on_its_own() -> None:
    run = _run(3)
    loaded = pickle.loads(pickle.dumps(run))
    longer = loaded.task(NotebookTask("/n/extra"), key="extra")
    assert longer.compile().task_keys == ("t0", "t1", "t2", "extra")
    assert run.compile().task_keys == ("t0", "t1", "t2")


def test_each_call_is_one_record() -> None:
    """A Run is its calls, one record each; a task call keeps its task's fields (key first) in the record itself."""
    notebook = NotebookTask("/a")
    run = Run("x").task(notebook, key="a", depends_on=["z"], cluster="c")
    first, second = run._records()
    assert first == (None, None, SetField("run_name", "x"))
    assert second[0] is first and second is run._last
    assert second[1] == {"task_key": "a", "notebook_task": notebook, "depends_on": (TaskDependency("z"),)}
    assert list(second[1]) == ["task_key", "notebook_task", "depends_on"]
    assert second[2] == "c"
    assert isinstance(Run()._records()[0][2], Start)


def test_a_loaded_run_with_extra_fields_pickles_and_compiles_the_same() -> None:
    """A run loaded from a body (tasks keep their compute, extra fields ride along) survives pickle and copies."""
    body = {
        "run_name": "loaded",
        "tasks": [
            {"notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": "c-1", "task_key": "a", "future": 1},
            {"task_key": "b", "depends_on": [{"task_key": "a"}], "pipeline_task": {"pipeline_id": "p"}},
        ],
    }
    run = Run.from_dict(body, strict=False).cluster("c", NewCluster(spark_version="15.4.x-scala2.12", num_workers=1))
    run = run.task(NotebookTask("/n"), depends_on=["b"], extra={"later": True})
    for other in (copy.deepcopy(run), pickle.loads(pickle.dumps(run))):
        assert other == run and hash(other) == hash(run)
        assert other.to_json() == run.to_json()
    tasks = run.compile().to_dict()["tasks"]
    assert list(tasks[0]) == ["task_key", "notebook_task", "existing_cluster_id", "future"]
    assert tasks[2] == {
        "task_key": "n",
        "notebook_task": {"notebook_path": "/n"},
        "depends_on": [{"task_key": "b"}],
        "later": True,
        "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1},
    }


def test_runs_equal_whatever_order_their_mappings_were_given_in_hash_equal() -> None:
    """Equal runs hash equal: extra fields and update_task's fields compare, and so hash, without their order."""
    base = Run("x").task(NotebookTask("/a"), key="a")
    pairs = [
        (base.set(extra={"a": 1, "b": 2}), base.set(extra={"b": 2, "a": 1})),
        (
            base.update_task("a", timeout_seconds=1, max_retries=2),
            base.update_task("a", max_retries=2, timeout_seconds=1),
        ),
    ]
    for one, other in pairs:
        assert one == other and hash(one) == hash(other)
