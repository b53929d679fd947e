"""
Redirects, as the client policy follows them: where to, with which headers, or why not.

A redirect that leaves the workspace's scheme, host and port loses the credential headers; one to
plain ``http://`` (other than loopback) is refused, as is turning a POST into a GET (301, 302, 303)
and a ``Location`` that is not a URL (a port of 99999, ``[::1``). A connection that fails at the
target is a request that was sent: the workspace had it and answered with the redirect.
"""

from __future__ import annotations

import logging
import urllib.parse

from runspec._redact import Redactor
from runspec.client.hosts import is_loopback, origin_of
from runspec.errors import SubmitError
from runspec.wire import SendFailed

__all__ = ["follow_redirect", "path_of", "redirected_failure"]

log = logging.getLogger("runspec")


def path_of(url: str) -> str:
    """The path of ``url`` (no query), as errors and logs name a request."""
    return urllib.parse.urlsplit(url).path


def follow_redirect(
    method: str,
    url: str,
    current: str,
    location: str,
    status: int,
    headers: dict[str, str],
    home: tuple[str, str, int],
    secret_headers: set[str] | frozenset[str],
    redactor: Redactor,
) -> tuple[str, dict[str, str]]:
    """
    The URL and headers of the next hop after ``current`` answered ``status`` with ``location``, or
    ``SubmitError`` saying why runspec does not follow it. ``url`` is the request's first URL,
    ``home`` the workspace's origin.
    """
    try:
        target = urllib.parse.urljoin(current, location)
        split = urllib.parse.urlsplit(target)
        _ = split.port  # a port out of range raises here, not in the middle of the next request
        if not split.hostname:
            target = ""
        scheme, hostname, _ = origin_of(target)
    except ValueError:
        target = ""
    if not target:
        raise SubmitError(
            f"{method} {path_of(url)} was redirected ({status}) to {redactor.text(location)[:100]!r}, "
            "which is not a URL runspec can follow",
            method=method,
            path=path_of(url),
        )
    # Where the server points is the server's text: it goes through the redaction too.
    shown = redactor.text(f"{scheme}://{hostname}")
    if scheme not in ("http", "https") or (scheme == "http" and not is_loopback(hostname)):
        raise SubmitError(
            f"{method} {path_of(url)} was redirected to {shown}, which is not https; runspec does not follow it",
            method=method,
            path=path_of(url),
        )
    if method != "GET" and status in (301, 302, 303):
        raise SubmitError(
            f"{method} {path_of(url)} was redirected ({status}) to "
            f"{shown}{redactor.text(path_of(target))}; runspec does not turn a {method} "
            "into a GET. Check that the host is the workspace URL",
            method=method,
            path=path_of(url),
        )
    if origin_of(target) != home:
        headers = {k: v for k, v in headers.items() if k.lower() not in secret_headers}
        log.info("%s %s redirected to %s; credentials are not sent there", method, path_of(url), shown)
    return target, headers


def redirected_failure(exc: SendFailed, target: str, redactor: Redactor) -> SendFailed:
    """
    ``exc`` (no connection to ``target``) as a failure of a request that was sent: the workspace had
    it and redirected it, so it must not be reported as "nothing reached the workspace".
    """
    split = urllib.parse.urlsplit(target)
    where = redactor.text(f"{split.scheme}://{split.netloc.rpartition('@')[2]}")
    return SendFailed(
        f"{exc.reason} (at {where}, where the workspace redirected the request)", sent=True, retryable=exc.retryable
    )
