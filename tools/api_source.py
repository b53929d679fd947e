"""
The committed API description the model is generated from (``tools/api/``), read with its pin checked.

``tools/api/sources.json`` names each source file with its sha256, the date it was pinned and where it came
from. Reading a file whose bytes no longer match its pin stops the tools: a changed description must be
pinned again (new sha256 and date, and what it was made from) before it can change the model.

Shared by ``tools/make_schema.py`` and ``tools/gen_spec.py``; run either from the repository root.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "tools" / "api"
SOURCES = API / "sources.json"

#: The field list of the runs/submit body (and the run shapes the API answers with).
RUNS_SUBMIT = API / "runs_submit_fields.json"
#: The field list of the jobs/create body and the job settings (made by tools/extract_sdk_jobs.py).
JOBS_CREATE = API / "jobs_create_fields.json"

Fields = dict[str, list[dict[str, Any]]]


class PinError(SystemExit):
    """A source file does not match the sha256 pinned for it in sources.json."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path) -> Fields:
    """A pinned source file: type name -> its fields (``name``, ``type``, ``required``, ``enum``, ``note``)."""
    pins = json.loads(SOURCES.read_text(encoding="utf-8"))
    pin = pins.get(path.name)
    if pin is None:
        raise PinError(f"{path.name} is not listed in {SOURCES.relative_to(ROOT)}: pin it (sha256, date, origin)")
    actual = sha256(path)
    if actual != pin["sha256"]:
        raise PinError(
            f"{path} has sha256 {actual}, but {SOURCES.relative_to(ROOT)} pins {pin['sha256']}: "
            "if the new description is intended, record its sha256, date and origin there"
        )
    data: Fields = json.loads(path.read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------------------------------
# Notes -> one-line descriptions. A note is the API's description of a field followed by bookkeeping
# added when the field list was made: "(in SDK since v0.2.0, 2023-07-12)", "Not in SDK v0.133.0, ...",
# "[Public Preview per CLI schema for jobs]". The description is the note's first sentence without it.
# --------------------------------------------------------------------------------------------------

_SINCE = re.compile(r"\s*\(in SDK since v[\d.]+, \d{4}-\d{2}-\d{2}\)")
_STAGE = re.compile(r"^\s*\[([A-Z][A-Za-z ,]*?)(?: per CLI schema for jobs)?\]\s*")
_STAGE_ANYWHERE = re.compile(r"\s*\[(?:Public|Private) Preview per CLI schema for jobs\]")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^>]+>`__")
_RST_ROLE = re.compile(r":method:(\S+)")
# Sentences that are bookkeeping of the field list, not a description of the field.
_BOOKKEEPING = re.compile(
    r"^(?:Not in SDK|New between SDK|Present only in SDK|New in SDK|Removed (?:in|by|again)|In SDK|"
    r"Read-only; output|Not part of the runs/submit schema)",
)
# Where a note runs two sentences together without a full stop: before a note added to the API's text
# ("... name of the group Set exactly one of ...").
_RUN_ON = re.compile(
    r"(?<=[\w`)\]])\.?\s+(?=(?:Set exactly one|Exactly one|Mutually exclusive|Only with|Used with|Referenced by|"
    r"Effectively required|Typed as|Note that|Note:|Cluster iam role))"
)
# A sentence ends at ". " (or "! ", "? ") before a capital letter, a digit, a quote, a bracket, a list's
# dash or "e.g.", not after an abbreviation or inside parentheses.
_ABBREVIATIONS = ("e.g", "i.e", "etc", "vs", "Note", "approx", "incl", "min", "max", "No")
# Characters that ruff flags as ambiguous (RUF001/RUF002) or that have a plain spelling.
_PLAIN = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2192": "->",
    "\u00d7": "x",
    "\u26a0": "",
}


def plain(text: str) -> str:
    for char, repl in _PLAIN.items():
        text = text.replace(char, repl)
    return text


def sentences(text: str) -> list[str]:
    """Split prose into sentences (good enough for API descriptions)."""
    out: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch in ".!?" and depth == 0 and text[i + 1 : i + 2] == " ":
            after = text[i + 2 : i + 3]
            word = re.search(r"(\S+)$", text[start:i])
            last = word.group(1) if word else ""
            starts = after.isupper() or after.isdigit() or text.startswith("e.g.", i + 2)
            if (starts or (after and after in "`\"'[-")) and last not in _ABBREVIATIONS:
                out.append(text[start : i + 1].strip())
                start = i + 2
        i += 1
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def describe(note: str) -> tuple[str, str]:
    """A field's launch stage ("[Beta] ", or "") and the first real sentence of its note ("" if none)."""
    text = plain(note)
    text = _SINCE.sub("", text)
    text = _STAGE_ANYWHERE.sub("", text)
    stages: list[str] = []
    while True:
        m = _STAGE.match(text)
        if not m:
            break
        stages.append(m.group(1))
        text = text[m.end() :]
    text = _RST_LINK.sub(r"\1", text)
    text = _RST_ROLE.sub(r"\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _RUN_ON.sub(". ", text)
    first = ""
    for sentence in sentences(text):
        if not _BOOKKEEPING.match(sentence):
            first = sentence
            break
    if first and first[-1] not in ".!?":
        first += "."
    if first:
        first = first[0].upper() + first[1:]
    return "".join(f"[{s}] " for s in stages), first
