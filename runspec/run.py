"""The builder under its former module name: ``runspec.build`` is the package (``Run`` is also ``runspec.Run``)."""

from runspec.build import Run as Run
from runspec.build import TaskLike as TaskLike

__all__ = ["Run", "TaskLike"]
