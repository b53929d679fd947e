"""
The graph every picture draws: nodes (a task, a merged set of tasks, or a missing dependency), the
edges between them, and the compute boxes the nodes sit in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from runspec._text import as_text, plural
from runspec.picture._collapse import Merge, collapse
from runspec.picture._read import Compute, Task, read_body
from runspec.picture._state import STATES, Live, live
from runspec.picture._words import dig

__all__ = ["PALETTE", "Graph", "Group", "Node", "build", "flow_direction", "label_lines", "node_class"]


@dataclass(slots=True)
class Group:
    """A compute box: tasks on equal new_cluster specs, one existing cluster or one environment."""

    number: int  # 1-based, in order of first appearance
    kind: str  # "new", "existing", "env"
    title: str


@dataclass(slots=True)
class Node:
    nid: str
    members: list[Task]  # empty for a dependency that is not in the run
    missing: str = ""  # the key of that dependency
    group: Group | None = None
    state: str | None = None
    progress: str = ""
    merge: Merge | None = None  # how a node of several tasks was made

    @property
    def first(self) -> Task:
        return self.members[0]

    @property
    def kind(self) -> str:
        """The task type that gives the node its shape: "" for a missing key, a chain or levels."""
        members = self.members
        if not members or (self.merge is not None and self.merge.how != "alike"):
            return ""
        return members[0].kind


@dataclass(slots=True)
class Graph:
    name: str
    tasks: list[Task]
    nodes: list[Node]
    edges: list[tuple[int, int, str | None]]  # node index -> node index, outcome
    groups: list[Group]
    live: Live
    collapsed: bool


def _workers(cluster: Mapping[str, Any]) -> str:
    scale = dig(cluster, "autoscale")
    if scale:
        low, high = as_text(scale.get("min_workers")) or "?", as_text(scale.get("max_workers")) or "?"
        return f"{low}-{high} workers"
    workers = cluster.get("num_workers")
    if isinstance(workers, int) and not isinstance(workers, bool):
        return "single node" if workers == 0 else plural(workers, "worker")
    return ""


def _group_title(kind: str, value: Any, cluster: Mapping[str, Any] | None, name: str | None) -> str:
    if kind == "existing":
        described = f"existing cluster {value}"
    elif kind == "env":
        described = f"serverless env {value}"
    else:
        cluster = cluster or {}
        node = as_text(cluster.get("node_type_id"))
        pool = as_text(cluster.get("instance_pool_id"))
        head = node or (f"pool {pool}" if pool else "job cluster")
        workers = _workers(cluster)
        described = f"{head}, {workers}" if workers else head
    if name and name != value:
        return f"{name} ({described})"
    return name or described


def _groups(tasks: list[Task], names: Mapping[str, str]) -> tuple[list[Group], list[Group | None]]:
    """The compute boxes in order of first use, and each task's box (titles made unique)."""
    groups: list[Group] = []
    by_compute: dict[Compute, Group] = {}
    task_group: list[Group | None] = []
    for task in tasks:
        group = None
        compute = task.compute
        if compute is not None:
            group = by_compute.get(compute)
            if group is None:
                kind, value = compute
                title = _group_title(kind, value, task.new_cluster, names.get(task.key))
                group = by_compute[compute] = Group(len(groups) + 1, kind, title)
                groups.append(group)
        task_group.append(group)
    seen_titles: dict[str, int] = {}
    for group in groups:
        count = seen_titles.get(group.title, 0) + 1
        seen_titles[group.title] = count
        if count > 1:
            group.title = f"{group.title} #{count}"
    return groups, task_group


def _merged(
    node: Node,
    members: list[Task],
    merge: Merge,
    states: Mapping[str, str],
    task_group: list[Group | None] | None,
) -> None:
    """Make ``node`` the node of ``members``: in their box and state if they share one, else in none."""
    node.members = members
    node.merge = merge
    node.progress = ""
    if task_group is not None:
        boxes = {id(task_group[m.index]) for m in members}
        node.group = task_group[members[0].index] if len(boxes) == 1 else None
    if states:
        found = [states.get(m.key) for m in members]
        if any(s != found[0] for s in found):
            node.state = None
            tally: dict[str, int] = {}
            for s in found:
                if s:
                    tally[s] = tally.get(s, 0) + 1
            node.progress = ", ".join(f"{tally[s]} {s}" for s in STATES if s in tally)
        else:
            node.state = found[0]


