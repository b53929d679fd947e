"""Graphviz DOT digraphs (``dot -Tsvg run.dot > run.svg``)."""

from __future__ import annotations

from runspec._text import oneline
from runspec.picture._graph import PALETTE, Graph, Node, flow_direction, label_lines, node_class

__all__ = ["dot"]


def _dot_escape(text: str, shown: bool = True) -> str:
    # Graphviz reads `\x` escapes in quoted strings, and HTML entities (`&amp;`) in shown text.
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("&", "&amp;") if shown else text


def _dot_quote(text: str, *, shown: bool = True) -> str:
    return '"' + _dot_escape(oneline(text), shown) + '"'


def _dot_label(lines: list[str]) -> str:
    """The lines of a label as one quoted string, with DOT's `\\n` line breaks."""
    if not all(map(str.isprintable, lines)):
        lines = [oneline(line) for line in lines]
    # Each line is on one line now, so the only newlines are the breaks between them.
    return '"' + _dot_escape("\n".join(lines)).replace("\n", "\\n") + '"'


def _dot_node(node: Node, width: int) -> str:
    attrs = [f"label={_dot_label(label_lines(node, width))}"]
    members = node.members
    kind = node.kind
    styles: list[str] = []
    if kind == "condition":
        attrs.append("shape=diamond")
    elif kind == "for_each":
        attrs.append("peripheries=2")
    elif kind == "run_job":
        styles.append("rounded")
    if len(members) > 1:
        attrs.append("shape=box3d")
    name = node_class(node)
    if name:
        fill, stroke, dash = PALETTE[name]
        styles.append("filled")
        if dash:
            styles.append("dashed")
        attrs.append(f'fillcolor="{fill}"')
        attrs.append(f'color="{stroke}"')
    if styles:
        attrs.append(f'style="{",".join(styles)}"')
    if members:
        attrs.append(f"tooltip={_dot_quote(members[0].key)}")
    return f"{node.nid} [{', '.join(attrs)}];"


def dot(graph: Graph, width: int, direction: str) -> str:
    out = [
        f"digraph {_dot_quote(graph.name, shown=False)} {{",
        f"    graph [rankdir={flow_direction(direction)[1]}, fontname=Helvetica, fontsize=12,"
        f" label={_dot_quote(graph.name)}, labelloc=t];",
        '    node [shape=box, fontname=Helvetica, fontsize=11, fontcolor="#212529"];',
        "    edge [fontname=Helvetica, fontsize=10];",
    ]
    grouped: dict[int, list[Node]] = {}
    loose: list[Node] = []
    for node in graph.nodes:
        if node.group is not None:
            grouped.setdefault(node.group.number, []).append(node)
        else:
            loose.append(node)
    for group in graph.groups:
        members = grouped.get(group.number)
        if not members:
            continue
        out.append(f"    subgraph cluster_{group.number} {{")
        title = _dot_quote(group.title)
        out.append(f'        graph [label={title}, style="rounded,dashed", color="#868e96"];')
        out.extend(f"        {_dot_node(node, width)}" for node in members)
        out.append("    }")
    out.extend(f"    {_dot_node(node, width)}" for node in loose)
    nodes = graph.nodes
    for src, dst, outcome in graph.edges:
        attrs = f" [label={_dot_quote(outcome)}]" if outcome else ""
        out.append(f"    {nodes[src].nid} -> {nodes[dst].nid}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"
