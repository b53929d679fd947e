"""
Fewer nodes for big runs: which tasks ``max_nodes`` draws as one node.

Only the positions (tasks first, then missing dependencies) and their dependencies are read here;
the result is, for every position, the position of the node it is drawn in (the lowest position of
that node's members, so a node's first member comes first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from runspec.picture._graph import Group
    from runspec.picture._read import Task

__all__ = ["collapse"]


def _layers(
    preds: list[list[tuple[int, str | None]]],
    succs: list[list[tuple[int, str | None]]],
    size: int,
) -> tuple[list[int], list[int]]:
    """Longest path from a root and to a leaf for each position; -1 for positions on a cycle."""
    indegree = [len(p) for p in preds]
    order = [i for i in range(size) if indegree[i] == 0]
    for i in order:  # grows while it is walked: Kahn's algorithm
        for j, _ in succs[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                order.append(j)
    depth = [-1] * size
    height = [-1] * size
    for i in order:
        depth[i] = max((depth[j] + 1 for j, _ in preds[i]), default=0)
    for i in reversed(order):
        height[i] = max((height[j] + 1 for j, _ in succs[i]), default=0)
    return depth, height


def collapse(
    tasks: list[Task],
    task_group: list[Group | None],
    states: Mapping[str, str],
    preds: list[list[tuple[int, str | None]]],
    size: int,
    max_nodes: int,
) -> list[int]:
    """
    Pick which tasks to draw as one node: tasks alike in type, cluster, flags, state, depth and
    height whose dependencies and dependents are alike too (colour refinement, both directions).
    Returns, for every position, the position of the node it is drawn in. The biggest sets of alike
    tasks are merged first, only until the drawing has at most ``max_nodes`` nodes.

    Depth (longest path from a task without dependencies) and height (longest path to a task
    nothing depends on) keep merged nodes in layers, so the merged drawing has no cycle even if
    refinement stops early. Tasks on a cycle (an invalid run) are never merged.
    """
    succs: list[list[tuple[int, str | None]]] = [[] for _ in range(size)]
    for i in range(size):
        for j, outcome in preds[i]:
            succs[j].append((i, outcome))
    depth, height = _layers(preds, succs, size)
    intern: dict[Any, int] = {}
    colour: list[int] = []
    for i in range(size):
        if i < len(tasks) and depth[i] >= 0:
            task = tasks[i]
            group = task_group[i]
            sig: Any = (
                task.kind,
                group.number if group else 0,
                task.flags,
                states.get(task.key),
                depth[i],
                height[i],
            )
        else:
            sig = ("alone", i)
        colour.append(intern.setdefault(sig, len(intern)))
    classes = len(intern)
    for _ in range(50 if classes < size else 0):  # wide, shallow runs settle in a few rounds
        intern = {}
        colour = [
            intern.setdefault(
                (
                    colour[i],
                    frozenset((colour[j], o) for j, o in preds[i]),
                    frozenset((colour[j], o) for j, o in succs[i]),
                ),
                len(intern),
            )
            for i in range(size)
        ]
        if len(intern) == classes:
            break
        classes = len(intern)
    members: dict[int, list[int]] = {}
    for i, c in enumerate(colour):
        members.setdefault(c, []).append(i)
    # A set with a dependency inside it cannot be one node (it would depend on itself).
    mergeable: list[list[int]] = []
    for alike in members.values():
        if len(alike) < 2:
            continue
        inside = set(alike)
        if any(j in inside for i in alike for j, _ in preds[i]):
            continue
        mergeable.append(alike)
    mergeable.sort(key=lambda a: (-len(a), a[0]))
    leader = list(range(size))
    drawn = len(tasks)
    tier = 0
    for alike in mergeable:
        # Sets of one size go together: a fan-out of load/validate pairs gives two sets of the same
        # size, and merging only one of them would leave a comb of single nodes hanging off it.
        if drawn <= max_nodes and len(alike) != tier:
            break
        tier = len(alike)
        for i in alike[1:]:
            leader[i] = alike[0]
        drawn -= len(alike) - 1
    return leader
