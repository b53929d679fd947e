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
from runspec.build import Run as Run
from runspec.errors import (
    ApiError as ApiError,
)
from runspec.errors import (
    BadRequest as BadRequest,
)
from runspec.errors import (
    ConfigError as ConfigError,
)
from runspec.errors import (
    HostError as HostError,
)
from runspec.errors import (
    KeyConflict as KeyConflict,
)
from runspec.errors import (
    NotFound as NotFound,
)
from runspec.errors import (
    PermissionDenied as PermissionDenied,
)
from runspec.errors import (
    Problem as Problem,
)
from runspec.errors import (
    RateLimited as RateLimited,
)
from runspec.errors import (
    ResourceConflict as ResourceConflict,
)
from runspec.errors import (
    RunFailed as RunFailed,
)
from runspec.errors import (
    RunspecError as RunspecError,
)
from runspec.errors import (
    ServerError as ServerError,
)
from runspec.errors import (
    SpecError as SpecError,
)
from runspec.errors import (
    SubmitError as SubmitError,
)
from runspec.errors import (
    SubmitInterrupted as SubmitInterrupted,
)
from runspec.errors import (
    TransportError as TransportError,
)
from runspec.errors import (
    Unauthenticated as Unauthenticated,
)
from runspec.errors import (
    WaitTimeout as WaitTimeout,
)
from runspec.errors import (
    WorkspaceUnreachable as WorkspaceUnreachable,
)
from runspec.spec import (
    AutoScale as AutoScale,
)
from runspec.spec import (
    AwsAttributes as AwsAttributes,
)
from runspec.spec import (
    AzureAttributes as AzureAttributes,
)
from runspec.spec import (
    CleanRoomsNotebookTask as CleanRoomsNotebookTask,
)
from runspec.spec import (
    ClusterLogConf as ClusterLogConf,
)
from runspec.spec import (
    ConditionTask as ConditionTask,
)
from runspec.spec import (
    Cran as Cran,
)
from runspec.spec import (
    DashboardTask as DashboardTask,
)
from runspec.spec import (
    DbtTask as DbtTask,
)
from runspec.spec import (
    DockerImage as DockerImage,
)
from runspec.spec import (
    Egg as Egg,
)
from runspec.spec import (
    Environment as Environment,
)
from runspec.spec import (
    ForEachTask as ForEachTask,
)
from runspec.spec import (
    GcpAttributes as GcpAttributes,
)
from runspec.spec import (
    GitSource as GitSource,
)
from runspec.spec import (
    InitScriptInfo as InitScriptInfo,
)
from runspec.spec import (
    Jar as Jar,
)
from runspec.spec import (
    JobAccessControlRequest as JobAccessControlRequest,
)
from runspec.spec import (
    JobEmailNotifications as JobEmailNotifications,
)
from runspec.spec import (
    JobEnvironment as JobEnvironment,
)
from runspec.spec import (
    JobNotificationSettings as JobNotificationSettings,
)
from runspec.spec import (
    JobRunAs as JobRunAs,
)
from runspec.spec import (
    JobsHealthRule as JobsHealthRule,
)
from runspec.spec import (
    JobsHealthRules as JobsHealthRules,
)
from runspec.spec import (
    Library as Library,
)
from runspec.spec import (
    Maven as Maven,
)
from runspec.spec import (
    NewCluster as NewCluster,
)
from runspec.spec import (
    NotebookTask as NotebookTask,
)
from runspec.spec import (
    PipelineTask as PipelineTask,
)
from runspec.spec import (
    PyPI as PyPI,
)
from runspec.spec import (
    PythonWheelTask as PythonWheelTask,
)
from runspec.spec import (
    QueueSettings as QueueSettings,
)
from runspec.spec import (
    Requirements as Requirements,
)
from runspec.spec import (
    RunJobTask as RunJobTask,
)
from runspec.spec import (
    RunSpec as RunSpec,
)
from runspec.spec import (
    SparkJarTask as SparkJarTask,
)
from runspec.spec import (
    SparkPythonTask as SparkPythonTask,
)
from runspec.spec import (
    SparkSubmitTask as SparkSubmitTask,
)
from runspec.spec import (
    SqlTask as SqlTask,
)
from runspec.spec import (
    SqlTaskAlert as SqlTaskAlert,
)
from runspec.spec import (
    SqlTaskDashboard as SqlTaskDashboard,
)
from runspec.spec import (
    SqlTaskFile as SqlTaskFile,
)
from runspec.spec import (
    SqlTaskQuery as SqlTaskQuery,
)
from runspec.spec import (
    SubmitTask as SubmitTask,
)
from runspec.spec import (
    Task as Task,
)
from runspec.spec import (
    TaskDependency as TaskDependency,
)
from runspec.spec import (
    WebhookNotifications as WebhookNotifications,
)
from runspec.spec import (
    Whl as Whl,
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
    from runspec.client import PreparedRequest as PreparedRequest
    from runspec.client import RunHandle as RunHandle
    from runspec.client import Workspace as Workspace
    from runspec.client import prepare as prepare
    from runspec.client import submit as submit


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
