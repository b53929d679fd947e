"""
End-to-end tests of the ``runspec`` command, run in-process through ``runspec.cli.main(argv, stdin=,
stdout=, stderr=, env=)``; the tests about signals and exit by signal run ``python -m runspec`` as a
process (``Cli.popen``).

The emulator runs in this process and the command reaches it over HTTP on 127.0.0.1, with a clean
environment (no DATABRICKS_* but what a test sets, a temporary HOME so no ~/.databrickscfg is read).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from runspec import Run
from runspec.testing import Emulator, Fault, Outcome
from tests.support import refused_port, run_cli

REPO = Path(__file__).resolve().parents[1]
TOKEN = "cli-test-token-7c1d9e"  # distinctive, so a leak is easy to find in any output
SUBPROCESS_TIMEOUT = 60
# The first line of every Python traceback: the word alone may appear in a task's error trace or a help text.
PYTHON_TRACEBACK = "Traceback (most recent call last)"


# ---------------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """One emulator for the module, four times faster than real time; each test scripts its own task keys."""
    with Emulator(token=TOKEN, speed=4) as emulator:
        yield emulator


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def _env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        PYTHONPATH=str(REPO),
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("FORCE_COLOR", None)
    env.update(extra or {})
    return env


class Cli:
    """
    Runs the ``runspec`` command in-process (``runspec.cli.main``) with a clean environment; ``popen`` runs
    it as a process, for the tests where the process is the point (signals, exit by signal).
    """

    def __init__(self, home: Path, cwd: Path) -> None:
        self.home = home
        self.cwd = cwd

    def __call__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = run_cli(args, env=_env(self.home, env), stdin=stdin or "", cwd=cwd or self.cwd)
        output = result.stdout + result.stderr
        assert TOKEN not in output, "the token was printed"
        assert PYTHON_TRACEBACK not in output, output
        return result

    @contextlib.contextmanager
    def popen(self, *args: str, env: Mapping[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
        """A running ``runspec`` process; killed after SUBPROCESS_TIMEOUT, and in any case at the end."""
        process = subprocess.Popen(
            [sys.executable, "-m", "runspec", *args],
            # A shell that starts CI in the background may ignore SIGINT, and nohup SIGHUP; the signals the
            # tests send must reach the child as they would from a terminal, so it does not inherit that.
            preexec_fn=_default_signals,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(self.home, env),
            cwd=str(self.cwd),
        )
        killer = threading.Timer(SUBPROCESS_TIMEOUT, process.kill)
        killer.start()
        try:
            yield process
        finally:
            killer.cancel()
            if process.poll() is None:
                process.kill()
            process.communicate()


def _default_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


@pytest.fixture
def cli(home: Path, tmp_path: Path) -> Cli:
    return Cli(home, tmp_path)


def _on(emulator: Emulator) -> dict[str, str]:
    return {"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": TOKEN}


def _write(path: Path, body: Any) -> str:
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def small_body(*keys: str, name: str = "cli-test") -> dict[str, Any]:
    """A chain of notebook tasks ``keys[0] -> keys[1] -> ...`` on serverless compute."""
    tasks: list[dict[str, Any]] = []
    for index, key in enumerate(keys):
        task: dict[str, Any] = {"task_key": key, "notebook_task": {"notebook_path": f"/Workspace/cli/{key}"}}
        if index:
            task["depends_on"] = [{"task_key": keys[index - 1]}]
        tasks.append(task)
    return {"run_name": name, "tasks": tasks}


INVALID_BODY = {
    "run_name": "broken",
    "tasks": [
        {
            "task_key": "a",
            "notebook_task": {"notebook_path": "/x"},
            "depends_on": [{"task_key": "nope"}],
            "timout_seconds": 3,
        }
    ],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:  # pragma: no cover - shows what came instead
        pytest.fail(f"stdout is not one JSON document:\n{result.stdout}\n{result.stderr}")


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("runspec: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------------------------------------------
# The command itself


def test_version_and_help(cli: Cli) -> None:
    import runspec

    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"runspec {runspec.__version__}"

    result = cli("--help")
    assert result.returncode == 0
    for command in ("validate", "render", "submit", "emulator", "demo"):
        assert command in result.stdout
    assert "exit codes" in result.stdout

    for command in ("validate", "render", "submit", "emulator", "demo"):
        result = cli(command, "--help")
        assert result.returncode == 0, command
        assert "example" in result.stdout or command == "demo", command


def test_no_command_and_usage_errors_exit_2(cli: Cli) -> None:
    result = cli()
    assert result.returncode == 2
    assert "validate" in result.stderr

    result = cli("submit")
    assert result.returncode == 2
    assert "runspec submit: error:" in result.stderr

    result = cli("render", "x.json", "--graph", "png")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr

    result = cli("submit", "x.json", "--timeout", "-1")
    assert result.returncode == 2
    assert "expected a number > 0" in result.stderr


def test_console_script_is_declared() -> None:
    setup = (REPO / "setup.cfg").read_text(encoding="utf-8")
    assert re.search(r"^\s*runspec = runspec\.cli:main\s*$", setup, re.MULTILINE)


@pytest.mark.process
def test_validate_and_render_do_not_import_requests(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a", "b"))
    code = textwrap.dedent(
        f"""
        import sys
        from runspec.cli import main
        assert main(["validate", {spec!r}]) == 0
        assert main(["render", {spec!r}]) == 0
        assert main(["render", {spec!r}, "--graph", "mermaid"]) == 0
        assert "requests" not in sys.modules, "requests was imported"
        print("CLEAN")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(cli.home),
        cwd=str(tmp_path),
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert "CLEAN" in result.stdout


