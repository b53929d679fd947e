"""
Spec objects as values: frozen, hashable, equal by value, ``replace``-able, readable in ``repr``;
wrong Python types raise ``TypeError`` at the call that passed them, naming the class and argument.
"""

# The TypeError tests pass wrong types on purpose.
# mypy: disable-error-code="arg-type, list-item, dict-item"

from __future__ import annotations

import copy
import json
import pickle
from dataclasses import FrozenInstanceError
from enum import Enum
from typing import Any

import pytest

from runspec import (
    AutoScale,
    Jar,
    Library,
    Maven,
    NewCluster,
    NotebookTask,
    PipelineTask,
    PyPI,
    Run,
    RunSpec,
    SparkPythonTask,
    SpecError,
    SubmitTask,
    TaskDependency,
    Whl,
)
from runspec.spec import SqlTaskSubscription, SubscriptionSubscriber
from runspec.spec.objects import set_fields

CLUSTER = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2)


def small_spec() -> RunSpec:
    return RunSpec(
        run_name="v",
        tasks=[SubmitTask("a", notebook_task=NotebookTask("/a", base_parameters={"k": "v"}), new_cluster=CLUSTER)],
    )


# --------------------------------------------------------------------------------------------------
# Frozen.
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (NotebookTask("/a"), "notebook_path"),
        (NotebookTask("/a"), "source"),  # unset fields cannot be set either
        (CLUSTER, "num_workers"),
        (PyPI("pandas"), "package"),
        (Jar("/a.jar"), "path"),
        (TaskDependency("a"), "outcome"),
        (small_spec(), "run_name"),
        (small_spec(), "anything_new"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_assigning_or_deleting_a_field_raises_frozen_instance_error(obj: Any, field: str) -> None:
    """Spec objects cannot be changed: assignment and deletion raise FrozenInstanceError."""
    before = obj.to_dict()
    with pytest.raises(FrozenInstanceError, match=r"frozen"):
        setattr(obj, field, "x")
    with pytest.raises(FrozenInstanceError):
        delattr(obj, field)
    assert obj.to_dict() == before


def test_collections_are_frozen_copies_of_the_input() -> None:
    """Lists and dicts given to a spec object are copied into tuples and read-only mappings."""
    params = ["--a"]
    conf = {"spark.x": "1"}
    task = SparkPythonTask("/a.py", parameters=params)
    cluster = NewCluster(spark_version="v", spark_conf=conf)
    params.append("--b")
    conf["spark.y"] = "2"
    assert task.parameters == ("--a",)
    assert dict(cluster.spark_conf or {}) == {"spark.x": "1"}
    with pytest.raises((TypeError, AttributeError)):
        cluster.spark_conf["spark.z"] = "3"  # type: ignore[index]


def test_a_frozen_mapping_refuses_every_change_and_keeps_its_value() -> None:
    """A mapping field reads as a dict, refuses every change, and hashes, pickles and dumps by value."""
    conf = NewCluster(spark_version="v", spark_conf={"spark.x": "1"}).spark_conf
    assert conf is not None and isinstance(conf, dict) and conf == {"spark.x": "1"}
    changes = [
        lambda m: m.__setitem__("k", "v"),
        lambda m: m.__delitem__("spark.x"),
        lambda m: m.update(k="v"),
        lambda m: m.setdefault("k", "v"),
        lambda m: m.pop("spark.x"),
        lambda m: m.popitem(),
        lambda m: m.clear(),
        lambda m: m.__ior__({"k": "v"}),
    ]
    for change in changes:
        with pytest.raises(TypeError, match="read-only"):
            change(conf)
    assert conf == {"spark.x": "1"}
    other = NewCluster(spark_version="w", spark_conf={"spark.x": "1"}).spark_conf
    assert hash(conf) == hash(other) and pickle.loads(pickle.dumps(conf)) == conf
    assert json.dumps(conf) == '{"spark.x": "1"}' and repr(conf) == "FrozenMap({'spark.x': '1'})"
    # what a dict makes from it is a plain dict to change; copies of it are itself
    assert type(conf.copy()) is dict and conf | {"k": "v"} == {"spark.x": "1", "k": "v"} and type(conf | {}) is dict
    assert copy.copy(conf) is conf and copy.deepcopy(conf) is conf


def test_to_dict_returns_a_fresh_copy() -> None:
    """Changing what to_dict() returned changes neither the object nor the next to_dict()."""
    spec = small_spec()
    body = spec.to_dict()
    body["tasks"][0]["notebook_task"]["base_parameters"]["k"] = "changed"
    body["tasks"].append({"task_key": "sneaky"})
    body["run_name"] = "changed"
    assert spec.to_dict() == small_spec().to_dict()
    assert spec.task_keys == ("a",)


def test_copy_and_deepcopy_return_equal_values() -> None:
    """copy and deepcopy of a frozen object give an equal value."""
    spec = small_spec()
    assert copy.copy(spec) == spec
    assert copy.deepcopy(spec) == spec


def test_pickle_round_trips() -> None:
    """A pickled spec object loads back equal, with the same body."""
    spec = small_spec()
    again = pickle.loads(pickle.dumps(spec))
    assert again == spec
    assert again.to_dict() == spec.to_dict()
    lib = pickle.loads(pickle.dumps(Maven("g:a:1", exclusions=["g:x"])))
    assert lib.to_dict() == {"maven": {"coordinates": "g:a:1", "exclusions": ["g:x"]}}


# --------------------------------------------------------------------------------------------------
# Equality and hashing.
# --------------------------------------------------------------------------------------------------


def test_equal_by_value() -> None:
    """Objects with the same fields are equal; any differing field makes them unequal."""
    assert NotebookTask("/a", base_parameters={"k": "v"}) == NotebookTask("/a", base_parameters={"k": "v"})
    assert NotebookTask("/a") != NotebookTask("/b")
    assert NotebookTask("/a") != NotebookTask("/a", source="WORKSPACE")
    assert SparkPythonTask("/a.py", parameters=["x"]) == SparkPythonTask("/a.py", parameters=("x",))
    assert small_spec() == small_spec()


def test_equal_needs_the_same_type() -> None:
    """Objects of different classes with the same fields are not equal, and never equal a dict."""
    assert Jar("/a") != Whl("/a")
    assert SqlTaskSubscription(user_name="a@x") != SubscriptionSubscriber(user_name="a@x")
    assert NotebookTask("/a") != {"notebook_path": "/a"}


def test_extra_takes_part_in_equality() -> None:
    """Two objects that differ only in extra are not equal."""
    assert NotebookTask("/a", extra={"x": 1}) == NotebookTask("/a", extra={"x": 1})
    assert NotebookTask("/a", extra={"x": 1}) != NotebookTask("/a", extra={"x": 2})
    assert NotebookTask("/a", extra={"x": 1}) != NotebookTask("/a")


def test_equal_objects_hash_equal_and_work_as_keys() -> None:
    """Equal objects have equal hashes, so they deduplicate in sets and find each other in dicts."""
    a = NewCluster(spark_version="v", num_workers=1, custom_tags={"t": "1"})
    b = NewCluster(spark_version="v", num_workers=1, custom_tags={"t": "1"})
    assert hash(a) == hash(b)
    assert len({a, b, NewCluster(spark_version="v", num_workers=2)}) == 2
    assert {a: "x"}[b] == "x"
    assert hash(small_spec()) == hash(small_spec())


def test_hash_does_not_depend_on_the_order_fields_were_given() -> None:
    """Equal objects hash equal even when built from bodies with keys in another order."""
    by_call = NotebookTask("/a", source="GIT", base_parameters={"x": "1"})
    loaded = NotebookTask.from_dict({"source": "GIT", "base_parameters": {"x": "1"}, "notebook_path": "/a"})
    assert by_call == loaded
    assert hash(by_call) == hash(loaded)
    assert len({by_call, loaded}) == 1


def test_hash_of_builder_and_class_specs_agree() -> None:
    """A RunSpec from the builder and an equal one from the classes hash the same."""
    built = Run("v").task(PipelineTask("p"), key="p").compile()
    by_hand = RunSpec(tasks=[SubmitTask("p", pipeline_task=PipelineTask("p"))], run_name="v")
    assert built == by_hand
    assert hash(built) == hash(by_hand)


# --------------------------------------------------------------------------------------------------
# replace and repr.
# --------------------------------------------------------------------------------------------------


def test_replace_returns_a_changed_copy() -> None:
    """replace() gives a new object with the changes; the original keeps its fields."""
    changed = CLUSTER.replace(num_workers=8, runtime_engine="PHOTON")
    assert changed.to_dict() == {
        "spark_version": "15.4.x-scala2.12",
        "node_type_id": "i3.xlarge",
        "num_workers": 8,
        "runtime_engine": "PHOTON",
    }
    assert CLUSTER.num_workers == 2
    assert CLUSTER.runtime_engine is None
    assert changed != CLUSTER


def test_replace_with_none_unsets_and_keeps_extra() -> None:
    """replace(field=None) removes the field; extra is carried over."""
    task = NotebookTask("/a", source="GIT", extra={"new": True})
    assert task.replace(source=None).to_dict() == {"notebook_path": "/a", "new": True}


def test_replace_checks_types_and_names() -> None:
    """replace() checks each value like the constructor, and rejects unknown fields."""
    with pytest.raises(TypeError, match=r"NewCluster: 'num_workers' must be int"):
        CLUSTER.replace(num_workers="8")
    with pytest.raises(TypeError, match=r"num_worker"):
        CLUSTER.replace(num_worker=8)


def test_replace_on_a_run_spec_runs_the_checks() -> None:
    """RunSpec.replace() gives a checked spec: a change that breaks the run raises SpecError."""
    spec = small_spec()
    assert spec.replace(timeout_seconds=60).to_dict()["timeout_seconds"] == 60
    with pytest.raises(SpecError) as info:
        spec.replace(idempotency_token="t" * 65)
    assert info.value.codes == ("too-long",)


def test_repr_shows_only_the_fields_set() -> None:
    """repr names the class and the fields that were set, and nothing else."""
    assert repr(NotebookTask("/a")) == "NotebookTask(notebook_path='/a')"
    assert repr(TaskDependency("a", outcome="true")) == "TaskDependency(task_key='a', outcome='true')"
    assert repr(AutoScale(1, 4)) == "AutoScale(min_workers=1, max_workers=4)"
    assert repr(PyPI("pandas")) == "PyPI(package='pandas')"
    assert "extra={'x': 1}" in repr(NotebookTask("/a", extra={"x": 1}))


def test_unset_fields_read_as_none() -> None:
    """Reading a field that was not set gives None; set fields give their frozen value."""
    task = NotebookTask("/a")
    assert task.source is None
    assert task.base_parameters is None
    assert task.notebook_path == "/a"


def test_set_fields_lists_the_fields_set_in_order_without_extra() -> None:
    """set_fields gives the set fields by name, frozen; unset fields and extra are not in it."""
    task = NotebookTask("/a", base_parameters={"k": "v"}, extra={"x": 1})
    fields = set_fields(task)
    assert list(fields) == ["notebook_path", "base_parameters"]
    assert fields["notebook_path"] == "/a"
    assert dict(fields["base_parameters"]) == {"k": "v"}
    assert "source" not in fields and "extra" not in fields
    assert list(set_fields(PyPI("pandas", repo="https://r"))) == ["package", "repo"]


def test_enum_values_are_sent_as_strings() -> None:
    """Enum fields are plain strings in the body."""
    body = SubmitTask("a", notebook_task=NotebookTask("/a", source="WORKSPACE"), run_if="ALL_DONE").to_dict()
    assert body == {
        "task_key": "a",
        "notebook_task": {"notebook_path": "/a", "source": "WORKSPACE"},
        "run_if": "ALL_DONE",
    }


class Source(str, Enum):
    """A user's own string enum, as many code bases have."""

    GIT = "GIT"
    WORKSPACE = "WORKSPACE"


def test_str_enum_members_are_sent_as_their_value() -> None:
    """A str-based Enum member given for a string field is sent as its value, never as 'Source.WORKSPACE'."""
    task = NotebookTask("/a", source=Source.WORKSPACE)
    assert task.to_dict() == {"notebook_path": "/a", "source": "WORKSPACE"}
    assert json.loads(json.dumps(task.to_dict())) == {"notebook_path": "/a", "source": "WORKSPACE"}


def test_a_map_of_strings_is_frozen_as_a_copy_whatever_mapping_it_came_as() -> None:
    """A dict, a FrozenMap or an enum-valued dict given for a str map gives a frozen copy of plain strings."""
    given = {"date": "2026-01-01"}
    task = NotebookTask("/a", base_parameters=given)
    given["date"] = "changed"
    assert task.base_parameters == {"date": "2026-01-01"}
    again = NotebookTask("/a", base_parameters=task.base_parameters)
    assert again == task and hash(again) == hash(task)
    enum_valued = NotebookTask("/a", base_parameters={"source": Source.GIT})
    assert [type(v) for v in (enum_valued.base_parameters or {}).values()] == [str]
    assert enum_valued.to_dict() == {"notebook_path": "/a", "base_parameters": {"source": "GIT"}}
    with pytest.raises(TypeError, match=r"NotebookTask: 'base_parameters key' must be str \(got 1 that is an int\)"):
        NotebookTask("/a", base_parameters={1: "x"})


def test_a_map_field_reads_as_a_read_only_map_however_the_object_was_made() -> None:
    """Made, loaded, unpickled or replaced, a map field reads as a read-only, hashable map; unset, as None."""
    made = NotebookTask("/a", base_parameters={"k": "v"})
    loaded = NotebookTask.from_dict({"notebook_path": "/a", "base_parameters": {"k": "v"}})
    body = {"tasks": [{"task_key": "t", "notebook_task": made.to_dict(), "existing_cluster_id": "c"}]}
    from_text = RunSpec.from_json(json.dumps(body)).tasks[0].notebook_task
    for task in (made, loaded, from_text, pickle.loads(pickle.dumps(made)), made.replace(source="WORKSPACE")):
        assert isinstance(task, NotebookTask)
        params = task.base_parameters
        assert params == {"k": "v"} and hash(params) == hash(task.base_parameters)
        with pytest.raises(TypeError, match="read-only"):
            params["k"] = "changed"  # type: ignore[index]
        with pytest.raises(FrozenInstanceError):
            task.base_parameters = {}  # type: ignore[misc]
        assert task.base_parameters == {"k": "v"} and task.to_dict()["base_parameters"] == {"k": "v"}
    assert made == loaded == from_text and hash(made) == hash(loaded) == hash(from_text)
    assert repr(made) == "NotebookTask(notebook_path='/a', base_parameters=FrozenMap({'k': 'v'}))"
    assert NotebookTask("/a").base_parameters is None and NotebookTask.base_parameters is None
    assert RunSpec.from_json(json.dumps(body)).to_json() == json.dumps(body, separators=(",", ":"))


def test_str_enum_members_in_a_list_of_strings_are_kept_as_their_value() -> None:
    """A list of strings holding str-based Enum members keeps plain strings: the body, repr and pickle say 'GIT'."""
    task = SparkPythonTask("/a.py", parameters=["--source", Source.GIT])
    assert [type(p) for p in task.parameters or ()] == [str, str]
    assert task.to_dict() == {"python_file": "/a.py", "parameters": ["--source", "GIT"]}
    assert "Source" not in repr(task)


def test_from_dict_reads_str_enum_members_as_json_would() -> None:
    """from_dict reads a str-based Enum member the way json.dumps would write it: as its value."""
    loaded = NotebookTask.from_dict({"notebook_path": "/a", "source": Source.GIT})
    assert loaded == NotebookTask("/a", source="GIT")


# --------------------------------------------------------------------------------------------------
# Libraries.
# --------------------------------------------------------------------------------------------------


def test_library_from_dict_picks_the_kind() -> None:
    """Library.from_dict reads the wrapped form and returns the class of its kind."""
    assert Library.from_dict({"pypi": {"package": "pandas", "repo": "r"}}) == PyPI("pandas", repo="r")
    assert Library.from_dict({"whl": "/a.whl"}) == Whl("/a.whl")
    assert type(Library.from_dict({"maven": {"coordinates": "g:a:1"}})) is Maven


def test_path_library_refuses_extra_it_cannot_send() -> None:
    """A path library's wire form is a bare string, so extra={...} on it is a TypeError, not silently dropped."""
    with pytest.raises(TypeError, match=r"Jar"):
        Jar("/a.jar", extra={"new_option": 1})


def test_non_strict_load_keeps_an_unknown_library_kind() -> None:
    """strict=False passes a library kind newer than the schema through with a warning, as for other keys."""
    body = {
        "tasks": [
            {
                "task_key": "a",
                "notebook_task": {"notebook_path": "/a"},
                "existing_cluster_id": "c",
                "libraries": [{"conda": {"package": "numpy"}}],
            }
        ]
    }
    spec = RunSpec.from_dict(body, strict=False)
    assert spec.to_dict() == body
    assert [(w.path, w.code) for w in spec.warnings] == [("$.tasks[0].libraries[0].conda", "unknown-field")]


# --------------------------------------------------------------------------------------------------
# Wrong Python types at the call.
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: NotebookTask(123), r"^NotebookTask: 'notebook_path' must be str \(got 123 that is an int\)$"),
        (lambda: NotebookTask("/a", base_parameters={"k": 1}), r"NotebookTask: 'base_parameters\[\]' must be str"),
        (
            lambda: NotebookTask("/a", base_parameters=["k"]),
            r"NotebookTask: 'base_parameters' must be mapping of str to str \(got \['k'\] that is a list\)",
        ),
        (
            lambda: SparkPythonTask("/a.py", parameters="--x"),
            r"SparkPythonTask: 'parameters' must be list of str \(got '--x' that is a str\)",
        ),
        (lambda: SparkPythonTask("/a.py", parameters=["--x", 2]), r"SparkPythonTask: 'parameters\[\]' must be str"),
        (lambda: NewCluster(num_workers="2"), r"NewCluster: 'num_workers' must be int"),
        (lambda: NewCluster(num_workers=True), r"NewCluster: 'num_workers' must be int \(got True that is a bool\)"),
        (lambda: NewCluster(enable_elastic_disk=1), r"NewCluster: 'enable_elastic_disk' must be bool"),
        (
            lambda: NewCluster(autoscale=4),
            r"NewCluster: 'autoscale' must be a AutoScale|NewCluster: 'autoscale' must be an AutoScale",
        ),
        (lambda: PyPI(1), r"^PyPI: 'package' must be str \(got 1 that is an int\)$"),
        (lambda: Maven("g:a:1", exclusions="g:x"), r"Maven: 'exclusions' must be list of str"),
        (lambda: Jar(None), r"Jar: 'path' must be str"),
        (lambda: SubmitTask("a", libraries=["pandas"]), r"SubmitTask: 'libraries\[\]' must be a Library"),
        (
            lambda: NotebookTask("/a", extra={"notebook_path": "/b"}),
            r"NotebookTask: extra field 'notebook_path' is a known field",
        ),
        (lambda: NotebookTask("/a", extra={"x": object()}), r"NotebookTask: extra\['x'\] is not a JSON value"),
        (lambda: NotebookTask("/a", extra=["x"]), r"NotebookTask: 'extra' must be a mapping"),
    ],
)
def test_wrong_python_type_raises_type_error_naming_class_and_argument(call: Any, pattern: str) -> None:
    """A wrong Python type raises TypeError right at the call, naming the class and the argument."""
    with pytest.raises(TypeError, match=pattern):
        call()


