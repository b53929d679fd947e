"""Generated ``__init__``\\ s are compiled under a real file name, so tracebacks and debuggers show their code."""

from __future__ import annotations

import linecache
import traceback

import pytest

from runspec import NotebookTask
from runspec.spec import NewCluster


def test_a_traceback_through_a_generated_init_shows_its_code() -> None:
    with pytest.raises(TypeError) as err:
        NotebookTask(123)  # type: ignore[arg-type]
    frames = traceback.extract_tb(err.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<runspec generated __init__")]
    assert generated, [f.filename for f in frames]
    frame = generated[0]
    assert "NotebookTask" in frame.filename
    assert frame.line and "notebook_path" in frame.line
    text = "".join(traceback.format_exception(err.value))
    assert frame.line in text


def test_the_source_is_in_linecache() -> None:
    NewCluster(spark_version="x")
    names = [n for n in linecache.cache if n.startswith("<runspec generated __init__") and "NewCluster" in n]
    assert len(names) == 1
    lines = linecache.getlines(names[0])
    assert lines[0].startswith("def __init__(self")
    assert any("spark_version" in line for line in lines)
