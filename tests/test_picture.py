"""
runspec.picture: Mermaid, DOT, text and notebook pictures of a run, drawn from plain dicts.

Golden files live in tests/golden/picture/; regenerate them after a deliberate change with
``RUNSPEC_UPDATE_GOLDEN=1 python -m pytest tests/test_picture.py`` and read the diff.
The Mermaid and DOT outputs are also parsed here (small parsers below) so the structural tests do
not depend on the exact layout of the text.
"""

from __future__ import annotations

import html
import importlib.util
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runspec import picture
from runspec.errors import Problem
from runspec.picture import (
    FORMATS,
    STATES,
    markdown,
    render,
    state_name,
    summary,
    task_states,
    to_dot,
    to_mermaid,
    to_text,
)

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "picture"
UPDATE = os.environ.get("RUNSPEC_UPDATE_GOLDEN") == "1"
NAMES = {"ingest": "etl", "transform": "etl", "train": "ml", "score_regions": "ml"}


def load(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} changed; rerun with RUNSPEC_UPDATE_GOLDEN=1 if on purpose"


def bench() -> Any:
    spec = importlib.util.spec_from_file_location("_bench_picture", HERE.parent / "benchmarks" / "picture.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fanout(width: int = 50) -> dict[str, Any]:
    cluster = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 4}
    tasks: list[dict[str, Any]] = [
        {"task_key": "start", "notebook_task": {"notebook_path": "/etl/start"}, "new_cluster": cluster}
    ]
    for i in range(width):
        tasks.append(
            {
                "task_key": f"part_{i:03d}",
                "depends_on": [{"task_key": "start"}],
                "notebook_task": {"notebook_path": f"/etl/parts/part_{i:03d}"},
                "new_cluster": dict(cluster),
            }
        )
    tasks.append(
        {
            "task_key": "join",
            "depends_on": [{"task_key": f"part_{i:03d}"} for i in range(width)],
            "notebook_task": {"notebook_path": "/etl/join"},
            "new_cluster": dict(cluster),
        }
    )
    return {"run_name": "fan-out", "tasks": tasks}


def dependencies(body: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    return {
        (dep["task_key"], task["task_key"], dep.get("outcome"))
        for task in body["tasks"]
        for dep in task.get("depends_on", [])
    }


# ------------------------------------------------------------------------------------------------
# A small Mermaid flowchart parser: exactly the statements runspec writes, nothing else accepted.
# ------------------------------------------------------------------------------------------------

ID = r"[A-Za-z][A-Za-z0-9_]*"
SHAPES = {'["': '"]', '[["': '"]]', '{"': '"}', '(["': '"])'}
NODE = re.compile(rf'({ID})(\[\["|\(\["|\{{"|\[")([^"]*)("\]\]|"\]\)|"\}}|"\])')


def decode_mermaid(text: str) -> list[str]:
    """Split a label at <br/> and undo the entities, checking nothing unsafe is left raw."""
    lines = text.split("<br/>")
    for line in lines:
        bare = re.sub(r"#\d+;", "", line)
        for ch in '"#<>&`\n\r':
            assert ch not in bare, f"raw {ch!r} in Mermaid label {text!r}"
        assert not re.search(r"style.*:\S*#.*;", line), line
    return [re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), line) for line in lines]


def parse_mermaid(text: str) -> dict[str, Any]:
    lines = text.splitlines()
    assert re.fullmatch(r"flowchart (TD|LR|BT|RL)", lines[0]), lines[0]
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[tuple[str, str, str | None]] = []
    subgraphs: dict[str, dict[str, Any]] = {}
    classes: dict[str, str] = {}
    class_defs: dict[str, str] = {}
    styles: dict[str, str] = {}
    current: str | None = None
    for line in lines[1:]:
        s = line.strip()
        if m := re.fullmatch(r'subgraph (c\d+)\["([^"]*)"\]', s):
            assert current is None, "nested subgraph"
            current = m.group(1)
            subgraphs[current] = {"title": decode_mermaid(m.group(2))[0], "nodes": []}
        elif s == "end":
            assert current is not None
            current = None
        elif m := re.fullmatch(rf'({ID}) -->(?:\|"([^"]*)"\|)? ({ID})', s):
            label = decode_mermaid(m.group(2))[0] if m.group(2) is not None else None
            edges.append((m.group(1), m.group(3), label))
        elif m := re.fullmatch(r"classDef (\w+) (\S+)(?: (\d+))?", s):
            class_defs[m.group(1)] = m.group(2)
        elif m := re.fullmatch(rf"class ({ID}(?:,{ID})*) (\w+)", s):
            for nid in m.group(1).split(","):
                assert nid not in classes, f"{nid} has two classes"
                classes[nid] = m.group(2)
        elif m := re.fullmatch(rf"style ({ID}) (\S+)", s):
            styles[m.group(1)] = m.group(2)
        elif m := NODE.fullmatch(s):
            nid, opening, label, closing = m.groups()
            assert SHAPES[opening] == closing, s
            assert nid not in nodes, f"node {nid} declared twice"
            nodes[nid] = {"shape": opening, "lines": decode_mermaid(label), "group": current}
            if current:
                subgraphs[current]["nodes"].append(nid)
        else:
            raise AssertionError(f"unparsed Mermaid line: {line!r}")
    assert current is None, "subgraph left open"
    for src, dst, _ in edges:
        assert src in nodes and dst in nodes, (src, dst)
    for nid in classes:
        assert nid in nodes
        assert classes[nid] in class_defs
    return {
        "nodes": nodes,
        "edges": edges,
        "subgraphs": subgraphs,
        "classes": classes,
        "styles": styles,
    }


