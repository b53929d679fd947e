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
  environment give a host or credentials.
* Credentials read from a profile (a token, an OAuth client secret) are sent only to that profile's
  host. A host set elsewhere (an argument, a flag, the environment) with credentials from a profile
  is a ``ConfigError`` naming both sources, unless it is the profile's own host; so is a profile
  without a host whose credentials would go to a host set elsewhere. This is stricter than the
  Databricks SDK, which merges settings from several places.
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
* Host values are checked (``runspec.client.hosts``) before anything is looked up or connected
  to: a missing scheme, spaces, plain ``http://`` to anything but loopback, or a path that is not
  a workspace page raise ``HostError`` naming where the value came from and its corrected form.
* A config file that cannot be parsed is reported with its path and line numbers, never the text
  of the line (it may hold a token).

``Workspace.resolve()`` (``Connection.resolve()`` here) is the one place this happens: ``submit()``,
``prepare()``, ``RunHandle.attach()`` and the ``runspec`` command all call it. Its ``host_source`` and
``credentials_source`` say where each came from, in the caller's own words (``names=``).
"""

from __future__ import annotations

import configparser
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from typing_extensions import Self

import runspec.wire as wire
from runspec.client.credentials import AuthHook, Credentials, CustomAuth, OAuthM2M, PatAuth, header_problem
from runspec.client.hosts import check_host, is_loopback, normalize_host, origin_of
from runspec.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover - annotations only
    import requests

Timeout = float | tuple[float, float]
"""Seconds for both connecting and reading, or ``(connect, read)``."""

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)

__all__ = [
    "DEFAULT_TIMEOUT",
    "WORKSPACE_SETTINGS",
    "AuthHook",
    "Connection",
    "Credentials",
    "CustomAuth",
    "OAuthM2M",
    "PatAuth",
    "Timeout",
    "is_loopback",
    "normalize_host",
    "origin_of",
    "resolve_workspace",
    "settle",
]

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


# ---------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class Connection:
    """
    A resolved workspace: checked ``host``, ``credentials``, where the host and credentials came
    from, and how to reach it (``timeout``, ``transport`` or ``session``). ``Workspace`` (in
    ``runspec.client.workspace``) is this plus the calls that use it; make one with
    ``Workspace.resolve()``.

    ``host_source`` and ``credentials_source`` name the setting a user would change: ``host=``
    (or the caller's own name, such as ``--host``), ``DATABRICKS_HOST``, ``host in profile [dev]
    of ~/.databrickscfg``. ``auth_type`` is ``pat``, ``oauth-m2m``, ``custom`` (or the hook's own
    ``auth_type``). ``transport`` is any transport of ``runspec.wire`` (``None``: ``requests``
    over ``session``, or over a new session per handle); ``sleep`` and ``clock`` replace
    ``time.sleep`` and ``time.monotonic`` (tests).
    """

    host: str
    credentials: Credentials = field(repr=False)
    host_source: str = "host="
    credentials_source: str = "arguments"
    workspace_id: str | None = None
    session: requests.Session | None = field(default=None, repr=False, compare=False)
    timeout: Timeout = field(default=DEFAULT_TIMEOUT, repr=False, compare=False)
    transport: wire.Transport | None = field(default=None, repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    @property
    def auth_type(self) -> str:
        """The credential method."""
        return self.credentials.auth_type

    @classmethod
    def resolve(
        cls,
        host: str | None = None,
        token: str | None = None,
        *,
        profile: str | None = None,
        auth: AuthHook | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        transport: wire.Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        names: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        """
        Find the host and credentials (arguments, then environment, then the config file).

        ``timeout`` (seconds, or ``(connect, read)``) bounds each socket operation of every call;
        ``transport`` replaces the network (``Emulator.transport()``, ``MockTransport(handler)``),
        and a transport with a ``host`` attribute supplies the host when none is given.
        ``names`` maps the argument names (``host``, ``token``, ``profile``, ``client_id``,
        ``client_secret``, ``auth``; ``arguments`` for the place as a whole) to the caller's own
        spelling, used in every message and in ``host_source`` / ``credentials_source``: the
        ``runspec`` command passes ``{"host": "--host", "profile": "--profile", "arguments": "the
        command line (--host)"}``; ``environ`` replaces ``os.environ``. Raises
        ``HostError`` for an unusable host and ``ConfigError`` when nothing usable is found
        (listing every place it looked).
        """
        if host is None and transport is not None and isinstance(getattr(transport, "host", None), str):
            host = transport.host  # type: ignore[attr-defined]
            names = {**(names or {}), "host": "the transport's host"}
        found = resolve_workspace(
            host,
            token,
            client_id=client_id,
            client_secret=client_secret,
            auth=auth,
            profile=profile,
            names=names,
            environ=environ,
            clock=clock,
        )
        return cls(
            host=found.host,
            credentials=found.credentials,
            host_source=found.host_source,
            credentials_source=found.credentials_source,
            workspace_id=found.workspace_id,
            session=session,
            timeout=timeout,
            transport=transport,
            sleep=sleep,
            clock=clock,
        )

    @classmethod
    def from_env(cls) -> Self:
        """``resolve()`` with nothing given: the environment, else ``~/.databrickscfg``."""
        return cls.resolve()

    def with_credentials(
        self,
        token: str | None = None,
        *,
        auth: AuthHook | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> Self:
        """
        This workspace with new credentials (say, after unpickling it): a token, ``auth=``, or a
        client id and secret. Only the arguments are read, never the environment or a profile.
        """
        found = resolve_workspace(
            self.host, token, auth=auth, client_id=client_id, client_secret=client_secret, environ={}, clock=self.clock
        )
        return replace(self, credentials=found.credentials, credentials_source=found.credentials_source)

    def __reduce__(self) -> tuple[Any, ...]:
        # No credentials (see Withheld), nor the session, transport, sleep and clock of this process.
        kept = {
            "host": self.host,
            "credentials": self.credentials,
            "host_source": self.host_source,
            "credentials_source": self.credentials_source,
            "workspace_id": self.workspace_id,
            "timeout": self.timeout,
        }
        return (_unpickle_connection, (type(self), kept))

    def describe(self) -> str:
        """One line: the host and where it and the credentials came from."""
        return (
            f"{self.host} (host from {self.host_source}; {self.auth_type} credentials from {self.credentials_source})"
        )


def _unpickle_connection(cls: type[Connection], kept: dict[str, Any]) -> Connection:
    return cls(**kept)


#: The workspace settings: the parameters ``Workspace.resolve()`` shares, with the same names, kinds
#: and defaults, with ``submit()``, ``prepare()`` and ``RunHandle.attach()`` (a test checks it).
_WHERE_AND_WHO = ("host", "token", "profile", "auth", "client_id", "client_secret")
WORKSPACE_SETTINGS = (*_WHERE_AND_WHO, "session", "timeout", "sleep", "clock", "transport")


def settle(
    workspace: Connection | None,
    host: str | None = None,
    token: str | None = None,
    *,
    profile: str | None = None,
    auth: AuthHook | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    session: requests.Session | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    transport: wire.Transport | None = None,
) -> Connection:
    """
    The workspace a module function (``submit()``, ``prepare()``, ``RunHandle.attach()``) uses:
    ``workspace`` with the connection settings given beside it (``session``, ``timeout``, ``sleep``,
    ``clock``, ``transport`` other than their defaults), else ``Connection.resolve()`` of the settings.
    """
    if workspace is None:
        return Connection.resolve(
            host,
            token,
            profile=profile,
            auth=auth,
            client_id=client_id,
            client_secret=client_secret,
            session=session,
            timeout=timeout,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )
    given: dict[str, Any] = {}
    if session is not None:
        given["session"] = session
    if timeout != DEFAULT_TIMEOUT:
        given["timeout"] = timeout
    if sleep is not time.sleep:
        given["sleep"] = sleep
    if clock is not time.monotonic:
        given["clock"] = clock
    if transport is not None:
        given["transport"] = transport
    return replace(workspace, **given) if given else workspace


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
    #: Added to a name to say where it is (`` of ~/.databrickscfg`` for a profile).
    where: str = ""

    def has_any(self) -> bool:
        return any(v is not None for v in (self.host, self.token, self.client_id, self.client_secret, self.hook))

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    def methods(self) -> list[tuple[str, str]]:
        """(auth type, how it is named here) for each credential method configured here."""
        found: list[tuple[str, str]] = []
        if self.hook is not None:
            found.append(("custom", self.name("hook")))
        if self.token is not None:
            found.append(("pat", self.name("token")))
        if self.client_id is not None or self.client_secret is not None:
            found.append(("oauth-m2m", f"{self.name('client_id')} + {self.name('client_secret')}"))
        return found


_ARG_NAMES = {
    "host": "host=",
    "token": "token=",
    "client_id": "client_id=",
    "client_secret": "client_secret=",
    "hook": "auth=",
    "profile": "profile=",
}
_ENV_NAMES = {
    "host": _ENV_HOST,
    "token": _ENV_TOKEN,
    "client_id": _ENV_CLIENT_ID,
    "client_secret": _ENV_CLIENT_SECRET,
}


def _profile_names(section: str) -> dict[str, str]:
    return {key: f"{key} in [{section}]" for key in ("host", "token", "client_id", "client_secret")}


def _parse_failure(path: str, exc: configparser.Error) -> ConfigError:
    """A config file parse error with the file and line numbers, never a line's text (it may be a token)."""
    lines: list[int] = [int(number) for number, _ in getattr(exc, "errors", ())]
    number = getattr(exc, "lineno", None)
    if isinstance(number, int) and number not in lines:
        lines.append(number)
    if isinstance(exc, configparser.MissingSectionHeaderError):
        what = "a line before the first [section] header"
    elif isinstance(exc, configparser.ParsingError):
        what = "lines that are neither 'key = value' nor a [section] header"
    else:
        what = re.sub(r"\s+", " ", type(exc).__name__)
    where = ", ".join(str(n) for n in sorted(lines))
    at = f" at line{'s' if len(lines) != 1 else ''} {where}" if lines else ""
    return ConfigError(f"config file {path} cannot be read{at}: {what}")


def _expand(path: str, env: Mapping[str, str]) -> str:
    """``path`` with a leading ``~`` replaced by ``HOME`` of ``env`` (the environment resolution reads)."""
    home = env.get("HOME")
    if home and (path == "~" or path.startswith("~/")):
        return home + path[1:]
    return os.path.expanduser(path)


def _read_profile(
    path: str, requested: str | None, requested_how: str | None, env: Mapping[str, str]
) -> tuple[_Place | None, str]:
    """The chosen profile of the config file (or ``None``) and a note on what was found."""
    expanded = _expand(path, env)
    if not os.path.isfile(expanded):
        if requested is not None:
            raise ConfigError(
                f"profile {requested!r} ({requested_how}) was asked for, but the config file {path} does not exist"
            )
        return None, f"config file {path} (no such file)"
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00no-default-merging\x00", strict=False)
    failure: ConfigError | None = None
    try:
        parser.read(expanded, encoding="utf-8")
    except configparser.Error as exc:
        failure = _parse_failure(path, exc)
    except (OSError, UnicodeDecodeError) as exc:
        failure = ConfigError(f"config file {path} cannot be read: {type(exc).__name__}")
    if failure is not None:
        # Raised outside the handler, so the parser's error (which quotes the line) is not kept.
        raise failure
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
        where=f" of {path}",
    )
    return place, place.label


def _choose_credentials(place: _Place, host: str, clock: Callable[[], float]) -> tuple[Credentials, str] | None:
    """The credentials configured in ``place`` and how they are named there, or ``None``."""
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
        return CustomAuth(place.hook), how
    if kind == "pat":
        assert place.token is not None
        problem = header_problem(place.token)
        if problem is not None:
            raise ConfigError(f"the token ({how}{place.where}) {problem}; nothing was sent. Copy the token again")
        return PatAuth(place.token), how
    if place.client_id is None or place.client_secret is None:
        missing = "client_secret" if place.client_id is not None else "client_id"
        raise ConfigError(
            f"OAuth machine-to-machine needs both {how} in {place.label}; {place.name(missing)} is missing"
        )
    return OAuthM2M(host, place.client_id, place.client_secret, clock=clock), how


def _refuse_crossing(profile: _Place, how: str, host_place: _Place, host: str) -> None:
    """Credentials from a profile go only to its host: a host set elsewhere must be the same one."""
    source = host_place.name("host") + host_place.where
    if profile.host is not None and origin_of(profile.host) == origin_of(host):
        return
    what = f"the credentials of {profile.label} ({how})"
    if profile.host is None:
        bound = f"that profile names no host, so {what} are not bound to a workspace"
        fix = f"add host = {host} to the profile if it is meant for it"
    else:
        bound = f"{what} belong to {profile.host} ({profile.name('host')}{profile.where})"
        fix = f"leave {source} out to use the profile's host"
    raise ConfigError(
        f"the host {host} comes from {source}, but {bound}; they are not sent to another host. "
        f"Give credentials for {host} in the same place as the host, or {fix}"
    )


def resolve_workspace(
    host: str | None = None,
    token: str | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    auth: AuthHook | None = None,
    profile: str | None = None,
    names: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Connection:
    """
    Find the host and credentials to use (see the module documentation for the order).

    The function behind ``Workspace.resolve()`` (which adds the connection settings). Raises
    ``HostError`` for an unusable host, ``ConfigError`` when there is no host or no credentials
    (listing every place it looked) or when one place configures two credential methods.
    """
    env = os.environ if environ is None else environ
    arg_names = {**_ARG_NAMES, **(names or {})}
    explicit_host = _clean(host)
    if explicit_host is not None:
        explicit_host = check_host(explicit_host, source=arg_names["host"])

    args = _Place(
        "arguments",
        host=explicit_host,
        token=_clean(token),
        client_id=_clean(client_id),
        client_secret=_clean(client_secret),
        hook=auth,
        names=arg_names,
    )
    if args.host is None and auth is not None:
        hook_host = getattr(auth, "host", None)
        if isinstance(hook_host, str) and _clean(hook_host):
            args.names = {**args.names, "host": f"the {arg_names['hook']} object's host"}
            args.host = check_host(hook_host, source=args.names["host"])

    profile_arg = _clean(profile)
    places: list[_Place] = [args]
    pair = f"{arg_names['client_id']}/{arg_names['client_secret']}"
    arg_list = f"{arg_names['host']}, {arg_names['token']}, {pair}, {arg_names['hook']}"
    # The caller may name its own place as a whole (the runspec command: "the command line (--host)").
    looked: list[str] = [arg_names.get("arguments") or f"arguments ({arg_list})"]

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
            environment.host = check_host(environment.host, source=_ENV_HOST)

    requested = profile_arg or _clean(env.get(_ENV_PROFILE))
    requested_how = arg_names["profile"] if profile_arg else (_ENV_PROFILE if requested else None)
    path = _clean(env.get(_ENV_FILE)) or _DEFAULT_FILE
    if requested is not None or not any(p.has_any() for p in places):
        found, note = _read_profile(path, requested, requested_how, env)
        looked.append(note)
        if found is not None:
            if found.host is not None:
                found.host = check_host(found.host, source=found.name("host") + found.where)
            places.append(found)
    else:
        looked.append(
            f"config file {path} (not read: a host or credentials were already set and no profile "
            f"was named; name one with {arg_names['profile']} or {_ENV_PROFILE})"
        )

    host_place = next((p for p in places if p.host is not None), None)
    if host_place is None or host_place.host is None:
        raise ConfigError("no Databricks workspace host found; looked in " + "; ".join(looked))
    resolved_host = host_place.host

    chosen: tuple[Credentials, str] | None = None
    cred_place = places[0]
    for cred_place in places:
        chosen = _choose_credentials(cred_place, resolved_host, clock)
        if chosen is not None:
            break
    if chosen is None:
        raise ConfigError(f"no Databricks credentials found for {resolved_host}; looked in " + "; ".join(looked))
    credentials, credentials_source = chosen
    if cred_place is not host_place and cred_place.label.startswith("profile ") and cred_place.hook is None:
        _refuse_crossing(cred_place, credentials_source, host_place, resolved_host)
    workspace_id = next((p.workspace_id for p in places if p.workspace_id is not None), None)
    return Connection(
        host=resolved_host,
        credentials=credentials,
        host_source=host_place.name("host") + host_place.where,
        credentials_source=credentials_source + cred_place.where,
        workspace_id=workspace_id,
    )
