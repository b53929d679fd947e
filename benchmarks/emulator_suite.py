"""
How long a user's test suite of submit-and-wait tests takes with the ``runspec_emulator`` fixture.

    python benchmarks/emulator_suite.py           # 50 tests, as the README writes them
    python benchmarks/emulator_suite.py --tests 100 --clock real

Writes a pytest file of N tests, each submitting a 3-task run with ``runspec.submit`` and waiting with a
plain ``handle.wait()`` on the fixture (no extra arguments), runs it in a fresh interpreter and prints
the wall time of the whole pytest process, beside the time of the same process running N empty tests
(the baseline: interpreter start, plugin loading, collection).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TEST = """
from runspec import NotebookTask, Run, submit

SPEC = (
    Run("suite")
    .task(NotebookTask("/Workspace/a"), key="a")
    .task(NotebookTask("/Workspace/b"), key="b", depends_on=["a"])
    .task(NotebookTask("/Workspace/c"), key="c", depends_on=["b"])
    .compile()
)

{tests}
"""

SUBMIT_AND_WAIT = """
def test_run_{i}(runspec_emulator):
    handle = submit(SPEC, host=runspec_emulator.url, token=runspec_emulator.token)
    handle.wait()
"""

EMPTY = """
def test_empty_{i}():
    pass
"""


def run_suite(body: str, count: int, ini: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        tests = "".join(body.format(i=i) for i in range(count))
        (path / "test_suite.py").write_text(textwrap.dedent(TEST.format(tests=tests)), encoding="utf-8")
        (path / "pytest.ini").write_text(f"[pytest]\n{ini}\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
            capture_output=True,
            text=True,
            cwd=folder,
            env=env,
            timeout=900,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=50)
    parser.add_argument("--clock", choices=("instant", "manual", "real"), default="instant")
    args = parser.parse_args()
    ini = f"runspec_emulator_clock = {args.clock}"
    baseline = run_suite(EMPTY, args.tests, ini)
    suite = run_suite(SUBMIT_AND_WAIT, args.tests, ini)
    print(f"{args.tests} submit-and-wait tests ({args.clock} clock): {suite:.2f} s for the pytest process")
    print(f"{args.tests} empty tests (baseline):                  {baseline:.2f} s")
    print(f"per test, above the baseline: {(suite - baseline) / args.tests * 1000:.1f} ms")


if __name__ == "__main__":
    main()