# ------------------------------------------------------------------------------------------------
# A small DOT parser: the grammar of the Graphviz language, enough to check what runspec writes.
# ------------------------------------------------------------------------------------------------

TOKEN = re.compile(
    r'(?P<space>\s+|//[^\n]*|/\*.*?\*/)|(?P<string>"(?:[^"\\]|\\.)*")|(?P<arrow>->|--)'
    r"|(?P<punct>[{}\[\];,=:])|(?P<number>-?(?:\.\d+|\d+(?:\.\d*)?))"
    r"|(?P<name>[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*)",
    re.S,
)
KEYWORDS = {"strict", "graph", "digraph", "subgraph", "node", "edge"}


def dot_tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        assert m, f"DOT lexer stuck at {text[pos : pos + 40]!r}"
        pos = m.end()
        kind = m.lastgroup
        assert kind
        if kind != "space":
            out.append((kind, m.group()))
    return out


def dot_value(kind: str, raw: str) -> str:
    if kind != "string":
        return raw
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "l": "\n", "r": "\n", '"': '"', "\\": "\\"}.get(nxt, ch + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_dot(text: str) -> dict[str, Any]:
    tokens = dot_tokens(text)
    pos = 0
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str, dict[str, str]]] = []
    subgraphs: dict[str, list[str]] = {}
    graph_attrs: dict[str, str] = {}

    def peek() -> tuple[str, str]:
        return tokens[pos] if pos < len(tokens) else ("eof", "")

    def take(value: str | None = None, kind: str | None = None) -> tuple[str, str]:
        nonlocal pos
        tok = peek()
        assert value is None or tok[1] == value, f"expected {value!r}, got {tok!r}"
        assert kind is None or tok[0] == kind, f"expected {kind}, got {tok!r}"
        pos += 1
        return tok

    def ident() -> str:
        kind, raw = take()
        assert kind in ("string", "name", "number"), f"expected an ID, got {raw!r}"
        assert kind == "string" or raw.lower() not in KEYWORDS, f"keyword {raw!r} used as an ID"
        return dot_value(kind, raw)

    def attr_list() -> dict[str, str]:
        attrs: dict[str, str] = {}
        while peek()[1] == "[":
            take("[")
            while peek()[1] != "]":
                key = ident()
                take("=")
                attrs[key] = ident()
                if peek()[1] in (",", ";"):
                    take()
            take("]")
        return attrs

    def stmt_list(owner: str | None) -> None:
        while peek()[1] != "}":
            stmt(owner)
            if peek()[1] == ";":
                take(";")
        take("}")

    def stmt(owner: str | None) -> None:
        kind, raw = peek()
        if kind == "name" and raw.lower() == "subgraph":
            take()
            name = ident() if peek()[1] != "{" else f"anonymous{len(subgraphs)}"
            subgraphs[name] = []
            take("{")
            stmt_list(name)
            return
        if kind == "name" and raw.lower() in ("graph", "node", "edge"):
            take()
            attrs = attr_list()
            if raw.lower() == "graph" and owner is None:
                graph_attrs.update(attrs)
            return
        first = ident()
        if peek()[1] == "=":
            take("=")
            ident()
            return
        chain = [first]
        while peek()[0] == "arrow":
            assert take()[1] == "->", "undirected edge in a digraph"
            chain.append(ident())
        attrs = attr_list()
        if len(chain) == 1:
            assert first not in nodes, f"node {first} declared twice"
            nodes[first] = attrs
            if owner:
                subgraphs[owner].append(first)
        else:
            edges.extend((a, b, attrs) for a, b in itertools.pairwise(chain))

    if peek()[1].lower() == "strict":
        take()
    assert take()[1].lower() == "digraph"
    name = ident() if peek()[1] != "{" else ""
    take("{")
    stmt_list(None)
    assert pos == len(tokens), "text after the closing brace"
    for src, dst, _ in edges:
        assert src in nodes and dst in nodes, (src, dst)
    return {
        "name": name,
        "graph": graph_attrs,
        "nodes": nodes,
        "edges": edges,
        "subgraphs": subgraphs,
    }


def dot_lines(attrs: dict[str, str]) -> list[str]:
    return html.unescape(attrs["label"]).split("\n")


