"""
Notebooks as cells: the Databricks source format (``.py``), Jupyter ``.ipynb`` files, and plain ``.py``.

Standard library only: the task process loads this module by its path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["HEADER", "Cell", "read_cells"]

HEADER = "# Databricks notebook source"
_SEPARATOR = re.compile(r"^# COMMAND -{10,}\s*$")
_MAGIC = re.compile(r"^# MAGIC ?(.*)$")


@dataclass(frozen=True)
class Cell:
    """
    One cell: ``kind`` is ``"python"``, or the magic word of a magic cell (``"run"``, ``"md"``,
    ``"pip"``, ``"sh"``, ``"sql"``, ...); ``source`` is the code without the magic word; ``number`` counts
    from 1, as a notebook shows it; ``line`` is the cell's first line in the file.
    """

    kind: str
    source: str
    number: int
    line: int


def read_cells(path: Path) -> list[Cell]:
    """The cells of the notebook (or plain Python file) at ``path``."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return _ipynb_cells(text, path)
    lines = text.splitlines()
    if not lines or lines[0].strip() != HEADER:
        return [Cell("python", text, 1, 1)]
    cells: list[Cell] = []
    chunk: list[str] = []
    start = 2
    for number, line in enumerate(lines[1:], start=2):
        if _SEPARATOR.match(line):
            _add(cells, chunk, start)
            chunk, start = [], number + 1
        else:
            chunk.append(line)
    _add(cells, chunk, start)
    return cells


def _add(cells: list[Cell], chunk: list[str], start: int) -> None:
    body = [line for line in chunk if not line.startswith("# DBTITLE")]
    meaningful = [line for line in body if line.strip()]
    if not meaningful:
        return
    if all(_MAGIC.match(line) for line in meaningful):
        code = "\n".join(_unmagic(line) for line in body)
        cells.append(_magic(code.strip("\n"), len(cells) + 1, start))
        return
    # Python keeps its line numbers in tracebacks: pad with the lines before the cell.
    cells.append(Cell("python", "\n" * (start - 1) + "\n".join(chunk), len(cells) + 1, start))


def _unmagic(line: str) -> str:
    found = _MAGIC.match(line)
    return found.group(1) if found else ""


def _magic(code: str, number: int, line: int) -> Cell:
    first, _, rest = code.partition("\n")
    if not first.startswith("%"):
        return Cell("python", code, number, line)
    word, _, args = first[1:].partition(" ")
    body = args.strip() if word == "run" else "\n".join(part for part in (args, rest) if part.strip())
    return Cell(word.strip().lower(), body, number, line)


def _ipynb_cells(text: str, path: Path) -> list[Cell]:
    try:
        data = json.loads(text)
        raw_cells = data["cells"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{path} is not a Jupyter notebook (no cells)") from None
    cells: list[Cell] = []
    for raw in raw_cells:
        if not isinstance(raw, dict) or raw.get("cell_type") != "code":
            continue
        source = raw.get("source", "")
        code = "".join(source) if isinstance(source, list) else str(source)
        if not code.strip():
            continue
        number = len(cells) + 1
        if code.lstrip().startswith("%"):
            cells.append(_magic(code.strip(), number, 1))
        else:
            cells.append(Cell("python", code, number, 1))
    return cells
