"""
``Run``: describe a one-time run by chaining calls, then ``compile()`` it into a checked ``RunSpec``.

::

    run = (
        Run("nightly-etl")
        .cluster("etl", NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2))
        .task(NotebookTask("/Repos/etl/ingest"))
        .task(SparkPythonTask("dbfs:/etl/transform.py"), depends_on=["ingest"])
        .timeout(3600)
    )
    spec = run.compile()

Every method returns a new ``Run``; the one it was called on is unchanged, so a partly built run can be
shared and extended in several directions. A ``Run`` records what you said (named clusters, task order,
keys you left out) as a chain of calls, one record each (``runspec.build._ops``); ``compile()``
(``runspec.build._compile``) turns that into the request body and checks all of it at once.
"""

from runspec.build._builder import Run as Run
from runspec.build._builder import TaskLike as TaskLike

__all__ = ["Run", "TaskLike"]