def graphviz_accepts(text: str) -> None:
    """Run Graphviz on the text when it is installed (it is optional for the tests)."""
    dot = shutil.which("dot")
    if dot is None:
        return
    done = subprocess.run([dot, "-Tsvg"], input=text.encode(), capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


# ------------------------------------------------------------------------------------------------
# Golden pictures of small runs
# ------------------------------------------------------------------------------------------------


def test_small_run_golden_pictures() -> None:
    body = load("small.json")
    check_golden("small.mmd", to_mermaid(body))
    check_golden("small.dot", to_dot(body))
    check_golden("small.txt", to_text(body))
    check_golden("small.md", markdown(body, warnings=["tasks[8]: run_if ALL_DONE ignores failures"]))


def test_small_run_live_golden_pictures() -> None:
    body, run = load("small.json"), load("small_get.json")
    check_golden("small_live.mmd", to_mermaid(body, state=run, cluster_names=NAMES))
    check_golden("small_live.dot", to_dot(body, state=run, cluster_names=NAMES))
    check_golden("small_live.txt", to_text(body, state=run, cluster_names=NAMES))


def test_collapsed_fanout_golden_pictures() -> None:
    body = fanout()
    check_golden("fanout.mmd", to_mermaid(body, max_nodes=5))
    check_golden("fanout.dot", to_dot(body, max_nodes=5, direction="LR"))
    check_golden("fanout.txt", to_text(body, max_nodes=5))


def test_every_node_and_edge_kind_is_drawn() -> None:
    body = load("small.json")
    parsed = parse_mermaid(to_mermaid(body))
    by_key = {n["lines"][0]: n for n in parsed["nodes"].values()}
    assert by_key["has_rows"]["shape"] == '{"'  # condition: a rhombus with the comparison
    assert by_key["has_rows"]["lines"][1] == "condition · {{tasks.transform.values.row_count}} > 0"
    assert by_key["score_regions"]["shape"] == '[["'  # for_each: inner task and concurrency
    assert "concurrency 2" in by_key["score_regions"]["lines"][1]
    assert by_key["score_regions"]["lines"][2] == "↳ spark_jar · com.example.scoring.ScoreRegion"
    assert by_key["no_data_alert"]["shape"] == '(["'
    assert by_key["publish"]["lines"][-1] == "run_if ALL_DONE"
    assert by_key["legacy_export"]["lines"][-1] == "disabled"
    assert by_key["ingest"]["lines"][1] == "notebook · …/pipelines/nightly/ingest_raw_events"
    assert by_key["train"]["lines"][1] == "python_wheel · churn_model:train"
    assert by_key["refresh_dlt"]["lines"][1].endswith("(full refresh)")
    assert by_key["dbt_models"]["lines"][1] == "dbt · dbt deps; dbt build --select marts"
    ids = {key: node_id for node_id, n in parsed["nodes"].items() for key in [n["lines"][0]]}
    labelled = {(s, d): label for s, d, label in parsed["edges"] if label}
    assert labelled == {
        (ids["has_rows"], ids["train"]): "true",
        (ids["has_rows"], ids["no_data_alert"]): "false",
    }
    assert parsed["classes"] == {ids["legacy_export"]: "disabled"}


def test_equal_cluster_specs_share_one_box() -> None:
    body = load("small.json")
    parsed = parse_mermaid(to_mermaid(body))
    members = {
        sub["title"]: sorted(parsed["nodes"][n]["lines"][0] for n in sub["nodes"])
        for sub in parsed["subgraphs"].values()
    }
    assert members == {
        "i3.xlarge, 2 workers": ["ingest", "transform"],
        "g5.xlarge, 1-4 workers": ["score_regions", "train"],  # for_each goes by its inner task
        "serverless env dbt_env": ["dbt_models"],
        "existing cluster 0923-164208-abcd1234": ["legacy_export"],
    }
    dot = parse_dot(to_dot(body))
    assert sorted(len(v) for v in dot["subgraphs"].values()) == [1, 1, 2, 2]
    assert all(name.startswith("cluster_") for name in dot["subgraphs"])


def test_cluster_names_title_the_boxes_and_grouping_can_be_off() -> None:
    body = load("small.json")
    parsed = parse_mermaid(to_mermaid(body, cluster_names=NAMES))
    titles = sorted(sub["title"] for sub in parsed["subgraphs"].values())
    assert "etl (i3.xlarge, 2 workers)" in titles
    assert "ml (g5.xlarge, 1-4 workers)" in titles
    flat = parse_mermaid(to_mermaid(body, group_clusters=False))
    assert flat["subgraphs"] == {}
    assert len(flat["nodes"]) == len(body["tasks"])
    assert not parse_dot(to_dot(body, group_clusters=False))["subgraphs"]


def test_specs_that_differ_get_different_boxes_with_distinct_titles() -> None:
    a = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}
    b = dict(a, spark_conf={"x": "1"})
    body = {
        "tasks": [
            {"task_key": "one", "notebook_task": {"notebook_path": "/a"}, "new_cluster": a},
            {"task_key": "two", "notebook_task": {"notebook_path": "/b"}, "new_cluster": b},
            {"task_key": "three", "notebook_task": {"notebook_path": "/c"}, "new_cluster": dict(a)},
            {
                "task_key": "four",
                "notebook_task": {"notebook_path": "/d"},
                "new_cluster": {"instance_pool_id": "pool-1", "num_workers": 0},
            },
        ]
    }
    parsed = parse_mermaid(to_mermaid(body))
    titles = [sub["title"] for sub in parsed["subgraphs"].values()]
    assert titles == ["i3.xlarge, 2 workers", "i3.xlarge, 2 workers #2", "pool pool-1, single node"]
    assert summary(body) == "run: 4 tasks, 4 new clusters (one per task)"


