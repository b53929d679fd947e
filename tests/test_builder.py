"""
``Run``, the chainable builder: the design card's shape, derived task keys, named clusters, every
method's effect on the body, loading from a body, and immutability of every method.
"""

# The TypeError tests pass wrong types on purpose.
# mypy: disable-error-code="arg-type, list-item"

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from runspec import (
    ConditionTask,
    Environment,
    ForEachTask,
    GitSource,
    JobAccessControlRequest,
    NewCluster,
    NotebookTask,
    PipelineTask,
    PyPI,
    PythonWheelTask,
    Run,
    RunSpec,
    SparkJarTask,
    SparkPythonTask,
    SpecError,
    SqlTask,
    SqlTaskQuery,
    SubmitTask,
    Task,
    TaskDependency,
)
from runspec.spec import JobEmailNotifications, JobEnvironment, JobsHealthRule, JobsHealthRules

SMALL = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1)
BIG = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.2xlarge", num_workers=8)
ALL_PURPOSE = "0101-123456-abcdef"


def test_design_card_shape_compiles() -> None:
    """Run(name).task(NotebookTask(...)).cluster(...).timeout(600).compile(): cluster after task, key derived."""
    spec = (
        Run("nightly")
        .task(NotebookTask("/Repos/etl/ingest"))
        .cluster("c1", NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2))
        .timeout(600)
        .compile()
    )
    assert isinstance(spec, RunSpec)
    assert spec.to_dict() == {
        "run_name": "nightly",
        "tasks": [
            {
                "task_key": "ingest",
                "notebook_task": {"notebook_path": "/Repos/etl/ingest"},
                "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2},
            }
        ],
        "timeout_seconds": 600,
    }
    assert spec.warnings == ()


def test_design_notes_example_compiles() -> None:
    """The example in DESIGN.md compiles, with each task on its own copy of the named cluster."""
    run = (
        Run("nightly-etl")
        .cluster("etl", NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2))
        .task(NotebookTask("/Repos/etl/ingest"), key="ingest")
        .task(SparkPythonTask("dbfs:/etl/transform.py"), key="transform", depends_on=["ingest"])
        .timeout(3600)
    )
    spec = run.compile()
    body = spec.to_dict()
    assert spec.task_keys == ("ingest", "transform")
    assert body["tasks"][1]["depends_on"] == [{"task_key": "ingest"}]
    assert body["tasks"][0]["new_cluster"] == body["tasks"][1]["new_cluster"]
    assert [(w.path, w.code) for w in spec.warnings] == [("$.tasks[0].new_cluster", "cluster-per-task")]


def test_order_of_task_and_cluster_calls_does_not_matter() -> None:
    """Declaring the cluster before or after the tasks that use it gives the same body."""
    before = Run("x").cluster("c", SMALL).task(NotebookTask("/a"), cluster="c").compile()
    after = Run("x").task(NotebookTask("/a"), cluster="c").cluster("c", SMALL).compile()
    assert before.to_dict() == after.to_dict()


