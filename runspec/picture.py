"""
Pictures of a run's task graph: Mermaid, Graphviz DOT, plain text for logs, and a notebook view.

Every function here reads plain data: the runs/submit request body (what ``RunSpec.to_dict()``
returns; an object with a ``to_dict()`` method is accepted too) and, for live colouring, the
runs/get answer. Nothing is sent anywhere and only the standard library is used.

::

    from runspec.picture import to_mermaid, to_dot, to_text, task_states

    print(to_mermaid(spec.to_dict()))                   # paste into Markdown or a GitHub comment
    print(to_dot(spec.to_dict()))                       # pipe into `dot -Tsvg`
    print(to_text(spec.to_dict(), state=handle.get()))  # CI log: one line per task and its state

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

import heapq
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

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

STATES: Final[tuple[str, ...]] = (
    "succeeded",
    "partial",
    "failed",
    "timed_out",
    "canceled",
    "upstream_failed",
    "excluded",
    "skipped",
    "disabled",
    "running",
    "retrying",
    "pending",
    "unknown",
)
"""Every state name :func:`task_states` returns, in the order summaries list them."""

FORMATS: Final[tuple[str, ...]] = ("mermaid", "dot", "text", "markdown")
"""The picture kinds :func:`render` knows."""


class _HasToDict(Protocol):
    def to_dict(self) -> Mapping[str, Any]: ...


# --------------------------------------------------------------------------------------------
# Live state: runs/get answer -> {task_key: state name}
# --------------------------------------------------------------------------------------------

_RESULT_STATES: Final[Mapping[str, str]] = {
    "SUCCESS": "succeeded",
    "SUCCESS_WITH_FAILURES": "partial",
    "FAILED": "failed",
    "MAXIMUM_CONCURRENT_RUNS_REACHED": "failed",
    "TIMEDOUT": "timed_out",
    "CANCELED": "canceled",
    "UPSTREAM_CANCELED": "canceled",
    "UPSTREAM_FAILED": "upstream_failed",
    "EXCLUDED": "excluded",
    "DISABLED": "disabled",
}
_LIFE_CYCLE_STATES: Final[Mapping[str, str]] = {
    "QUEUED": "pending",
    "PENDING": "pending",
    "BLOCKED": "pending",
    "RUNNING": "running",
    "TERMINATING": "running",
    "WAITING_FOR_RETRY": "retrying",
    "SKIPPED": "skipped",
    "INTERNAL_ERROR": "failed",
}
_STATUS_STATES: Final[Mapping[str, str]] = {
    "QUEUED": "pending",
    "PENDING": "pending",
    "BLOCKED": "pending",
    "RUNNING": "running",
    "TERMINATING": "running",
    "WAITING": "retrying",
}
_TERMINATION_CODES: Final[Mapping[str, str]] = {
    "SUCCESS": "succeeded",
    "SUCCESS_WITH_FAILURES": "partial",
    "USER_CANCELED": "canceled",
    "CANCELED": "canceled",
    "SKIPPED": "skipped",
    "DISABLED": "disabled",
}


def state_name(run_or_task: Mapping[str, Any]) -> str:
    """
    The state name (one of :data:`STATES`) of one run or one task run from a runs/get answer.

    The legacy ``state.result_state`` is read first because it is the most specific (it alone tells
    ``excluded`` and ``upstream_failed`` apart); then ``status`` (its ``termination_details.code``
    once terminated); then ``state.life_cycle_state``. Values the API adds later give ``"unknown"``.
    """
    legacy = run_or_task.get("state")
    legacy = legacy if isinstance(legacy, Mapping) else {}
    found = _RESULT_STATES.get(_str(legacy.get("result_state")))
    if found:
        return found
    status = run_or_task.get("status")
    if isinstance(status, Mapping):
        current = _str(status.get("state"))
        if current == "TERMINATED":
            details = status.get("termination_details")
            details = details if isinstance(details, Mapping) else {}
            code = _str(details.get("code"))
            if code in _TERMINATION_CODES:
                return _TERMINATION_CODES[code]
            if code or details.get("type"):
                return "succeeded" if details.get("type") == "SUCCESS" else "failed"
        elif current in _STATUS_STATES:
            return _STATUS_STATES[current]
    return _LIFE_CYCLE_STATES.get(_str(legacy.get("life_cycle_state")), "unknown")


def task_states(run: Mapping[str, Any] | Any) -> dict[str, str]:
    """
    Map each task key of a runs/get answer to its state name (one of :data:`STATES`).

    ``run`` is the runs/get JSON as a dict, or any object with a ``raw`` attribute holding it (a run
    handle's ``get()`` result). When a task was retried and appears once per attempt, the highest
    ``attempt_number`` wins. runs/get pages its ``tasks`` at 100: pass a dict whose ``tasks`` holds
    every page, or tasks on later pages simply have no state.
    """
    raw = _raw_run(run)
    tasks = raw.get("tasks")
    states: dict[str, str] = {}
    attempts: dict[str, int] = {}
    if not isinstance(tasks, Sequence) or isinstance(tasks, str):
        return states
    for task in tasks:
        if not isinstance(task, Mapping):
            continue
        key = task.get("task_key")
        if not isinstance(key, str):
            continue
        attempt = task.get("attempt_number")
        number = attempt if isinstance(attempt, int) else 0
        if number >= attempts.get(key, -1):
            attempts[key] = number
            states[key] = state_name(task)
    return states


def _raw_run(run: Any) -> Mapping[str, Any]:
    if isinstance(run, Mapping):
        return run
    raw = getattr(run, "raw", None)
    if isinstance(raw, Mapping):
        return raw
    raise TypeError(f"expected a runs/get answer as a dict or an object with a .raw dict, got {type(run).__name__}")


@dataclass(slots=True)
class _Live:
    states: dict[str, str] = field(default_factory=dict)
    progress: dict[str, str] = field(default_factory=dict)
    run: str | None = None


def _live(state: Any) -> _Live:
    """Accept ``{task_key: state name}``, a runs/get dict, or an object with ``.raw``."""
    if state is None:
        return _Live()
    if isinstance(state, Mapping) and all(isinstance(v, str) for v in state.values()):
        return _Live(states={str(k): (v if v in STATES else "unknown") for k, v in state.items()})
    raw = _raw_run(state)
    live = _Live(states=task_states(raw), run=state_name(raw) if raw else None)
    tasks = raw.get("tasks")
    if isinstance(tasks, Sequence):
        for task in tasks:
            if isinstance(task, Mapping) and isinstance(task.get("task_key"), str):
                progress = _for_each_progress(task)
                if progress:
                    live.progress[task["task_key"]] = progress
    return live


def _for_each_progress(task: Mapping[str, Any]) -> str:
    stats = _dig(task, "for_each_task", "stats", "task_run_stats")
    total = stats.get("total_iterations")
    if not isinstance(total, int):
        return ""
    done = stats.get("completed_iterations")
    text = f"{done if isinstance(done, int) else 0}/{total} iterations done"
    failed = stats.get("failed_iterations")
    if isinstance(failed, int) and failed:
        text += f", {failed} failed"
    return text


# --------------------------------------------------------------------------------------------
# Reading the request body
# --------------------------------------------------------------------------------------------

_CONDITION_OPS: Final[Mapping[str, str]] = {
    "EQUAL_TO": "==",
    "NOT_EQUAL": "!=",
    "GREATER_THAN": ">",
    "GREATER_THAN_OR_EQUAL": ">=",
    "LESS_THAN": "<",
    "LESS_THAN_OR_EQUAL": "<=",
}


@dataclass(slots=True)
class _Task:
    index: int
    key: str
    kind: str  # task type without "_task": "notebook", "condition", "for_each"; "task" if none
    detail: str  # what it runs, shortened
    inner: str  # for_each: the repeated task, shortened
    flags: tuple[str, ...]  # "run_if ALL_DONE", "disabled"
    disabled: bool
    compute: tuple[str, str] | None  # ("new", canonical json) | ("existing", id) | ("env", key)
    new_cluster: Mapping[str, Any] | None
    deps: list[tuple[str, str | None]]  # (task key, outcome)


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return ""


def _dig(obj: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    for key in keys:
        value = obj.get(key)
        if not isinstance(value, Mapping):
            return {}
        obj = value
    return obj


# Control characters and Unicode line/paragraph separators, each drawn as one space.
_BREAKS: Final = str.maketrans(dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029], " "))


def _oneline(text: str) -> str:
    return text if text.isprintable() else text.translate(_BREAKS)


def _cut(text: str, width: int) -> str:
    """Shorten ``text`` to ``width`` characters by cutting out its middle."""
    text = _oneline(text)
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def _inputs(text: str, width: int) -> str:
    """Describe for_each inputs: the JSON array itself when short, else how many items it has."""
    text = _oneline(text)
    if len(text) <= width:
        return text
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        items = None
    if isinstance(items, list):
        return f"{len(items)} inputs"
    return _cut(text, width)


def _tail(text: str, width: int, sep: str = "/") -> str:
    """Shorten a path (or dotted name) to ``width`` characters, keeping its last parts."""
    text = _oneline(text)
    if len(text) <= width:
        return text
    lead = "…/" if sep == "/" else "…"
    parts = text.split(sep)
    kept = parts[-1]
    for part in reversed(parts[:-1]):
        longer = part + sep + kept
        if len(lead) + len(longer) > width:
            break
        kept = longer
    if len(lead) + len(kept) > width:  # even the last part is too long: cut its middle
        kept = _cut(kept, max(width - len(lead), 1))
    return lead + kept


def _task_kind(task: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    for name, value in task.items():
        if isinstance(name, str) and name.endswith("_task") and isinstance(value, Mapping):
            return name[:-5], value
    return "task", {}


def _detail(kind: str, spec: Mapping[str, Any], width: int) -> str:
    get = spec.get
    if kind == "notebook":
        return _tail(_str(get("notebook_path")), width)
    if kind == "spark_python":
        return _tail(_str(get("python_file")), width)
    if kind == "python_wheel":
        package, entry = _str(get("package_name")), _str(get("entry_point"))
        return _cut(f"{package}:{entry}" if package and entry else package or entry, width)
    if kind == "spark_jar":
        name = _str(get("main_class_name"))
        return _tail(name, width, ".") if name else _tail(_str(get("jar_uri")), width)
    if kind == "spark_submit":
        params = get("parameters")
        if isinstance(params, Sequence) and not isinstance(params, str):
            return _cut(" ".join(_str(p) for p in params), width)
        return ""
    if kind == "pipeline":
        suffix = " (full refresh)" if get("full_refresh") is True else ""
        return _cut(_str(get("pipeline_id")), max(width - len(suffix), 8)) + suffix
    if kind == "sql":
        for part, id_field in (
            ("query", "query_id"),
            ("dashboard", "dashboard_id"),
            ("alert", "alert_id"),
        ):
            sub = get(part)
            if isinstance(sub, Mapping):
                return _cut(f"{part} {_str(sub.get(id_field))}", width)
        return _tail(_str(_dig(spec, "file").get("path")), width)
    if kind == "dbt":
        commands = get("commands")
        if isinstance(commands, Sequence) and not isinstance(commands, str):
            return _cut("; ".join(_str(c) for c in commands), width)
        return ""
    if kind == "run_job":
        return _cut(f"job {_str(get('job_id'))}", width)
    if kind == "condition":
        op = _str(get("op"))
        symbol = _CONDITION_OPS.get(op, op)
        left, right = _str(get("left")), _str(get("right"))
        text = f"{left} {symbol} {right}"
        if len(text) > width:
            room = max((width - len(symbol) - 2) // 2, 4)
            text = f"{_cut(left, room)} {symbol} {_cut(right, room)}"
        return _oneline(text)
    if kind == "clean_rooms_notebook":
        return _cut(f"{_str(get('clean_room_name'))}/{_str(get('notebook_name'))}", width)
    if kind == "dashboard":
        return _cut(_str(get("dashboard_id")), width)
    if kind == "alert":
        return _cut(_str(get("alert_id")), width) or _tail(_str(get("workspace_path")), width)
    if kind == "power_bi":
        return _cut(_str(_dig(spec, "power_bi_model").get("model_name")), width)
    if kind == "python_operator":
        return _tail(_str(get("main")), width, ".")
    if kind in ("dbt_cloud", "dbt_platform"):
        return _cut(f"job {_str(get(kind + '_job_id'))}", width)
    if kind == "gen_ai_compute":
        return _tail(_str(get("training_script_path")) or _str(get("command")), width)
    if kind == "ai_runtime":
        return _cut(_str(get("experiment")), width)
    if kind == "ai_function":
        return next(
            (name for name in ("ai_classify", "ai_extract", "ai_parse_document") if name in spec),
            "",
        )
    return ""


def _compute(task: Mapping[str, Any], memo: dict[int, str]) -> tuple[tuple[str, str] | None, Any]:
    cluster = task.get("new_cluster")
    if isinstance(cluster, Mapping):
        canonical = memo.get(id(cluster))
        if canonical is None:
            try:
                canonical = json.dumps(cluster, sort_keys=True, separators=(",", ":"), default=str)
            except (TypeError, ValueError):
                canonical = repr(cluster)
            memo[id(cluster)] = canonical
        return ("new", canonical), cluster
    existing = task.get("existing_cluster_id")
    if isinstance(existing, str) and existing:
        return ("existing", existing), None
    environment = task.get("environment_key")
    if isinstance(environment, str) and environment:
        return ("env", environment), None
    return None, None


def _read_task(index: int, task: Any, width: int, memo: dict[int, str]) -> _Task:
    if not isinstance(task, Mapping):
        return _Task(index, f"?{index}", "task", "", "", (), False, None, None, [])
    key = task.get("task_key")
    key = key if isinstance(key, str) and key else f"?{index}"
    kind, spec = _task_kind(task)
    compute, cluster = _compute(task, memo)
    inner = ""
    if kind == "for_each":
        concurrency = spec.get("concurrency")
        parts = ["for_each"]
        inputs = _str(spec.get("inputs"))
        if inputs:
            parts.append("over " + _inputs(inputs, max(width // 2, 8)))
        parts.append(f"concurrency {concurrency if isinstance(concurrency, int) else 1}")
        detail = " · ".join(parts[1:])
        nested = spec.get("task")
        if isinstance(nested, Mapping):
            inner_kind, inner_spec = _task_kind(nested)
            inner_detail = _detail(inner_kind, inner_spec, width)
            inner = "↳ " + inner_kind + (" · " + inner_detail if inner_detail else "")
            if compute is None:
                compute, cluster = _compute(nested, memo)
    else:
        detail = _detail(kind, spec, width)
    flags: list[str] = []
    run_if = task.get("run_if")
    if isinstance(run_if, str) and run_if and run_if != "ALL_SUCCESS":
        flags.append(f"run_if {run_if}")
    disabled = task.get("disabled") is True
    if disabled:
        flags.append("disabled")
    deps: list[tuple[str, str | None]] = []
    depends_on = task.get("depends_on")
    if isinstance(depends_on, Sequence) and not isinstance(depends_on, str):
        for dep in depends_on:
            if isinstance(dep, Mapping):
                dep_key, outcome = dep.get("task_key"), dep.get("outcome")
                if isinstance(dep_key, str):
                    deps.append((dep_key, _str(outcome) or None))
            elif isinstance(dep, str):
                deps.append((dep, None))
    return _Task(index, key, kind, detail, inner, tuple(flags), disabled, compute, cluster, deps)


# --------------------------------------------------------------------------------------------
# The graph every renderer draws
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    number: int  # 1-based, in order of first appearance
    kind: str  # "new", "existing", "env"
    title: str


@dataclass(slots=True)
class _Node:
    nid: str
    members: list[_Task]  # empty for a dependency that is not in the run
    missing: str = ""  # the key of that dependency
    group: _Group | None = None
    state: str | None = None
    progress: str = ""

    @property
    def first(self) -> _Task:
        return self.members[0]


@dataclass(slots=True)
class _Graph:
    name: str
    tasks: list[_Task]
    nodes: list[_Node]
    edges: list[tuple[int, int, str | None]]  # node index -> node index, outcome
    groups: list[_Group]
    live: _Live
    collapsed: bool


def _body(body: Mapping[str, Any] | _HasToDict) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    to_dict = getattr(body, "to_dict", None)
    if callable(to_dict):
        result = to_dict()
        if isinstance(result, Mapping):
            return result
    raise TypeError(f"expected a runs/submit body as a dict (or an object with to_dict()), got {type(body).__name__}")


def _workers(cluster: Mapping[str, Any]) -> str:
    scale = _dig(cluster, "autoscale")
    if scale:
        low, high = _str(scale.get("min_workers")) or "?", _str(scale.get("max_workers")) or "?"
        return f"{low}-{high} workers"
    workers = cluster.get("num_workers")
    if isinstance(workers, int) and not isinstance(workers, bool):
        return "single node" if workers == 0 else f"{workers} worker{'s' if workers != 1 else ''}"
    return ""


def _group_title(kind: str, value: str, cluster: Mapping[str, Any] | None, name: str | None) -> str:
    if kind == "existing":
        described = f"existing cluster {value}"
    elif kind == "env":
        described = f"serverless env {value}"
    else:
        cluster = cluster or {}
        node = _str(cluster.get("node_type_id"))
        pool = _str(cluster.get("instance_pool_id"))
        head = node or (f"pool {pool}" if pool else "job cluster")
        workers = _workers(cluster)
        described = f"{head}, {workers}" if workers else head
    if name and name != value:
        return f"{name} ({described})"
    return name or described


def _build(
    body: Mapping[str, Any] | _HasToDict,
    *,
    state: Any,
    max_nodes: int | None,
    cluster_names: Mapping[str, str] | None,
    label_width: int,
    group_clusters: bool = True,
) -> _Graph:
    data = _body(body)
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    width = max(label_width, 12)
    raw_tasks = data.get("tasks")
    if not isinstance(raw_tasks, Sequence) or isinstance(raw_tasks, str):
        raw_tasks = ()
    memo: dict[int, str] = {}
    tasks = [_read_task(i, t, width, memo) for i, t in enumerate(raw_tasks)]
    live = _live(state)
    name = _str(data.get("run_name")) or "run"

    # Compute groups, named by the caller's cluster names where given.
    groups: list[_Group] = []
    by_compute: dict[tuple[str, str], _Group] = {}
    task_group: list[_Group | None] = []
    names = cluster_names or {}
    for task in tasks:
        group = None
        if task.compute is not None:
            group = by_compute.get(task.compute)
            if group is None:
                kind, value = task.compute
                title = _group_title(kind, value, task.new_cluster, names.get(task.key))
                group = _Group(len(groups) + 1, kind, title)
                by_compute[task.compute] = group
                groups.append(group)
        task_group.append(group)
    seen_titles: dict[str, int] = {}
    for group in groups:
        count = seen_titles.get(group.title, 0) + 1
        seen_titles[group.title] = count
        if count > 1:
            group.title = f"{group.title} #{count}"

    # Graph positions: tasks first (body order), then keys that are depended on but missing.
    position: dict[str, int] = {}
    for task in tasks:
        position.setdefault(task.key, task.index)
    missing: list[str] = []
    preds: list[list[tuple[int, str | None]]] = [[] for _ in tasks]
    for task in tasks:
        for dep_key, outcome in task.deps:
            where = position.get(dep_key)
            if where is None:
                where = len(tasks) + len(missing)
                position[dep_key] = where
                missing.append(dep_key)
            preds[task.index].append((where, outcome))
    size = len(tasks) + len(missing)
    preds.extend([] for _ in missing)

    states = live.states
    member_of = list(range(size))
    collapsed = False
    if max_nodes is not None and len(tasks) > max_nodes:
        member_of = _collapse(tasks, task_group, states, preds, size, max_nodes)
        collapsed = any(member_of[i] != i for i in range(size))

    nodes: list[_Node] = []
    node_at: dict[int, int] = {}
    for i in range(size):
        leader = member_of[i]
        if leader in node_at:
            nodes[node_at[leader]].members.append(tasks[i])
            continue
        node_at[leader] = len(nodes)
        if i < len(tasks):
            task = tasks[i]
            nodes.append(
                _Node(
                    f"t{i}",
                    [task],
                    group=task_group[i] if group_clusters else None,
                    state=states.get(task.key),
                    progress=live.progress.get(task.key, ""),
                )
            )
        else:
            nodes.append(_Node(f"m{i - len(tasks)}", [], missing=missing[i - len(tasks)]))
    for leader_index in node_at.values():
        node = nodes[leader_index]
        if len(node.members) > 1:
            node.progress = ""
    edges: list[tuple[int, int, str | None]] = []
    seen_edges: set[tuple[int, int, str | None]] = set()
    for i in range(size):
        dst = node_at[member_of[i]]
        for j, outcome in preds[i]:
            edge = (node_at[member_of[j]], dst, outcome)
            if edge not in seen_edges:
                seen_edges.add(edge)
                edges.append(edge)
    return _Graph(name, tasks, nodes, edges, groups if group_clusters else [], live, collapsed)


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


def _collapse(
    tasks: list[_Task],
    task_group: list[_Group | None],
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


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------


def _common_prefix(texts: list[str]) -> str:
    low, high = min(texts), max(texts)
    n = 0
    while n < len(low) and low[n] == high[n]:
        n += 1
    return low[:n]


def _label_lines(node: _Node, width: int) -> list[str]:
    if not node.members:
        return [node.missing, "not in this run"]
    first = node.first
    kind = first.kind
    detail = first.detail
    if len(node.members) == 1:
        lines = [first.key]
    else:
        lines = [f"{first.key} … {node.members[-1].key}"]
        kind = f"{len(node.members)} x {kind}"
        if any(m.detail != detail for m in node.members):
            prefix = _common_prefix([m.detail for m in node.members])
            detail = prefix + "…" if len(prefix) >= 4 else ""
    lines.append(f"{kind} · {detail}" if detail else kind)
    if first.inner:
        inner = [m.inner for m in node.members]
        lines.append(first.inner if all(i == first.inner for i in inner) else "↳ …")
    if first.flags:
        lines.append(" · ".join(first.flags))
    if node.progress:
        lines.append(node.progress)
    return lines


# --------------------------------------------------------------------------------------------
# Mermaid
# --------------------------------------------------------------------------------------------

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


def _mermaid_text(text: str) -> str:
    text = _oneline(text).translate(_MERMAID_ESCAPES)
    for word, spelled in _MERMAID_STYLE_WORDS:
        if word in text:
            text = text.replace(word, spelled)
    return text


_PALETTE: Final[Mapping[str, tuple[str, str, str]]] = {
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
_TEXT_COLOUR: Final = "#212529"


def _node_class(node: _Node) -> str | None:
    if not node.members:
        return "missing"
    if node.state:
        return node.state
    if node.first.disabled:
        return "disabled"
    return None


def _mermaid_node(node: _Node, width: int) -> str:
    label = "<br/>".join(_mermaid_text(line) for line in _label_lines(node, width))
    kind = node.first.kind if node.members else ""
    if kind == "condition":
        return f'{node.nid}{{"{label}"}}'
    if kind == "for_each":
        return f'{node.nid}[["{label}"]]'
    if kind == "run_job":
        return f'{node.nid}(["{label}"])'
    return f'{node.nid}["{label}"]'


_DIRECTIONS: Final[Mapping[str, tuple[str, str]]] = {
    # accepted spelling: (mermaid, dot)
    "TD": ("TD", "TB"),
    "TB": ("TD", "TB"),
    "BT": ("BT", "BT"),
    "LR": ("LR", "LR"),
    "RL": ("RL", "RL"),
}


def _direction(direction: str) -> tuple[str, str]:
    try:
        return _DIRECTIONS[direction.upper()]
    except KeyError:
        raise ValueError(f"direction must be one of TD, TB, BT, LR, RL; got {direction!r}") from None


def _mermaid(graph: _Graph, width: int, direction: str) -> str:
    out = [f"flowchart {_direction(direction)[0]}"]
    grouped: dict[int, list[_Node]] = {}
    loose: list[_Node] = []
    for node in graph.nodes:
        if node.group is not None:
            grouped.setdefault(node.group.number, []).append(node)
        else:
            loose.append(node)
    for group in graph.groups:
        members = grouped.get(group.number)
        if not members:
            continue
        out.append(f'    subgraph c{group.number}["{_mermaid_text(group.title)}"]')
        out.extend(f"        {_mermaid_node(node, width)}" for node in members)
        out.append("    end")
    out.extend(f"    {_mermaid_node(node, width)}" for node in loose)
    nodes = graph.nodes
    for src, dst, outcome in graph.edges:
        arrow = f'-->|"{_mermaid_text(outcome)}"|' if outcome else "-->"
        out.append(f"    {nodes[src].nid} {arrow} {nodes[dst].nid}")
    by_class: dict[str, list[str]] = {}
    thick: list[str] = []
    for node in nodes:
        name = _node_class(node)
        if name:
            by_class.setdefault(name, []).append(node.nid)
        if len(node.members) > 1:
            thick.append(node.nid)
    for name in (*STATES, "missing"):
        ids = by_class.get(name)
        if not ids:
            continue
        fill, stroke, dash = _PALETTE[name]
        style = f"fill:{fill},stroke:{stroke},color:{_TEXT_COLOUR}"
        if dash:
            style += f",stroke-dasharray:{dash}"
        out.append(f"    classDef {name} {style}")
        out.append(f"    class {','.join(ids)} {name}")
    out.extend(f"    style {nid} stroke-width:3px" for nid in thick)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# DOT
# --------------------------------------------------------------------------------------------


def _dot_quote(text: str, *, shown: bool = True) -> str:
    # Graphviz reads `\x` escapes in quoted strings, and HTML entities (`&amp;`) in shown text.
    text = _oneline(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + (text.replace("&", "&amp;") if shown else text) + '"'


def _dot_label(lines: Iterable[str]) -> str:
    return '"' + "\\n".join(_dot_quote(line)[1:-1] for line in lines) + '"'


def _dot_node(node: _Node, width: int) -> str:
    attrs = [f"label={_dot_label(_label_lines(node, width))}"]
    kind = node.first.kind if node.members else ""
    styles: list[str] = []
    if kind == "condition":
        attrs.append("shape=diamond")
    elif kind == "for_each":
        attrs.append("peripheries=2")
    elif kind == "run_job":
        styles.append("rounded")
    if len(node.members) > 1:
        attrs.append("shape=box3d")
    name = _node_class(node)
    if name:
        fill, stroke, dash = _PALETTE[name]
        styles.append("filled")
        if dash:
            styles.append("dashed")
        attrs.append(f'fillcolor="{fill}"')
        attrs.append(f'color="{stroke}"')
    if styles:
        attrs.append(f'style="{",".join(styles)}"')
    if node.members:
        attrs.append(f"tooltip={_dot_quote(node.first.key)}")
    return f"{node.nid} [{', '.join(attrs)}];"


def _dot(graph: _Graph, width: int, direction: str) -> str:
    out = [
        f"digraph {_dot_quote(graph.name, shown=False)} {{",
        f"    graph [rankdir={_direction(direction)[1]}, fontname=Helvetica, fontsize=12,"
        f" label={_dot_quote(graph.name)}, labelloc=t];",
        '    node [shape=box, fontname=Helvetica, fontsize=11, fontcolor="#212529"];',
        "    edge [fontname=Helvetica, fontsize=10];",
    ]
    grouped: dict[int, list[_Node]] = {}
    loose: list[_Node] = []
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


# --------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------

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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _order(graph: _Graph) -> list[int]:
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


def _summary_line(graph: _Graph, warnings: int) -> str:
    counts = {"new": 0, "existing": 0, "env": 0}
    for group in graph.groups:
        counts[group.kind] += 1
    if not graph.groups:  # grouping switched off: count them anyway
        seen = {t.compute for t in graph.tasks if t.compute is not None}
        for kind, _ in seen:
            counts[kind] += 1
    parts = [_plural(len(graph.tasks), "task")]
    if counts["new"]:
        parts.append(_plural(counts["new"], "job cluster"))
    if counts["existing"]:
        parts.append(_plural(counts["existing"], "existing cluster"))
    if counts["env"]:
        parts.append(_plural(counts["env"], "serverless environment"))
    if warnings:
        parts.append(_plural(warnings, "warning"))
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


def _text(graph: _Graph, width: int, color: bool) -> str:
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
        lines = _label_lines(node, width)
        what = lines[1]
        extra = list(lines[2:])
        if node.group is not None:
            extra.insert(0, f"on {node.group.title}")
        if preds[i]:
            extra.insert(0, "after " + ", ".join(preds[i]))
        state = node.state or ("" if not graph.live.states else "-")
        rows.append((state, lines[0], what, " · ".join(extra)))
    out = [_summary_line(graph, 0)]
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


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


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
    ``{task_key: state name}`` map (see :data:`STATES`). ``max_nodes`` merges alike sibling tasks
    (same type, cluster, flags, state and neighbours) into one node showing their count, until at
    most that many nodes are drawn; without it every task is drawn. ``cluster_names`` maps a task
    key to the name of its cluster, which then titles the cluster's box. ``direction`` is TD, LR, BT
    or RL.
    Node ids are ``t<position in tasks>`` (``m<n>`` for a dependency not in the run), so any task
    key is safe; labels are escaped with Mermaid's ``#<code>;`` entities.

    Mermaid refuses diagrams over 50,000 characters or 500 edges by default (a few hundred tasks):
    use ``max_nodes`` for bigger runs.
    """
    graph = _build(
        body,
        state=state,
        max_nodes=max_nodes,
        cluster_names=cluster_names,
        label_width=label_width,
        group_clusters=group_clusters,
    )
    return _mermaid(graph, label_width, direction)


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
    return _dot(graph, label_width, direction)


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
    return _text(graph, label_width, color)


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
    return _summary_line(graph, count)


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
    of more than ``max_nodes`` tasks (default 100) have alike siblings merged so the diagram stays
    under Mermaid's size limit; pass ``max_nodes=None`` to draw every task.
    """
    notes = [_md_warning(w) for w in warnings]
    graph = _build(
        body,
        state=state,
        max_nodes=max_nodes,
        cluster_names=cluster_names,
        label_width=label_width,
    )
    line = _summary_line(graph, len(notes))
    name, sep, rest = line.partition(": ")
    head = f"**{_md_escape(name)}**{sep}{_md_escape(rest)}"
    if graph.collapsed:
        head += f" (drawn as {len(graph.nodes)} nodes)"
    parts = [head, "", "```mermaid", _mermaid(graph, label_width, direction).rstrip("\n"), "```"]
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
