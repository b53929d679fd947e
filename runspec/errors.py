"""
Every exception runspec raises, in one place.

::

    RunspecError                      catch this to catch everything runspec raises
    ├── SpecError (also ValueError)   the run is not valid; .problems lists each one with its JSON path
    ├── ConfigError                   no usable host or credentials, or a config file that cannot be read
    │   └── HostError (also ValueError)   a host value that is not a workspace URL; the message shows the fix
    ├── SubmitError                   talking to the workspace went wrong; .idempotency_token when one was sent,
    │                                 .may_exist (the submit may have created a run), .run_id when known
    │   ├── TransportError            no HTTP answer: connection refused or reset, DNS, timeout
    │   │   └── WorkspaceUnreachable  no connection could be made at all: nothing was sent, no run was created
    │   ├── KeyConflict               submit(key=...) reached a run made from a different spec; no second run
    │   └── ApiError                  the workspace answered with an error status
    │       ├── BadRequest            400
    │       ├── Unauthenticated       401
    │       ├── PermissionDenied      403
    │       ├── NotFound              404, and the 400 "run does not exist" of runs/get
    │       ├── ResourceConflict      409
    │       ├── RateLimited           429 (on submit: the workspace has no capacity right now)
    │       └── ServerError           5xx
    ├── RunFailed                     a run ended in any state but success; .failed_tasks says why
    └── WaitTimeout (also TimeoutError)  wait(timeout=...) gave up; the run itself goes on

SubmitInterrupted (a KeyboardInterrupt, not a RunspecError)
                                      Ctrl-C inside submit(); .idempotency_token finds the run if it was created

No message, ``repr`` or attribute of these exceptions ever holds a token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from runspec._outputs import output_lines
from runspec._text import plural

__all__ = [
    "ApiError",
    "BadRequest",
    "ConfigError",
    "Fix",
    "HostError",
    "KeyConflict",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "RateLimited",
    "ResourceConflict",
    "RunFailed",
    "RunspecError",
    "ServerError",
    "SpecError",
    "SubmitError",
    "SubmitInterrupted",
    "TransportError",
    "Unauthenticated",
    "WaitTimeout",
    "WorkspaceUnreachable",
]


class RunspecError(Exception):
    """Base class of every exception runspec raises."""

    # Pickled as its class, its args and its attributes, and rebuilt without calling __init__ again: most
    # of these take keyword-only arguments, which the default (``cls(*args)``) cannot give, so an error
    # raised in a worker process (multiprocessing, concurrent.futures, pytest-xdist) came back as a
    # TypeError instead of itself.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(cls: type[RunspecError], args: tuple[Any, ...], state: dict[str, Any]) -> RunspecError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class Fix(NamedTuple):
    """
    The way out a problem's message ends with, for a front end that says it in its own words.

    ``way`` says which way out applies: ``"lenient"`` (load leniently: Python's ``strict=False``, the
    ``runspec`` command's ``--lenient``), ``"remove"`` (remove the field: nothing passes it through),
    ``"parameter"`` (give the job parameter ``name`` a value: ``parameters={name: ...}``, ``--param``) or
    ``"parameters"`` (change the job parameters' values). ``said`` is the end of the message that says it
    in Python's words (``""`` when the message does not say it), so ``message.removesuffix(said)`` is the
    problem without it.
    """

    way: str
    said: str = ""
    name: str | None = None


class Problem:
    """
    One thing wrong (or worth a warning) in a run, found before anything is sent.

    ``path`` is a JSON path into the request body (``$.tasks[2].depends_on[0].task_key``), ``code`` a
    stable identifier documented in ``docs/problems.md`` (``unknown-dependency``), and ``message`` says
    what is wrong and how to fix it. ``fix`` (a ``Fix``, or None) says which way out the message gives,
    so that the ``runspec`` command can word it as a command line does; it is not part of the problem's
    value. Problems are read-only and compare by path, code and message.
    """

    __slots__ = ("code", "fix", "message", "path")

    path: str
    code: str
    message: str
    fix: Fix | None

    def __init__(self, path: str, code: str, message: str, *, fix: Fix | None = None) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "fix", fix)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Problem is read-only")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.path, self.code, self.message) == (other.path, other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.path, self.code, self.message))

    def __repr__(self) -> str:
        return f"Problem(path={self.path!r}, code={self.code!r}, message={self.message!r})"

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"

    def __reduce__(self) -> tuple[Any, ...]:
        if self.fix is None:
            return (Problem, (self.path, self.code, self.message))
        return (_rebuild_problem, (self.path, self.code, self.message, self.fix))

    def at(self, path: str) -> Problem:
        """The same problem (its ``fix`` too) at another path: a path in a larger document, say."""
        return Problem(path, self.code, self.message, fix=self.fix)

    def to_dict(self) -> dict[str, str]:
        """Return ``{"path": ..., "code": ..., "message": ...}`` (for JSON output)."""
        return {"path": self.path, "code": self.code, "message": self.message}


def _rebuild_problem(path: str, code: str, message: str, fix: Fix) -> Problem:
    return Problem(path, code, message, fix=fix)


class SpecError(RunspecError, ValueError):
    """
    The run is not valid. ``problems`` holds every problem found, not just the first.

    ``str()`` lists them one per line, each with its path and code.
    """

    problems: tuple[Problem, ...]

    def __init__(
        self,
        problems: Iterable[Problem],
        *,
        subject: str | None = None,
        warnings: Iterable[Problem] = (),
    ) -> None:
        self.problems = tuple(problems)
        self.subject = subject
        #: Warnings found along with the problems (they would not stop the request on their own).
        self.warnings = tuple(warnings)
        super().__init__(self._render())

    def _render(self) -> str:
        head = plural(len(self.problems), "problem")
        if self.subject:
            head += f" in {self.subject}"
        return head + ":\n" + "\n".join(f"  {p}" for p in self.problems)

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_spec_error, (self.problems, self.subject, self.warnings))

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of all problems, in order (handy in tests)."""
        return tuple(p.code for p in self.problems)


def _rebuild_spec_error(
    problems: tuple[Problem, ...], subject: str | None, warnings: tuple[Problem, ...] = ()
) -> SpecError:
    return SpecError(problems, subject=subject, warnings=warnings)


class ConfigError(RunspecError):
    """No usable host or credentials were found, or the host is unsafe to send a token to."""


class HostError(ConfigError, ValueError):
    """
    A host value is not a workspace URL (no scheme, spaces, a path that is not a workspace page,
    plain ``http://`` to a host that is not loopback). The message names where the value came
    from and shows the corrected form. Nothing was looked up or sent.
    """


class SubmitError(RunspecError):
    """
    Talking to the workspace failed.

    ``idempotency_token`` is the token sent with the submit request, when there was one: submitting
    again with the same token can never start a second run. ``may_exist`` is True when the submit
    may have created a run (its request may have reached the workspace, or did and was answered with
    a run); False when it surely did not (nothing was sent, or the workspace refused it). ``run_id``
    is the run's id when the workspace named it before the failure (a keyed submit whose run could
    not be read back, say).

    ``resubmit`` is True when the way out is to submit the spec again: under a new key, or under the
    same key (``key``, when known) with ``attempt=next_attempt`` (``None``: the next attempt, whose
    number is not known here), as after a key whose run has another spec or was deleted, or a
    repair the workspace refused. ``advice()`` says it in Python's words; the ``runspec`` command
    says it in its own from these fields.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        idempotency_token: str | None = None,
        attempts: int | None = None,
        run_id: int | None = None,
        may_exist: bool = False,
        key: str | None = None,
        next_attempt: int | None = None,
        resubmit: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.idempotency_token = idempotency_token
        self.attempts = attempts
        self.run_id = run_id
        self.may_exist = may_exist or run_id is not None
        self.key = key
        self.next_attempt = next_attempt
        self.resubmit = resubmit or next_attempt is not None

    def advice(self) -> str | None:
        """What to do instead, in Python's words, when it is to submit the spec again (``resubmit``)."""
        if not self.resubmit:
            return None
        if self.next_attempt is not None:
            return f"use a new key, or attempt={self.next_attempt}"
        return "resubmit instead, with a new attempt (submit(spec, key=..., attempt=N+1)) or a new key"

    def __str__(self) -> str:
        text = self.message
        if self.run_id is not None and str(self.run_id) not in text:
            text += f" (run {self.run_id} was created)"
        if self.idempotency_token:
            text += (
                f" (idempotency token {self.idempotency_token!r}: submitting again with it cannot start a second run)"
            )
        return text


class TransportError(SubmitError):
    """No HTTP answer came back: the connection failed, was reset, or timed out."""


class WorkspaceUnreachable(TransportError):
    """
    No connection to the workspace could be made (refused, name not resolved, no route, TLS
    handshake failed), after a few quick tries: no byte of the request reached the server, so
    no run was created. Usually a wrong host: ``host`` is the host tried, ``host_source`` where it
    came from (``--host``, ``DATABRICKS_HOST``, a profile), ``reason`` what went wrong in words.
    """

    def __init__(
        self,
        message: str,
        *,
        host: str,
        host_source: str | None = None,
        reason: str = "",
        cause: str | None = None,
        method: str | None = None,
        path: str | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, attempts=attempts)
        self.host = host
        self.host_source = host_source
        self.reason = reason
        #: What failed, as a stable word: ``tls`` (the handshake), ``dns``, ``refused``, ``timeout``,
        #: ``no-route``, ``connect`` (otherwise); ``None`` when the transport did not say.
        self.cause = cause


class KeyConflict(SubmitError):
    """
    ``submit(spec, key=...)`` reached a run the key already names, and that run was made from a
    different spec (another run name, or other task keys). No second run was started.

    ``key`` is the key, ``run_id`` the run it names (``run_page_url`` its page, when the workspace
    gave it), ``differences`` what differs, one line each. Use a new key, or ``attempt=next_attempt``
    to run this spec under the same key.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str,
        run_id: int,
        differences: Sequence[str] = (),
        next_attempt: int | None = None,
        run_page_url: str | None = None,
    ) -> None:
        super().__init__(
            message, method="POST", path="/api/2.2/jobs/runs/submit", key=key, next_attempt=next_attempt, resubmit=True
        )
        self.key: str = key
        self.run_id: int = run_id
        self.differences = tuple(differences)
        self.run_page_url = run_page_url


class ApiError(SubmitError):
    """
    The workspace answered with an error status.

    ``status`` is the HTTP status, ``error_code`` the Databricks code (``INVALID_PARAMETER_VALUE``),
    ``message`` the workspace's text, ``details`` the parsed ``details`` list, and ``method`` / ``path``
    the request that failed (never its headers or query). Every string from the server is redacted.
    ``note`` is what runspec adds (for 401 and 403: which credentials were used and where they
    came from, such as ``pat credentials from DATABRICKS_TOKEN``; for a key whose run was deleted, or a
    repair the workspace refuses, what happened), and ``advice()`` the way out; ``str()`` shows both.
    For 401 and 403, ``host``, ``auth_type`` and ``credentials_source`` say the same as fields.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_code: str | None = None,
        method: str | None = None,
        path: str | None = None,
        details: Sequence[Any] = (),
        retry_after: float | None = None,
        request_id: str | None = None,
        idempotency_token: str | None = None,
        attempts: int | None = None,
        note: str | None = None,
        host: str | None = None,
        auth_type: str | None = None,
        credentials_source: str | None = None,
    ) -> None:
        super().__init__(
            message,
            method=method,
            path=path,
            idempotency_token=idempotency_token,
            attempts=attempts,
        )
        #: What runspec adds to the workspace's message: for 401 and 403, where the credentials came from.
        self.note = note
        #: For 401 and 403: the host the request went to, and the credentials sent (``pat``, ``oauth-m2m``,
        #: ...) with where they came from (``DATABRICKS_TOKEN``, ``token in profile [dev] of ~/.databrickscfg``).
        self.host = host
        self.auth_type = auth_type
        self.credentials_source = credentials_source
        self.status = status
        self.error_code = error_code
        self.details = tuple(details)
        self.retry_after = retry_after
        self.request_id = request_id

    def __str__(self) -> str:
        where = f"{self.method} {self.path} -> " if self.method and self.path else ""
        code = f" {self.error_code}" if self.error_code else ""
        text = f"{where}{self.status}{code}: {self.message}"
        advice = self.advice()
        if self.note and advice:
            text += f" ({self.note}: {advice})"
        elif self.note or advice:
            text += f" ({self.note or advice})"
        if self.run_id is not None:
            text += f" (run {self.run_id} was created)"
        if self.idempotency_token:
            text += (
                f" (idempotency token {self.idempotency_token!r}: submitting again with it cannot start a second run)"
            )
        return text


class BadRequest(ApiError):
    """HTTP 400: the workspace rejected the request (``INVALID_PARAMETER_VALUE``, ``INVALID_STATE``, ...)."""


class Unauthenticated(ApiError):
    """HTTP 401: the token is missing, expired or wrong."""


class PermissionDenied(ApiError):
    """HTTP 403: the caller may not do this."""


class NotFound(ApiError):
    """HTTP 404, or the 400 ``INVALID_PARAMETER_VALUE`` runs/get answers for a run that does not exist."""


class ResourceConflict(ApiError):
    """HTTP 409: the request conflicts with the state of the resource."""


class RateLimited(ApiError):
    """HTTP 429: too many requests, or (on submit) no capacity to start the run right now."""


class ServerError(ApiError):
    """HTTP 5xx: the workspace failed; retried requests ran out of attempts or time."""


class SubmitInterrupted(KeyboardInterrupt):
    """
    Ctrl-C (or SIGTERM in the ``runspec`` command) inside ``submit()``, after its request may have left.

    A ``KeyboardInterrupt``, so Ctrl-C still stops the program, but one that keeps what is needed to
    find the run: ``idempotency_token`` (submitting again with it returns the run instead of starting
    another), ``run_id`` when the workspace had already answered, and ``may_exist`` (False when the
    interrupt came before anything was sent). Not a ``RunspecError``: ``except RunspecError`` does not
    swallow a Ctrl-C.
    """

    def __init__(
        self,
        message: str,
        *,
        idempotency_token: str | None = None,
        run_id: int | None = None,
        may_exist: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.idempotency_token = idempotency_token
        self.run_id = run_id
        self.may_exist = may_exist or run_id is not None

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_interrupted,
            (self.message, self.idempotency_token, self.run_id, self.may_exist),
        )


def _rebuild_interrupted(
    message: str, idempotency_token: str | None, run_id: int | None, may_exist: bool
) -> SubmitInterrupted:
    return SubmitInterrupted(message, idempotency_token=idempotency_token, run_id=run_id, may_exist=may_exist)


class RunFailed(RunspecError):
    """
    A run ended in any state but success.

    ``run`` is the finished run, as ``handle.get()`` returns it; ``failed_tasks`` lists each task
    that did not succeed, with its ``task_key``, state, ``error`` and ``error_trace``. A for-each
    task counts once; its failed iterations are in its ``failed_iterations`` and printed under it.
    A task the run chose not to run (a condition branch not taken, ``EXCLUDED``; a disabled task)
    is not a failure and is not listed. ``outputs`` holds what the tasks that did succeed returned
    (``{task_key: output}`` as ``RunHandle.outputs()`` gives them, for-each iterations as
    ``loop[0]``), shown in the text under the failed tasks as the ``runspec`` command shows a
    succeeded run's outputs; ``more_outputs`` is True when more tasks succeeded than ``wait()``
    reads outputs for (100; ``RunHandle.outputs()`` reads them all).
    """

    def __init__(
        self,
        message: str,
        *,
        run: Any,
        failed_tasks: Sequence[Any] = (),
        outputs: Mapping[str, Any] | None = None,
        more_outputs: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.run = run
        self.failed_tasks = list(failed_tasks)
        self.outputs: dict[str, Any] = dict(outputs or {})
        self.more_outputs = more_outputs

    def __str__(self) -> str:
        lines = [self.message]
        for task in self.failed_tasks:
            lines.append(f"  {task.describe()}")
            for item in getattr(task, "failed_iterations", ()):
                lines.append(f"    {item.describe()}")
        if self.outputs:
            lines.append("outputs of the tasks that succeeded:")
            lines.extend(output_lines(self.outputs))
            if self.more_outputs:
                lines.append(f"  (more tasks succeeded than the {len(self.outputs)} shown)")
        return "\n".join(lines)


class WaitTimeout(RunspecError, TimeoutError):
    """
    ``wait(timeout=...)`` stopped waiting. The run was not cancelled and goes on in the workspace.

    ``run_id`` says which run; ``handle.cancel()`` (or ``runspec`` CLI's cancel) stops it.
    """

    def __init__(self, message: str, *, run_id: int) -> None:
        super().__init__(message)
        self.run_id = run_id
