"""
Golden request bodies: every task type, every cluster option and every library kind, built once with
the builder and once with the spec classes, must give exactly the hand-written body in
tests/golden/bodies/<name>.json.

The JSON files are written by hand from the Jobs API reference, never generated from runspec's own
output, so a change in what runspec sends shows up here as a failing comparison.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runspec import (
    AutoScale,
    AwsAttributes,
    AzureAttributes,
    CleanRoomsNotebookTask,
    ClusterLogConf,
    ConditionTask,
    Cran,
    DashboardTask,
    DbtTask,
    DockerImage,
    Egg,
    Environment,
    ForEachTask,
    GcpAttributes,
    GitSource,
    InitScriptInfo,
    Jar,
    JobAccessControlRequest,
    JobEmailNotifications,
    JobEnvironment,
    JobNotificationSettings,
    JobRunAs,
    JobsHealthRule,
    JobsHealthRules,
    Maven,
    NewCluster,
    NotebookTask,
    PipelineTask,
    PyPI,
    PythonWheelTask,
    QueueSettings,
    Requirements,
    Run,
    RunJobTask,
    RunSpec,
    SparkJarTask,
    SparkPythonTask,
    SparkSubmitTask,
    SqlTask,
    SqlTaskAlert,
    SqlTaskDashboard,
    SqlTaskFile,
    SqlTaskQuery,
    SubmitTask,
    Task,
    TaskDependency,
    WebhookNotifications,
    Whl,
)
from runspec.spec import (
    AiClassifyFunction,
    AiClassifyFunctionInlineLabels,
    AiClassifyFunctionLabel,
    AiFunctionTask,
    AiRuntimeTask,
    AlertTask,
    AlertTaskSubscriber,
    ComputeConfig,
    ComputeSpec,
    DbfsStorageInfo,
    DbtCloudTask,
    DbtPlatformTask,
    DeltaTableSource,
    DeploymentSpec,
    DockerBasicAuth,
    GcsStorageInfo,
    GenAiComputeTask,
    LocalFileInfo,
    PowerBiModel,
    PowerBiTable,
    PowerBiTask,
    PythonOperatorTask,
    PythonOperatorTaskParameter,
    QualifiedName,
    S3StorageInfo,
    SparseCheckout,
    SqlTaskSubscription,
    Subscription,
    SubscriptionSubscriber,
    VolumesStorageInfo,
    Webhook,
    WorkspaceStorageInfo,
)
from runspec.spec.model._objects import Adlsgen2Info

BODIES = Path(__file__).resolve().parent / "golden" / "bodies"

CLUSTER = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1)
ALL_PURPOSE = "0101-123456-abcdef"


def golden(name: str) -> dict[str, Any]:
    with open(BODIES / f"{name}.json", encoding="utf-8") as f:
        body: dict[str, Any] = json.load(f)
    return body


# --------------------------------------------------------------------------------------------------
# Each golden body, once through the builder and once through the spec classes.
# --------------------------------------------------------------------------------------------------


def notebook_builder() -> RunSpec:
    return (
        Run("golden-notebook")
        .task(NotebookTask("/Repos/etl/ingest", base_parameters={"date": "2024-01-01"}, source="WORKSPACE"))
        .cluster("etl", NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2))
        .timeout(600)
        .compile()
    )


def notebook_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-notebook",
        tasks=[
            SubmitTask(
                "ingest",
                notebook_task=NotebookTask(
                    "/Repos/etl/ingest", base_parameters={"date": "2024-01-01"}, source="WORKSPACE"
                ),
                new_cluster=NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2),
            )
        ],
        timeout_seconds=600,
    )


def spark_jar_builder() -> RunSpec:
    return (
        Run("golden-spark-jar")
        .task(
            SparkJarTask("com.example.etl.Main", parameters=["--day", "2024-01-01"]),
            existing_cluster_id=ALL_PURPOSE,
            libraries=[Jar("/Volumes/main/libs/etl.jar")],
        )
        .compile()
    )


def spark_jar_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-spark-jar",
        tasks=[
            SubmitTask(
                "Main",
                spark_jar_task=SparkJarTask(main_class_name="com.example.etl.Main", parameters=("--day", "2024-01-01")),
                existing_cluster_id=ALL_PURPOSE,
                libraries=[Jar("/Volumes/main/libs/etl.jar")],
            )
        ],
    )


def spark_python_builder() -> RunSpec:
    return (
        Run("golden-spark-python")
        .git("https://github.com/acme/etl", branch="main")
        .cluster("small", CLUSTER)
        .task(SparkPythonTask("etl/transform.py", parameters=["--full"], source="GIT"))
        .compile()
    )


def spark_python_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-spark-python",
        tasks=[
            SubmitTask(
                "transform",
                spark_python_task=SparkPythonTask("etl/transform.py", parameters=["--full"], source="GIT"),
                new_cluster=CLUSTER,
            )
        ],
        git_source=GitSource("https://github.com/acme/etl", "gitHub", git_branch="main"),
    )


SUBMIT_PARAMS = ["--class", "org.apache.spark.examples.SparkPi", "dbfs:/jars/examples.jar", "10"]


def spark_submit_builder() -> RunSpec:
    return Run("golden-spark-submit").task(SparkSubmitTask(SUBMIT_PARAMS), cluster="c").cluster("c", CLUSTER).compile()


def spark_submit_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-spark-submit",
        tasks=[SubmitTask("spark_submit", spark_submit_task=SparkSubmitTask(SUBMIT_PARAMS), new_cluster=CLUSTER)],
    )


WHEEL = "/Volumes/main/wheels/etl-1.0-py3-none-any.whl"


def python_wheel_builder() -> RunSpec:
    return (
        Run("golden-python-wheel")
        .environment("default", environment_version="4", dependencies=[WHEEL])
        .task(PythonWheelTask("etl", "main", named_parameters={"env": "prod"}), environment_key="default")
        .compile()
    )


def python_wheel_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-python-wheel",
        tasks=[
            SubmitTask(
                "main",
                python_wheel_task=PythonWheelTask("etl", "main", named_parameters={"env": "prod"}),
                environment_key="default",
            )
        ],
        environments=[JobEnvironment("default", Environment(environment_version="4", dependencies=[WHEEL]))],
    )


def pipeline_builder() -> RunSpec:
    return Run("golden-pipeline").task(PipelineTask("8a3c2b1d", full_refresh=True)).compile()


def pipeline_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-pipeline",
        tasks=[SubmitTask("pipeline_8a3c2b1d", pipeline_task=PipelineTask("8a3c2b1d", full_refresh=True))],
    )


def sql_query_builder() -> RunSpec:
    task = SqlTask("wh-1", query=SqlTaskQuery("q-1"), parameters={"day": "2024-01-01"})
    return Run("golden-sql-query").task(task).compile()


def sql_query_classes() -> RunSpec:
    task = SqlTask(warehouse_id="wh-1", query=SqlTaskQuery(query_id="q-1"), parameters={"day": "2024-01-01"})
    return RunSpec(run_name="golden-sql-query", tasks=[SubmitTask("sql_query", sql_task=task)])


def sql_file_builder() -> RunSpec:
    return (
        Run("golden-sql-file").task(SqlTask("wh-1", file=SqlTaskFile("/Workspace/Shared/queries/daily.sql"))).compile()
    )


def sql_file_classes() -> RunSpec:
    task = SqlTask("wh-1", file={"path": "/Workspace/Shared/queries/daily.sql"})  # type: ignore[arg-type]  # a mapping converts
    return RunSpec(run_name="golden-sql-file", tasks=[SubmitTask("daily", sql_task=task)])


def sql_dashboard_builder() -> RunSpec:
    dashboard = SqlTaskDashboard(
        "dash-1", custom_subject="Daily numbers", subscriptions=[SqlTaskSubscription(user_name="ana@example.com")]
    )
    return Run("golden-sql-dashboard").task(SqlTask("wh-1", dashboard=dashboard)).compile()


def sql_dashboard_classes() -> RunSpec:
    dashboard = SqlTaskDashboard(
        dashboard_id="dash-1",
        custom_subject="Daily numbers",
        subscriptions=(SqlTaskSubscription(user_name="ana@example.com"),),
    )
    return RunSpec(
        run_name="golden-sql-dashboard",
        tasks=[SubmitTask("sql_dashboard", sql_task=SqlTask("wh-1", dashboard=dashboard))],
    )


def sql_alert_builder() -> RunSpec:
    alert = SqlTaskAlert(
        "alert-1", pause_subscriptions=False, subscriptions=[SqlTaskSubscription(destination_id="dest-1")]
    )
    return Run("golden-sql-alert").task(SqlTask("wh-1", alert=alert)).compile()


def sql_alert_classes() -> RunSpec:
    alert = SqlTaskAlert("alert-1", pause_subscriptions=False, subscriptions=[{"destination_id": "dest-1"}])  # type: ignore[list-item]
    return RunSpec(run_name="golden-sql-alert", tasks=[SubmitTask("sql_alert", sql_task=SqlTask("wh-1", alert=alert))])


DBT = DbtTask(
    ["dbt deps", "dbt run"],
    project_directory="analytics",
    warehouse_id="wh-1",
    catalog="main",
    schema="marts",
    source="GIT",
)


def dbt_builder() -> RunSpec:
    return (
        Run("golden-dbt")
        .task(DBT, libraries=[PyPI("dbt-databricks>=1.8.0")])
        .cluster("c", CLUSTER)
        .git("https://gitlab.com/acme/analytics", tag="v1.2.0")
        .compile()
    )


def dbt_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-dbt",
        tasks=[SubmitTask("dbt", dbt_task=DBT, new_cluster=CLUSTER, libraries=[PyPI("dbt-databricks>=1.8.0")])],
        git_source=GitSource("https://gitlab.com/acme/analytics", "gitLab", git_tag="v1.2.0"),
    )


def run_job_builder() -> RunSpec:
    return Run("golden-run-job").task(RunJobTask(1234, job_parameters={"env": "prod"})).compile()


def run_job_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-run-job",
        tasks=[SubmitTask("run_job_1234", run_job_task=RunJobTask(job_id=1234, job_parameters={"env": "prod"}))],
    )


CONDITION = ConditionTask("{{job.parameters.mode}}", "EQUAL_TO", "full")


def condition_builder() -> RunSpec:
    return (
        Run("golden-condition")
        .task(CONDITION)
        .task(
            NotebookTask("/Repos/etl/full_load"),
            depends_on=[TaskDependency("condition", outcome="true")],
            existing_cluster_id=ALL_PURPOSE,
        )
        .task(
            NotebookTask("/Repos/etl/report"),
            depends_on=["full_load"],
            run_if="ALL_DONE",
            existing_cluster_id=ALL_PURPOSE,
        )
        .compile()
    )


def condition_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-condition",
        tasks=[
            SubmitTask("condition", condition_task=CONDITION),
            SubmitTask(
                "full_load",
                depends_on=[TaskDependency("condition", "true")],
                notebook_task=NotebookTask("/Repos/etl/full_load"),
                existing_cluster_id=ALL_PURPOSE,
            ),
            SubmitTask(
                "report",
                depends_on=[TaskDependency("full_load")],
                run_if="ALL_DONE",
                notebook_task=NotebookTask("/Repos/etl/report"),
                existing_cluster_id=ALL_PURPOSE,
            ),
        ],
    )


PROCESS = NotebookTask("/Repos/etl/process", base_parameters={"region": "{{input}}"})


def for_each_builder() -> RunSpec:
    loop = ForEachTask('["us", "eu"]', Task("process_item", notebook_task=PROCESS), concurrency=2)
    return Run("golden-for-each").cluster("c", CLUSTER).task(loop).compile()


def for_each_classes() -> RunSpec:
    loop = ForEachTask(
        inputs='["us", "eu"]',
        task=Task("process_item", notebook_task=PROCESS, new_cluster=CLUSTER),
        concurrency=2,
    )
    return RunSpec(run_name="golden-for-each", tasks=[SubmitTask("for_each_process_item", for_each_task=loop)])


SUBSCRIPTION = Subscription(
    custom_subject="Weekly", paused=False, subscribers=[SubscriptionSubscriber(user_name="ana@example.com")]
)


def dashboard_builder() -> RunSpec:
    return (
        Run("golden-dashboard")
        .task(DashboardTask("01ef-dash", warehouse_id="wh-1", subscription=SUBSCRIPTION))
        .compile()
    )


def dashboard_classes() -> RunSpec:
    task = DashboardTask(dashboard_id="01ef-dash", warehouse_id="wh-1", subscription=SUBSCRIPTION)
    return RunSpec(run_name="golden-dashboard", tasks=[SubmitTask("dashboard", dashboard_task=task)])


CLEAN_ROOMS = CleanRoomsNotebookTask("partners", "overlap", etag="etag-1", notebook_base_parameters={"segment": "all"})


def clean_rooms_notebook_builder() -> RunSpec:
    return Run("golden-clean-rooms").task(CLEAN_ROOMS).compile()


def clean_rooms_notebook_classes() -> RunSpec:
    return RunSpec(run_name="golden-clean-rooms", tasks=[SubmitTask("overlap", clean_rooms_notebook_task=CLEAN_ROOMS)])


PREVIEW_TASKS: list[Any] = [
    PowerBiTask(
        connection_resource_name="pbi-conn",
        warehouse_id="wh-1",
        power_bi_model=PowerBiModel(
            workspace_name="Sales",
            model_name="SalesModel",
            storage_mode="DIRECT_QUERY",
            authentication_method="OAUTH",
            overwrite_existing=True,
        ),
        tables=[PowerBiTable(catalog="main", schema="sales", name="orders", storage_mode="IMPORT")],
        refresh_after_update=True,
    ),
    AlertTask(alert_id="alert-9", warehouse_id="wh-1", subscribers=[AlertTaskSubscriber(user_name="ana@example.com")]),
    AiRuntimeTask(
        "/Users/ana@example.com/train",
        [DeploymentSpec(ComputeSpec("GPU_1xA10", 1), command_path="/Workspace/train.py")],
        priority_class="NORMAL",
    ),
    GenAiComputeTask(
        "databricks/dl-runtime:1",
        training_script_path="/Workspace/train.py",
        compute=ComputeConfig(1, gpu_type="a10"),
    ),
    DbtCloudTask(connection_resource_name="dbt-cloud", dbt_cloud_job_id=42),
    DbtPlatformTask(connection_resource_name="dbt-platform", dbt_platform_job_id="77"),
    PythonOperatorTask(
        main="acme.jobs.refresh", parameters=[PythonOperatorTaskParameter(name="day", value="2024-01-01")]
    ),
    AiFunctionTask(
        QualifiedName(catalog="main", schema="ai", table="labels"),
        delta_table=DeltaTableSource("main.ai.docs", "text"),
        ai_classify=AiClassifyFunction(
            "1",
            inline_labels=AiClassifyFunctionInlineLabels(
                [AiClassifyFunctionLabel("spam"), AiClassifyFunctionLabel("ham", description="not spam")]
            ),
        ),
    ),
]
PREVIEW_FIELDS = [
    "power_bi_task",
    "alert_task",
    "ai_runtime_task",
    "gen_ai_compute_task",
    "dbt_cloud_task",
    "dbt_platform_task",
    "python_operator_task",
    "ai_function_task",
]


def preview_tasks_builder() -> RunSpec:
    run = Run("golden-preview")
    for task in PREVIEW_TASKS:
        run = run.task(task)
    return run.compile()


def preview_tasks_classes() -> RunSpec:
    tasks = [
        SubmitTask(field.removesuffix("_task"), **{field: task})
        for field, task in zip(PREVIEW_FIELDS, PREVIEW_TASKS, strict=True)
    ]
    return RunSpec(run_name="golden-preview", tasks=tasks)


INIT_SCRIPTS = [
    InitScriptInfo(workspace=WorkspaceStorageInfo("/Workspace/init/a.sh")),
    InitScriptInfo(volumes=VolumesStorageInfo("/Volumes/main/init/b.sh")),
    InitScriptInfo(s3=S3StorageInfo("s3://acme/init/c.sh", region="us-west-2")),
    InitScriptInfo(abfss=Adlsgen2Info("abfss://init@acme.dfs.core.windows.net/d.sh")),
    InitScriptInfo(gcs=GcsStorageInfo("gs://acme/init/e.sh")),
    InitScriptInfo(file=LocalFileInfo("file:/databricks/init/f.sh")),
    InitScriptInfo(dbfs=DbfsStorageInfo("dbfs:/init/g.sh")),
]
AWS_CLUSTER = NewCluster(
    spark_version="15.4.x-scala2.12",
    node_type_id="i3.xlarge",
    driver_node_type_id="i3.2xlarge",
    autoscale=AutoScale(1, 8),
    aws_attributes=AwsAttributes(
        availability="SPOT_WITH_FALLBACK",
        first_on_demand=1,
        zone_id="auto",
        instance_profile_arn="arn:aws:iam::123456789012:instance-profile/etl",
        spot_bid_price_percent=100,
        ebs_volume_type="GENERAL_PURPOSE_SSD",
        ebs_volume_count=1,
        ebs_volume_size=100,
    ),
    data_security_mode="SINGLE_USER",
    single_user_name="ana@example.com",
    runtime_engine="PHOTON",
    policy_id="E0123456789ABCDE",
    apply_policy_default_values=True,
    docker_image=DockerImage("acme/runtime:1", basic_auth=DockerBasicAuth(username="ci", password="not-a-secret")),
    cluster_log_conf=ClusterLogConf(
        s3=S3StorageInfo("s3://acme/logs", region="us-west-2", enable_encryption=True, encryption_type="sse-s3")
    ),
    init_scripts=INIT_SCRIPTS,
    spark_conf={"spark.speculation": "true"},
    spark_env_vars={"ENV": "prod"},
    custom_tags={"team": "data"},
    ssh_public_keys=["ssh-ed25519 AAAAC3Nza ana"],
    enable_elastic_disk=True,
)
AZURE_CLUSTER = NewCluster(
    spark_version="15.4.x-scala2.12",
    node_type_id="Standard_DS3_v2",
    num_workers=2,
    kind="CLASSIC_PREVIEW",
    is_single_node=False,
    use_ml_runtime=True,
    data_security_mode="DATA_SECURITY_MODE_DEDICATED",
    azure_attributes=AzureAttributes(availability="SPOT_WITH_FALLBACK_AZURE", first_on_demand=1, spot_bid_max_price=-1),
    cluster_log_conf=ClusterLogConf(dbfs=DbfsStorageInfo("dbfs:/cluster-logs")),
)
GCP_CLUSTER = NewCluster(
    spark_version="15.4.x-scala2.12",
    node_type_id="n2-highmem-4",
    num_workers=0,
    spark_conf={"spark.databricks.cluster.profile": "singleNode", "spark.master": "local[*]"},
    custom_tags={"ResourceClass": "SingleNode"},
    gcp_attributes=GcpAttributes(
        availability="PREEMPTIBLE_WITH_FALLBACK_GCP",
        google_service_account="etl@acme.iam.gserviceaccount.com",
        boot_disk_size=100,
        local_ssd_count=1,
        zone_id="HA",
    ),
    cluster_log_conf=ClusterLogConf(volumes=VolumesStorageInfo("/Volumes/main/logs/clusters")),
)
CLOUD_CLUSTERS = {"aws": AWS_CLUSTER, "azure": AZURE_CLUSTER, "gcp": GCP_CLUSTER}


def clusters_builder() -> RunSpec:
    run = Run("golden-clusters")
    for name, cluster in CLOUD_CLUSTERS.items():
        run = run.cluster(f"{name}-cluster", cluster).task(
            NotebookTask(f"/Repos/etl/{name}"), cluster=f"{name}-cluster"
        )
    return run.compile()


def clusters_classes() -> RunSpec:
    tasks = [
        SubmitTask(name, notebook_task=NotebookTask(f"/Repos/etl/{name}"), new_cluster=cluster)
        for name, cluster in CLOUD_CLUSTERS.items()
    ]
    return RunSpec(run_name="golden-clusters", tasks=tasks)


LIBRARIES = [
    Jar("/Volumes/main/libs/a.jar"),
    Whl("/Volumes/main/libs/b-1.0-py3-none-any.whl"),
    Egg("dbfs:/libs/c.egg"),
    Requirements("/Workspace/etl/requirements.txt"),
    PyPI("pandas==2.2.2", repo="https://pypi.example.com/simple"),
    PyPI("requests"),
    Maven("com.acme:etl:1.0", repo="https://maven.example.com", exclusions=["org.slf4j:slf4j-log4j12"]),
    Cran("forecast", repo="https://cran.example.com"),
]


def libraries_builder() -> RunSpec:
    return (
        Run("golden-libraries")
        .task(NotebookTask("/Repos/etl/ingest"), existing_cluster_id=ALL_PURPOSE, libraries=LIBRARIES)
        .compile()
    )


def libraries_classes() -> RunSpec:
    task = SubmitTask(
        "ingest", notebook_task=NotebookTask("/Repos/etl/ingest"), existing_cluster_id=ALL_PURPOSE, libraries=LIBRARIES
    )
    return RunSpec(run_name="golden-libraries", tasks=[task])


APP_ID = "6f1c0e6a-app-id"


def top_level_builder() -> RunSpec:
    return (
        Run("golden-top-level")
        .task(NotebookTask("etl/ingest", source="GIT"), existing_cluster_id=ALL_PURPOSE)
        .timeout(3600)
        .idempotency_token("nightly-2024-01-01")
        .git("https://github.com/acme/etl", commit="4f2c1e0", sparse_checkout=["etl"])
        .access("CAN_MANAGE", user="ana@example.com")
        .access("CAN_MANAGE_RUN", group="data-eng")
        .access("CAN_VIEW", service_principal=APP_ID)
        .notify(on_failure=["oncall@example.com"], on_success=["ana@example.com"], no_alert_for_skipped_runs=True)
        .webhooks(on_failure=["dest-1"])
        .health("RUN_DURATION_SECONDS", 1800)
        .queue()
        .run_as(service_principal=APP_ID)
        .set(budget_policy_id="bp-1", performance_target="STANDARD")
        .compile()
    )


def top_level_classes() -> RunSpec:
    return RunSpec(
        run_name="golden-top-level",
        tasks=[
            SubmitTask(
                "ingest", notebook_task=NotebookTask("etl/ingest", source="GIT"), existing_cluster_id=ALL_PURPOSE
            )
        ],
        timeout_seconds=3600,
        idempotency_token="nightly-2024-01-01",
        git_source=GitSource(
            "https://github.com/acme/etl",
            "gitHub",
            git_commit="4f2c1e0",
            sparse_checkout=SparseCheckout(patterns=["etl"]),
        ),
        access_control_list=[
            JobAccessControlRequest(user_name="ana@example.com", permission_level="CAN_MANAGE"),
            JobAccessControlRequest(group_name="data-eng", permission_level="CAN_MANAGE_RUN"),
            JobAccessControlRequest(service_principal_name=APP_ID, permission_level="CAN_VIEW"),
        ],
        email_notifications=JobEmailNotifications(on_failure=["oncall@example.com"], on_success=["ana@example.com"]),
        notification_settings=JobNotificationSettings(no_alert_for_skipped_runs=True),
        webhook_notifications=WebhookNotifications(on_failure=[Webhook("dest-1")]),
        health=JobsHealthRules(rules=[JobsHealthRule("RUN_DURATION_SECONDS", "GREATER_THAN", 1800)]),
        queue=QueueSettings(True),
        run_as=JobRunAs(service_principal_name=APP_ID),
        budget_policy_id="bp-1",
        performance_target="STANDARD",
    )


CASES: dict[str, tuple[Callable[[], RunSpec], Callable[[], RunSpec]]] = {
    "notebook": (notebook_builder, notebook_classes),
    "spark_jar": (spark_jar_builder, spark_jar_classes),
    "spark_python": (spark_python_builder, spark_python_classes),
    "spark_submit": (spark_submit_builder, spark_submit_classes),
    "python_wheel": (python_wheel_builder, python_wheel_classes),
    "pipeline": (pipeline_builder, pipeline_classes),
    "sql_query": (sql_query_builder, sql_query_classes),
    "sql_file": (sql_file_builder, sql_file_classes),
    "sql_dashboard": (sql_dashboard_builder, sql_dashboard_classes),
    "sql_alert": (sql_alert_builder, sql_alert_classes),
    "dbt": (dbt_builder, dbt_classes),
    "run_job": (run_job_builder, run_job_classes),
    "condition": (condition_builder, condition_classes),
    "for_each": (for_each_builder, for_each_classes),
    "dashboard": (dashboard_builder, dashboard_classes),
    "clean_rooms_notebook": (clean_rooms_notebook_builder, clean_rooms_notebook_classes),
    "preview_tasks": (preview_tasks_builder, preview_tasks_classes),
    "clusters": (clusters_builder, clusters_classes),
    "libraries": (libraries_builder, libraries_classes),
    "top_level": (top_level_builder, top_level_classes),
}


def test_every_golden_file_has_a_case() -> None:
    """Every golden body on disk is checked by a case here, and every case has its file."""
    assert sorted(p.stem for p in BODIES.glob("*.json")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_builder_gives_the_golden_body(name: str) -> None:
    """The builder compiles to exactly the hand-written request body."""
    build, _ = CASES[name]
    assert build().to_dict() == golden(name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_classes_give_the_golden_body(name: str) -> None:
    """Spec classes put together by hand serialise to exactly the hand-written request body."""
    _, build = CASES[name]
    assert build().to_dict() == golden(name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_body_loads_back_unchanged(name: str) -> None:
    """Each golden body loads with from_dict and from_json and serialises back to itself."""
    body = golden(name)
    assert RunSpec.from_dict(body).to_dict() == body
    assert RunSpec.from_json(json.dumps(body)).to_dict() == body
    assert json.loads(RunSpec.from_dict(body).to_json()) == body


@pytest.mark.parametrize("name", sorted(CASES))
def test_builder_and_classes_make_equal_specs(name: str) -> None:
    """The builder's RunSpec and the hand-made one are equal values (hashing is tested in test_spec_objects)."""
    assert CASES[name][0]() == CASES[name][1]()


