"""
The workspace a command talks to, found by the client's one resolver (``Workspace.resolve``) with the
command's own option names, and the one line (and exit code) for each way reaching it can fail.

* ``HostError``: the host value is not a workspace URL (no scheme, spaces, a path, plain ``http://``
  to a remote host): exit 2, a usage error, with the corrected form the client's message shows.
* ``ConfigError``: no host or no credentials anywhere runspec looked: exit 3.
* ``WorkspaceUnreachable``: no connection could be made at all: exit 3, and for ``submit`` the line
  says that no run was created (nothing reached the workspace).
* any other ``SubmitError``: exit 3; after a submit that may have reached the workspace, the line
  says how to resubmit without starting a second run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from runspec.cli._options import Settings, setting_flags
from runspec.cli._output import (
    EXIT_INVALID,
    EXIT_SUBMIT_ERROR,
    echo,
    environ,
    error,
    error_object,
    submit_error_line,
)

if TYPE_CHECKING:  # pragma: no cover - the client layer is imported only when a command talks to a workspace
    from runspec.client import Workspace
    from runspec.errors import WorkspaceUnreachable

__all__ = ["CLI_NAMES", "config_line", "report_workspace_error", "resolve"]

#: How the resolver's messages name the command's options (and the command line as a place to look).
CLI_NAMES = {**setting_flags(), "arguments": "the command line (--host)"}

#: What failed to connect (``WorkspaceUnreachable.cause``), in the command's words where they differ from
#: the client's: for a private CA the client names Python's ``session=``; a shell user sets a variable.
_CAUSE_WORDS = {
    "tls": "the TLS handshake failed (is it a plain http:// server? For a private CA, set REQUESTS_CA_BUNDLE "
    "to the CA bundle file)",
}


def resolve(settings: Settings, token: str | None = None, *, host: str | None = None) -> Workspace:
    """
    Host and credentials from ``--host`` / ``--profile``, else the environment, else ``~/.databrickscfg``
    (``token`` and ``host``: what the command itself supplies, such as a placeholder or a local emulator).
    """
    from runspec.client import Workspace

    given = settings.workspace()
    if host is not None:
        given["host"] = host
    return Workspace.resolve(token=token, **given, names=CLI_NAMES, environ=environ())


def config_line(exc: BaseException) -> str:
    """A ``ConfigError`` as one line (the resolver already names the command's options: ``CLI_NAMES``)."""
    return " ".join(str(exc).split())


def _unreachable_line(exc: WorkspaceUnreachable, *, submitting: bool) -> str:
    """The line for a workspace no connection could be made to, from the error's fields."""
    reason = _CAUSE_WORDS.get(exc.cause or "") or exc.reason or "the connection could not be opened"
    host = exc.host or "the workspace"
    where = f" (host from {exc.host_source})" if exc.host_source else ""
    outcome = "nothing reached the workspace, so no run was created" if submitting else "nothing reached it"
    return " ".join(f"cannot connect to {host}{where}: {reason}; {outcome}. Check the host".split())


def report_workspace_error(
    exc: BaseException, *, as_json: bool, token: str | None = None, key: str | None = None, submitting: bool = False
) -> int:
    """
    Print a failure to reach or use the workspace (one line, and the ``--json`` object); return its exit code.

    ``token`` is the idempotency token of a submit that may have reached the workspace: the line then
    says how to resubmit without starting a second run.
    """
    from runspec.errors import ConfigError, HostError, SubmitError, WorkspaceUnreachable

    code = EXIT_SUBMIT_ERROR
    if isinstance(exc, HostError):
        code, line, json_line = EXIT_INVALID, config_line(exc), config_line(exc)
    elif isinstance(exc, ConfigError):
        line = json_line = config_line(exc)
    elif isinstance(exc, WorkspaceUnreachable):
        line = json_line = _unreachable_line(exc, submitting=submitting)
    else:
        sent = exc.idempotency_token if isinstance(exc, SubmitError) and exc.idempotency_token else token
        line, json_line = submit_error_line(exc, sent, key=key), submit_error_line(exc, None)
    if as_json:
        status = "invalid" if code == EXIT_INVALID else "error"
        echo(json.dumps(error_object(status, code, exc, json_line), indent=2))
    error(line)
    return code