# ---------------------------------------------------------------------------------------------------
# validate


def test_validate_valid_file_exits_0(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("ingest", "report"))
    result = cli("validate", spec)
    assert result.returncode == 0, result.stderr
    assert f"{spec}: valid (2 tasks)" in result.stdout


def test_validate_invalid_file_lists_every_problem_with_path_and_code(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "bad.json", INVALID_BODY)
    result = cli("validate", spec)
    assert result.returncode == 2
    assert f"{spec}: invalid, 2 problems" in result.stdout
    assert "$.tasks[0].timout_seconds" in result.stdout
    assert "did you mean 'timeout_seconds'" in result.stdout
    assert "[unknown-field]" in result.stdout
    assert "$.tasks[0].depends_on[0].task_key" in result.stdout
    assert "[unknown-dependency]" in result.stdout


def test_validate_shows_warnings_of_a_valid_run(cli: Cli, tmp_path: Path) -> None:
    body = {
        "run_name": "warned",
        "tasks": [
            {
                "task_key": k,
                "notebook_task": {"notebook_path": f"/{k}"},
                "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1},
            }
            for k in ("a", "b")
        ],
    }
    module = tmp_path / "warned.py"
    module.write_text(
        "import json\nfrom runspec import RunSpec\n"
        f"spec = RunSpec.from_dict(json.loads({json.dumps(json.dumps(body))}))\n",
        encoding="utf-8",
    )
    result = cli("validate", "warned:spec")
    assert result.returncode == 0, result.stdout + result.stderr
    from runspec import RunSpec

    warnings = RunSpec.from_dict(body).warnings
    for warning in warnings:
        assert f"warning: {warning.path}" in result.stdout
        assert f"[{warning.code}]" in result.stdout


