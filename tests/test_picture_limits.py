"""
``max_nodes`` bounds every picture, whatever the shape of the run: chains, fan-outs, diamonds, trees,
random DAGs. With ``max_nodes=100`` a 1000-task run stays under what Mermaid draws by default
(50,000 characters, 500 edges), and every task is either drawn or counted in exactly one node.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_picture import check_golden, parse_dot, parse_mermaid

from runspec import RunSpec
from runspec.picture import markdown, to_dot, to_mermaid, to_text
from runspec.picture._collapse import EDGES_PER_NODE
from runspec.picture._graph import build

MERMAID_MAX_TEXT = 50_000
MERMAID_MAX_EDGES = 500
KINDS = (
    ("notebook_task", lambda i: {"notebook_path": f"/Repos/etl/step_{i}"}),
    ("spark_python_task", lambda i: {"python_file": f"dbfs:/etl/job_{i}.py"}),
    ("condition_task", lambda i: {"op": "EQUAL_TO", "left": f"{{{{tasks.x.values.v{i}}}}}", "right": "1"}),
    ("run_job_task", lambda i: {"job_id": 1000 + i}),
)


def task(i: int, deps: list[int], kinds: int = 1, clusters: int = 1) -> dict[str, Any]:
    field, make = KINDS[i % kinds]
    body: dict[str, Any] = {"task_key": f"task_{i:04d}", field: make(i)}
    if field in ("notebook_task", "spark_python_task"):
        body["existing_cluster_id"] = f"0101-cluster-{i % clusters}"
    if deps:
        body["depends_on"] = [{"task_key": f"task_{j:04d}"} for j in deps]
    return body


def chain(n: int) -> list[dict[str, Any]]:
    return [task(i, [i - 1] if i else []) for i in range(n)]


def fan(n: int) -> list[dict[str, Any]]:
    return [task(0, []), *(task(i, [0]) for i in range(1, n - 1)), task(n - 1, list(range(1, n - 1)))]


def diamonds(n: int) -> list[dict[str, Any]]:
    # a -> (b, c) -> d -> (e, f) -> g ...: each diamond shares its ends with the next.
    out = [task(0, [])]
    for i in range(1, n):
        top = (i - 1) // 3 * 3
        out.append(task(i, [top] if i % 3 else [i - 1, i - 2]))
    return out


def tree(n: int) -> list[dict[str, Any]]:
    return [task(i, [(i - 1) // 2] if i else [], kinds=2) for i in range(n)]


def random_dag(n: int, most: int = 3, seed: int = 7) -> list[dict[str, Any]]:
    pick = random.Random(seed)
    return [
        task(i, sorted(pick.sample(range(i), min(i, pick.randint(0, most)))), kinds=4, clusters=3) for i in range(n)
    ]


def dense_layers(n: int, width: int = 50, seed: int = 11) -> list[dict[str, Any]]:
    pick = random.Random(seed)
    return [
        task(i, pick.sample(range((i // width - 1) * width, i // width * width), 6) if i >= width else [], kinds=3)
        for i in range(n)
    ]


def independent(n: int) -> list[dict[str, Any]]:
    return [task(i, [], kinds=4, clusters=5) for i in range(n)]


SHAPES: dict[str, Callable[[int], list[dict[str, Any]]]] = {
    "chain": chain,
    "fan": fan,
    "diamonds": diamonds,
    "tree": tree,
    "random": random_dag,
    "random dense": lambda n: random_dag(n, most=12, seed=3),
    "dense layers": dense_layers,
    "independent": independent,
}


def counted(lines: list[str]) -> int:
    """How many tasks a drawn node stands for, read from its label as a user reads it."""
    if lines[1:2] == ["not in this run"]:
        return 0
    what = lines[1]
    found = re.match(r"(\d+) x |chain of (\d+) tasks|(\d+) tasks on levels? ", what)
    if found is None:
        return 1
    return int(next(g for g in found.groups() if g))


def check_bounded(body: dict[str, Any], max_nodes: int) -> None:
    tasks = body["tasks"]
    text = to_mermaid(body, max_nodes=max_nodes)
    parsed = parse_mermaid(text)
    assert len(parsed["nodes"]) <= max_nodes
    assert len(parsed["edges"]) <= EDGES_PER_NODE * max_nodes
    # Every task is drawn alone or counted in one merged node, and the merged nodes add up.
    assert sum(counted(node["lines"]) for node in parsed["nodes"].values()) == len(tasks)
    alone = [node["lines"][0] for node in parsed["nodes"].values() if counted(node["lines"]) == 1]
    assert len(alone) == len(set(alone))
    # ... exactly: the graph behind the picture puts each task in one node.
    graph = build(body, state=None, max_nodes=max_nodes, cluster_names=None, label_width=40)
    drawn = sorted(t.index for node in graph.nodes for t in node.members)
    assert drawn == list(range(len(tasks)))
    # The picture is still a DAG: merging never makes a cycle.
    assert_acyclic([(src, dst) for src, dst, _ in parsed["edges"]])
    dot = parse_dot(to_dot(body, max_nodes=max_nodes))
    assert len(dot["nodes"]) == len(parsed["nodes"])
    assert len(dot["edges"]) == len(parsed["edges"])


def assert_acyclic(edges: list[tuple[str, str]]) -> None:
    after: dict[str, list[str]] = {}
    into: dict[str, int] = {}
    for src, dst in edges:
        assert src != dst, f"{src} depends on itself"
        after.setdefault(src, []).append(dst)
        into[dst] = into.get(dst, 0) + 1
        into.setdefault(src, 0)
    ready = [n for n, k in into.items() if k == 0]
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        for nxt in after.get(node, ()):
            into[nxt] -= 1
            if into[nxt] == 0:
                ready.append(nxt)
    assert seen == len(into), "the picture has a cycle"


def with_long_keys(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same run with 100-character keys and paths full of characters Mermaid needs escaped."""
    longer = {t["task_key"]: t["task_key"] + "_" + "k" * (99 - len(t["task_key"])) for t in tasks}
    for t in tasks:
        t["task_key"] = longer[t["task_key"]]
        for dep in t.get("depends_on", ()):
            dep["task_key"] = longer[dep["task_key"]]
        if "notebook_task" in t:
            t["notebook_task"]["notebook_path"] = "/" + '&"<' * 30
    return tasks


