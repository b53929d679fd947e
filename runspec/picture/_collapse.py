"""
Fewer nodes for big runs: which tasks ``max_nodes`` draws as one node.

Only the positions (tasks first, then missing dependencies) and their dependencies are read here.
Three kinds of merge are tried in turn, each only as far as needed to reach ``max_nodes`` nodes and
at most :data:`EDGES_PER_NODE` times as many edges:

1. **alike**: sibling tasks alike in type, cluster, flags, state and place (a fan-out's members);
2. **chain**: runs of nodes where each is the only one after the one before (a long chain), keeping
   both ends of the chain drawn;
3. **levels**: every node of a level (the longest path of dependencies before it), the widest levels
   first, then runs of whole levels: what any graph comes down to, random ones included.

Each merge keeps the drawing free of cycles: alike tasks sit at one depth with no dependency among
them, a chain has no way in but its head and no way out but its tail, and every dependency goes to
a higher level. Tasks on a cycle (an invalid run) are never merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # pragma: no cover
    from runspec.picture._graph import Group
    from runspec.picture._read import Task

__all__ = ["EDGES_PER_NODE", "Collapsed", "Merge", "collapse"]

#: With ``max_nodes=N`` a drawing has at most this many times N edges (100 nodes: 400 edges, under
#: the 500 Mermaid draws by default).
EDGES_PER_NODE: Final = 4

Preds = list[list[tuple[int, str | None]]]


@dataclass(slots=True)
class Merge:
    """How one node of several positions was made."""

    how: str  # "alike", "chain" or "levels"
    order: list[int]  # its positions in the order to show them (a chain's in chain order)
    levels: tuple[int, int] = (0, 0)  # "levels": the first and last level, counted from 1


@dataclass(slots=True)
class Collapsed:
    leader: list[int]  # position -> the lowest position of the node it is drawn in
    merges: dict[int, Merge]  # leader -> how its node was made, for every node of several positions


class _Partition:
    """Positions grouped into nodes; a node is named by its lowest position."""

    __slots__ = ("merges", "node_of", "nodes")

    def __init__(self, size: int) -> None:
        self.node_of = list(range(size))
        self.nodes: dict[int, list[int]] = {i: [i] for i in range(size)}
        self.merges: dict[int, Merge] = {}

    def merge(self, nodes: list[int], how: str, *, ordered: bool = False, levels: tuple[int, int] = (0, 0)) -> None:
        """Make one node of ``nodes``; ``ordered``: keep their positions in the order given."""
        positions = [p for node in nodes for p in self.nodes.pop(node)]
        for node in nodes:
            self.merges.pop(node, None)
        leader = min(positions)
        for p in positions:
            self.node_of[p] = leader
        self.nodes[leader] = positions if ordered else sorted(positions)
        self.merges[leader] = Merge(how, self.nodes[leader], levels)

    def edges(self, preds: Preds) -> set[tuple[int, int, str | None]]:
        """The drawing's edges as they stand: (node, node, outcome), merged dependencies left out."""
        node_of = self.node_of
        found: set[tuple[int, int, str | None]] = set()
        for i, before in enumerate(preds):
            v = node_of[i]
            for j, outcome in before:
                u = node_of[j]
                if u != v:
                    found.add((u, v, outcome))
        return found


def _layers(preds: Preds, succs: Preds, size: int) -> tuple[list[int], list[int]]:
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


def _merge_alike(
    parts: _Partition,
    tasks: list[Task],
    task_group: list[Group | None],
    states: Mapping[str, str],
    preds: Preds,
    succs: Preds,
    depth: list[int],
    height: list[int],
    max_nodes: int,
) -> None:
    """
    Merge tasks alike in type, cluster, flags, state, depth and height whose dependencies and
    dependents are alike too (colour refinement, both directions), the biggest sets first.

    Depth and height keep merged nodes in layers, so the drawing has no cycle even if refinement
    stops early.
    """
    size = len(preds)
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
    drawn = size
    tier = 0
    for alike in mergeable:
        # Sets of one size go together: a fan-out of load/validate pairs gives two sets of the same
        # size, and merging only one of them would leave a comb of single nodes hanging off it.
        if drawn <= max_nodes and len(alike) != tier:
            break
        tier = len(alike)
        parts.merge(alike, "alike")
        drawn -= len(alike) - 1


