"""
Count, with cachegrind, what a spec object costs as runspec keeps it and as a slotted class would.

    python benchmarks/objects.py            # about a minute under valgrind
    python benchmarks/objects.py --made     # what each object of a task of the 1000-task chain costs to make

runspec keeps an object's set fields in one dict (read with ``set_fields(obj)``; unset fields read as None
through the class) that is also its request form, so ``to_json`` hands each object to the JSON encoder as
that dict. The other design, a class with one slot per field and a generated writer that makes the request
form when the object is serialised, is written below as a prototype with ``SubmitTask``'s fields (the
widest object of a run) and ``TaskDependency``'s (the narrowest), so both are counted the same way.

Each figure is the instructions of one operation: a child runs it N times, another none, and the
difference is divided by N (``PYTHONHASHSEED=0``, the collector's view frozen first, the loop's own cost
included: about 200).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import instructions

N = 20000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_SETUP = """
import gc, json, sys
from operator import attrgetter
sys.path.insert(0, {root!r})
from runspec import NotebookTask, PyPI, SubmitTask, TaskDependency
from runspec.spec.objects import set_fields

FIELDS = {fields!r}
P = {{"date": "2026-01-01", "part": "7"}}
F = {{"task_key": "t1", "notebook_task": "nb", "depends_on": ("a",), "existing_cluster_id": "x", "libraries": ("p",)}}

# runspec's objects: the dict of set fields is the request form.
kept = SubmitTask._new(dict(F))
kept_dep = TaskDependency("a")
kept_deps = [TaskDependency("a") for _ in range(50)]
wire_of = attrgetter("_w")


# The prototype: one slot per field, frozen, every slot written (an unset slot must read None, and a slot
# has no class default), the request form made by a generated writer when serialised.
class Slotted:
    __slots__ = ("_h", "_x")

    def __setattr__(self, name, value):
        raise AttributeError(name)


class SlottedTask(Slotted):
    __slots__ = tuple(FIELDS)


class SlottedDependency(Slotted):
    __slots__ = ("task_key", "outcome")

    def __init__(self, task_key, outcome=None, *, extra=None, **unknown):
        if unknown:
            raise TypeError(unknown)
        if type(task_key) is not str:
            raise TypeError(task_key)
        _dep_key(self, task_key)
        _dep_outcome(self, outcome)


_dep_key = SlottedDependency.__dict__["task_key"].__set__
_dep_outcome = SlottedDependency.__dict__["outcome"].__set__
_new = object.__new__
{setters}


def slotted_new(fields):
    o = _new(SlottedTask)
    get = fields.get
{writes}
    return o


def slotted_form(self):
    d = {{}}
{reads}
    return d


def dependency_form(self):
    d = {{}}
    v = self.task_key
    if v is not None:
        d["task_key"] = v
    v = self.outcome
    if v is not None:
        d["outcome"] = v
    return d


slotted = slotted_new(F)
slotted_dep = SlottedDependency("a")
slotted_deps = [SlottedDependency("a") for _ in range(50)]
gc.freeze()


def work():
    for _ in range({n}):
        {stmt}


work()
"""

CASES = [
    ("a SubmitTask (5 of its fields set) made from checked fields", "SubmitTask._new(dict(F))", "slotted_new(F)"),
    ("its request form, for the JSON encoder", "wire_of(kept)", "slotted_form(slotted)"),
    ("its set fields, for the checks", "set_fields(kept)", "slotted_form(slotted)"),
    ("read a field that is set", "kept.task_key", "slotted.task_key"),
    ("read a field that is not set", "kept.description", "slotted.description"),
    ("TaskDependency('a')", "TaskDependency('a')", "SlottedDependency('a')"),
    (
        "json.dumps of 50 TaskDependency objects",
        "json.dumps(kept_deps, default=wire_of)",
        "json.dumps(slotted_deps, default=dependency_form)",
    ),
]

# The objects each task of benchmarks/instructions.py's chain makes: the caller's two, the dependency
# Run.task makes and the SubmitTask compile() makes from checked fields.
MADE = [
    ("NotebookTask(path, base_parameters={2 entries})", 'NotebookTask("/Repos/etl/step_1", base_parameters=P)'),
    ("[PyPI('pandas==2.2.2')]", '[PyPI("pandas==2.2.2")]'),
    ("TaskDependency('a')", "TaskDependency('a')"),
    ("SubmitTask._new(fields) (5 fields; the copy of F included)", "SubmitTask._new(dict(F))"),
    ("the loop alone", "pass"),
]


def child(stmt: str, n: int) -> str:
    from runspec import SubmitTask

    fields = list(SubmitTask._fields)
    return _SETUP.format(
        root=ROOT,
        fields=fields,
        n=n,
        stmt=stmt,
        setters="\n".join(f"_set_{f} = SlottedTask.__dict__[{f!r}].__set__" for f in fields),
        writes="\n".join(f"    _set_{f}(o, get({f!r}))" for f in fields),
        reads="\n".join(f"    v = self.{f}\n    if v is not None:\n        d[{f!r}] = v" for f in fields),
    )


def count(code: str) -> int:
    """Instructions of a child Python running ``code``, counted as benchmarks/instructions.py counts."""
    return instructions.count_instructions(code)


def per_operation(stmt: str, n: int) -> float:
    # A plain run first writes any missing bytecode, so neither count includes compiling it.
    subprocess.run([sys.executable, "-c", child(stmt, 0)], check=True, env=instructions._env(), capture_output=True)
    return (count(child(stmt, n)) - count(child(stmt, 0))) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=N, help=f"operations counted (default {N})")
    parser.add_argument("--made", action="store_true", help="the objects a task of the chain makes, made")
    args = parser.parse_args(argv)
    if args.made:
        for what, stmt in MADE:
            print(f"{what:58} {per_operation(stmt, args.n):9.0f}", flush=True)
        return 0
    print(f"{'instructions per operation':58} {'runspec':>9} {'slotted':>9}")
    for what, kept, slotted in CASES:
        print(f"{what:58} {per_operation(kept, args.n):9.0f} {per_operation(slotted, args.n):9.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