def test_every_task_type_has_a_golden_body() -> None:
    """The golden bodies together use every task type of SubmitTask."""
    from runspec.spec.checks._checks import TASK_TYPES

    used = {key for name in CASES for task in golden(name)["tasks"] for key in task if key.endswith("_task")}
    assert used == set(TASK_TYPES)


# --------------------------------------------------------------------------------------------------
# The brickster bugs runspec must not repeat, each stated on its own.
# --------------------------------------------------------------------------------------------------


def test_jar_whl_and_egg_are_not_double_wrapped() -> None:
    """A path library is {"jar": path}, never {"jar": {"jar": path}}."""
    assert Jar("/a.jar").to_dict() == {"jar": "/a.jar"}
    assert Whl("/b.whl").to_dict() == {"whl": "/b.whl"}
    assert Egg("/c.egg").to_dict() == {"egg": "/c.egg"}
    assert Requirements("/r.txt").to_dict() == {"requirements": "/r.txt"}


def test_pypi_maven_and_cran_are_wrapped_without_nulls() -> None:
    """Package libraries wrap their fields under their kind and leave unset fields out (no "repo": null)."""
    assert PyPI("pandas").to_dict() == {"pypi": {"package": "pandas"}}
    assert Maven("g:a:1", exclusions=["g:x"]).to_dict() == {"maven": {"coordinates": "g:a:1", "exclusions": ["g:x"]}}
    assert Cran("forecast").to_dict() == {"cran": {"package": "forecast"}}


