"""Plain text for terminals and CI logs: a summary line, then one line per task in dependency order."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Final

from runspec._text import plural
from runspec.picture._graph import Graph, label_lines
from runspec.picture._state import STATES

__all__ = ["summary_line", "text"]

_ANSI: Final[Mapping[str, str]] = {
    "pending": "2",
    "running": "34",
    "retrying": "33",
    "succeeded": "32",
    "partial": "33",
    "failed": "1;31",
    "timed_out": "1;31",
    "canceled": "35",
    "upstream_failed": "31",
    "excluded": "2",
    "skipped": "2",
    "disabled": "2",
    "unknown": "0",
}


def _order(graph: Graph) -> list[int]:
    """Node indexes in an order where each comes after what it depends on (body order otherwise)."""
    count = len(graph.nodes)
    indegree = [0] * count
    out: list[list[int]] = [[] for _ in range(count)]
    for src, dst, _ in graph.edges:
        if src != dst:
            indegree[dst] += 1
            out[src].append(dst)
    ready = [i for i in range(count) if indegree[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in out[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                heapq.heappush(ready, j)
    if len(order) < count:  # a cycle: list the rest in body order
        placed = set(order)
        order.extend(i for i in range(count) if i not in placed)
    return order


def summary_line(graph: Graph, warnings: int) -> str:
    counts = {"new": 0, "existing": 0, "env": 0}
    for group in graph.groups:
        counts[group.kind] += 1
    if not graph.groups:  # grouping switched off: count them anyway
        seen = {t.compute for t in graph.tasks if t.compute is not None}
        for kind, _ in seen:
            counts[kind] += 1
    parts = [plural(len(graph.tasks), "task")]
    # runs/submit has no shared job clusters: each task on a new_cluster starts a cluster of its own,
    # however alike their specs (which the boxes group), so the count is of tasks, not of boxes.
    starting = sum(1 for t in graph.tasks if t.compute is not None and t.compute[0] == "new")
    if starting:
        parts.append(plural(starting, "new cluster") + (" (one per task)" if starting > 1 else ""))
    if counts["existing"]:
        parts.append(plural(counts["existing"], "existing cluster"))
    if counts["env"]:
        parts.append(plural(counts["env"], "serverless environment"))
    if warnings:
        parts.append(plural(warnings, "warning"))
    head = graph.name + (f" ({graph.live.run})" if graph.live.run else "")
    line = f"{head}: {', '.join(parts)}"
    if graph.live.states:
        tally: dict[str, int] = {}
        for task in graph.tasks:
            found = graph.live.states.get(task.key)
            if found:
                tally[found] = tally.get(found, 0) + 1
        if tally:
            line += "; " + ", ".join(f"{tally[s]} {s}" for s in STATES if s in tally)
    return line


def text(graph: Graph, width: int, color: bool) -> str:
    nodes = graph.nodes
    preds: list[list[str]] = [[] for _ in nodes]
    for src, dst, outcome in graph.edges:
        source = nodes[src]
        name = source.missing + " (not in this run)" if not source.members else source.first.key
        if len(source.members) > 1:
            name = f"{source.first.key} … ({len(source.members)})"
        preds[dst].append(f"{name} ({outcome})" if outcome else name)
    rows: list[tuple[str, str, str, str]] = []
    for i in _order(graph):
        node = nodes[i]
        if not node.members:
            continue
        lines = label_lines(node, width)
        what = lines[1]
        extra = list(lines[2:])
        if node.group is not None:
            extra.insert(0, f"on {node.group.title}")
        if preds[i]:
            extra.insert(0, "after " + ", ".join(preds[i]))
        state = node.state or ("" if not graph.live.states else "-")
        rows.append((state, lines[0], what, " · ".join(extra)))
    out = [summary_line(graph, 0)]
    if rows:
        key_width = min(max(len(r[1]) for r in rows), 40)
        what_width = min(max(len(r[2]) for r in rows), width + 16)
        state_width = max(len(r[0]) for r in rows)
        for state, key, what, after in rows:
            cells: list[str] = []
            if state_width:
                word = state.ljust(state_width)
                if color and state in _ANSI:
                    word = f"\x1b[{_ANSI[state]}m{state}\x1b[0m" + " " * (state_width - len(state))
                cells.append(word)
            cells.append(key.ljust(key_width))
            cells.append(what.ljust(what_width) if after else what)
            if after:
                cells.append(after)
            out.append("  " + "  ".join(cells).rstrip())
    return "\n".join(out) + "\n"
