"""
Where the workspace host and credentials come from (the Databricks unified auth conventions).

Each of the host and the credentials comes from the first of these places that has it:

1. arguments: ``host=``, ``token=``, ``client_id=`` + ``client_secret=``, ``auth=``;
2. environment: ``DATABRICKS_HOST``, ``DATABRICKS_TOKEN``, ``DATABRICKS_CLIENT_ID`` +
   ``DATABRICKS_CLIENT_SECRET`` (an empty value counts as unset);
3. a profile of the config file (``DATABRICKS_CONFIG_FILE``, default ``~/.databrickscfg``): the
   one named by ``profile=`` or ``DATABRICKS_CONFIG_PROFILE``, else ``[__settings__]
   default_profile``, else ``[DEFAULT]``. A named section is read on its own: keys of
   ``[DEFAULT]`` are not merged into it.

Rules worth knowing:

* The config file is only read when a profile is named, or when neither the arguments nor the
  environment give a host or credentials (so a token of one workspace's profile is never sent to a
  host set elsewhere).
* ``profile=`` passed in code is an explicit choice: the environment's host and credentials are
  then not used (explicit ``host=`` / ``token=`` arguments still win).
* Two credential methods in the same place (say ``DATABRICKS_TOKEN`` and ``DATABRICKS_CLIENT_ID``)
  are an error naming both, unless ``DATABRICKS_AUTH_TYPE`` (or ``auth_type`` in the profile)
  picks one. A method found in a higher place simply wins over one found lower.
* OAuth machine-to-machine: the client id and secret are exchanged at ``<host>/oidc/v1/token``
  for an access token (scope ``all-apis``), kept until shortly before it expires.
* ``auth=`` takes anything that makes request headers: a callable returning a mapping of headers,
  or an object with ``authenticate()`` (such as ``databricks.sdk.core.Config``, which then also
  supplies the host when none is given).
* Plain ``http://`` is refused (``ConfigError``) unless the host is loopback (``localhost``,
  ``127.0.0.0/8``, ``::1``), before anything is looked up or connected to.
"""

from __future__ import annotations

import base64
import configparser
import ipaddress
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from runspec.errors import ConfigError

__all__ = [
    "AuthHook",
    "Credentials",
    "CustomAuth",
    "OAuthM2M",
    "PatAuth",
    "TokenFetcher",
    "Workspace",
    "is_loopback",
    "normalize_host",
    "resolve_workspace",
]

REDACTED = "<redacted>"

_ENV_HOST = "DATABRICKS_HOST"
_ENV_TOKEN = "DATABRICKS_TOKEN"
_ENV_CLIENT_ID = "DATABRICKS_CLIENT_ID"
_ENV_CLIENT_SECRET = "DATABRICKS_CLIENT_SECRET"
_ENV_PROFILE = "DATABRICKS_CONFIG_PROFILE"
_ENV_FILE = "DATABRICKS_CONFIG_FILE"
_ENV_AUTH_TYPE = "DATABRICKS_AUTH_TYPE"
_ENV_WORKSPACE_ID = "DATABRICKS_WORKSPACE_ID"

_DEFAULT_FILE = "~/.databrickscfg"
_SETTINGS = "__settings__"
_AUTH_TYPES = ("pat", "oauth-m2m")
# Renew an OAuth token this many seconds before the workspace says it expires.
_OAUTH_MARGIN = 60.0


# ---------------------------------------------------------------------------------------------
# Host