def test_init_scripts_keep_their_storage_key() -> None:
    """Each init script is wrapped in its storage kind, for example {"workspace": {"destination": ...}}."""
    scripts = clusters_builder().to_dict()["tasks"][0]["new_cluster"]["init_scripts"]
    assert [next(iter(s)) for s in scripts] == ["workspace", "volumes", "s3", "abfss", "gcs", "file", "dbfs"]
    assert scripts[0] == {"workspace": {"destination": "/Workspace/init/a.sh"}}


def test_group_access_uses_group_name() -> None:
    """A group's access control entry is sent as group_name, never as group."""
    entry = Run("x").access("CAN_VIEW", group="data-eng").task(PipelineTask("p")).to_dict()["access_control_list"]
    assert entry == [{"group_name": "data-eng", "permission_level": "CAN_VIEW"}]


def test_data_security_mode_and_kind_are_sent() -> None:
    """data_security_mode, kind, runtime_engine, single_user_name and policy_id reach the body."""
    body = clusters_builder().to_dict()
    aws, azure = body["tasks"][0]["new_cluster"], body["tasks"][1]["new_cluster"]
    assert aws["data_security_mode"] == "SINGLE_USER"
    assert aws["runtime_engine"] == "PHOTON"
    assert aws["single_user_name"] == "ana@example.com"
    assert aws["policy_id"] == "E0123456789ABCDE"
    assert azure["kind"] == "CLASSIC_PREVIEW"
    assert azure["data_security_mode"] == "DATA_SECURITY_MODE_DEDICATED"