def test_direction_is_checked() -> None:
    body = fanout(3)
    assert to_mermaid(body, direction="LR").startswith("flowchart LR\n")
    assert "rankdir=LR" in to_dot(body, direction="lr")
    assert "rankdir=TB" in to_dot(body, direction="TD")
    with pytest.raises(ValueError, match="direction"):
        to_mermaid(body, direction="sideways")


# ------------------------------------------------------------------------------------------------
# Structure: one node per task, one edge per dependency, in both languages
# ------------------------------------------------------------------------------------------------


def bodies() -> list[tuple[str, dict[str, Any]]]:
    return [("small", load("small.json")), ("fanout", fanout()), ("large", bench().large_body())]


@pytest.mark.parametrize(("name", "body"), bodies(), ids=lambda v: v if isinstance(v, str) else "")
def test_mermaid_has_one_node_per_task_and_one_edge_per_dependency(name: str, body: dict[str, Any]) -> None:
    parsed = parse_mermaid(to_mermaid(body))
    keys = [n["lines"][0] for n in parsed["nodes"].values()]
    assert sorted(keys) == sorted(t["task_key"] for t in body["tasks"])
    key_of = {nid: n["lines"][0] for nid, n in parsed["nodes"].items()}
    drawn = [(key_of[s], key_of[d], label) for s, d, label in parsed["edges"]]
    assert len(drawn) == sum(len(t.get("depends_on", [])) for t in body["tasks"])
    assert set(drawn) == dependencies(body)


@pytest.mark.parametrize(("name", "body"), bodies(), ids=lambda v: v if isinstance(v, str) else "")
def test_dot_parses_with_one_node_per_task_and_one_edge_per_dependency(name: str, body: dict[str, Any]) -> None:
    text = to_dot(body)
    parsed = parse_dot(text)
    assert parsed["name"] == body["run_name"]
    key_of = {nid: dot_lines(attrs)[0] for nid, attrs in parsed["nodes"].items()}
    assert sorted(key_of.values()) == sorted(t["task_key"] for t in body["tasks"])
    drawn = [(key_of[s], key_of[d], attrs.get("label")) for s, d, attrs in parsed["edges"]]
    assert len(drawn) == sum(len(t.get("depends_on", [])) for t in body["tasks"])
    assert set(drawn) == dependencies(body)
    if name != "large":
        graphviz_accepts(text)


# ------------------------------------------------------------------------------------------------
# Escaping
# ------------------------------------------------------------------------------------------------

NASTY_KEYS = [
    "end",
    "subgraph",
    "style",
    "lifestyle",
    "classDef",
    "graph",
    "node",
    "edge",
    "digraph",
    "strict",
    "click",
    "default",
    "データ_処理",
    "naïve-ключ",
    "ø-١٢٣",
    "ß_x",
    "_",
    "-",
    "--",
    "k" * 100,
    "t0",
    "m0",
    "c1",
]
NASTY_PATHS = [
    "/a:b#c;d",
    "/x/%%comment",
    "/p/-->q",
    "/p/|pipe|",
    "/p/]x[",
    "/p/(a){b}",
    "/p/new\nline\ttab\rcr",
    "/p/<script>alert(1)</script>",
    "/p/&amp; &#35; #35; #quot;",
    "/p/`md` **bold** _it_",
    "C:\\x\\y\\",
    "/p/\"q\" 's'",
    "/p/style: #fff;",
    "/p/classDef x fill:#f00;",
    "/p/\\N \\G \\l \\n",
    "/p/\u2028sep\u2029\x00\x1b[31m",
    "/p/🚀 emoji \uff1cfull\uff1e",
    "",
]


def nasty_body() -> dict[str, Any]:
    tasks = []
    for i, key in enumerate(NASTY_KEYS):
        task: dict[str, Any] = {
            "task_key": key,
            "notebook_task": {"notebook_path": NASTY_PATHS[i % len(NASTY_PATHS)]},
        }
        if i:
            dep: dict[str, Any] = {"task_key": NASTY_KEYS[i - 1]}
            if i % 4 == 0:
                dep["outcome"] = 'tr"ue#<b>'
            task["depends_on"] = [dep]
        if i % 5 == 0:
            task["new_cluster"] = {"node_type_id": f'n"{i}#<>&', "num_workers": i}
        tasks.append(task)
    return {"run_name": 'na"sty {run} <x> #1 \\ end & more', "tasks": tasks}


