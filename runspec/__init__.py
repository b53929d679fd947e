"""
runspec: describe a Databricks one-time run in Python, check all of it on your machine, look at the
exact request, send it exactly once, and follow it to its end.

The spec layer (``Run``, ``RunSpec``, task, cluster and library classes) needs only the standard
library. The client layer (``submit``, ``RunHandle``) loads ``requests`` the first time it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runspec.errors import (
    ApiError as ApiError,
    BadRequest as BadRequest,
    ConfigError as ConfigError,
    NotFound as NotFound,
    PermissionDenied as PermissionDenied,
    Problem as Problem,
    RateLimited as RateLimited,
    ResourceConflict as ResourceConflict,
    RunFailed as RunFailed,
    RunspecError as RunspecError,
    ServerError as ServerError,
    SpecError as SpecError,
    SubmitError as SubmitError,
    TransportError as TransportError,
    Unauthenticated as Unauthenticated,
    WaitTimeout as WaitTimeout,
)

__version__ = "0.1.0"

# Client-layer names, imported on first use so that `import runspec` never imports requests.
_LAZY = {
    "submit": "runspec.client",
    "RunHandle": "runspec.client",
    "PreparedRequest": "runspec.client",
}

if TYPE_CHECKING:  # pragma: no cover
    from runspec.client import PreparedRequest as PreparedRequest
    from runspec.client import RunHandle as RunHandle
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
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ApiError",
    "BadRequest",
    "ConfigError",
    "NotFound",
    "PermissionDenied",
    "PreparedRequest",
    "Problem",
    "RateLimited",
    "ResourceConflict",
    "RunFailed",
    "RunHandle",
    "RunspecError",
    "ServerError",
    "SpecError",
    "SubmitError",
    "TransportError",
    "Unauthenticated",
    "WaitTimeout",
    "submit",
]