def test_missing_and_unknown_arguments_are_type_errors() -> None:
    """Leaving out a required argument or passing an unknown one raises TypeError."""
    with pytest.raises(TypeError, match=r"notebook_path"):
        NotebookTask()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"notebok_path"):
        NotebookTask("/a", notebok_path="/a")  # type: ignore[call-arg]
    # Both at once: Python names the missing argument first.
    with pytest.raises(TypeError, match=r"notebook_path"):
        NotebookTask(notebok_path="/a")  # type: ignore[call-arg]


def test_from_dict_of_a_non_dict_is_a_type_error() -> None:
    """from_dict given anything but a mapping raises TypeError naming the class."""
    for bad in ([1], "{}", None, 3):
        with pytest.raises(TypeError, match=r"RunSpec\.from_dict\(\) takes a dict"):
            RunSpec.from_dict(bad)
        with pytest.raises(TypeError, match=r"NotebookTask\.from_dict\(\) takes a dict"):
            NotebookTask.from_dict(bad)
        with pytest.raises(TypeError, match=r"Run\.from_dict\(\) takes a dict"):
            Run.from_dict(bad)


def test_from_json_of_a_non_object_is_a_spec_error_at_the_root() -> None:
    """from_json of JSON that is not an object gives SpecError with one problem at $."""
    for text in ("[1]", "1", '"x"', "null"):
        with pytest.raises(SpecError) as info:
            RunSpec.from_json(text)
        assert [(p.path, p.code) for p in info.value.problems] == [("$", "wrong-type")]
        with pytest.raises(SpecError) as builder_info:
            Run.from_json(text)
        assert [p.path for p in builder_info.value.problems] == ["$"]


def test_from_json_of_a_non_string_is_a_type_error() -> None:
    """from_json given something that is not text raises TypeError."""
    with pytest.raises(TypeError, match=r"from_json\(\) takes str or bytes"):
        RunSpec.from_json({"tasks": []})


def test_from_json_accepts_bytes() -> None:
    """from_json reads UTF-8 bytes as well as str."""
    text = '{"tasks": [{"task_key": "p", "pipeline_task": {"pipeline_id": "é"}}]}'
    assert RunSpec.from_json(text.encode("utf-8")) == RunSpec.from_json(text)
