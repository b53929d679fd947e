"""
Pictures of a run's task graph: Mermaid, Graphviz DOT, plain text for logs, and a notebook view.

Every function here reads the runs/submit request body: a ``RunSpec`` (read as it is, nothing is
serialised first), a plain dict such as ``RunSpec.to_dict()`` gives, or any object with a
``to_dict()`` method; and, for live colouring, the runs/get answer. Nothing is sent anywhere and
only the standard library is used.

::

    from runspec.picture import to_mermaid, to_dot, to_text, task_states

    print(to_mermaid(spec))                   # paste into Markdown or a GitHub comment
    print(to_dot(spec))                       # pipe into `dot -Tsvg`
    print(to_text(spec, state=handle.get()))  # CI log: one line per task and its state

What is drawn: one node per task, labelled with its key and type and the notebook path, file,
entry point, pipeline or job it runs (shortened to ``label_width`` characters, keeping the end of a
path). Condition tasks show their comparison and the edges leaving them their outcome
(``true``/``false``); a for_each task shows its inner task, inputs and concurrency; ``run_if`` other
than ``ALL_SUCCESS`` and ``disabled`` tasks are marked. Tasks whose ``new_cluster`` specs are equal
(one named cluster in the builder becomes one copy per task in the body), that share an
``existing_cluster_id``, or that share a serverless ``environment_key`` are drawn inside one box.
A dependency on a key that is not in the run is drawn as a dashed "not in this run" node instead of
failing: these functions draw whatever they are given, valid or not, so they can help explain a
``SpecError`` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

from runspec._text import oneline as _oneline
from runspec.picture import _dot, _mermaid, _text
from runspec.picture._graph import build as _build
from runspec.picture._state import STATES, state_name, task_states

__all__ = [
    "FORMATS",
    "STATES",
    "markdown",
    "render",
    "state_name",
    "summary",
    "task_states",
    "to_dot",
    "to_mermaid",
    "to_text",
]

FORMATS: Final[tuple[str, ...]] = ("mermaid", "dot", "text", "markdown")
"""The picture kinds :func:`render` knows."""


class _HasToDict(Protocol):
    def to_dict(self) -> Mapping[str, Any]: ...


def to_mermaid(
    body: Mapping[str, Any] | _HasToDict,
    *,
    state: Any = None,
    max_nodes: int | None = None,
    cluster_names: Mapping[str, str] | None = None,
    group_clusters: bool = True,
    direction: str = "TD",
    label_width: int = 40,
) -> str:
    """
    Draw the run as a Mermaid flowchart (text for a ```` ```mermaid ```` block; GitHub renders it).

    ``state`` colours the tasks: a runs/get answer (dict, or an object with ``.raw``) or a ready
    ``{task_key: state name}`` map (see :data:`STATES`). ``max_nodes`` bounds the drawing to that
    many nodes and 4 times as many edges, whatever the run's shape: alike sibling tasks (same type,
    cluster, flags, state and neighbours) merge into one node showing their count, then long chains
    into one segment each, then whole levels of the graph; each task is drawn or counted in exactly
    one node. Without it every task is drawn. ``cluster_names`` maps a task key to the name of its
    cluster, which then titles the cluster's box. ``direction`` is TD, LR, BT or RL.
    Node ids are ``t<position in tasks>`` (``m<n>`` for a dependency not in the run), so any task
    key is safe; labels are escaped with Mermaid's ``#<code>;`` entities.

    Mermaid refuses diagrams over 50,000 characters or 500 edges by default (a few hundred tasks):
    use ``max_nodes`` for bigger runs (``max_nodes=100`` draws at most 100 nodes and 400 edges).
    """
    graph = _build(
        body,
        state=state,
        max_nodes=max_nodes,
        cluster_names=cluster_names,
        label_width=label_width,
        group_clusters=group_clusters,
    )
    return _mermaid.mermaid(graph, label_width, direction)


def to_dot(
    body: Mapping[str, Any] | _HasToDict,
    *,
    state: Any = None,
    max_nodes: int | None = None,
    cluster_names: Mapping[str, str] | None = None,
    group_clusters: bool = True,
    direction: str = "TB",
    label_width: int = 40,
) -> str:
    """
    Draw the run as a Graphviz DOT digraph (``dot -Tsvg run.dot > run.svg``).

    Options as for :func:`to_mermaid`. Clusters are ``subgraph cluster_<n>`` boxes; condition tasks
    are diamonds, for_each tasks have a double border, run_job tasks rounded corners and merged
    sibling groups a 3-D box. States fill the nodes with the same colours as the Mermaid picture.
    """
    graph = _build(
        body,
        state=state,
        max_nodes=max_nodes,
        cluster_names=cluster_names,
        label_width=label_width,
        group_clusters=group_clusters,
    )
    return _dot.dot(graph, label_width, direction)


def to_text(
    body: Mapping[str, Any] | _HasToDict,
    *,
    state: Any = None,
    max_nodes: int | None = None,
    cluster_names: Mapping[str, str] | None = None,
    color: bool = False,
    label_width: int = 40,
) -> str:
    """
    Describe the run as plain text for a terminal or a CI log: a summary line, one line per task.

    Tasks are listed so that each comes after the tasks it depends on. Each line has the state
    (when ``state`` is given), the key, the type and what it runs, then ``after ...`` (its
    dependencies, with a condition outcome in brackets), the cluster it runs on and its flags. The
    clusters are listed at the end. ``color=True`` colours the state word with ANSI codes; leave it
    off when the output is not a terminal.
    """
    graph = _build(
        body,
        state=state,
        max_nodes=max_nodes,
        cluster_names=cluster_names,
        label_width=label_width,
    )
    return _text.text(graph, label_width, color)


def summary(
    body: Mapping[str, Any] | _HasToDict,
    *,
    warnings: Iterable[object] = (),
    state: Any = None,
) -> str:
    """
    One line about the run: name, task count, clusters, warnings and, with ``state``, how many tasks
    are in each state (``nightly: 12 tasks, 2 job clusters; 9 succeeded, 1 running, 2 pending``).

    Handy for a progress callback: ``summary(body, state=handle.get())``.
    """
    count = len(list(warnings))
    graph = _build(body, state=state, max_nodes=None, cluster_names=None, label_width=40)
    return _text.summary_line(graph, count)


def _md_escape(text: str) -> str:
    # Only what is special inside a line of Markdown; `$` starts LaTeX in Jupyter.
    return "".join("\\" + ch if ch in "\\`*_[]<>|~$&" else ch for ch in _oneline(text))


def _md_code(text: str) -> str:
    """``text`` as a Markdown code span, with a fence longer than any run of backquotes in it."""
    text = _oneline(text)
    ticks = 1
    while "`" * ticks in text:
        ticks += 1
    fence = "`" * ticks
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else ""


def _md_warning(warning: object) -> str:
    """A warning as one Markdown line: ``path``: message (``code``) for a ``Problem``, else its text."""
    path, message, code = (getattr(warning, name, None) for name in ("path", "message", "code"))
    if isinstance(path, str) and isinstance(message, str):
        line = f"{_md_code(path)}: {_md_escape(message)}" if path else _md_escape(message)
        return line + (f" ({_md_code(code)})" if isinstance(code, str) and code else "")
    return _md_escape(str(warning))


def markdown(
    body: Mapping[str, Any] | _HasToDict,
    *,
    warnings: Iterable[object] = (),
    state: Any = None,
    max_nodes: int | None = 100,
    cluster_names: Mapping[str, str] | None = None,
    direction: str = "TD",
    label_width: int = 40,
) -> str:
    """
    The notebook view: a one-line summary, a fenced ```` ```mermaid ```` block, then the warnings.

    This is what ``_repr_markdown_`` returns; JupyterLab 4.1+ and GitHub draw the block.
    ``warnings`` are any objects whose ``str()`` is a message (``Problem`` instances, strings). Runs
    of more than ``max_nodes`` tasks (default 100) are drawn in at most that many nodes (see
    :func:`to_mermaid`), so the diagram stays under Mermaid's size limits; pass ``max_nodes=None``
    to draw every task.
    """
    notes = [_md_warning(w) for w in warnings]
    graph = _build(
        body,
        state=state,
        max_nodes=max_nodes,
        cluster_names=cluster_names,
        label_width=label_width,
    )
    line = _text.summary_line(graph, len(notes))
    name, sep, rest = line.partition(": ")
    head = f"**{_md_escape(name)}**{sep}{_md_escape(rest)}"
    if graph.collapsed:
        head += f" (drawn as {len(graph.nodes)} nodes)"
    parts = [head, "", "```mermaid", _mermaid.mermaid(graph, label_width, direction).rstrip("\n"), "```"]
    if notes:
        parts.append("")
        parts.extend(f"- {note}" for note in notes)
    return "\n".join(parts) + "\n"


def render(body: Mapping[str, Any] | _HasToDict, kind: str, **options: Any) -> str:
    """
    Draw the run in one of :data:`FORMATS` (``mermaid``, ``dot``, ``text``, ``markdown``).

    ``options`` go to the matching function; this is the one entry point a command line needs.
    """
    functions: dict[str, Any] = {
        "mermaid": to_mermaid,
        "dot": to_dot,
        "text": to_text,
        "markdown": markdown,
    }
    function = functions.get(kind)
    if function is None:
        raise ValueError(f"unknown picture kind {kind!r}; choose one of {', '.join(FORMATS)}")
    result: str = function(body, **options)
    return result