def _merge_chains(
    parts: _Partition,
    tasks: list[Task],
    states: Mapping[str, str],
    preds: Preds,
    depth: list[int],
    max_nodes: int,
) -> None:
    """
    Merge runs of nodes where each is the only node after the one before it, and that one the only
    node before it (tasks in one state, so a live picture shows where the run is). The longest runs
    go first; of each, only as much of its middle as needed is merged, so both ends stay drawn.
    """
    outs: dict[int, set[int]] = {}
    ins: dict[int, set[int]] = {}
    for u, v, _ in parts.edges(preds):
        outs.setdefault(u, set()).add(v)
        ins.setdefault(v, set()).add(u)
    count = len(tasks)

    def linkable(node: int) -> bool:  # a task node (not a missing key) off any cycle
        return node < count and depth[node] >= 0

    following: dict[int, int] = {}
    for u, after in outs.items():
        if len(after) != 1 or not linkable(u):
            continue
        (v,) = after
        if linkable(v) and len(ins[v]) == 1 and states.get(tasks[u].key) == states.get(tasks[v].key):
            following[u] = v
    heads = sorted(set(following) - set(following.values()))
    chains: list[list[int]] = []
    for head in heads:
        chain = [head]
        while chain[-1] in following:
            chain.append(following[chain[-1]])
        chains.append(chain)
    chains.sort(key=lambda c: (-len(c), c[0]))
    need = len(parts.nodes) - max_nodes
    for chain in chains:
        if need <= 0:
            break
        take = min(len(chain), need + 1)
        start = (len(chain) - take) // 2
        parts.merge(chain[start : start + take], "chain", ordered=True)
        need -= take - 1


def _merge_levels(
    parts: _Partition, count: int, preds: Preds, depth: list[int], max_nodes: int, max_edges: int
) -> None:
    """
    Merge all nodes of a level into one, the widest levels first, until the drawing fits; when even
    one node per level is too much, merge runs of consecutive levels into one node each.
    """
    # A node's level is its lowest depth (a chain's head); every dependency goes to a higher level.
    level: dict[int, int] = {}
    for node, positions in parts.nodes.items():
        lowest = min(depth[p] for p in positions)
        if lowest >= 0 and node < count:  # nodes on a cycle and keys not in the run keep out of it
            level[node] = lowest
    by_level: dict[int, list[int]] = {}
    for node, value in level.items():
        by_level.setdefault(value, []).append(node)
    widest = sorted((v for v, nodes in by_level.items() if len(nodes) > 1), key=lambda v: (-len(by_level[v]), v))

    edges = parts.edges(preds)

    def fits(renamed: Mapping[int, Any]) -> bool:
        """Whether the drawing fits with the nodes in ``renamed`` renamed (merged when named alike)."""
        get = renamed.get
        if len({get(node, node) for node in parts.nodes}) > max_nodes:
            return False
        seen: set[tuple[Any, Any, str | None]] = set()
        for u, v, outcome in edges:
            a, b = get(u, u), get(v, v)
            if a != b:
                seen.add((a, b, outcome))
                if len(seen) > max_edges:
                    return False
        return True

    def by_levels(merged: list[int]) -> dict[int, Any]:
        return {node: ("level", value) for value in merged for node in by_level[value]}

    # Merging more never adds a node or an edge, so the fewest levels that fit are found by halving.
    low, high = 0, len(widest)
    if fits(by_levels(widest)):
        while low < high:
            middle = (low + high) // 2
            if fits(by_levels(widest[:middle])):
                high = middle
            else:
                low = middle + 1
        groups = {v: by_level[v] for v in widest[:low]}
    else:
        ranks = sorted(by_level)
        bands = min(len(ranks), max_nodes)
        while bands > 1:
            band = {node: r * bands // len(ranks) for r, v in enumerate(ranks) for node in by_level[v]}
            if fits(band):
                break
            bands = min(bands - 1, bands * 3 // 4)
        groups = {}
        for r, v in enumerate(ranks):
            groups.setdefault(r * max(bands, 1) // len(ranks), []).extend(by_level[v])
    for nodes in groups.values():
        if len(nodes) > 1:
            values = [level[node] for node in nodes]
            parts.merge(nodes, "levels", levels=(min(values) + 1, max(values) + 1))


def collapse(
    tasks: list[Task],
    task_group: list[Group | None],
    states: Mapping[str, str],
    preds: Preds,
    max_nodes: int,
) -> Collapsed:
    """
    Pick which positions to draw as one node so the drawing has at most ``max_nodes`` nodes and
    ``EDGES_PER_NODE * max_nodes`` edges (tasks on a cycle aside): see the module's docstring.
    """
    size = len(preds)
    succs: Preds = [[] for _ in range(size)]
    for i in range(size):
        for j, outcome in preds[i]:
            succs[j].append((i, outcome))
    depth, height = _layers(preds, succs, size)
    parts = _Partition(size)
    _merge_alike(parts, tasks, task_group, states, preds, succs, depth, height, max_nodes)
    if len(parts.nodes) > max_nodes:
        _merge_chains(parts, tasks, states, preds, depth, max_nodes)
    max_edges = EDGES_PER_NODE * max_nodes
    if len(parts.nodes) > max_nodes or len(parts.edges(preds)) > max_edges:
        _merge_levels(parts, len(tasks), preds, depth, max_nodes, max_edges)
    return Collapsed(parts.node_of, parts.merges)