def test_validate_several_specs_exit_2_if_any_is_invalid(cli: Cli, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.json", small_body("a"))
    bad = _write(tmp_path / "bad.json", INVALID_BODY)
    broken = tmp_path / "broken.json"
    broken.write_text('{"run_name": ', encoding="utf-8")
    result = cli("validate", good, bad, str(broken), "missing.json")
    assert result.returncode == 2
    out = result.stdout
    assert f"{good}: valid" in out
    assert f"{bad}: invalid, 2 problems" in out
    assert f"{broken}: invalid, 1 problem" in out
    assert "[invalid-json]" in out
    assert "missing.json: error: no such file" in out
    assert "3 of 4 specs invalid" in out

    result = cli("validate", good, good)
    assert result.returncode == 0
    assert "all 2 specs valid" in result.stdout


def test_validate_reads_stdin(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", "-", stdin=json.dumps(small_body("a", "b", "c")))
    assert result.returncode == 0
    assert "-: valid (3 tasks)" in result.stdout

    result = cli("validate", "-", stdin=json.dumps(INVALID_BODY))
    assert result.returncode == 2
    assert "[unknown-dependency]" in result.stdout

    result = cli("validate", "-", stdin="[1, 2]")
    assert result.returncode == 2
    assert "[wrong-type]" in result.stdout

    result = cli("validate", "-", "-", stdin=json.dumps(small_body("a")))
    assert result.returncode == 2
    assert "can be given only once" in result.stdout


def test_validate_json_output(cli: Cli, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.json", small_body("a", "b"))
    bad = _write(tmp_path / "bad.json", INVALID_BODY)
    result = cli("validate", "--json", good, bad, "nowhere.json")
    assert result.returncode == 2
    data = _json(result)
    assert data["valid"] is False
    first, second, third = data["specs"]
    assert first == {"spec": good, "valid": True, "tasks": 2, "problems": [], "warnings": [], "error": None}
    assert second["valid"] is False
    assert {p["code"] for p in second["problems"]} == {"unknown-field", "unknown-dependency"}
    assert all(set(p) == {"path", "code", "message"} for p in second["problems"])
    assert third["error"] == "no such file"

    result = cli("validate", good, "--json")
    assert result.returncode == 0
    assert _json(result)["valid"] is True


PIPELINE_MODULE = """
from runspec import NotebookTask, Run, RunSpec

run = Run("from-module").task(NotebookTask("/Workspace/a"), key="a").task(
    NotebookTask("/Workspace/b"), key="b", depends_on=["a"]
)
spec = run.compile()
broken = Run("broken").task(NotebookTask("/Workspace/a"), key="a", depends_on=["zz"])
number = 42


def make():
    return run


def make_with(arg):
    return run


def make_number():
    return 7


def explode():
    raise RuntimeError("no tables today")


class Holder:
    nested = run
"""


@pytest.fixture
def pipelines(tmp_path: Path) -> Path:
    (tmp_path / "pipelines.py").write_text(PIPELINE_MODULE, encoding="utf-8")
    (tmp_path / "boom.py").write_text("from runspec import NotebookTask\n\nx = NotebookTask(123)\n", encoding="utf-8")
    (tmp_path / "syntax.py").write_text("def broken(:\n", encoding="utf-8")
    (tmp_path / "needs.py").write_text("import not_installed_anywhere_xyz\n", encoding="utf-8")
    return tmp_path


def test_validate_module_attribute(cli: Cli, pipelines: Path) -> None:
    result = cli("validate", "pipelines:run", "pipelines:spec", "pipelines:make", "pipelines:Holder.nested")
    assert result.returncode == 0, result.stdout + result.stderr
    for ref in ("pipelines:run", "pipelines:spec", "pipelines:make", "pipelines:Holder.nested"):
        assert f"{ref}: valid (2 tasks)" in result.stdout

    result = cli("validate", "pipelines:broken")
    assert result.returncode == 2
    assert "$.tasks[0].depends_on[0].task_key" in result.stdout
    assert "[unknown-dependency]" in result.stdout


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nomodule:run", "no module named 'nomodule'"),
        ("pipelines:rn", "pipelines has no attribute 'rn'; did you mean 'run'?"),
        ("pipelines:number", "it is an int, not a Run, a RunSpec or a function returning one"),
        ("pipelines:make_number", "the function returned an int, not a Run"),
        ("pipelines:make_with", "it needs arguments"),
        ("pipelines:explode", "calling pipelines:explode() failed: RuntimeError: no tables today (at pipelines.py:"),
        ("boom:x", "importing boom failed: TypeError: NotebookTask: 'notebook_path' must be str"),
        ("syntax:x", "importing syntax failed: SyntaxError"),
        ("needs:x", "importing needs failed: ModuleNotFoundError: No module named 'not_installed_anywhere_xyz'"),
        ("not-a-ref:x", "no such file, and not module:attribute"),
    ],
)
def test_module_attribute_mistakes_are_one_line(cli: Cli, pipelines: Path, ref: str, message: str) -> None:
    result = cli("validate", ref)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [f"{ref}: error: {result.stdout.split(': error: ', 1)[1].strip()}"]
    assert message in result.stdout

    result = cli("render", ref)
    assert result.returncode == 2
    assert result.stdout == ""
    line = _one_line_error(result)
    assert line.startswith(f"runspec: error: {ref}: ")
    assert message in line


def test_import_error_points_at_the_users_line(cli: Cli, pipelines: Path) -> None:
    result = cli("validate", "boom:x")
    assert "(at boom.py:3)" in result.stdout


def test_missing_file_and_bad_json_are_one_line_errors(cli: Cli, tmp_path: Path) -> None:
    result = cli("render", "missing.json")
    assert result.returncode == 2
    assert _one_line_error(result) == "runspec: error: missing.json: no such file"

    result = cli("submit", str(tmp_path))
    assert result.returncode == 2
    assert "a directory" in _one_line_error(result)

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = cli("render", str(broken))
    assert result.returncode == 2
    assert _one_line_error(result) == f"runspec: error: {broken} is not a valid run (1 problem):"
    assert "$: not valid JSON" in result.stderr
    assert "[invalid-json]" in result.stderr

    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = cli("validate", str(binary))
    assert result.returncode == 2
    assert "not UTF-8 text" in result.stdout


# ---------------------------------------------------------------------------------------------------
# render


def test_render_prints_the_exact_body(cli: Cli, tmp_path: Path) -> None:
    from runspec import RunSpec

    body = small_body("a", "b")
    spec = _write(tmp_path / "run.json", body)
    result = cli("render", spec)
    assert result.returncode == 0
    assert json.loads(result.stdout) == body
    assert result.stdout == RunSpec.from_dict(body).to_json(indent=2) + "\n"


def test_render_a_builder_from_a_module(cli: Cli, pipelines: Path) -> None:
    result = cli("render", "pipelines:run")
    assert result.returncode == 0
    from runspec import NotebookTask as NT

    expected = Run("from-module").task(NT("/Workspace/a"), key="a").task(NT("/Workspace/b"), key="b", depends_on=["a"])
    assert json.loads(result.stdout) == expected.compile().to_dict()


@pytest.mark.parametrize(
    ("kind", "marker"),
    [("mermaid", "flowchart TD"), ("dot", "digraph"), ("text", "cli-test: 3 tasks")],
)
def test_render_graph(cli: Cli, tmp_path: Path, kind: str, marker: str) -> None:
    spec = _write(tmp_path / "run.json", small_body("ingest", "clean", "report"))
    result = cli("render", spec, "--graph", kind)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout
    for key in ("ingest", "clean", "report"):
        assert key in result.stdout


def test_render_request_masks_the_token(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a"))
    env = {"DATABRICKS_HOST": "https://adb-1.2.azuredatabricks.net", "DATABRICKS_TOKEN": TOKEN}
    result = cli("render", spec, "--request", "--idempotency-token", "tok-1", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "POST https://adb-1.2.azuredatabricks.net/api/2.2/jobs/runs/submit"
    assert "Authorization: Bearer <redacted>" in lines
    body = json.loads(result.stdout.split("\n\n", 1)[1])
    assert body == {**small_body("a"), "idempotency_token": "tok-1"}
    assert "placeholder" not in result.stderr

    result = cli("render", spec, "--request", "--json", env=env)
    assert result.returncode == 0
    data = _json(result)
    assert data["method"] == "POST"
    assert data["url"].endswith("/api/2.2/jobs/runs/submit")
    assert data["headers"]["Authorization"] == "Bearer <redacted>"
    assert data["json"]["run_name"] == "cli-test"
    assert data["json"]["idempotency_token"].startswith("runspec-")
    assert "idempotency token is new each time" in result.stderr


def test_render_request_without_a_workspace_uses_placeholders_and_says_so(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a"))
    result = cli("render", spec, "--request")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("POST https://your-workspace.cloud.databricks.com/api/2.2/jobs/runs/submit\n")
    assert "Authorization: Bearer <redacted>" in result.stdout
    assert "no Databricks workspace host found" in result.stderr
    assert "placeholder host" in result.stderr

    # A host but no token: the real host, a placeholder token.
    result = cli("render", spec, "--request", "--host", "https://adb-9.azuredatabricks.net")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("POST https://adb-9.azuredatabricks.net/")
    assert "placeholder token" in result.stderr


def test_render_request_with_a_profile(cli: Cli, tmp_path: Path) -> None:
    (cli.home / ".databrickscfg").write_text(
        f"[prod]\nhost = https://prod.cloud.databricks.com\ntoken = {TOKEN}\n", encoding="utf-8"
    )
    spec = _write(tmp_path / "run.json", small_body("a"))
    result = cli("render", spec, "--request", "--profile", "prod")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("POST https://prod.cloud.databricks.com/api/2.2/jobs/runs/submit")
    assert "Bearer <redacted>" in result.stdout
    assert "placeholder" not in result.stderr

    result = cli("render", spec, "--request", "--profile", "nope")
    assert result.returncode == 3
    assert "no [nope] profile" in _one_line_error(result)


def test_render_request_refuses_plain_http(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a"))
    result = cli("render", spec, "--request", "--host", "http://example.com")
    assert result.returncode == 2  # a host setting to correct: a usage error
    line = _one_line_error(result)
    assert "--host 'http://example.com' uses plain http://" in line


def test_render_invalid_spec_exits_2(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "bad.json", INVALID_BODY)
    result = cli("render", spec, "--graph", "text")
    assert result.returncode == 2
    assert "after nope (not in this run)" in result.stdout  # pictures draw invalid runs too
    assert _one_line_error(result) == f"runspec: error: {spec} is not a valid run (2 problems):"
    assert "[unknown-dependency]" in result.stderr


# ---------------------------------------------------------------------------------------------------
# submit


def test_submit_prints_run_id_and_url(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("quick", name="no-wait"))
    result = cli("submit", spec, env=_on(emu))
    assert result.returncode == 0, result.stderr
    match = re.search(r"^submitted run (\d+) \(idempotency token (runspec-\w+)\)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    run_id = int(match.group(1))
    assert run_id in emu.run_ids()
    run = emu.run(run_id)
    assert f"  {run['run_page_url']}" in result.stdout.splitlines()
    (sent,) = [r for r in emu.requests_to("runs/submit") if r.body.get("run_name") == "no-wait"]
    assert sent.body["idempotency_token"] == match.group(2)


def test_submit_with_host_option(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("quick"))
    result = cli("submit", spec, "--host", emu.url, env={"DATABRICKS_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    assert "submitted run" in result.stdout


def test_submit_wait_success_shows_progress_picture_and_outputs(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("w_ingest", Outcome.success(result="loaded 12 rows"))
    emu.script("w_report", Outcome.success(result="report ready\nsecond line"))
    spec = _write(tmp_path / "run.json", small_body("w_ingest", "w_report", name="wait-ok"))
    result = cli("submit", spec, "--wait", "--poll-interval", "0.1", env=_on(emu))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    # Progress: one line per change, elapsed time first.
    assert re.search(r"^\s+\d+\.\ds\s+w_ingest\s+TERMINATED SUCCESS$", out, re.MULTILINE), out
    assert re.search(r"^\s+\d+\.\ds\s+w_report\s+TERMINATED SUCCESS$", out, re.MULTILINE), out
    assert re.search(r"^\s+\d+\.\ds\s+run\s+TERMINATED SUCCESS$", out, re.MULTILINE), out
    # The final picture, with states.
    assert "wait-ok (succeeded): 2 tasks" in out
    assert re.search(r"^\s+succeeded\s+w_ingest\s+notebook", out, re.MULTILINE), out
    # Outputs.
    assert re.search(r"^  w_ingest\s+loaded 12 rows$", out, re.MULTILINE), out
    assert re.search(r"^\s+second line$", out, re.MULTILINE), out
    assert re.search(r"^run \d+ succeeded in \d+\.\ds$", out, re.MULTILINE), out


def test_submit_wait_failure_exits_1_with_errors(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    trace = "Traceback (most recent call last):\n  File 'clean.py', line 3\nZeroDivisionError: division by zero"
    emu.script("f_clean", Outcome.fail("ZeroDivisionError: division by zero", trace=trace))
    spec = _write(tmp_path / "run.json", small_body("f_load", "f_clean", "f_report", name="wait-fail"))
    # run_cli, not cli(): the task's own error trace is in the output, a Python traceback of runspec is not.
    result = run_cli(["submit", spec, "--wait", "--poll-interval", "0.1"], env=_env(cli.home, _on(emu)), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert TOKEN not in out + result.stderr
    assert re.search(r"f_clean\s+TERMINATED RUN_EXECUTION_ERROR: ZeroDivisionError", out), out
    assert "failed tasks:" in out
    assert "  f_clean: TERMINATED RUN_EXECUTION_ERROR: ZeroDivisionError: division by zero" in out
    assert "      ZeroDivisionError: division by zero" in out  # the trace, indented
    assert "not run because of an upstream failure: f_report" in out
    assert re.search(r"^\s+failed\s+f_clean", out, re.MULTILINE), out
    line = _one_line_error(result)
    assert "wait-fail" in line
    assert "TERMINATED RUN_EXECUTION_ERROR" in line


def test_submit_json_success(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("j_only", Outcome.success(result="42"))
    spec = _write(tmp_path / "run.json", small_body("j_only", name="json-ok"))
    result = cli("submit", spec, "--wait", "--json", "--poll-interval", "0.1", env=_on(emu))
    assert result.returncode == 0, result.stderr
    data = _json(result)
    assert data["status"] == "succeeded"
    assert data["exit_code"] == 0
    assert data["run_id"] in emu.run_ids()
    assert data["state"] == "TERMINATED SUCCESS"
    assert data["tasks"] == {"j_only": "TERMINATED SUCCESS"}
    assert data["outputs"] == {"j_only": {"notebook_result": "42"}}
    assert data["idempotency_token"].startswith("runspec-")
    assert data["run_page_url"].startswith(emu.url)
    assert data["host"] == emu.url
    # Progress went to stderr, so stdout stays one JSON document.
    assert "TERMINATED SUCCESS" in result.stderr

    result = cli("submit", spec, "--json", env=_on(emu))
    assert result.returncode == 0
    data = _json(result)
    assert data["status"] == "submitted"
    assert "outputs" not in data


def test_submit_json_failure(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("jf_task", Outcome.fail("boom", trace="trace line"))
    spec = _write(tmp_path / "run.json", small_body("jf_task", name="json-fail"))
    result = cli("submit", spec, "--wait", "--json", "--poll-interval", "0.1", env=_on(emu))
    assert result.returncode == 1
    data = _json(result)
    assert data["status"] == "failed"
    assert data["exit_code"] == 1
    (failed,) = data["failed_tasks"]
    assert failed["key"] == "jf_task"
    assert failed["error"] == "boom"
    assert failed["error_trace"] == "trace line"
    assert "json-fail" in data["message"]


def test_submit_invalid_spec_exits_2(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    before = len(emu.requests_to("runs/submit"))
    spec = _write(tmp_path / "bad.json", INVALID_BODY)
    result = cli("submit", spec, "--wait", env=_on(emu))
    assert result.returncode == 2
    assert _one_line_error(result) == f"runspec: error: {spec} is not a valid run (2 problems):"
    assert "  $.tasks[0].depends_on[0].task_key:" in result.stderr

    result = cli("submit", spec, "--json", env=_on(emu))
    assert result.returncode == 2
    data = _json(result)
    assert data["status"] == "invalid"
    assert {p["code"] for p in data["error"]["problems"]} == {"unknown-field", "unknown-dependency"}
    assert len(emu.requests_to("runs/submit")) == before  # nothing was sent


def test_submit_idempotency_token_conflict_exits_2(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", {**small_body("a"), "idempotency_token": "in-the-spec"})
    result = cli("submit", spec, "--idempotency-token", "other", env=_on(emu))
    assert result.returncode == 2
    assert "[idempotency-token-conflict]" in result.stderr


def test_submit_same_idempotency_token_returns_the_same_run(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("idem", name="idem"))
    token = f"cli-idem-{time.time_ns()}"
    first = cli("submit", spec, "--idempotency-token", token, "--json", env=_on(emu))
    second = cli("submit", spec, "--idempotency-token", token, "--json", env=_on(emu))
    assert first.returncode == second.returncode == 0
    assert _json(first)["run_id"] == _json(second)["run_id"]
    assert _json(first)["idempotency_token"] == token


def test_submit_rejected_token_exits_3(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a"))
    result = cli("submit", spec, env={"DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": "wrong-token"})
    assert result.returncode == 3
    line = _one_line_error(result)
    assert "403 PERMISSION_DENIED: Invalid access token." in line
    assert "wrong-token" not in result.stdout + result.stderr
    # A 4xx means no run was created: no advice to resubmit with the token.
    assert "--idempotency-token" not in line

    result = cli("submit", spec, "--json", env={"DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": "wrong-token"})
    assert result.returncode == 3
    data = _json(result)
    assert data["status"] == "error"
    assert data["error"]["type"] == "PermissionDenied"
    assert "wrong-token" not in result.stdout


def test_submit_api_error_exits_3(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a", name="server-says-no"))
    injection = emu.inject(Fault.error(400, "INVALID_PARAMETER_VALUE", "quota exceeded"), "runs/submit", times=1)
    try:
        result = cli("submit", spec, env=_on(emu))
    finally:
        injection.remove()
    assert result.returncode == 3
    assert "400 INVALID_PARAMETER_VALUE: quota exceeded" in _one_line_error(result)


def test_submit_without_credentials_exits_3(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a"))
    result = cli("submit", spec)
    assert result.returncode == 3
    line = _one_line_error(result)
    assert "no Databricks workspace host found" in line
    assert "the command line (--host)" in line

    result = cli("submit", spec, "--host", "https://adb-1.azuredatabricks.net")
    assert result.returncode == 3
    assert "no Databricks credentials found" in _one_line_error(result)

    result = cli("submit", spec, "--profile", "missing")
    assert result.returncode == 3
    assert "--profile" in _one_line_error(result)


def test_submit_refuses_plain_http_to_a_remote_host(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a"))
    result = cli("submit", spec, env={"DATABRICKS_HOST": "http://example.com", "DATABRICKS_TOKEN": TOKEN})
    assert result.returncode == 2  # a host setting to correct: a usage error
    assert "plain http://" in _one_line_error(result)


def test_submit_unreachable_host_exits_3(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("a"))
    with refused_port() as port:
        host = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        result = cli("submit", spec, "--deadline", "0.5", env={"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": TOKEN})
    assert time.monotonic() - started < 20
    assert result.returncode == 3
    line = _one_line_error(result)
    assert "the connection was refused" in line
    # No connection was made, so nothing was sent: no run exists and there is nothing to retry safely.
    assert "no run was created" in line
    assert "--idempotency-token" not in line


def test_submit_wait_timeout_exits_1_and_leaves_the_run(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("t_slow", Outcome.success(seconds=3600))
    spec = _write(tmp_path / "run.json", small_body("t_slow", name="too-slow"))
    result = cli("submit", spec, "--wait", "--timeout", "0.5", "--poll-interval", "0.1", "--json", env=_on(emu))
    assert result.returncode == 1
    data = _json(result)
    assert data["status"] == "timed_out"
    assert "still RUNNING" in data["message"] or "still PENDING" in data["message"]
    run = emu.run(data["run_id"])
    assert run["state"]["life_cycle_state"] in ("PENDING", "RUNNING")
    from runspec.client import RunHandle  # the run goes on: cancel it to keep the emulator tidy

    RunHandle.attach(data["run_id"], emu.url, TOKEN).cancel()


@pytest.mark.process
def test_ctrl_c_cancels_the_run_and_exits_130(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("c_forever", Outcome.hang())
    spec = _write(tmp_path / "run.json", small_body("c_forever", name="interrupted"))
    with cli.popen("submit", spec, "--wait", "--poll-interval", "0.1", env=_on(emu)) as process:
        assert process.stdout is not None
        seen: list[str] = []
        run_id = None
        for line in process.stdout:
            seen.append(line)
            match = re.match(r"submitted run (\d+)", line)
            if match:
                run_id = int(match.group(1))
            if re.search(r"c_forever\s+RUNNING", line):
                break
        assert run_id is not None, "".join(seen)
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    assert process.returncode == 130, "".join(seen) + rest + err
    assert TOKEN not in "".join(seen) + rest + err
    assert PYTHON_TRACEBACK not in err
    assert f"interrupted: asked the workspace to cancel run {run_id}" in err
    cancels = [r for r in emu.requests_to("runs/cancel") if r.body == {"run_id": run_id}]
    assert cancels, "no runs/cancel was sent"
    final = emu.wait(run_id, timeout=10)
    assert final is not None
    assert final["state"]["result_state"] == "CANCELED"


# ---------------------------------------------------------------------------------------------------
# emulator and demo


@pytest.mark.process
def test_emulator_command_serves_until_ctrl_c(cli: Cli, tmp_path: Path) -> None:
    port = _free_port()
    with cli.popen("emulator", "--port", str(port), "--token", TOKEN, "--speed", "5") as process:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        url = f"http://127.0.0.1:{port}"
        assert url in banner[0], banner
        assert f"  export DATABRICKS_HOST={url}\n" in banner
        assert any(line.startswith("  export DATABRICKS_TOKEN=") for line in banner)

        spec = _write(tmp_path / "run.json", small_body("e_one", "e_two", name="via-emulator-command"))
        result = cli(
            "submit", spec, "--wait", "--poll-interval", "0.1", env={"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": TOKEN}
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "succeeded" in result.stdout

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    assert process.returncode == 0, err
    assert "stopped" in out
    assert PYTHON_TRACEBACK not in err
    assert TOKEN not in "".join(banner) + out + err


def test_emulator_port_in_use_is_one_line(cli: Cli) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = cli("emulator", "--port", str(port))
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in _one_line_error(result)


def test_demo_runs_end_to_end_in_seconds(cli: Cli) -> None:
    started = time.monotonic()
    result = cli("demo")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert took < 15, took
    out = result.stdout
    assert re.search(r"^submitted run \d+", out, re.MULTILINE)
    assert re.search(r"^  http://127\.0\.0\.1:\d+/\S*run/\d+$", out, re.MULTILINE)
    assert re.search(r"has_rows\s+TERMINATED SUCCESS", out)
    assert re.search(r"report_empty\s+TERMINATED SKIPPED", out)
    assert "runspec-demo (succeeded): 5 tasks" in out
    for region in ("emea", "amer", "apac"):
        assert f"published the {region} report" in out
    assert "wrote 1180 rows" in out
    assert re.search(r"^run \d+ succeeded in \d+\.\ds$", out, re.MULTILINE)
    assert "export DATABRICKS_HOST=" in out
    assert "export DATABRICKS_TOKEN=" in out
    assert result.stderr == ""


def test_demo_code_is_the_builder_the_demo_uses(cli: Cli) -> None:
    result = cli("demo", "--code")
    assert result.returncode == 0
    assert "def demo_run() -> Run:" in result.stdout
    assert 'Run("runspec-demo")' in result.stdout
    # The demo run is importable as a SPEC too.
    result = cli("validate", "runspec.cli:demo_run")
    assert result.returncode == 0
    assert "valid (5 tasks)" in result.stdout


def test_demo_run_shape() -> None:
    from runspec.cli import demo_run

    body = demo_run().compile().to_dict()
    kinds = {t["task_key"]: next(k for k in t if k.endswith("_task")) for t in body["tasks"]}
    assert kinds == {
        "ingest": "notebook_task",
        "has_rows": "condition_task",
        "transform": "spark_python_task",
        "report_empty": "notebook_task",
        "publish": "for_each_task",
    }
