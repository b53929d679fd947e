"""Small text helpers shared by messages, key naming and pictures, each written once."""

from __future__ import annotations

from typing import Any

__all__ = ["article", "as_text", "cut", "oneline", "path_stem", "plural", "shorten_path", "shown"]


def article(noun: str) -> str:
    """``noun`` with its indefinite article: ``an int``, ``a str``."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an ``s`` unless ``n`` is 1: ``1 task``, ``3 tasks``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters for a message."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long for repr()
        return "a very long integer"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def path_stem(path: str | None) -> str | None:
    """The last part of a path without its extension (``/a/b/ingest.py`` -> ``ingest``), or None."""
    if not path:
        return None
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[0] if "." in last else last


def as_text(value: Any) -> str:
    """A JSON scalar as text (``true`` for True), or "" for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return ""


# Control characters and Unicode line/paragraph separators, each drawn as one space.
_BREAKS = str.maketrans(dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029], " "))


def oneline(text: str) -> str:
    """``text`` on one line: control characters and line separators become spaces."""
    return text if text.isprintable() else text.translate(_BREAKS)


def cut(text: str, width: int) -> str:
    """Shorten ``text`` to ``width`` characters by cutting out its middle."""
    text = oneline(text)
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def shorten_path(text: str, width: int, sep: str = "/") -> str:
    """Shorten a path (or dotted name) to ``width`` characters, keeping its last parts."""
    text = oneline(text)
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
        kept = cut(kept, max(width - len(lead), 1))
    return lead + kept
