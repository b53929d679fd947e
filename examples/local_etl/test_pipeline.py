"""
The example run, tested with the runspec_emulator fixture running its own code:

    pytest examples/local_etl        (runspec installed: the fixture comes with it)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runspec import RunFailed, submit
from runspec.testing import Emulator, LocalCode

try:
    from pipeline import run
except ImportError:  # imported from the repository's root
    from examples.local_etl.pipeline import run

HERE = Path(__file__).resolve().parent
CODE = LocalCode(HERE, paths={"/Workspace/Shared/orders": "src"})


def check_orders_run(emulator: Emulator) -> None:
    """What the code decides: the branch, the iterations, the parameters, the outputs, the failure."""
    handle = submit(run, host=emulator.url, token=emulator.token)
    with pytest.raises(RunFailed) as failed:
        handle.wait(poll_interval=0.1)  # the code takes real time: look often
    assert "Task audit failed: ValueError: 535 orders" in str(failed.value)

    finished = emulator.run(handle.run_id)
    tasks = {t["task_key"]: t for t in finished["tasks"]}
    assert tasks["big_day"]["condition_task"]["outcome"] == "true"  # ingest set rows = 535
    assert tasks["report"]["state"]["result_state"] == "SUCCESS"
    assert tasks["quiet_day"]["state"]["result_state"] == "EXCLUDED"
    assert tasks["transform"]["for_each_task"]["stats"]["task_run_stats"]["succeeded_iterations"] == 3

    outputs = handle.outputs()
    assert outputs["ingest"].notebook_result == "535 orders on 2026-12-06"
    assert outputs["report"].notebook_result == "report: 535 orders, big day"  # read {{tasks.ingest.values.rows}}
    logs = sorted(outputs[f"transform[{i}]"].logs or "" for i in range(3))  # the for_each's iterations
    assert logs[0].startswith("transforming amer: one of 3 regions, 535 orders in all")
    audit = outputs["audit"]
    assert audit.error == "ValueError: 535 orders is more than the audit allows"
    assert audit.error_trace is not None
    assert audit.error_trace.startswith("Traceback (most recent call last):")
    assert 'src/audit.py", line 6, in check' in audit.error_trace


@pytest.mark.runspec_emulator(code=CODE)
def test_orders_run_follows_what_its_code_decides(runspec_emulator: Emulator) -> None:
    check_orders_run(runspec_emulator)
