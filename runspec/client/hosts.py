"""
Workspace host values: checked before anything is looked up or connected to.

A host is the workspace URL, ``https://<name>[:port]``. ``check_host`` turns what a user wrote into
that origin or raises ``HostError`` (a ``ConfigError`` and a ``ValueError``) that names where the
value came from and shows the corrected form:

* a host name without a scheme means ``https://``, as the Databricks SDK and CLI read it
  (``adb-123.azuredatabricks.net`` is ``https://adb-123.azuredatabricks.net``), so one
  ``~/.databrickscfg`` serves all three; a bare loopback host (``127.0.0.1:8811``, ``localhost``) is
  refused with both forms shown, since the emulator there speaks plain ``http://`` and a workspace
  ``https://``;
* a value that looks like a credential rather than a host (a ``dapi`` token, a long hex string with
  no dot, a JSON web token) is refused before any name lookup, and shown masked;
* no spaces, no user name or password, only ``https`` (``http`` for loopback hosts only, so a
  token never crosses a network in clear text);
* a path or query is dropped when it is one the workspace's own pages use (a URL copied from the
  browser: ``/?o=123#job/5``, ``/browse/...``, ``/jobs/...``, or an ``/api/...`` address), and
  refused otherwise, because runspec always talks to ``<origin>/api/2.2/jobs/...``;
* a default port (``:443`` for https) is dropped.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse

from runspec.errors import HostError

__all__ = ["check_host", "is_loopback", "normalize_host", "origin_of"]

# First path segments of the workspace's own pages and API: a URL copied from the browser.
_WORKSPACE_PATHS = frozenset(
    {
        "api",
        "browse",
        "compute",
        "editor",
        "explore",
        "jobs",
        "login.html",
        "ml",
        "pipelines",
        "settings",
        "sql",
        "workflows",
        "workspace",
    }
)
# Query keys the workspace's own pages carry (``?o=<workspace id>``).
_WORKSPACE_QUERY_KEYS = frozenset({"o", "autoLogin", "dbx_source", "account_id"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_loopback(hostname: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    name = hostname.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _suggest(text: str) -> str:
    """The corrected form of a host written without a scheme."""
    bare = text.split("/", 1)[0].split("?", 1)[0]
    try:
        hostname = urllib.parse.urlsplit("//" + bare).hostname or bare
    except ValueError:
        hostname = bare
    scheme = "http" if is_loopback(hostname) else "https"
    return f"{scheme}://{bare}"


# A Databricks personal access token, a long hex string with no dot, a JSON web token: a secret, not a host.
_CREDENTIAL = re.compile(r"^(?:dapi[0-9a-f]{16,}(?:-\d+)?|[0-9a-f]{24,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_.-]*)$", re.I)


def _credential_in(text: str) -> str | None:
    """The token-shaped part of a host value (with or without a scheme), when it has one instead of a name."""
    bare = _SCHEME.sub("", text, count=1).split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    name = bare if bare.startswith("eyJ") else bare.split(":", 1)[0]
    return name if _CREDENTIAL.match(name) else None


def _masked(text: str) -> str:
    """A secret as a message may show it: its kind's prefix (``dapi``, ``eyJ``) and its length, no more."""
    prefix = next((p for p in ("dapi", "eyJ") if text.startswith(p)), "")
    return f"'{prefix}...' ({len(text)} characters)"


def check_host(host: str, *, source: str = "host") -> str:
    """
    The workspace origin (``https://<name>[:port]``) for a host value, or ``HostError``.

    ``source`` says where the value came from (``--host``, ``DATABRICKS_HOST``, ``host in
    [dev] of ~/.databrickscfg``) and starts every message.
    """
    text = host.strip()
    if not text:
        raise HostError(f"{source} is empty; give the workspace URL, like https://adb-123.4.azuredatabricks.net")
    secret = _credential_in(text)
    if secret is not None:
        raise HostError(
            f"{source} {_masked(secret)} looks like a token, not a workspace URL; the host is the workspace "
            "URL (like https://adb-123.4.azuredatabricks.net) and the token goes in DATABRICKS_TOKEN or a profile"
        )
    if any(ch.isspace() for ch in text) or any(ord(ch) < 32 for ch in text):
        squeezed = "".join(text.split())
        hint = squeezed if _SCHEME.match(squeezed) else _suggest(squeezed)
        raise HostError(f"{source} {host!r} contains spaces; a workspace URL has none (did you mean {hint}?)")
    if not _SCHEME.match(text):
        suggested = _suggest(text)
        if suggested.startswith("http://"):
            raise HostError(
                f"{source} {host!r} has no scheme; write it as {suggested} (a local emulator) "
                f"or https://{suggested[len('http://') :]} (a workspace served on this machine)"
            )
        # A bare host name means https://, as the Databricks SDK and CLI read it.
        text = "https://" + text
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise HostError(f"{source} {host!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise HostError(f"{source} {host!r}: only https:// hosts are supported")
    if parts.username or parts.password:
        raise HostError(f"{source} must not contain a user name or password; pass credentials separately")
    hostname = (parts.hostname or "").lower()
    if not hostname:
        raise HostError(f"{source} {host!r} has no host name; write it as https://<workspace name>")
    if scheme == "http" and not is_loopback(hostname):
        raise HostError(
            f"{source} {host!r} uses plain http://, which would send the token in clear text; "
            f"write it as https://{parts.netloc} (plain http is only allowed for localhost and loopback addresses)"
        )
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc += f":{port}"
    origin = f"{scheme}://{netloc}"
    _check_rest(parts, host, source, origin)
    return origin


def _check_rest(parts: urllib.parse.SplitResult, host: str, source: str, origin: str) -> None:
    """Refuse a path or query that is not one of the workspace's own pages."""
    path = parts.path.strip("/")
    if path:
        first = path.split("/", 1)[0]
        if first not in _WORKSPACE_PATHS:
            raise HostError(
                f"{source} {host!r} has the path /{path}, which is not a workspace page; "
                f"runspec calls {origin}/api/2.2/jobs/... itself, so write the host as {origin}"
            )
    if parts.query:
        keys = {key for key, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
        unknown = sorted(keys - _WORKSPACE_QUERY_KEYS)
        if unknown or not keys:
            raise HostError(
                f"{source} {host!r} has the query ?{parts.query}, which is not a workspace URL's; "
                f"write the host as {origin}"
            )


def normalize_host(host: str, *, source: str = "host") -> str:
    """The workspace origin for a host value (``check_host``; kept for existing callers)."""
    return check_host(host, source=source)


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, to tell whether a redirect leaves the workspace."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port
