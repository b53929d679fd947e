"""
Credentials: what makes the headers that authenticate a request, and never shows a secret.

* ``PatAuth``: a personal access token, ``Authorization: Bearer <token>``.
* ``OAuthM2M``: a service principal's client id and secret, exchanged at ``<host>/oidc/v1/token``
  for an access token. Tokens are cached in the process per (host, client id, scopes) (and the
  secret they were bought with), until a minute before they expire, so every handle and call
  shares one token instead of fetching its own. An answer without a usable token is described in
  the error (its OAuth field names, its content type and length, an HTML page's title), never
  quoted: it may hold the token in some other form.
* ``CustomAuth``: headers from a caller's ``auth=`` hook.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from runspec._text import plural
from runspec.errors import ConfigError

__all__ = [
    "AuthHook",
    "Credentials",
    "CustomAuth",
    "OAuthM2M",
    "PatAuth",
    "TokenFetcher",
    "Withheld",
    "clear_token_cache",
    "header_problem",
]

REDACTED = "<redacted>"
#: Renew an OAuth token this many seconds before the workspace says it expires.
OAUTH_MARGIN = 60.0
OAUTH_SCOPES = "all-apis"


class TokenFetcher(Protocol):
    """What OAuth needs from the transport: POST a form, get JSON back."""

    def post_form(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Any:
        """POST ``form`` url-encoded to ``url`` and return the decoded JSON answer."""
        ...


@runtime_checkable
class _SupportsAuthenticate(Protocol):
    def authenticate(self) -> Mapping[str, str]: ...


AuthHook = Callable[[], Mapping[str, str]] | _SupportsAuthenticate
"""What ``auth=`` accepts: a callable returning headers, or an object with ``authenticate()``."""


def header_problem(value: str) -> str | None:
    """
    Why ``value`` cannot be sent in an HTTP header, without showing it, or ``None`` when it can: HTTP
    headers carry Latin-1 text without control characters (a pasted typographic quote, U+2019, or a
    line break is the usual cause).
    """
    for i, char in enumerate(value):
        if char in "\r\n":
            return f"holds a line break at character {i + 1}"
        if (ord(char) < 32 and char != "\t") or ord(char) == 127:
            return f"holds the control character U+{ord(char):04X} at character {i + 1}"
        if ord(char) > 255:
            return f"holds {char!r} (U+{ord(char):04X}) at character {i + 1}, which HTTP headers cannot carry"
    return None


class Credentials:
    """Produces the headers that authenticate a request. Never shows a secret in ``repr``."""

    auth_type: str = "unknown"

    def headers(self, fetcher: TokenFetcher | None = None) -> dict[str, str]:
        """The headers to add to a request (``fetcher`` is used by OAuth to get a token)."""
        raise NotImplementedError

    def cached_headers(self) -> dict[str, str] | None:
        """The headers if they can be made without any network call, else ``None``."""
        return self.headers(None)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so messages can be scrubbed of them."""
        return ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(auth_type={self.auth_type!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Credentials never go into a pickle: what is unpickled refuses to send until given new ones.
        return (Withheld, (self.auth_type,))


class Withheld(Credentials):
    """
    The credentials of an unpickled ``Workspace``, ``RunHandle`` or ``PreparedRequest``: none. Every
    request refuses to go (``ConfigError``) until credentials are given again; they are never read
    from the environment the object was unpickled in.
    """

    __slots__ = ("auth_type",)

    def __init__(self, auth_type: str = "unknown") -> None:
        self.auth_type = auth_type

    def headers(self, fetcher: TokenFetcher | None = None) -> dict[str, str]:
        raise ConfigError(
            "this object was unpickled, and pickles never hold credentials: give them again "
            "(workspace.with_credentials(token=...), RunHandle.attach(run_id, workspace=...), "
            "prepare(..., workspace=...)); they are not read from the environment"
        )

    def cached_headers(self) -> dict[str, str] | None:
        return None


class PatAuth(Credentials):
    """A personal access token sent as ``Authorization: Bearer <token>``."""

    auth_type = "pat"
    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        problem = header_problem(token)
        if problem is not None:
            raise ConfigError(f"the token {problem}; nothing was sent. Copy the token again")
        self._token = token

    def headers(self, fetcher: TokenFetcher | None = None) -> dict[str, str]:
        """``Authorization: Bearer <token>``."""
        return {"Authorization": f"Bearer {self._token}"}

    def secrets(self) -> tuple[str, ...]:
        """The token."""
        return (self._token,)

    def __repr__(self) -> str:
        return f"PatAuth(token={REDACTED!r})"


@dataclass
class _CachedToken:
    token: str
    expires: float
    clock: Callable[[], float]


class _TokenCache:
    """Access tokens of the process, one per (host, client id, scopes, secret fingerprint)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str, str], _CachedToken] = {}
        # One lock per key, so two threads needing the same token fetch it once.
        self._fetching: dict[tuple[str, str, str, str], threading.Lock] = {}

    def key_lock(self, key: tuple[str, str, str, str]) -> threading.Lock:
        with self._lock:
            return self._fetching.setdefault(key, threading.Lock())

    def get(self, key: tuple[str, str, str, str], clock: Callable[[], float]) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.clock is not clock or clock() >= entry.expires:
            return None
        return entry.token

    def put(self, key: tuple[str, str, str, str], entry: _CachedToken) -> None:
        with self._lock:
            self._entries[key] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CACHE = _TokenCache()


def clear_token_cache() -> None:
    """Forget every cached OAuth access token of this process (the next call fetches a new one)."""
    _CACHE.clear()


class OAuthM2M(Credentials):
    """
    OAuth machine-to-machine (service principal) credentials.

    The first request fetches an access token from ``<host>/oidc/v1/token`` with the client id and
    secret (HTTP Basic, ``grant_type=client_credentials``, ``scope=all-apis``). The token is cached
    for the whole process under (host, client id, scopes) and the secret's fingerprint, and reused
    by every handle and call until a minute before its ``expires_in`` runs out. Thread-safe: two
    threads that need a token at once fetch it once.
    """

    auth_type = "oauth-m2m"

    def __init__(
        self,
        host: str,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        scopes: str = OAUTH_SCOPES,
    ) -> None:
        self.host = host
        self.client_id = client_id
        self.scopes = scopes
        self._secret = client_secret
        self._clock = clock
        self._seen: list[str] = []
        fingerprint = hashlib.sha256(client_secret.encode("utf-8")).hexdigest()
        self._key = (host, client_id, scopes, fingerprint)

    @property
    def token_url(self) -> str:
        """Where tokens come from."""
        return f"{self.host}/oidc/v1/token"

    def _remember(self, token: str) -> str:
        if token not in self._seen:
            self._seen.append(token)
        return token

    def cached_headers(self) -> dict[str, str] | None:
        """The headers of a still-valid cached token, else ``None`` (no network call)."""
        token = _CACHE.get(self._key, self._clock)
        return None if token is None else {"Authorization": f"Bearer {self._remember(token)}"}

    def headers(self, fetcher: TokenFetcher | None = None) -> dict[str, str]:
        """``Authorization: Bearer <access token>``, fetching a token when none is valid."""
        token = _CACHE.get(self._key, self._clock)
        if token is None:
            with _CACHE.key_lock(self._key):
                token = _CACHE.get(self._key, self._clock)
                if token is None:
                    if fetcher is None:
                        raise ConfigError("OAuth needs a connection to fetch a token")
                    token = self._fetch(fetcher)
        return {"Authorization": f"Bearer {self._remember(token)}"}

    def _fetch(self, fetcher: TokenFetcher) -> str:
        basic = base64.b64encode(f"{self.client_id}:{self._secret}".encode()).decode("ascii")
        answer = fetcher.post_form(
            self.token_url,
            {"grant_type": "client_credentials", "scope": self.scopes},
            {"Authorization": f"Basic {basic}"},
        )
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise ConfigError(f"{self.token_url} answered without an access_token: {_shape_of(answer)}")
        problem = header_problem(token)
        if problem is not None:  # the value itself is never shown: it is the token
            raise ConfigError(
                f"the access token {self.token_url} answered {problem}, so it cannot be sent; nothing was sent with it"
            )
        self._remember(token)
        expires_in = answer.get("expires_in")
        lifetime = (
            float(expires_in) if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) else 3600.0
        )
        expires = self._clock() + max(lifetime - OAUTH_MARGIN, lifetime / 2)
        _CACHE.put(self._key, _CachedToken(token, expires, self._clock))
        return token

    def secrets(self) -> tuple[str, ...]:
        """The client secret and every access token this object used."""
        return (self._secret, *self._seen)

    def __repr__(self) -> str:
        return f"OAuthM2M(host={self.host!r}, client_id={self.client_id!r}, client_secret={REDACTED!r})"


#: The fields of an OAuth token answer (RFC 6749 5.1, 5.2), the only names an error about one repeats.
_OAUTH_FIELDS = frozenset(
    {"access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token", "error", "error_description"}
)


def _shape_of(answer: Any) -> str:
    """What an answer without a usable access token holds, in words that never repeat a value of it."""
    if not isinstance(answer, dict):
        return f"its JSON is {'an array' if isinstance(answer, list) else 'not an object'}"
    token = answer.get("access_token")
    if "access_token" in answer:
        kind = "empty" if isinstance(token, str) else f"not a string but {type(token).__name__}"
        return f"its access_token is {kind}"
    known = sorted(name for name in answer if name in _OAUTH_FIELDS)
    others = len(answer) - len(known)
    parts = [", ".join(known)] if known else []
    if others:
        parts.append(plural(others, "other field"))
    return f"it has {' and '.join(parts)}" if parts else "it is an empty object"


class CustomAuth(Credentials):
    """Headers from a caller's ``auth=`` hook: a callable, or an object with ``authenticate()``."""

    def __init__(self, hook: AuthHook) -> None:
        self._hook = hook
        self._seen: set[str] = set()
        kind = getattr(hook, "auth_type", None)
        self.auth_type = kind if isinstance(kind, str) and kind else "custom"

    def headers(self, fetcher: TokenFetcher | None = None) -> dict[str, str]:
        """Whatever the hook returns, as a fresh dict."""
        hook = self._hook
        produced = hook.authenticate() if isinstance(hook, _SupportsAuthenticate) else hook()
        if not isinstance(produced, Mapping):
            raise ConfigError(f"auth= hook returned {type(produced).__name__}, expected a mapping of headers")
        result = {str(k): str(v) for k, v in produced.items()}
        for value in result.values():
            self._seen.add(value)
            _, _, rest = value.partition(" ")
            if rest:
                self._seen.add(rest)
        for name, value in result.items():
            problem = header_problem(value)
            if problem is not None:  # the value is never shown: it may be a token
                raise ConfigError(f"the {name} header from the auth= hook {problem}; nothing was sent")
        return result

    def secrets(self) -> tuple[str, ...]:
        """Every header value the hook produced so far."""
        return tuple(self._seen)
