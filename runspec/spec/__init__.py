"""
The spec layer: the runs/submit request body as frozen, checked Python values.

``RunSpec`` is the whole body. Every object type of the body has a class here named after the API's
type (``ClusterSpec`` is ``NewCluster``), and the library kinds are ``PyPI``, ``Maven``, ``Cran``,
``Jar``, ``Whl``, ``Egg`` and ``Requirements``.
"""

from runspec.spec.model._library import (
    Cran as Cran,
)
from runspec.spec.model._library import (
    Egg as Egg,
)
from runspec.spec.model._library import (
    Jar as Jar,
)
from runspec.spec.model._library import (
    Library as Library,
)
from runspec.spec.model._library import (
    Maven as Maven,
)
from runspec.spec.model._library import (
    PyPI as PyPI,
)
from runspec.spec.model._library import (
    Requirements as Requirements,
)
from runspec.spec.model._library import (
    Whl as Whl,
)
from runspec.spec.model._objects import *  # noqa: F403 - the generated classes, listed in their own __all__
from runspec.spec.model._objects import __all__ as _object_names
from runspec.spec.run_spec import RunSpec as RunSpec

__all__ = sorted([*_object_names, "Cran", "Egg", "Jar", "Library", "Maven", "PyPI", "Requirements", "RunSpec", "Whl"])