@pytest.mark.parametrize("long_keys", [False, True], ids=["short keys", "long keys"])
@pytest.mark.parametrize("shape", SHAPES)
def test_1000_tasks_drawn_with_max_nodes_100_fit_mermaid(shape: str, long_keys: bool) -> None:
    tasks = SHAPES[shape](1000)
    body = {"run_name": shape, "tasks": with_long_keys(tasks) if long_keys else tasks}
    RunSpec.from_dict(body)  # the shapes are valid runs
    text = to_mermaid(body, max_nodes=100)
    assert len(text) < MERMAID_MAX_TEXT
    assert text.count("-->") < MERMAID_MAX_EDGES
    check_bounded(body, 100)
    # The notebook view, which collapses to 100 nodes by default, fits too.
    block = markdown(body).split("```mermaid\n", 1)[1]
    assert len(block) < MERMAID_MAX_TEXT


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("max_nodes", [1, 2, 7, 30])
def test_any_max_nodes_bounds_any_shape(shape: str, max_nodes: int) -> None:
    check_bounded({"tasks": SHAPES[shape](300)}, max_nodes)


def test_a_long_chain_keeps_its_ends_and_shows_one_segment() -> None:
    body = {"tasks": chain(1000)}
    parsed = parse_mermaid(to_mermaid(body, max_nodes=100))
    firsts = [node["lines"] for node in parsed["nodes"].values()]
    assert firsts[0] == ["task_0000", "notebook · /Repos/etl/step_0"]
    assert firsts[-1] == ["task_0999", "notebook · /Repos/etl/step_999"]
    segments = [lines for lines in firsts if lines[1].startswith("chain of")]
    assert segments == [["task_0049 … task_0949", "chain of 901 tasks · notebook"]]
    assert len(parsed["edges"]) == 99
    # In the text picture too, and the tasks after the segment say what they follow.
    text = to_text(body, max_nodes=10)
    assert "task_0004 … task_0994  chain of 991 tasks · notebook" in text
    assert "after task_0004 … (991)" in text


def test_collapsed_chain_and_levels_golden_pictures() -> None:
    chain_body = {"run_name": "chain", "tasks": chain(40)}
    check_golden("chain.mmd", to_mermaid(chain_body, max_nodes=8))
    check_golden("chain.dot", to_dot(chain_body, max_nodes=8))
    check_golden("chain.txt", to_text(chain_body, max_nodes=8))
    levels_body = {"run_name": "random", "tasks": random_dag(60, most=5)}
    check_golden("levels.mmd", to_mermaid(levels_body, max_nodes=6))
    check_golden("levels.txt", to_text(levels_body, max_nodes=6))


def test_a_chain_splits_where_the_live_state_changes() -> None:
    body = {"tasks": chain(600)}
    state = {f"task_{i:04d}": "succeeded" if i < 300 else "running" if i == 300 else "pending" for i in range(600)}
    parsed = parse_mermaid(to_mermaid(body, max_nodes=12, state=state))
    assert len(parsed["nodes"]) <= 12
    segments = {node["lines"][1]: nid for nid, node in parsed["nodes"].items() if "chain of" in node["lines"][1]}
    classes = parsed["classes"]
    assert {classes[nid] for nid in segments.values()} == {"succeeded", "pending"}
    running = [nid for nid, name in classes.items() if name == "running"]
    assert [parsed["nodes"][nid]["lines"][0] for nid in running] == ["task_0300"]


def test_levels_that_mix_states_show_the_tally() -> None:
    body = {"tasks": random_dag(200, most=8)}
    state = {f"task_{i:04d}": "succeeded" if i % 3 else "failed" for i in range(200)}
    parsed = parse_mermaid(to_mermaid(body, max_nodes=5, state=state))
    assert len(parsed["nodes"]) <= 5
    tallies = [node["lines"][-1] for node in parsed["nodes"].values() if "tasks on level" in node["lines"][1]]
    assert tallies and all(re.fullmatch(r"\d+ succeeded, \d+ failed", t) for t in tallies)


@st.composite
def dags(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 160))
    most = draw(st.integers(0, 6))
    seed = draw(st.integers(0, 2**16))
    kinds = draw(st.integers(1, 4))
    pick = random.Random(seed)
    window = draw(st.sampled_from([2, 10, 1000]))  # how far back a dependency may reach
    tasks = []
    for i in range(n):
        low = max(0, i - window)
        deps = sorted(pick.sample(range(low, i), min(i - low, pick.randint(0, most))))
        tasks.append(task(i, deps, kinds=kinds, clusters=pick.randint(1, 3)))
    return {"tasks": tasks}


@settings(max_examples=60, deadline=None)
@given(body=dags(), max_nodes=st.integers(1, 60))
def test_generated_dags_are_bounded_and_every_task_is_counted_once(body: dict[str, Any], max_nodes: int) -> None:
    check_bounded(body, max_nodes)
    if len(body["tasks"]) <= max_nodes:  # small enough: drawn exactly as without max_nodes
        assert to_mermaid(body, max_nodes=max_nodes) == to_mermaid(body)
