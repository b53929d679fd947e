"""
Running a run's own code in the emulator: ``LocalCode`` says where the code lives, ``LocalRunner`` runs
each task attempt's code in a process of its own (``_child``), with the ``dbutils`` stand-in.
"""

from __future__ import annotations

from runspec.testing._local._code import LocalCode, load_secrets
from runspec.testing._local._runner import REDACTED, LocalRunner, NoCode

__all__ = ["REDACTED", "LocalCode", "LocalRunner", "NoCode", "load_secrets"]
