"""
Reading a run with ``runs/get``: its first page (which carries the run's state and its first 100
tasks), or every page joined, guarded against a server whose page tokens never end.
"""

from __future__ import annotations

from typing import Any

from runspec.client.transport import Transport
from runspec.errors import SubmitError

__all__ = ["MAX_PAGES", "first_page", "more_pages", "read_run"]

#: The most pages one run may take: 1000 tasks (or many for-each iterations) at 100 a page, with room.
MAX_PAGES = 200
#: Pages in a row that add no task, iteration or other list item before the paging is called runaway.
_MAX_EMPTY_PAGES = 3


def first_page(
    transport: Transport, run_id: int, *, deadline: float | None = None, history: bool = False
) -> dict[str, Any]:
    """The first page of ``runs/get``: the run's state, scalars and first 100 tasks (and repairs with ``history``)."""
    query: dict[str, Any] = {"run_id": run_id}
    if history:
        query["include_history"] = True
    page = transport.call("GET", "runs/get", query=query, deadline=deadline)
    return page if isinstance(page, dict) else {}


def more_pages(
    transport: Transport, run_id: int, first: dict[str, Any], *, deadline: float | None = None
) -> dict[str, Any]:
    """
    ``first`` with every further page joined in (lists concatenated); ``first`` when it is the only page.

    Raises ``SubmitError`` when the workspace repeats a page token, sends more than ``MAX_PAGES``
    pages, or keeps sending tokens for pages that hold nothing.
    """
    merged = dict(first)
    token = first.get("next_page_token")
    seen: set[str] = set()
    pages = 1
    empty = 0
    while isinstance(token, str) and token:
        if token in seen:
            shown = transport.redactor.text(token)[:40]  # redacted whole, then cut: no part of a secret shows
            raise _paging_error(run_id, f"sent the page token {shown!r} twice", pages)
        if pages >= MAX_PAGES:
            raise _paging_error(run_id, f"kept sending page tokens past {MAX_PAGES} pages", pages)
        seen.add(token)
        page = transport.call("GET", "runs/get", query={"run_id": run_id, "page_token": token}, deadline=deadline)
        pages += 1
        if not isinstance(page, dict):
            break
        added = 0
        for key, value in page.items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = [*merged[key], *value]
                added += len(value)
            elif key not in merged:
                merged[key] = value
        empty = 0 if added else empty + 1
        if empty >= _MAX_EMPTY_PAGES:
            raise _paging_error(run_id, f"sent {empty} pages in a row with nothing on them, and another token", pages)
        token = page.get("next_page_token")
    merged.pop("next_page_token", None)
    merged.pop("has_more", None)
    return merged


def read_run(transport: Transport, run_id: int, *, deadline: float | None = None) -> dict[str, Any]:
    """``runs/get`` of any run id, every page joined into one JSON object."""
    return more_pages(transport, run_id, first_page(transport, run_id, deadline=deadline), deadline=deadline)


def _paging_error(run_id: int, what: str, pages: int) -> SubmitError:
    return SubmitError(
        f"GET /api/2.2/jobs/runs/get of run {run_id}: the workspace {what}; stopped after {pages} pages",
        method="GET",
        path="/api/2.2/jobs/runs/get",
    )