def test_one_element_lists_stay_lists() -> None:
    """A one-element list is sent as a JSON array, never unboxed to a scalar."""
    body = (
        Run("x")
        .task(SparkPythonTask("/a.py", parameters=["only"]), existing_cluster_id=ALL_PURPOSE, libraries=[PyPI("p")])
        .notify(on_failure=["a@example.com"])
        .to_dict()
    )
    assert body["tasks"][0]["spark_python_task"]["parameters"] == ["only"]
    assert body["tasks"][0]["libraries"] == [{"pypi": {"package": "p"}}]
    assert body["email_notifications"] == {"on_failure": ["a@example.com"]}
    assert json.loads(Run.from_dict(body).to_json()) == body


def test_sql_file_without_source_sends_no_source() -> None:
    """A SQL file task with no source sends none (the workspace decides), never a made-up "GIT"."""
    task = sql_file_builder().to_dict()["tasks"][0]["sql_task"]
    assert task["file"] == {"path": "/Workspace/Shared/queries/daily.sql"}


def test_named_cluster_becomes_new_cluster_and_no_job_clusters() -> None:
    """A named cluster is compiled into the task's new_cluster; no job_clusters or job_cluster_key is sent."""
    body = notebook_builder().to_dict()
    assert "job_clusters" not in body
    assert "job_cluster_key" not in body["tasks"][0]
    assert body["tasks"][0]["new_cluster"] == golden("notebook")["tasks"][0]["new_cluster"]


def test_compile_adds_nothing_the_user_did_not_say() -> None:
    """compile() fills in no defaults: no queue, run_if, retries or empty lists; only the derived key."""
    body = Run().task(NotebookTask("/Repos/etl/ingest"), existing_cluster_id=ALL_PURPOSE).to_dict()
    assert body == {
        "tasks": [
            {
                "task_key": "ingest",
                "notebook_task": {"notebook_path": "/Repos/etl/ingest"},
                "existing_cluster_id": ALL_PURPOSE,
            }
        ]
    }


def test_zero_and_false_are_sent() -> None:
    """Falsy values a user set (num_workers=0, paused=False) are sent, not dropped as unset."""
    body = clusters_builder().to_dict()
    assert body["tasks"][2]["new_cluster"]["num_workers"] == 0
    assert body["tasks"][1]["new_cluster"]["is_single_node"] is False
    assert dashboard_builder().to_dict()["tasks"][0]["dashboard_task"]["subscription"]["paused"] is False