def flat(text: str) -> str:
    """What a label line shows for ``text``: control characters and line breaks become spaces."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


def test_nasty_keys_and_paths_round_trip_through_mermaid() -> None:
    body = nasty_body()
    parsed = parse_mermaid(to_mermaid(body, label_width=500))
    labels = {n["lines"][0]: n["lines"] for n in parsed["nodes"].values()}
    assert set(labels) == set(NASTY_KEYS)
    for task in body["tasks"]:
        path = task["notebook_task"]["notebook_path"]
        expected = f"notebook · {flat(path)}" if path else "notebook"
        assert labels[task["task_key"]][1] == expected
    assert {label for _, _, label in parsed["edges"]} == {None, 'tr"ue#<b>'}
    titles = {sub["title"] for sub in parsed["subgraphs"].values()}
    assert 'n"0#<>&, single node' in titles
    for node_id in parsed["nodes"]:
        assert re.fullmatch(r"[tm]\d+", node_id)


def test_nasty_keys_and_paths_round_trip_through_dot() -> None:
    body = nasty_body()
    text = to_dot(body, label_width=500)
    parsed = parse_dot(text)
    assert parsed["name"] == body["run_name"]
    assert html.unescape(parsed["graph"]["label"]) == body["run_name"]
    labels = {dot_lines(a)[0]: dot_lines(a) for a in parsed["nodes"].values()}
    assert set(labels) == set(NASTY_KEYS)
    for task in body["tasks"]:
        path = task["notebook_task"]["notebook_path"]
        expected = f"notebook · {flat(path)}" if path else "notebook"
        assert labels[task["task_key"]][1] == expected
    assert {html.unescape(a["label"]) for _, _, a in parsed["edges"] if a} == {'tr"ue#<b>'}
    graphviz_accepts(text)


def test_markdown_escapes_the_run_name_and_warnings() -> None:
    body = nasty_body()
    problem = Problem("$.tasks[3].new_cluster", "cluster-per-task", "cluster `a` costs $$ & more")
    text = markdown(body, warnings=["*bold* <b>x</b> `code` [link](http://x) $x$", problem])
    first = text.splitlines()[0]
    assert first.startswith('**na"sty {run} \\<x\\> #1 \\\\ end \\& more**: 23 tasks')
    assert text.rstrip().splitlines()[-2:] == [
        "- \\*bold\\* \\<b\\>x\\</b\\> \\`code\\` \\[link\\](http://x) \\$x\\$",
        "- `$.tasks[3].new_cluster`: cluster \\`a\\` costs \\$\\$ \\& more (`cluster-per-task`)",
    ]
    block = text.split("```mermaid\n", 1)[1].split("\n```\n", 1)[0]
    parse_mermaid(block)


def test_long_paths_keep_their_end() -> None:
    body = {
        "tasks": [
            {
                "task_key": "a",
                "notebook_task": {"notebook_path": "/Workspace/Users/x/" + "deep/" * 20 + "leaf"},
            },
            {"task_key": "b", "spark_python_task": {"python_file": "/" + "x" * 80}},
            {
                "task_key": "c",
                "spark_jar_task": {"main_class_name": "org.example.very.long.package.name.Main"},
            },
        ]
    }
    labels = {n["lines"][0]: n["lines"][1] for n in parse_mermaid(to_mermaid(body, label_width=30))["nodes"].values()}
    assert labels["a"] == "notebook · …/deep/deep/deep/deep/leaf"
    assert len(labels["a"]) - len("notebook · ") <= 30
    assert labels["b"] == "spark_python · …/" + "x" * 13 + "…" + "x" * 14
    assert labels["c"] == "spark_jar · …very.long.package.name.Main"


KEY = st.text(
    alphabet=st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Pc", "Mn")) | st.just("-"),
    min_size=1,
    max_size=100,
).filter(lambda k: re.fullmatch(r"[\w\-]+", k) is not None)


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(KEY, min_size=1, max_size=8, unique=True),
    paths=st.lists(st.text(max_size=60), min_size=8, max_size=8),
    outcome=st.text(max_size=10),
)
def test_any_legal_key_and_any_path_round_trip(keys: list[str], paths: list[str], outcome: str) -> None:
    tasks = []
    for i, key in enumerate(keys):
        task: dict[str, Any] = {"task_key": key, "notebook_task": {"notebook_path": paths[i]}}
        if i:
            task["depends_on"] = [{"task_key": keys[i - 1], "outcome": outcome}]
        tasks.append(task)
    body = {"run_name": paths[-1], "tasks": tasks}
    want = {(k, f"notebook · {flat(p)}" if p else "notebook") for k, p in zip(keys, paths[: len(keys)], strict=True)}

    mermaid = parse_mermaid(to_mermaid(body, label_width=1000))
    assert {(n["lines"][0], n["lines"][1]) for n in mermaid["nodes"].values()} == want
    assert len(mermaid["edges"]) == len(keys) - 1

    dot = parse_dot(to_dot(body, label_width=1000))
    assert {tuple(dot_lines(a)[:2]) for a in dot["nodes"].values()} == want
    assert len(dot["edges"]) == len(keys) - 1
    if outcome and len(keys) > 1:
        labels = {html.unescape(a["label"]) for _, _, a in dot["edges"]}
        assert labels == {flat(outcome)}


# ------------------------------------------------------------------------------------------------
# Live state
# ------------------------------------------------------------------------------------------------


def test_task_states_from_a_runs_get_answer() -> None:
    states = task_states(load("small_get.json"))
    assert states == {
        "ingest": "succeeded",  # attempt 1 succeeded after attempt 0 failed
        "transform": "succeeded",  # status only, no legacy state
        "refresh_dlt": "failed",
        "has_rows": "succeeded",
        "train": "succeeded",
        "score_regions": "running",
        "no_data_alert": "excluded",
        "dbt_models": "upstream_failed",
        "publish": "pending",
        "legacy_export": "disabled",
        "dashboard": "pending",
    }
    assert set(states.values()) <= set(STATES)


class FakeView:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw


def test_task_states_accepts_an_object_with_raw_and_rejects_other_things() -> None:
    run = load("small_get.json")
    assert task_states(FakeView(run)) == task_states(run)
    assert task_states({"run_id": 1}) == {}
    with pytest.raises(TypeError, match="runs/get"):
        task_states(42)
    with pytest.raises(TypeError, match="runs/get"):
        to_mermaid(fanout(2), state=[1, 2])


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}}, "succeeded"),
        ({"state": {"life_cycle_state": "TERMINATED", "result_state": "TIMEDOUT"}}, "timed_out"),
        ({"state": {"life_cycle_state": "TERMINATED", "result_state": "CANCELED"}}, "canceled"),
        (
            {"state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS_WITH_FAILURES"}},
            "partial",
        ),
        ({"state": {"life_cycle_state": "TERMINATED", "result_state": "UPSTREAM_CANCELED"}}, "canceled"),
        ({"state": {"life_cycle_state": "SKIPPED"}}, "skipped"),
        ({"state": {"life_cycle_state": "INTERNAL_ERROR"}}, "failed"),
        ({"state": {"life_cycle_state": "WAITING_FOR_RETRY"}}, "retrying"),
        ({"state": {"life_cycle_state": "QUEUED"}}, "pending"),
        ({"state": {"life_cycle_state": "TERMINATING"}}, "running"),
        ({"status": {"state": "WAITING"}}, "retrying"),
        ({"status": {"state": "QUEUED"}}, "pending"),
        (
            {"status": {"state": "TERMINATED", "termination_details": {"code": "USER_CANCELED"}}},
            "canceled",
        ),
        (
            {"status": {"state": "TERMINATED", "termination_details": {"code": "SKIPPED"}}},
            "skipped",
        ),
        (
            {
                "status": {
                    "state": "TERMINATED",
                    "termination_details": {"code": "SOMETHING_NEW", "type": "SUCCESS"},
                }
            },
            "succeeded",
        ),
        (
            {
                "status": {
                    "state": "TERMINATED",
                    "termination_details": {"code": "DRIVER_ERROR", "type": "CLIENT_ERROR"},
                }
            },
            "failed",
        ),
        ({"status": {"state": "TERMINATED"}}, "unknown"),
        ({"status": {"state": "A_NEW_STATE"}}, "unknown"),
        ({"state": {"life_cycle_state": "TERMINATED", "result_state": "NEW_RESULT"}}, "unknown"),
        ({}, "unknown"),
        ({"state": "RUNNING", "status": None}, "unknown"),
    ],
)
def test_state_name(task: dict[str, Any], expected: str) -> None:
    assert state_name(task) == expected


def test_live_pictures_colour_each_task_by_state() -> None:
    body, run = load("small.json"), load("small_get.json")
    parsed = parse_mermaid(to_mermaid(body, state=run))
    by_key = {n["lines"][0]: nid for nid, n in parsed["nodes"].items()}
    states = task_states(run)
    assert {k: parsed["classes"][nid] for k, nid in by_key.items()} == states
    assert parsed["nodes"][by_key["score_regions"]]["lines"][-1] == "1/3 iterations done"

    dot = parse_dot(to_dot(body, state=run))
    fills = {dot_lines(a)[0]: a.get("fillcolor") for a in dot["nodes"].values()}
    assert fills["ingest"] == fills["transform"] != fills["refresh_dlt"]
    assert all(fills.values())


def test_a_plain_state_map_works_and_unknown_names_become_unknown() -> None:
    body = fanout(2)
    parsed = parse_mermaid(to_mermaid(body, state={"start": "succeeded", "join": "exploded"}))
    by_key = {n["lines"][0]: nid for nid, n in parsed["nodes"].items()}
    assert parsed["classes"] == {by_key["start"]: "succeeded", by_key["join"]: "unknown"}


def test_text_for_ci_logs_lists_tasks_in_dependency_order_with_states() -> None:
    body = load("small.json")
    body["tasks"].reverse()  # the listing still puts each task after what it depends on
    run = load("small_get.json")
    text = to_text(body, state=run)
    rows = text.splitlines()[1:12]
    order = [row.split()[1] for row in rows]
    assert order.index("ingest") < order.index("transform") < order.index("has_rows")
    assert order.index("publish") < order.index("legacy_export")
    assert rows[order.index("publish")].split()[0] == "pending"
    coloured = to_text(body, state=run, color=True)
    assert "\x1b[1;31mfailed\x1b[0m" in coloured
    assert "\x1b[" not in text


def test_summary_counts_tasks_clusters_warnings_and_states() -> None:
    body, run = load("small.json"), load("small_get.json")
    assert summary(body) == (
        "nightly churn: 11 tasks, 4 new clusters (one per task), 1 existing cluster, 1 serverless environment"
    )
    assert summary(body, warnings=["a", "b"]).endswith(", 2 warnings")
    assert summary(body, state=run) == (
        "nightly churn (running): 11 tasks, 4 new clusters (one per task), 1 existing cluster, "
        "1 serverless environment; 4 succeeded, 1 failed, 1 upstream_failed, 1 excluded, "
        "1 disabled, 1 running, 2 pending"
    )


# ------------------------------------------------------------------------------------------------
# Large runs: collapsing and speed
# ------------------------------------------------------------------------------------------------


def test_max_nodes_merges_alike_siblings_with_their_count() -> None:
    body = fanout(50)
    parsed = parse_mermaid(to_mermaid(body, max_nodes=5))
    assert len(parsed["nodes"]) == 3
    merged = [n for n in parsed["nodes"].values() if len(n["lines"]) and "…" in n["lines"][0]]
    assert len(merged) == 1
    assert merged[0]["lines"] == ["part_000 … part_049", "50 x notebook · /etl/parts/part_0…"]
    assert len(parsed["edges"]) == 2
    assert list(parsed["styles"].values()) == ["stroke-width:3px"]
    assert parse_mermaid(to_mermaid(body, max_nodes=52)) == parse_mermaid(to_mermaid(body))
    with pytest.raises(ValueError, match="max_nodes"):
        to_mermaid(body, max_nodes=0)


def test_merging_keeps_layers_apart_so_no_cycle_appears() -> None:
    # a -> 10 x b -> c -> 10 x d -> e: the b and d tasks look alike locally but sit at different
    # depths; merging them would draw b/d <-> c as a cycle.
    tasks: list[dict[str, Any]] = [{"task_key": "a", "notebook_task": {"notebook_path": "/a"}}]
    for layer, before, after in (("b", "a", "c"), ("d", "c", "e")):
        tasks.extend(
            {
                "task_key": f"{layer}{i}",
                "depends_on": [{"task_key": before}],
                "notebook_task": {"notebook_path": "/x"},
            }
            for i in range(10)
        )
        tasks.append(
            {
                "task_key": after,
                "depends_on": [{"task_key": f"{layer}{i}"} for i in range(10)],
                "notebook_task": {"notebook_path": "/a"},
            }
        )
    parsed = parse_mermaid(to_mermaid({"tasks": tasks}, max_nodes=5))
    assert len(parsed["nodes"]) == 5
    keys = {nid: n["lines"][0] for nid, n in parsed["nodes"].items()}
    edges = {(keys[s], keys[d]) for s, d, _ in parsed["edges"]}
    assert edges == {("a", "b0 … b9"), ("b0 … b9", "c"), ("c", "d0 … d9"), ("d0 … d9", "e")}
    # Fewer still: the five now make a chain, whose middle becomes one node.
    parsed = parse_mermaid(to_mermaid({"tasks": tasks}, max_nodes=3))
    lines = sorted(n["lines"] for n in parsed["nodes"].values())
    assert lines == [["a", "notebook · /a"], ["b0 … d9", "chain of 21 tasks · notebook"], ["e", "notebook · /a"]]


def test_a_long_chain_becomes_one_segment_and_live_state_splits_groups() -> None:
    chain = {
        "tasks": [
            {
                "task_key": f"k{i}",
                "notebook_task": {"notebook_path": "/x"},
                **({"depends_on": [{"task_key": f"k{i - 1}"}]} if i else {}),
            }
            for i in range(30)
        ]
    }
    parsed = parse_mermaid(to_mermaid(chain, max_nodes=3))
    assert [n["lines"] for n in parsed["nodes"].values()] == [
        ["k0", "notebook · /x"],
        ["k1 … k28", "chain of 28 tasks · notebook"],
        ["k29", "notebook · /x"],
    ]
    assert len(parsed["edges"]) == 2
    body = fanout(20)
    states = {f"part_{i:03d}": "succeeded" for i in range(20)}
    states["part_007"] = "failed"
    states["part_011"] = "failed"
    parsed = parse_mermaid(to_mermaid(body, max_nodes=4, state=states))
    firsts = sorted(n["lines"][0] for n in parsed["nodes"].values())
    assert firsts == ["join", "part_000 … part_019", "part_007 … part_011", "start"]


def test_markdown_collapses_big_runs_and_says_so() -> None:
    body = bench().large_body()
    text = markdown(body)
    first = text.splitlines()[0]
    assert first.startswith("**large-1000**: 1000 tasks, 994 new clusters (one per task) (drawn as ")
    block = text.split("```mermaid\n", 1)[1].split("\n```\n", 1)[0]
    parsed = parse_mermaid(block)
    assert len(parsed["nodes"]) <= 100
    assert len(block) < 50_000  # Mermaid's default size limit
    full = markdown(body, max_nodes=None)
    assert "drawn as" not in full.splitlines()[0]


def test_rendering_1000_tasks_costs_a_few_json_dumps() -> None:
    # Seconds on a shared machine are noise; the ratio to json.dumps of the same body, measured in
    # the same process, is not. About 3x here; the bound only catches accidental quadratic work.
    results = bench().measure(tasks=1000, repeats=3)
    for name in ("mermaid", "dot", "text", "mermaid_live", "markdown"):
        assert results[f"{name}_ratio"] < 40, (name, results)


# ------------------------------------------------------------------------------------------------
# Whatever it is given: invalid bodies, other inputs, the test corpus
# ------------------------------------------------------------------------------------------------


def test_a_dependency_not_in_the_run_is_drawn_as_such() -> None:
    body = {"tasks": [{"task_key": "a", "depends_on": [{"task_key": "ghost"}, "ghost2"], "x_task": {}}]}
    parsed = parse_mermaid(to_mermaid(body))
    missing = {n["lines"][0]: n["lines"][1] for nid, n in parsed["nodes"].items() if nid[0] == "m"}
    assert missing == {"ghost": "not in this run", "ghost2": "not in this run"}
    assert set(parsed["classes"].values()) == {"missing"}
    assert "after ghost (not in this run), ghost2 (not in this run)" in to_text(body)
    parse_dot(to_dot(body))


INVALID_BODIES = [
    {},
    {"tasks": None},
    {"tasks": "nope"},
    {"tasks": [None, 3, "x", {}]},
    {"tasks": [{"task_key": "a", "depends_on": [{"task_key": "a"}]}]},
    {
        "tasks": [
            {"task_key": "a", "depends_on": [{"task_key": "b"}]},
            {"task_key": "b", "depends_on": [{"task_key": "a"}]},
        ]
    },
    {"tasks": [{"task_key": "a"}, {"task_key": "a"}]},
    {"tasks": [{"task_key": 5, "depends_on": [{"outcome": True}, {"task_key": None}]}]},
    {"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": 7}, "run_if": 3}]},
    {"tasks": [{"task_key": "a", "for_each_task": {"task": "x", "inputs": [1], "concurrency": "2"}}]},
    {"tasks": [{"task_key": "a", "new_cluster": {1: object(), "b": {2, 3}}}]},
    {"tasks": [{"task_key": "a", "sql_task": {"query": "q"}, "condition_task": {"op": None}}]},
    {"run_name": None, "tasks": [{"task_key": "a", "depends_on": "b"}]},
]


@pytest.mark.parametrize("body", INVALID_BODIES)
def test_invalid_bodies_still_draw(body: dict[str, Any]) -> None:
    for kind in FORMATS:
        for max_nodes in (None, 1):
            assert render(body, kind, max_nodes=max_nodes)
    parse_mermaid(to_mermaid(body, max_nodes=1))
    parse_dot(to_dot(body, max_nodes=1))


def test_render_dispatches_and_objects_with_to_dict_are_accepted() -> None:
    body = load("small.json")

    class Spec:
        def to_dict(self) -> dict[str, Any]:
            return dict(body)

    assert render(Spec(), "mermaid") == to_mermaid(body)
    assert render(body, "dot", direction="LR") == to_dot(body, direction="LR")
    assert render(body, "text", state=load("small_get.json")) == to_text(body, state=load("small_get.json"))
    assert render(body, "markdown") == markdown(body)
    with pytest.raises(ValueError, match="mermaid, dot, text, markdown"):
        render(body, "svg")
    with pytest.raises(TypeError, match="runs/submit body"):
        to_mermaid([1, 2])  # type: ignore[arg-type]


def corpus() -> list[Path]:
    found = []
    for path in sorted(HERE.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("tasks"), list):
            found.append(path)
    return found


@pytest.mark.parametrize("path", corpus(), ids=lambda p: str(p.relative_to(HERE)))
def test_every_body_in_the_test_corpus_draws(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    for kind in FORMATS:
        assert render(body, kind)
    parse_mermaid(to_mermaid(body))
    parse_dot(to_dot(body))


def test_importing_picture_does_not_import_requests() -> None:
    code = "import sys, runspec.picture; print('requests' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"


def test_public_names() -> None:
    assert sorted(picture.__all__) == picture.__all__
    for name in picture.__all__:
        assert getattr(picture, name).__doc__ or name in ("FORMATS", "STATES")


def test_the_pictures_in_the_docs_are_what_the_code_draws() -> None:
    docs = (HERE.parent / "docs" / "pictures.md").read_text(encoding="utf-8")
    body, names = load("docs.json"), {"ingest": "etl"}
    state = {
        "ingest": "succeeded",
        "transform": "succeeded",
        "has_rows": "succeeded",
        "per_region": "failed",
        "notify": "excluded",
        "report": "running",
    }
    blocks = re.findall(r"```mermaid\n(.*?)```", docs, re.S)
    assert blocks == [to_mermaid(body, cluster_names=names), to_mermaid(body, state=state, cluster_names=names)]
    assert to_text(body, state=state, cluster_names=names) in docs
    assert summary(body, state=state) in docs


def test_a_run_as_runs_get_describes_it_draws_each_task_once_at_its_latest_attempt() -> None:
    """After a retry or a repair, runs/get lists a task once per attempt: the picture shows the latest."""
    run = {
        "run_id": 7,
        "run_name": "nightly",
        "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
        "tasks": [
            {
                "task_key": "ingest",
                "run_id": 8,
                "attempt_number": 0,
                "notebook_task": {"notebook_path": "/a"},
                "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            },
            {
                "task_key": "transform",
                "run_id": 9,
                "attempt_number": 0,
                "depends_on": [{"task_key": "ingest"}],
                "notebook_task": {"notebook_path": "/b"},
                "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED"},
            },
            {
                "task_key": "transform",
                "run_id": 11,
                "attempt_number": 1,
                "depends_on": [{"task_key": "ingest"}],
                "notebook_task": {"notebook_path": "/b"},
                "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
            },
        ],
    }
    text = picture.to_text(run, state=run)
    assert text.count("transform") == 1, text
    assert "2 tasks" in text and "2 succeeded" in text, text
    mermaid = picture.to_mermaid(run, state=run)
    assert mermaid.count("transform<br/>") == 1, mermaid
    # A request body is drawn as written, a duplicate key included (the checks report it).
    body = {
        "tasks": [{k: v for k, v in t.items() if k not in ("run_id", "attempt_number", "state")} for t in run["tasks"]]
    }
    assert picture.to_text(body).count("transform") == 2
