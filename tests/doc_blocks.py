"""
The ```` ```python ```` blocks of a Markdown page, for the tests that run every example in the docs.

A block is runnable unless the line just above its opening fence is ``<!-- not run: REASON -->``
(the reason is required). Fences are read as CommonMark does: a fence of three or more backticks or
tildes closes at a line holding the same character at least as many times, so a ```` ```python ````
shown inside a longer fence is not a block of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Block", "python_blocks"]

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, code, first line number (1-based) and why it is not run."""

    language: str
    code: str
    line: int
    not_run: str | None


def _blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        fence = match.group("fence")
        language = match.group("info").strip().split(" ")[0] if match.group("info").strip() else ""
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if (
                closing
                and closing.group("fence")[0] == fence[0]
                and len(closing.group("fence")) >= len(fence)
                and not closing.group("info").strip()
            ):
                break
            body.append(lines[index])
            index += 1
        marker = _NOT_RUN.match(lines[start - 1]) if start > 0 else None
        reason = marker.group("reason") if marker else None
        found.append(Block(language, "\n".join(body) + "\n", start + 1, reason))
        index += 1
    return found


def python_blocks(text: str) -> list[Block]:
    """Every ```` ```python ```` block of a Markdown text, in order (marked ones included)."""
    return [block for block in _blocks(text) if block.language == "python"]