def is_loopback(hostname: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    name = hostname.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def normalize_host(host: str, *, source: str = "host") -> str:
    """
    The workspace origin for a host as users write it: ``https://<name>[:port]``.

    ``adb-123.azuredatabricks.net`` gets ``https://``; a path, query or fragment (a URL copied
    from the browser) is dropped, as is a default port. ``http://`` is refused with
    ``ConfigError`` unless the host is loopback, so a token never travels in clear text.
    """
    text = host.strip()
    if not text:
        raise ConfigError(f"{source} is empty")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{source} {host!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"{source} {host!r}: only https:// hosts are supported")
    if parts.username or parts.password:
        raise ConfigError(f"{source} must not contain a user name or password; pass credentials separately")
    hostname = (parts.hostname or "").lower()
    if not hostname:
        raise ConfigError(f"{source} {host!r} has no host name")
    if scheme == "http" and not is_loopback(hostname):
        raise ConfigError(
            f"{source} {host!r} uses plain http://, which would send the token in clear text; "
            "use https:// (plain http is only allowed for localhost and loopback addresses)"
        )
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, to tell whether a redirect leaves the workspace."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


# ---------------------------------------------------------------------------------------------
# Credentials


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


class PatAuth(Credentials):
    """A personal access token sent as ``Authorization: Bearer <token>``."""

    auth_type = "pat"
    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token

    def headers(self, fetcher: TokenFetcher | None = None) -> dict[str, str]:
        """``Authorization: Bearer <token>``."""
        return {"Authorization": f"Bearer {self._token}"}

    def secrets(self) -> tuple[str, ...]:
        """The token."""
        return (self._token,)

    def __repr__(self) -> str:
        return f"PatAuth(token={REDACTED!r})"


class OAuthM2M(Credentials):
    """
    OAuth machine-to-machine (service principal) credentials.

    The first request fetches an access token from ``<host>/oidc/v1/token`` with the client id and
    secret (HTTP Basic, ``grant_type=client_credentials``, ``scope=all-apis``); it is reused until a
    minute before its ``expires_in`` runs out. Safe to share between threads.
    """

    auth_type = "oauth-m2m"

    def __init__(
        self,
        host: str,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.client_id = client_id
        self._secret = client_secret
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._seen: list[str] = []

    @property
    def token_url(self) -> str:
        """Where tokens come from."""
        return f"{self.host}/oidc/v1/token"

    def cached_headers(self) -> dict[str, str] | None:
        """The headers of a still-valid cached token, else ``None`` (no network call)."""
        with self._lock:
            if self._token is not None and self._clock() < self._expires:
                return {"Authorization": f"Bearer {self._token}"}
        return None

    def headers(self, fetcher: TokenFetcher | None = None) -> dict[str, str]:
        """``Authorization: Bearer <access token>``, fetching a token when none is valid."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires:
                if fetcher is None:
                    raise ConfigError("OAuth needs a connection to fetch a token")
                self._refresh(fetcher)
            return {"Authorization": f"Bearer {self._token}"}

    def _refresh(self, fetcher: TokenFetcher) -> None:
        basic = base64.b64encode(f"{self.client_id}:{self._secret}".encode()).decode("ascii")
        answer = fetcher.post_form(
            self.token_url,
            {"grant_type": "client_credentials", "scope": "all-apis"},
            {"Authorization": f"Basic {basic}"},
        )
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise ConfigError(f"{self.token_url} answered without an access_token")
        expires_in = answer.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 3600.0
        self._token = token
        self._seen.append(token)
        self._expires = self._clock() + max(lifetime - _OAUTH_MARGIN, lifetime / 2)

    def secrets(self) -> tuple[str, ...]:
        """The client secret and every access token fetched so far."""
        return (self._secret, *self._seen)

    def __repr__(self) -> str:
        return f"OAuthM2M(host={self.host!r}, client_id={self.client_id!r}, client_secret={REDACTED!r})"


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
        return result

    def secrets(self) -> tuple[str, ...]:
        """Every header value the hook produced so far."""
        return tuple(self._seen)


# ---------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class Workspace:
    """
    A resolved workspace: normalised ``host``, ``credentials`` and where each came from.

    ``auth_type`` is ``pat``, ``oauth-m2m``, ``custom`` (or the hook's own ``auth_type``).
    """

    host: str
    credentials: Credentials = field(repr=False)
    host_source: str = "arguments"
    credentials_source: str = "arguments"
    workspace_id: str | None = None

    @property
    def auth_type(self) -> str:
        """The credential method."""
        return self.credentials.auth_type


def _clean(value: Any) -> str | None:
    """Strings with content, else ``None`` (empty values count as unset)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass
class _Place:
    """One place settings can come from, with the names a user would look for there."""

    label: str
    host: str | None = None
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    hook: AuthHook | None = None
    auth_type: str | None = None
    workspace_id: str | None = None
    names: dict[str, str] = field(default_factory=dict)

    def has_any(self) -> bool:
        return any(v is not None for v in (self.host, self.token, self.client_id, self.client_secret, self.hook))

    def methods(self) -> list[tuple[str, str]]:
        """(auth type, how it is named here) for each credential method configured here."""
        found: list[tuple[str, str]] = []
        if self.hook is not None:
            found.append(("custom", self.names.get("hook", "auth")))
        if self.token is not None:
            found.append(("pat", self.names.get("token", "token")))
        if self.client_id is not None or self.client_secret is not None:
            found.append(
                (
                    "oauth-m2m",
                    f"{self.names.get('client_id', 'client_id')} + {self.names.get('client_secret', 'client_secret')}",
                )
            )
        return found


_ARG_NAMES = {
    "host": "host=",
    "token": "token=",
    "client_id": "client_id=",
    "client_secret": "client_secret=",
    "hook": "auth=",
}
_ENV_NAMES = {
    "host": _ENV_HOST,
    "token": _ENV_TOKEN,
    "client_id": _ENV_CLIENT_ID,
    "client_secret": _ENV_CLIENT_SECRET,
}


def _profile_names(section: str) -> dict[str, str]:
    return {key: f"{key} in [{section}]" for key in ("host", "token", "client_id", "client_secret")}


def _read_profile(path: str, requested: str | None, requested_how: str | None) -> tuple[_Place | None, str]:
    """The chosen profile of the config file (or ``None``) and a note on what was found."""
    expanded = os.path.expanduser(path)
    if not os.path.isfile(expanded):
        if requested is not None:
            raise ConfigError(
                f"profile {requested!r} ({requested_how}) was asked for, but the config file {path} does not exist"
            )
        return None, f"config file {path} (no such file)"
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00no-default-merging\x00", strict=False)
    try:
        parser.read(expanded, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    name = requested
    how = requested_how
    if name is None and parser.has_section(_SETTINGS):
        name = _clean(parser.get(_SETTINGS, "default_profile", fallback=None))
        how = f"[{_SETTINGS}] default_profile" if name else None
    if name is not None:
        if not parser.has_section(name) or name == _SETTINGS:
            known = [s for s in parser.sections() if s != _SETTINGS]
            listing = ", ".join(known) if known else "none"
            raise ConfigError(f"config file {path} has no [{name}] profile (named by {how}); profiles: {listing}")
    else:
        name = "DEFAULT"
        if not parser.has_section(name) or not parser.items(name):
            return None, f"config file {path} (no profile named and no [DEFAULT] section)"
    values = {k.lower(): _clean(v) for k, v in parser.items(name)}
    place = _Place(
        label=f"profile [{name}] of {path}",
        host=values.get("host"),
        token=values.get("token"),
        client_id=values.get("client_id"),
        client_secret=values.get("client_secret"),
        auth_type=values.get("auth_type"),
        workspace_id=values.get("workspace_id"),
        names=_profile_names(name),
    )
    return place, place.label


def _choose_credentials(place: _Place, host: str, clock: Callable[[], float]) -> Credentials | None:
    methods = place.methods()
    if methods and place.auth_type is not None:
        wanted = place.auth_type.lower()
        if wanted not in _AUTH_TYPES:
            raise ConfigError(
                f"auth type {place.auth_type!r} ({place.label}) is not supported; "
                f"runspec supports {', '.join(_AUTH_TYPES)}, or pass auth= for anything else"
            )
        methods = [m for m in methods if m[0] == wanted]
        if not methods:
            raise ConfigError(f"auth type {wanted!r} is set ({place.label}) but not configured there")
    if not methods:
        return None
    if len(methods) > 1:
        named = " and ".join(f"{kind} ({how})" for kind, how in methods)
        raise ConfigError(
            f"more than one way to authenticate in {place.label}: {named}. Remove one, or choose "
            f"with {_ENV_AUTH_TYPE} / auth_type in the profile"
        )
    kind, how = methods[0]
    if kind == "custom":
        assert place.hook is not None
        return CustomAuth(place.hook)
    if kind == "pat":
        assert place.token is not None
        return PatAuth(place.token)
    if place.client_id is None or place.client_secret is None:
        missing = "client_secret" if place.client_id is not None else "client_id"
        raise ConfigError(
            f"OAuth machine-to-machine needs both {how} in {place.label}; "
            f"{place.names.get(missing, missing)} is missing"
        )
    return OAuthM2M(host, place.client_id, place.client_secret, clock=clock)


def resolve_workspace(
    host: str | None = None,
    token: str | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    auth: AuthHook | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Workspace:
    """
    Find the host and credentials to use (see the module documentation for the order).

    Raises ``ConfigError`` when there is no host or no credentials (listing every place it looked),
    when one place configures two credential methods, or when the host is unsafe.
    """
    env = os.environ if environ is None else environ
    explicit_host = _clean(host)
    if explicit_host is not None:
        explicit_host = normalize_host(explicit_host, source="host=")

    args = _Place(
        "arguments",
        host=explicit_host,
        token=_clean(token),
        client_id=_clean(client_id),
        client_secret=_clean(client_secret),
        hook=auth,
        names=_ARG_NAMES,
    )
    if args.host is None and auth is not None:
        hook_host = getattr(auth, "host", None)
        if isinstance(hook_host, str) and _clean(hook_host):
            args.host = normalize_host(hook_host, source="the auth= object's host")
            args.names = {**args.names, "host": "the auth= object's host"}

    profile_arg = _clean(profile)
    places: list[_Place] = [args]
    looked: list[str] = ["arguments (host=, token=, client_id=/client_secret=, auth=)"]

    if profile_arg is None:
        environment = _Place(
            "the environment",
            host=_clean(env.get(_ENV_HOST)),
            token=_clean(env.get(_ENV_TOKEN)),
            client_id=_clean(env.get(_ENV_CLIENT_ID)),
            client_secret=_clean(env.get(_ENV_CLIENT_SECRET)),
            auth_type=_clean(env.get(_ENV_AUTH_TYPE)),
            workspace_id=_clean(env.get(_ENV_WORKSPACE_ID)),
            names=_ENV_NAMES,
        )
        places.append(environment)
        looked.append(f"environment ({_ENV_HOST}, {_ENV_TOKEN}, {_ENV_CLIENT_ID}/{_ENV_CLIENT_SECRET})")
        if environment.host is not None:
            environment.host = normalize_host(environment.host, source=_ENV_HOST)

    requested = profile_arg or _clean(env.get(_ENV_PROFILE))
    requested_how = "profile=" if profile_arg else (_ENV_PROFILE if requested else None)
    path = _clean(env.get(_ENV_FILE)) or _DEFAULT_FILE
    if requested is not None or not any(p.has_any() for p in places):
        found, note = _read_profile(path, requested, requested_how)
        looked.append(note)
        if found is not None:
            if found.host is not None:
                found.host = normalize_host(found.host, source=f"host in {found.label}")
            places.append(found)
    else:
        looked.append(
            f"config file {path} (not read: a host or credentials were already set and no profile "
            f"was named; name one with profile= or {_ENV_PROFILE})"
        )

    host_place = next((p for p in places if p.host is not None), None)
    if host_place is None or host_place.host is None:
        raise ConfigError("no Databricks workspace host found; looked in " + "; ".join(looked))
    resolved_host = host_place.host

    credentials: Credentials | None = None
    cred_place: _Place | None = None
    for place in places:
        credentials = _choose_credentials(place, resolved_host, clock)
        if credentials is not None:
            cred_place = place
            break
    if credentials is None or cred_place is None:
        raise ConfigError(f"no Databricks credentials found for {resolved_host}; looked in " + "; ".join(looked))
    workspace_id = next((p.workspace_id for p in places if p.workspace_id is not None), None)
    return Workspace(
        host=resolved_host,
        credentials=credentials,
        host_source=host_place.label,
        credentials_source=cred_place.label,
        workspace_id=workspace_id,
    )
