"""
runspec: describe a Databricks one-time run in Python, check all of it on your machine, look at the
exact request, send it exactly once, and follow it to its end.

The spec layer (``Run``, ``RunSpec``, task, cluster and library classes) needs only the standard
library. The client layer (``submit``, ``prepare``, ``RunHandle``, ``Workspace``) loads ``requests`` the
first time it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runspec import _startup as _startup  # first: Ctrl-C while the command starts exits 130 quietly
from runspec._version import __version__ as __version__
from runspec.build import Run
from runspec.errors import (
    ApiError,
    BadRequest,
    ConfigError,
    HostError,
    KeyConflict,
    NotFound,
    PermissionDenied,
    Problem,
    RateLimited,
    ResourceConflict,
    RunFailed,
    RunspecError,
    ServerError,
    SpecError,
    SubmitError,
    SubmitInterrupted,
    TransportError,
    Unauthenticated,
    WaitTimeout,
    WorkspaceUnreachable,
)
from runspec.spec import (
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
    Library,
    Maven,
    NewCluster,
    NotebookTask,
    PipelineTask,
    PyPI,
    PythonWheelTask,
    QueueSettings,
    Requirements,
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

# Client-layer names, imported on first use so that `import runspec` never imports requests.
_LAZY = {
    "submit": "runspec.client",
    "prepare": "runspec.client",
    "RunHandle": "runspec.client",
    "PreparedRequest": "runspec.client",
    "Workspace": "runspec.client",
}

if TYPE_CHECKING:  # pragma: no cover
    from runspec.client import PreparedRequest, RunHandle, Workspace, prepare, submit


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runspec' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (and the subpackages already imported), not the module's own helpers."""
    loaded = {name for name, value in globals().items() if type(value) is type(_startup) and not name.startswith("_")}
    return sorted(set(__all__) | {"__version__"} | loaded)


__all__ = [
    "ApiError",
    "AutoScale",
    "AwsAttributes",
    "AzureAttributes",
    "BadRequest",
    "CleanRoomsNotebookTask",
    "ClusterLogConf",
    "ConditionTask",
    "ConfigError",
    "Cran",
    "DashboardTask",
    "DbtTask",
    "DockerImage",
    "Egg",
    "Environment",
    "ForEachTask",
    "GcpAttributes",
    "GitSource",
    "HostError",
    "InitScriptInfo",
    "Jar",
    "JobAccessControlRequest",
    "JobEmailNotifications",
    "JobEnvironment",
    "JobNotificationSettings",
    "JobRunAs",
    "JobsHealthRule",
    "JobsHealthRules",
    "KeyConflict",
    "Library",
    "Maven",
    "NewCluster",
    "NotFound",
    "NotebookTask",
    "PermissionDenied",
    "PipelineTask",
    "PreparedRequest",
    "Problem",
    "PyPI",
    "PythonWheelTask",
    "QueueSettings",
    "RateLimited",
    "Requirements",
    "ResourceConflict",
    "Run",
    "RunFailed",
    "RunHandle",
    "RunJobTask",
    "RunSpec",
    "RunspecError",
    "ServerError",
    "SparkJarTask",
    "SparkPythonTask",
    "SparkSubmitTask",
    "SpecError",
    "SqlTask",
    "SqlTaskAlert",
    "SqlTaskDashboard",
    "SqlTaskFile",
    "SqlTaskQuery",
    "SubmitError",
    "SubmitInterrupted",
    "SubmitTask",
    "Task",
    "TaskDependency",
    "TransportError",
    "Unauthenticated",
    "WaitTimeout",
    "WebhookNotifications",
    "Whl",
    "Workspace",
    "WorkspaceUnreachable",
    "prepare",
    "submit",
]
