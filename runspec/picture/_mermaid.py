"""Mermaid flowcharts: text for a ```` ```mermaid ```` block (GitHub, GitLab, JupyterLab 4.1+)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from runspec._text import oneline
from runspec.picture._graph import PALETTE, Graph, Node, flow_direction, label_lines, node_class
from runspec.picture._state import STATES

__all__ = ["mermaid", "mermaid_text"]

# Mermaid decodes `#<digits>;` into a character, so every character that could end the quoted
# label, start an entity, open a tag or a markdown string is written that way.
_MERMAID_ESCAPES: Final = str.maketrans(
    {
        '"': "#34;",
        "#": "#35;",
        "&": "#38;",
        "<": "#60;",
        ">": "#62;",
        "`": "#96;",
    }
)

# Before parsing, Mermaid drops the last `;` of any line holding "style"/"classDef" followed by a
# `:` and a `#` (meant for style statements). One letter spelled as an entity keeps labels safe.
_MERMAID_STYLE_WORDS: Final = (("style", "s#116;yle"), ("classDef", "c#108;assDef"))


def mermaid_text(text: str) -> str:
    """``text`` on one line, safe inside a quoted Mermaid label or edge label."""
    return _spell_style_words(oneline(text).translate(_MERMAID_ESCAPES))


def _spell_style_words(text: str) -> str:
    for word, spelled in _MERMAID_STYLE_WORDS:
        if word in text:
            text = text.replace(word, spelled)
    return text


# The characters `_MERMAID_ESCAPES` changes. Most labels have none, and translate() is slow on the
# non-ASCII text every label has (`·`), so it runs only when one is there.
_NEEDS_ESCAPE: Final = re.compile('["#&<>`]')


def _label(lines: list[str]) -> str:
    """The lines of a label, escaped and joined with Mermaid's line breaks."""
    if not all(map(str.isprintable, lines)):
        lines = [oneline(line) for line in lines]
    text = "\n".join(lines)
    if _NEEDS_ESCAPE.search(text):
        text = text.translate(_MERMAID_ESCAPES)
    return _spell_style_words(text).replace("\n", "<br/>")


_TEXT_COLOUR: Final = "#212529"

# How each task type's node is drawn: the text around its label.
_SHAPES: Final[Mapping[str, tuple[str, str]]] = {
    "condition": ('{"', '"}'),
    "for_each": ('[["', '"]]'),
    "run_job": ('(["', '"])'),
}
_BOX: Final = ('["', '"]')


def _mermaid_node(node: Node, width: int) -> str:
    start, end = _SHAPES.get(node.kind, _BOX)
    return f"{node.nid}{start}{_label(label_lines(node, width))}{end}"


def mermaid(graph: Graph, width: int, direction: str) -> str:
    """The Mermaid flowchart of ``graph``: compute boxes, nodes, edges, then the state colours."""
    out = [f"flowchart {flow_direction(direction)[0]}"]
    grouped: dict[int, list[str]] = {}
    loose: list[str] = []
    by_class: dict[str, list[str]] = {}
    thick: list[str] = []
    for node in graph.nodes:
        line = _mermaid_node(node, width)
        group = node.group
        if group is not None:
            grouped.setdefault(group.number, []).append("        " + line)
        else:
            loose.append("    " + line)
        name = node_class(node)
        if name:
            by_class.setdefault(name, []).append(node.nid)
        if len(node.members) > 1:
            thick.append(node.nid)
    for group in graph.groups:
        lines = grouped.get(group.number)
        if lines:
            out.append(f'    subgraph c{group.number}["{mermaid_text(group.title)}"]')
            out.extend(lines)
            out.append("    end")
    out.extend(loose)
    ids = [node.nid for node in graph.nodes]
    for src, dst, outcome in graph.edges:
        if outcome:
            out.append(f'    {ids[src]} -->|"{mermaid_text(outcome)}"| {ids[dst]}')
        else:
            out.append(f"    {ids[src]} --> {ids[dst]}")
    for name in (*STATES, "missing"):
        members = by_class.get(name)
        if not members:
            continue
        fill, stroke, dash = PALETTE[name]
        style = f"fill:{fill},stroke:{stroke},color:{_TEXT_COLOUR}"
        if dash:
            style += f",stroke-dasharray:{dash}"
        out.append(f"    classDef {name} {style}")
        out.append(f"    class {','.join(members)} {name}")
    out.extend(f"    style {nid} stroke-width:3px" for nid in thick)
    return "\n".join(out) + "\n"