def build(
    body: Any,
    *,
    state: Any,
    max_nodes: int | None,
    cluster_names: Mapping[str, str] | None,
    label_width: int,
    group_clusters: bool = True,
) -> Graph:
    """Read ``body`` (a RunSpec, a dict, or an object with ``to_dict()``) into the graph to draw."""
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    name, tasks = read_body(body, max(label_width, 12))
    now = live(state)
    groups, task_group = _groups(tasks, cluster_names or {})

    # Graph positions: tasks first (body order), then keys that are depended on but missing.
    count = len(tasks)
    position: dict[str, int] = {}
    for task in tasks:
        position.setdefault(task.key, task.index)
    missing: list[str] = []
    preds: list[list[tuple[int, str | None]]] = []
    for task in tasks:
        found: list[tuple[int, str | None]] = []
        for dep_key, outcome in task.deps:
            where = position.get(dep_key)
            if where is None:
                where = position[dep_key] = count + len(missing)
                missing.append(dep_key)
            found.append((where, outcome))
        preds.append(found)
    size = count + len(missing)
    preds.extend([] for _ in missing)

    states = now.states
    progress = now.progress
    merges: dict[int, Merge] = {}
    if max_nodes is not None and size > max_nodes:
        picked = collapse(tasks, task_group, states, preds, max_nodes)
        member_of, merges = picked.leader, picked.merges
    else:
        member_of = list(range(size))
    collapsed = bool(merges)

    nodes: list[Node] = []
    node_at: list[int] = [-1] * size  # position -> index of the node it is drawn in
    for i in range(size):
        leader = member_of[i]
        if leader != i:  # a leader is its node's lowest position: its node is made already
            node_at[i] = node_at[leader]
            continue
        node_at[i] = len(nodes)
        if i < count:
            task = tasks[i]
            key = task.key
            nodes.append(
                Node(
                    f"t{i}",
                    [task],
                    "",
                    task_group[i] if group_clusters else None,
                    states.get(key) if states else None,
                    progress.get(key, "") if progress else "",
                )
            )
        else:
            nodes.append(Node(f"m{i - count}", [], missing=missing[i - count]))
    for leader, merge in merges.items():
        members = [tasks[p] for p in merge.order if p < count]
        _merged(nodes[node_at[leader]], members, merge, states, task_group if group_clusters else None)
    edges: list[tuple[int, int, str | None]] = []
    seen: set[tuple[int, int, str | None]] = set()
    for i in range(size):
        found = preds[i]
        if not found:
            continue
        dst = node_at[i]
        if not collapsed and len(found) == 1:  # the usual case: an edge no other task can give
            j, outcome = found[0]
            edges.append((node_at[j], dst, outcome))
            continue
        for j, outcome in found:
            edge = (node_at[j], dst, outcome)
            if edge[0] == dst and i != j:  # a dependency inside a merged node
                continue
            if edge not in seen:
                seen.add(edge)
                edges.append(edge)
    return Graph(name, tasks, nodes, edges, groups if group_clusters else [], now, collapsed)


# --------------------------------------------------------------------------------------------
# What every picture shows of a node
# --------------------------------------------------------------------------------------------


def _common_prefix(texts: list[str]) -> str:
    low, high = min(texts), max(texts)
    n = 0
    while n < len(low) and low[n] == high[n]:
        n += 1
    return low[:n]


def label_lines(node: Node, width: int) -> list[str]:
    """The lines of a node's label: key(s), type and what it runs, the repeated task, flags, progress."""
    if not node.members:
        return [node.missing, "not in this run"]
    first = node.first
    merge = node.merge
    if merge is not None and merge.how != "alike":
        return _segment_lines(node, merge)
    kind = first.kind
    what = first.detail
    if len(node.members) == 1:
        lines = [first.key]
    else:
        lines = [f"{first.key} … {node.members[-1].key}"]
        kind = f"{len(node.members)} x {kind}"
        if any(m.detail != what for m in node.members):
            prefix = _common_prefix([m.detail for m in node.members])
            what = prefix + "…" if len(prefix) >= 4 else ""
    lines.append(f"{kind} · {what}" if what else kind)
    if first.inner:
        inner = [m.inner for m in node.members]
        lines.append(first.inner if all(i == first.inner for i in inner) else "↳ …")
    if first.flags:
        lines.append(" · ".join(first.flags))
    if node.progress:
        lines.append(node.progress)
    return lines


def _segment_lines(node: Node, merge: Merge) -> list[str]:
    """A chain (``a … z``, ``chain of 976 tasks``) or some levels of the graph (``120 tasks on levels 3-7``)."""
    members = node.members
    count = len(members)
    if merge.how == "chain":
        what = f"chain of {count} tasks"
    else:
        low, high = merge.levels
        what = f"{count} tasks on level {low}" if low == high else f"{count} tasks on levels {low}-{high}"
    kinds = {m.kind for m in members}
    if len(kinds) == 1:
        what += " · " + kinds.pop()
    lines = [f"{members[0].key} … {members[-1].key}", what]
    if node.progress:
        lines.append(node.progress)
    return lines


PALETTE: Final[Mapping[str, tuple[str, str, str]]] = {
    # state: (fill, stroke, dash); text is always dark so light and dark themes both read it
    "pending": ("#f1f3f5", "#868e96", ""),
    "running": ("#d0ebff", "#1971c2", ""),
    "retrying": ("#fff3bf", "#e67700", ""),
    "succeeded": ("#d3f9d8", "#2b8a3e", ""),
    "partial": ("#e9fac8", "#5c940d", ""),
    "failed": ("#ffe3e3", "#c92a2a", ""),
    "timed_out": ("#ffe8cc", "#d9480f", ""),
    "canceled": ("#dee2e6", "#495057", ""),
    "upstream_failed": ("#fff0f6", "#c2255c", "5 3"),
    "excluded": ("#f8f9fa", "#adb5bd", "5 3"),
    "skipped": ("#f8f9fa", "#adb5bd", "5 3"),
    "disabled": ("#f8f9fa", "#adb5bd", "5 3"),
    "unknown": ("#ffffff", "#868e96", ""),
    "missing": ("#ffffff", "#c92a2a", "5 3"),
}


def node_class(node: Node) -> str | None:
    """The colour a node is drawn in: its state, ``missing``, ``disabled``, or None for none."""
    if not node.members:
        return "missing"
    if node.state:
        return node.state
    members = node.members
    if members[0].disabled and all(m.disabled for m in members):
        return "disabled"
    return None


_DIRECTIONS: Final[Mapping[str, tuple[str, str]]] = {
    # accepted spelling: (mermaid, dot)
    "TD": ("TD", "TB"),
    "TB": ("TD", "TB"),
    "BT": ("BT", "BT"),
    "LR": ("LR", "LR"),
    "RL": ("RL", "RL"),
}


def flow_direction(direction: str) -> tuple[str, str]:
    try:
        return _DIRECTIONS[direction.upper()]
    except KeyError:
        raise ValueError(f"direction must be one of TD, TB, BT, LR, RL; got {direction!r}") from None