# --------------------------------------------------------------------------------------------------
# Task keys.
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "key"),
    [
        (NotebookTask("/Repos/etl/ingest"), "ingest"),
        (NotebookTask("/Repos/etl/load data.py"), "load_data"),
        (SparkPythonTask("dbfs:/etl/transform.py"), "transform"),
        (SparkJarTask("com.acme.Main"), "Main"),
        (PythonWheelTask("pkg", "run_it"), "run_it"),
        (PipelineTask("abc"), "pipeline_abc"),
        (SqlTask("wh", query=SqlTaskQuery("q")), "sql_query"),
        (ConditionTask("1", "EQUAL_TO", "1"), "condition"),
        (ForEachTask("[1]", Task("inner", condition_task=ConditionTask("1", "EQUAL_TO", "1"))), "for_each_inner"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_key_is_derived_from_the_task(task: Any, key: str) -> None:
    """A task without key= gets a readable key derived from what it runs."""
    needs_cluster = isinstance(task, (NotebookTask, SparkPythonTask, SparkJarTask, PythonWheelTask))
    spec = Run("x").task(task, existing_cluster_id=ALL_PURPOSE if needs_cluster else None).compile()
    assert spec.task_keys == (key,)


def test_derived_keys_are_unique_and_avoid_given_keys() -> None:
    """Two tasks deriving the same key get _2, _3 ...; a derived key never takes a key given explicitly."""
    spec = (
        Run("x")
        .task(NotebookTask("/a/ingest"), existing_cluster_id=ALL_PURPOSE)
        .task(NotebookTask("/b/ingest"), existing_cluster_id=ALL_PURPOSE)
        .task(PipelineTask("p"), key="ingest_2")
        .task(NotebookTask("/c/ingest"), existing_cluster_id=ALL_PURPOSE)
        .compile()
    )
    assert spec.task_keys == ("ingest", "ingest_3", "ingest_2", "ingest_4")


def test_given_key_wins_and_submit_task_keeps_its_key() -> None:
    """key= sets the key; a whole SubmitTask keeps its own task_key unless key= overrides it."""
    task = SubmitTask("mine", pipeline_task=PipelineTask("p"), timeout_seconds=5)
    spec = Run("x").task(task).task(task, key="other").task(PipelineTask("q"), key="given").compile()
    assert spec.task_keys == ("mine", "other", "given")
    assert spec.task("other").timeout_seconds == 5


def test_depends_on_accepts_keys_and_dependencies() -> None:
    """depends_on takes task keys and TaskDependency objects, in order, and sends them as objects."""
    body = (
        Run("x")
        .task(ConditionTask("1", "EQUAL_TO", "1"), key="check")
        .task(PipelineTask("p"), key="p")
        .task(PipelineTask("q"), key="q", depends_on=("p", TaskDependency("check", outcome="false")))
        .to_dict()
    )
    assert body["tasks"][2]["depends_on"] == [{"task_key": "p"}, {"task_key": "check", "outcome": "false"}]


def test_one_dependency_is_the_same_whatever_form_it_comes_in() -> None:
    """One earlier key as a list (the usual call), a tuple, an iterator, a str subclass or a TaskDependency:
    the same run, the same body."""

    class Key(str):
        pass

    forms: list[Any] = [["a"], ("a",), iter(["a"]), [Key("a")], [TaskDependency("a")], ["a", "a"][:1]]
    runs = [Run("x").task(PipelineTask("p"), key="a").task(PipelineTask("q"), key="b", depends_on=f) for f in forms]
    assert all(run == runs[0] and hash(run) == hash(runs[0]) for run in runs)
    for run in runs:
        assert run.to_dict()["tasks"][1]["depends_on"] == [{"task_key": "a"}]
        assert type(run.compile().task("b").depends_on[0]) is TaskDependency


def test_common_task_keywords_reach_the_task() -> None:
    """Run.task's keywords are SubmitTask fields, sent as given and nothing more."""
    body = (
        Run("x")
        .task(
            NotebookTask("/a"),
            key="a",
            existing_cluster_id=ALL_PURPOSE,
            libraries=[PyPI("pandas")],
            run_if="ALL_DONE",
            max_retries=2,
            min_retry_interval_millis=1000,
            retry_on_timeout=True,
            timeout_seconds=60,
            description="first",
            disabled=False,
            health={"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 5}]},
        )
        .to_dict()
    )
    assert body["tasks"][0] == {
        "task_key": "a",
        "notebook_task": {"notebook_path": "/a"},
        "existing_cluster_id": ALL_PURPOSE,
        "libraries": [{"pypi": {"package": "pandas"}}],
        "run_if": "ALL_DONE",
        "max_retries": 2,
        "min_retry_interval_millis": 1000,
        "retry_on_timeout": True,
        "timeout_seconds": 60,
        "description": "first",
        "disabled": False,
        "health": {"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 5}]},
    }


# --------------------------------------------------------------------------------------------------
# Named clusters.
# --------------------------------------------------------------------------------------------------


def test_the_only_cluster_goes_to_tasks_that_need_classic_compute() -> None:
    """With one cluster declared, cluster tasks naming none use it; pipeline, SQL, serverless, warehouse ones do not."""
    body = (
        Run("x")
        .cluster("c", SMALL)
        .environment("env", environment_version="4")
        .task(NotebookTask("/nb"))
        .task(PipelineTask("p"))
        .task(SqlTask("wh", query=SqlTaskQuery("q")))
        .task(NotebookTask("/warehouse_nb", warehouse_id="wh"))
        .task(SparkPythonTask("/serverless.py"), environment_key="env")
        .task(PythonWheelTask("pkg", "main"))
        .to_dict()
    )
    on_cluster = {t["task_key"] for t in body["tasks"] if "new_cluster" in t}
    assert on_cluster == {"nb", "main"}


def test_two_clusters_are_used_only_by_name() -> None:
    """With two clusters a task gets one only by naming it; each named task gets its own copy."""
    spec = (
        Run("x")
        .cluster("small", SMALL)
        .cluster("big", BIG)
        .task(NotebookTask("/a"), cluster="small")
        .task(NotebookTask("/b"), cluster="big")
        .task(NotebookTask("/serverless"))
        .compile()
    )
    body = spec.to_dict()
    assert body["tasks"][0]["new_cluster"] == SMALL.to_dict()
    assert body["tasks"][1]["new_cluster"] == BIG.to_dict()
    assert "new_cluster" not in body["tasks"][2]
    assert spec.warnings == ()


def test_named_cluster_goes_into_the_for_each_inner_task() -> None:
    """A for_each task naming a cluster passes it to the task it repeats, which is what runs on it."""
    loop = ForEachTask("[1, 2]", Task("each", notebook_task=NotebookTask("/each")))
    body = Run("x").cluster("c", SMALL).task(loop, cluster="c").to_dict()
    assert "new_cluster" not in body["tasks"][0]
    assert body["tasks"][0]["for_each_task"]["task"]["new_cluster"] == SMALL.to_dict()


def test_cluster_accepts_a_mapping() -> None:
    """Run.cluster takes a NewCluster or its request form as a dict."""
    from_dict = Run("x").cluster("c", SMALL.to_dict()).task(NotebookTask("/a")).to_dict()
    from_obj = Run("x").cluster("c", SMALL).task(NotebookTask("/a")).to_dict()
    assert from_dict == from_obj


# --------------------------------------------------------------------------------------------------
# Editing tasks.
# --------------------------------------------------------------------------------------------------


def test_update_task_replaces_and_removes_fields() -> None:
    """update_task sets fields on a task, and None removes a field."""
    run = Run("x").task(NotebookTask("/a"), key="a", existing_cluster_id=ALL_PURPOSE, timeout_seconds=10)
    body = run.update_task("a", timeout_seconds=None, max_retries=3).to_dict()
    assert body["tasks"][0] == {
        "task_key": "a",
        "notebook_task": {"notebook_path": "/a"},
        "existing_cluster_id": ALL_PURPOSE,
        "max_retries": 3,
    }


def test_update_and_remove_task_find_derived_keys() -> None:
    """update_task and remove_task find a task by the key compile() derived for it."""
    run = Run("x").task(NotebookTask("/etl/ingest"), existing_cluster_id=ALL_PURPOSE).task(PipelineTask("p"), key="p")
    assert run.update_task("ingest", timeout_seconds=5).compile().task("ingest").timeout_seconds == 5
    assert run.remove_task("ingest").compile().task_keys == ("p",)


def test_edits_apply_in_the_order_they_were_called() -> None:
    """remove_task then task with the same key keeps the new task; an edit applies to the task as it was then."""
    replaced = Run("x").task(PipelineTask("old"), key="a").remove_task("a").task(PipelineTask("new"), key="a")
    assert replaced.to_dict()["tasks"] == [{"task_key": "a", "pipeline_task": {"pipeline_id": "new"}}]
    updated = Run("x").task(PipelineTask("old"), key="a").update_task("a", timeout_seconds=5).remove_task("a")
    assert updated.task(PipelineTask("new"), key="a").to_dict()["tasks"] == [
        {"task_key": "a", "pipeline_task": {"pipeline_id": "new"}}
    ]


def test_remove_task_drops_the_task() -> None:
    """remove_task leaves the other tasks in order."""
    run = Run("x").task(PipelineTask("a"), key="a").task(PipelineTask("b"), key="b").task(PipelineTask("c"), key="c")
    assert run.remove_task("b").compile().task_keys == ("a", "c")


def test_update_task_rejects_unknown_fields_at_the_call() -> None:
    """update_task with a field SubmitTask does not have raises TypeError, naming the closest field."""
    with pytest.raises(TypeError, match=r"Run\.update_task\(\) got an unexpected keyword argument 'timeout'"):
        Run("x").task(PipelineTask("p"), key="p").update_task("p", timeout=5)


# --------------------------------------------------------------------------------------------------
# Top-level methods.
# --------------------------------------------------------------------------------------------------


def test_zero_timeout_is_sent() -> None:
    """timeout(0) (no limit) is sent as 0, not dropped as unset."""
    assert Run("x").task(PipelineTask("p")).timeout(0).to_dict()["timeout_seconds"] == 0


def test_scalar_setters_replace_the_previous_value() -> None:
    """name, timeout and idempotency_token replace what was set before."""
    body = (
        Run("first")
        .task(PipelineTask("p"))
        .name("second")
        .timeout(10)
        .timeout(20)
        .idempotency_token("a")
        .idempotency_token("b")
        .to_dict()
    )
    assert (body["run_name"], body["timeout_seconds"], body["idempotency_token"]) == ("second", 20, "b")


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://github.com/acme/etl", "gitHub"),
        ("https://gitlab.com/acme/etl.git", "gitLab"),
        ("https://dev.azure.com/acme/etl/_git/etl", "azureDevOpsServices"),
        ("https://bitbucket.org/acme/etl", "bitbucketCloud"),
        ("https://git-codecommit.us-east-1.amazonaws.com/v1/repos/etl", "awsCodeCommit"),
    ],
)
def test_git_guesses_the_provider_from_the_url(url: str, provider: str) -> None:
    """Run.git fills git_provider from well-known hosts."""
    body = Run("x").git(url, branch="main").task(PipelineTask("p")).to_dict()
    assert body["git_source"] == {"git_url": url, "git_provider": provider, "git_branch": "main"}


def test_git_needs_a_provider_for_other_hosts() -> None:
    """Run.git raises TypeError for an unknown host without provider=, and accepts one given."""
    with pytest.raises(TypeError, match=r"cannot tell the git provider .* pass provider="):
        Run("x").git("https://git.acme.internal/etl", branch="main")
    body = Run("x").git("https://git.acme.internal/etl", "gitHubEnterprise", tag="v1").task(PipelineTask("p")).to_dict()
    assert body["git_source"]["git_provider"] == "gitHubEnterprise"


def test_git_takes_a_git_source_but_not_both() -> None:
    """Run.git accepts a whole GitSource; combining it with fields is a TypeError."""
    source = GitSource("https://github.com/a/b", "gitHub", git_commit="abc")
    assert Run("x").git(source).task(PipelineTask("p")).to_dict()["git_source"] == source.to_dict()
    with pytest.raises(TypeError, match=r"not both"):
        Run("x").git(source, branch="main")


def test_access_appends_entries() -> None:
    """Each access() call appends one entry with exactly the principal given."""
    body = (
        Run("x")
        .task(PipelineTask("p"))
        .access("IS_OWNER", user="ana@example.com")
        .access(JobAccessControlRequest(group_name="ops", permission_level="CAN_VIEW"))
        .to_dict()
    )
    assert body["access_control_list"] == [
        {"user_name": "ana@example.com", "permission_level": "IS_OWNER"},
        {"group_name": "ops", "permission_level": "CAN_VIEW"},
    ]


def test_notify_splits_emails_and_settings_and_replaces() -> None:
    """notify() puts addresses in email_notifications, no_alert_* in notification_settings; a second call replaces."""
    body = (
        Run("x")
        .task(PipelineTask("p"))
        .notify(on_start=["old@example.com"])
        .notify(on_failure=["a@example.com"], no_alert_for_canceled_runs=True)
        .to_dict()
    )
    assert body["email_notifications"] == {"on_failure": ["a@example.com"]}
    assert body["notification_settings"] == {"no_alert_for_canceled_runs": True}
    with pytest.raises(TypeError, match=r"name at least one"):
        Run("x").notify()


def test_webhooks_wrap_destination_ids() -> None:
    """webhooks() turns destination ids into {"id": ...} objects per event."""
    body = Run("x").task(PipelineTask("p")).webhooks(on_failure=["d1", "d2"], on_start=["d3"]).to_dict()
    assert body["webhook_notifications"] == {"on_failure": [{"id": "d1"}, {"id": "d2"}], "on_start": [{"id": "d3"}]}
    with pytest.raises(TypeError, match=r"'on_failure' must be a list of destination ids .*did you mean \['d1'\]"):
        Run("x").webhooks(on_failure="d1")


def test_health_appends_rules_to_loaded_ones() -> None:
    """health() appends a rule, after any rules already in a loaded body."""
    loaded = (
        Run("x")
        .task(PipelineTask("p"))
        .set(health={"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 60}]})
    )
    body = loaded.health("STREAMING_BACKLOG_BYTES", 1000).to_dict()
    assert body["health"] == {
        "rules": [
            {"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 60},
            {"metric": "STREAMING_BACKLOG_BYTES", "op": "GREATER_THAN", "value": 1000},
        ]
    }


def test_queue_and_run_as() -> None:
    """queue(False) sends enabled false; run_as sends exactly the principal given."""
    body = Run("x").task(PipelineTask("p")).queue(False).run_as(user="ana@example.com").to_dict()
    assert body["queue"] == {"enabled": False}
    assert body["run_as"] == {"user_name": "ana@example.com"}


def test_environment_from_fields_or_spec() -> None:
    """environment() takes an Environment or its fields (not both), and tasks refer to it by key."""
    by_fields = Run("x").environment("e", environment_version="4", dependencies=["pandas"])
    by_spec = Run("x").environment("e", Environment(environment_version="4", dependencies=["pandas"]))
    for run in (by_fields, by_spec):
        body = run.task(SparkPythonTask("/a.py"), environment_key="e").to_dict()
        assert body["environments"] == [
            {"environment_key": "e", "spec": {"environment_version": "4", "dependencies": ["pandas"]}}
        ]
    with pytest.raises(TypeError, match=r"not both"):
        Run("x").environment("e", Environment(environment_version="4"), dependencies=["x"])


def test_set_covers_other_top_level_fields() -> None:
    """set() sets any top-level field, None removes one, and tasks or unknown names are TypeErrors."""
    run = (
        Run("x").task(PipelineTask("p")).set(budget_policy_id="bp", usage_policy_id="up", performance_target="STANDARD")
    )
    body = run.set(usage_policy_id=None).to_dict()
    assert body["budget_policy_id"] == "bp"
    assert "usage_policy_id" not in body
    assert body["performance_target"] == "STANDARD"
    with pytest.raises(TypeError, match=r"Run\.set\(\) got an unexpected keyword argument 'tasks'"):
        run.set(tasks=[])
    with pytest.raises(TypeError, match=r"did you mean 'budget_policy_id'\?"):
        run.set(budget_policy="bp")


def test_pipe_applies_a_fragment() -> None:
    """pipe(fn, ...) returns fn(run, ...), so reusable fragments fit in a chain."""

    def with_alerts(run: Run, address: str) -> Run:
        return run.notify(on_failure=[address])

    body = Run("x").task(PipelineTask("p")).pipe(with_alerts, "ops@example.com").to_dict()
    assert body["email_notifications"] == {"on_failure": ["ops@example.com"]}


def test_output_methods_agree_with_compile() -> None:
    """to_dict() and to_json() give what compile() gives."""
    run = Run("x").task(PipelineTask("p"))
    spec = run.compile()
    assert run.to_dict() == spec.to_dict()
    assert run.to_json() == spec.to_json()
    assert run.to_json(indent=2) == spec.to_json(indent=2)


# --------------------------------------------------------------------------------------------------
# Loading.
# --------------------------------------------------------------------------------------------------


BODY = {
    "run_name": "loaded",
    "tasks": [
        {"task_key": "a", "notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": ALL_PURPOSE},
        {"task_key": "b", "depends_on": [{"task_key": "a"}], "pipeline_task": {"pipeline_id": "p"}},
    ],
    "environments": [{"environment_key": "e", "spec": {"environment_version": "4"}}],
    "access_control_list": [{"group_name": "ops", "permission_level": "CAN_VIEW"}],
}


def test_loaded_body_can_be_changed_with_the_usual_methods() -> None:
    """Run.from_dict gives a builder: new tasks, environments and access entries append to the loaded ones."""
    body = (
        Run.from_dict(
            {
                **BODY,
                "tasks": [
                    *BODY["tasks"],
                    {
                        "task_key": "w",
                        "python_wheel_task": {"package_name": "p", "entry_point": "m"},
                        "environment_key": "e",
                    },
                ],
            }
        )
        .environment("e2", environment_version="4")
        .task(SparkPythonTask("/c.py"), key="c", environment_key="e2", depends_on=["b"])
        .access("CAN_MANAGE", user="ana@example.com")
        .name("changed")
        .to_dict()
    )
    assert body["run_name"] == "changed"
    assert [t["task_key"] for t in body["tasks"]] == ["a", "b", "w", "c"]
    assert [e["environment_key"] for e in body["environments"]] == ["e", "e2"]
    assert body["access_control_list"][-1] == {"user_name": "ana@example.com", "permission_level": "CAN_MANAGE"}


def test_from_spec_and_from_json_give_the_same_builder() -> None:
    """Run.from_spec, Run.from_json and Run.from_dict of the same body compile to that body."""
    import json

    data = {**BODY, "environments": None}
    data = {k: v for k, v in data.items() if v is not None}
    spec = RunSpec.from_dict(data)
    for run in (Run.from_dict(data), Run.from_json(json.dumps(data)), Run.from_spec(spec)):
        assert run.compile().to_dict() == data


def test_from_spec_needs_a_run_spec() -> None:
    """Run.from_spec given a dict raises TypeError pointing at from_dict."""
    with pytest.raises(TypeError, match=r"Run\.from_spec: 'spec' must be a RunSpec"):
        Run.from_spec(BODY)


def test_from_dict_reports_key_problems_now() -> None:
    """Run.from_dict checks keys and types at once (SpecError), leaving whole-run checks to compile()."""
    with pytest.raises(SpecError) as info:
        Run.from_dict({"tasks": [{"task_key": "a", "notebok_task": {}}]})
    assert info.value.codes == ("unknown-field",)


# --------------------------------------------------------------------------------------------------
# Call-site TypeErrors.
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: Run(123), r"Run: 'name' must be str"),
        (
            lambda: Run("x").task(NotebookTask("/a"), depends_on="a"),
            r"Run\.task: 'depends_on' must be a list of task keys .*did you mean \['a'\]\?",
        ),
        (
            lambda: Run("x").task(NotebookTask("/a"), depends_on=[1]),
            r"Run\.task: 'depends_on\[\]' must be a task key \(str\) or a TaskDependency",
        ),
        (lambda: Run("x").task("notebook"), r"Run\.task: 'task' must be a task such as NotebookTask"),
        (lambda: Run("x").task({"notebook_path": "/a"}), r"Run\.task: 'task' must be a task"),
        (lambda: Run("x").task(NotebookTask("/a"), key=1), r"Run\.task: 'key' must be str"),
        (
            lambda: Run("x").task(NotebookTask("/a"), cluster=SMALL),
            r"Run\.task: 'cluster' must be str \(the name given to \.cluster\(\)\)",
        ),
        (lambda: Run("x").task(NotebookTask("/a"), libraries=["pandas"]), r"'libraries\[\]' must be a Library"),
        (lambda: Run("x").task(NotebookTask("/a"), max_retries="3"), r"'max_retries' must be int"),
        (
            lambda: Run("x").task(NotebookTask("/a"), timout_seconds=3),
            r"unexpected keyword argument 'timout_seconds'; did you mean 'timeout_seconds'\?",
        ),
        (lambda: Run("x").task(NotebookTask("/a"), task_key="k"), r"unexpected keyword argument 'task_key'"),
        (lambda: Run("x").timeout("600"), r"^Run\.timeout: 'timeout_seconds' must be int \(got '600' that is a str\)$"),
        (lambda: Run("x").timeout(1.5), r"Run\.timeout: 'timeout_seconds' must be int"),
        (lambda: Run("x").idempotency_token(5), r"Run\.idempotency_token: 'idempotency_token' must be str"),
        (lambda: Run("x").name(5), r"Run\.name: 'run_name' must be str"),
        (lambda: Run("x").cluster("c", "i3.xlarge"), r"Run\.cluster: 'new_cluster' must be a NewCluster"),
        (lambda: Run("x").cluster(1, SMALL), r"Run\.cluster: 'name' must be str"),
        (lambda: Run("x").environment("e", dependencies="pandas"), r"'dependencies' must be list of str"),
        (lambda: Run("x").access(1), r"Run\.access: 'level' must be str or a JobAccessControlRequest"),
        (lambda: Run("x").health("RUN_DURATION_SECONDS", "60"), r"'value' must be int"),
        (lambda: Run("x").queue("yes"), r"'enabled' must be bool"),
        (lambda: Run("x").set(timeout_seconds="60"), r"'timeout_seconds' must be int"),
        (lambda: Run("x").notify(on_failure="a@example.com"), r"'on_failure' must be list of str"),
        (
            lambda: Run("x").git("https://github.com/a/b", branch="main", sparse_checkout="etl"),
            r"'sparse_checkout' must be a list .*\['etl'\]",
        ),
    ],
)
def test_builder_type_errors_name_the_method_and_argument(call: Callable[[], Any], pattern: str) -> None:
    """A wrong Python type given to a builder method raises TypeError at that call, naming the argument."""
    with pytest.raises(TypeError, match=pattern):
        call()


# --------------------------------------------------------------------------------------------------
# Immutability: every method returns a new Run and leaves the one it was called on as it was.
# --------------------------------------------------------------------------------------------------


def base_run() -> Run:
    return (
        Run("base")
        .task(NotebookTask("/x/nb"))
        .task(PipelineTask("p"), key="p")
        .task(PipelineTask("q"), key="q")
        .task(PythonWheelTask("pkg", "main"), key="w", environment_key="e")
        .set(environments=[JobEnvironment("e", Environment(environment_version="4"))])
    )


def snapshot(run: Run) -> Any:
    """What a Run says: its compiled body, or the problems compile() reports."""
    try:
        return run.compile().to_dict()
    except SpecError as exc:
        return [p.to_dict() for p in exc.problems]


#: Each builder method with two different calls of it.
METHOD_CALLS: dict[str, tuple[Callable[[Run], Run], Callable[[Run], Run]]] = {
    "task": (lambda r: r.task(PipelineTask("x"), key="x"), lambda r: r.task(PipelineTask("y"), key="y")),
    "update_task": (lambda r: r.update_task("p", timeout_seconds=1), lambda r: r.update_task("p", timeout_seconds=2)),
    "remove_task": (lambda r: r.remove_task("p"), lambda r: r.remove_task("q")),
    "cluster": (lambda r: r.cluster("c", SMALL), lambda r: r.cluster("c", BIG)),
    # An environment no task uses is a problem; the two snapshots differ in the key the problem names.
    "environment": (lambda r: r.environment("e2", environment_version="4"), lambda r: r.environment("e3")),
    "name": (lambda r: r.name("one"), lambda r: r.name("two")),
    "timeout": (lambda r: r.timeout(1), lambda r: r.timeout(2)),
    "idempotency_token": (lambda r: r.idempotency_token("one"), lambda r: r.idempotency_token("two")),
    "git": (
        lambda r: r.git("https://github.com/a/b", branch="main"),
        lambda r: r.git("https://github.com/a/b", tag="v1"),
    ),
    "access": (lambda r: r.access("CAN_VIEW", user="a@x"), lambda r: r.access("CAN_VIEW", group="g")),
    "notify": (lambda r: r.notify(on_failure=["a@x"]), lambda r: r.notify(on_success=["a@x"])),
    "webhooks": (lambda r: r.webhooks(on_failure=["d1"]), lambda r: r.webhooks(on_start=["d1"])),
    "health": (lambda r: r.health("RUN_DURATION_SECONDS", 10), lambda r: r.health("RUN_DURATION_SECONDS", 20)),
    "queue": (lambda r: r.queue(True), lambda r: r.queue(False)),
    "run_as": (lambda r: r.run_as(user="a@x"), lambda r: r.run_as(group="g")),
    "set": (lambda r: r.set(budget_policy_id="one"), lambda r: r.set(budget_policy_id="two")),
    "pipe": (lambda r: r.pipe(lambda x: x.timeout(1)), lambda r: r.pipe(lambda x: x.timeout(2))),
}
#: Methods that read a Run without making a new one, and the constructors that load one.
READERS = {"compile", "check", "to_dict", "to_json", "to_mermaid", "to_dot", "to_text", "to_job_settings"}
LOADERS = {"from_dict", "from_json", "from_spec", "from_job_settings", "from_bundle"}


def test_every_builder_method_is_in_the_immutability_table() -> None:
    """The table below names every public method of Run, so a new method cannot skip the immutability test."""
    public = {name for name, _ in inspect.getmembers(Run, callable) if not name.startswith("_")}
    assert public == set(METHOD_CALLS) | READERS | LOADERS


@pytest.mark.parametrize("method", sorted(METHOD_CALLS))
def test_method_returns_a_new_run_and_leaves_the_base_alone(method: str) -> None:
    """a = base.m(x); b = base.m(y): base says what it said before, and a and b differ from it and each other."""
    base = base_run()
    before = snapshot(base)
    first, second = METHOD_CALLS[method]
    a = first(base)
    b = second(base)
    assert snapshot(base) == before
    assert a is not base and b is not base
    assert snapshot(a) != before
    assert snapshot(a) != snapshot(b)
    assert a != b
    assert snapshot(first(base)) == snapshot(a)  # calling again gives the same thing


@pytest.mark.parametrize("reader", sorted(READERS))
def test_reading_a_run_does_not_change_it(reader: str) -> None:
    """compile(), check(), to_dict() and to_json() leave the Run as it was."""
    run = base_run().cluster("c", SMALL)
    before = snapshot(run)
    getattr(run, reader)()
    getattr(run, reader)()
    assert snapshot(run) == before


def test_branches_from_one_base_do_not_see_each_other() -> None:
    """Two runs extended from one base each hold only their own additions."""
    base = Run("x").task(PipelineTask("p"), key="p")
    left = base.task(PipelineTask("l"), key="l").timeout(1)
    right = base.task(PipelineTask("r"), key="r")
    assert left.compile().task_keys == ("p", "l")
    assert right.compile().task_keys == ("p", "r")
    assert "timeout_seconds" not in right.to_dict()
    assert base.compile().task_keys == ("p",)


def test_assigning_attributes_on_a_run_raises() -> None:
    """A Run's attributes cannot be assigned, whether they exist or not."""
    run = base_run()
    before = snapshot(run)
    for name in ("name", "tasks", "_parent", "_op", "anything"):
        with pytest.raises(AttributeError, match=r"immutable"):
            setattr(run, name, None)
    assert snapshot(run) == before


def test_equal_runs_compare_equal() -> None:
    """Two Runs built by the same calls are equal and hash equal; a different call makes them unequal."""
    a = Run("x").task(NotebookTask("/a"), cluster="c").cluster("c", SMALL).timeout(5)
    b = Run("x").task(NotebookTask("/a"), cluster="c").cluster("c", SMALL).timeout(5)
    assert a == b
    assert hash(a) == hash(b)
    assert a != b.timeout(6)


def test_runs_equal_whatever_order_the_task_fields_were_given_in_hash_equal() -> None:
    """Equal runs hash equal even when a task's SubmitTask keywords were given in another order."""
    health = JobsHealthRules(rules=[JobsHealthRule("RUN_DURATION_SECONDS", "GREATER_THAN", 60)])
    emails = JobEmailNotifications(on_failure=["a@example.com"])
    a = Run("x").task(NotebookTask("/a"), key="a", health=health, email_notifications=emails)
    b = Run("x").task(NotebookTask("/a"), key="a", email_notifications=emails, health=health)
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


def test_repr_summarises_the_run() -> None:
    """repr shows the name, the number of tasks and the declared clusters."""
    run = Run("nightly").cluster("etl", SMALL).task(NotebookTask("/a")).task(NotebookTask("/b"))
    assert repr(run) == "Run('nightly', tasks=2, clusters=['etl'])"


def test_non_strict_builder_load_keeps_load_warnings() -> None:
    """Run.from_dict(strict=False) passes unknown keys through and compile() reports the same warnings as RunSpec."""
    data = {
        "run_name": "x",
        "timeout_seconds": "60",
        "new_top_field": 1,
        "tasks": [{"task_key": "a", "pipeline_task": {"pipeline_id": "p"}}],
    }
    direct = RunSpec.from_dict(data, strict=False)
    compiled = Run.from_dict(data, strict=False).compile()
    assert compiled.to_dict() == data
    assert [(w.path, w.code) for w in compiled.warnings] == [(w.path, w.code) for w in direct.warnings]
    assert {w.code for w in direct.warnings} == {"number-as-string", "unknown-field"}


def test_pictures_name_the_resolved_clusters() -> None:
    """A Run's pictures show each task and the name of the cluster it was given."""
    run = Run("x").cluster("etl", SMALL).task(NotebookTask("/a/ingest")).task(PipelineTask("p"), key="p")
    text = run.to_text()
    assert "ingest" in text and "etl" in text and "p" in text
    assert "etl" in run.to_mermaid() and "ingest" in run.to_mermaid()
    assert "etl" in run.to_dot()
    assert "etl" in run._repr_markdown_()
    spec = run.compile()
    assert "ingest" in spec.to_text() and "ingest" in spec.to_dot() and "ingest" in spec._repr_markdown_()


def test_equal_specs_draw_the_same_picture() -> None:
    """A RunSpec carries no hidden state: the one compile() made and its equal loaded from JSON draw alike."""
    run = Run("x").cluster("etl", SMALL).task(NotebookTask("/a/ingest")).task(PipelineTask("p"), key="p")
    compiled = run.compile()
    loaded = RunSpec.from_json(compiled.to_json())
    assert compiled == loaded
    for draw in ("to_text", "to_mermaid", "to_dot", "_repr_markdown_"):
        assert getattr(compiled, draw)() == getattr(loaded, draw)(), draw
    assert "etl" not in compiled.to_text()  # the cluster's name is the builder's, not the body's


def test_markdown_of_a_broken_run_lists_its_problems() -> None:
    """A Run that does not compile shows its problems in a notebook instead of raising."""
    text = Run("x").task(SparkPythonTask("/a.py"))._repr_markdown_()
    assert "does not compile" in text
    assert "missing-compute" in text


def test_loaded_tasks_keep_their_compute_when_a_cluster_is_declared() -> None:
    """After Run.from_dict, the run's one named cluster goes to new tasks only, not to loaded serverless ones."""
    body = {"tasks": [{"task_key": "nb", "notebook_task": {"notebook_path": "/x"}}]}
    cluster = NewCluster(spark_version="15.4.x-scala2.12", num_workers=1)
    tasks = Run.from_dict(body).cluster("c", cluster).task(NotebookTask("/y")).to_dict()["tasks"]
    assert tasks[0] == body["tasks"][0]
    assert tasks[1]["new_cluster"] == cluster.to_dict()


def test_an_empty_library_list_does_not_need_a_cluster() -> None:
    """libraries=[] on a serverless task is sent as given and is not a libraries-need-cluster problem."""
    body = Run("x").task(NotebookTask("/a"), libraries=[]).to_dict()
    assert body["tasks"][0]["libraries"] == []


def test_extra_null_is_absent() -> None:
    """extra={'x': None} sends nothing for x, so the body reloads to the same object."""
    task = NotebookTask("/a", extra={"x": None, "y": 1})
    assert task.to_dict() == {"notebook_path": "/a", "y": 1}
    assert NotebookTask.from_dict(task.to_dict(), strict=False) == task


def test_run_task_keyword_fields_go_in_the_body_in_signature_order_with_the_field_types_checked() -> None:
    # Run.task converts its named SubmitTask fields in one generated step (runspec.build._args.NAMED_FIELDS);
    # the names and their order must follow the signature, whatever order the call gives them in.
    from runspec.build._args import NAMED_FIELDS

    params = inspect.signature(Run.task).parameters
    keyword = [p.name for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert tuple(keyword) == NAMED_FIELDS
    run = Run().task(
        NotebookTask("/n"),
        key="a",
        new_cluster=NewCluster(spark_version="15.4.x-scala2.12", num_workers=1),
        description="d",
        max_retries=2,
        run_if="ALL_DONE",
        libraries=[PyPI("p")],
    )
    task = run.compile().to_dict()["tasks"][0]
    order = ["task_key", "notebook_task", "libraries", "run_if", "max_retries", "description", "new_cluster"]
    assert list(task) == order
    with pytest.raises(TypeError, match="max_retries"):
        Run().task(NotebookTask("/n"), key="a", max_retries="2")
    with pytest.raises(TypeError, match="libraries"):
        Run().task(NotebookTask("/n"), key="a", libraries=PyPI("p"))
