"""
One redaction for everything runspec shows: credential headers, known secrets, and token-shaped
text a server echoes back.

Every string that comes from a server passes through ``Redactor.text`` / ``Redactor.json`` before it
is logged, shown or raised: an error's code, message, details and request id, a body without the
expected answer, and every answer the client decodes (run and task messages, errors, traces, logs,
page tokens, run names: ``Redactor.answer``, which skips answers whose text cannot hold a secret).
Request headers pass through ``mask_header``, and so do the headers the emulator keeps in its request
log. A leaf module (standard library only), so the emulator can use it without loading ``requests``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["REDACTED", "Redactor", "is_sensitive_header", "mask_header"]

REDACTED = "<redacted>"
_SENSITIVE = re.compile(r"auth|token|secret|password|cookie|key", re.IGNORECASE)
# Token-shaped text, whoever's it is: an Authorization value, a Databricks PAT, a JSON web token.
# An Authorization value holds a digit or one of + / = (base64 and real tokens do; "basic statistics"
# in a task's output does not).
_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)(\s+)(?=[A-Za-z._~-]*[0-9+/=])[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bdapi[0-9a-f]{16,}(?:-\d+)?\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
)
_MAX_DEPTH = 32


def is_sensitive_header(name: str) -> bool:
    """True for header names that carry credentials (``Authorization``, ``X-Api-Key``, cookies, ...)."""
    return bool(_SENSITIVE.search(name))


def mask_header(name: str, value: str, mask: str = REDACTED) -> str:
    """A header value fit to show: ``Bearer <redacted>`` for credential headers, else the value."""
    if not is_sensitive_header(name):
        return value
    scheme, space, _ = value.partition(" ")
    if space and scheme.isalpha() and len(scheme) <= 10:
        return f"{scheme} {mask}"
    return mask


def _pattern_scrub(text: str) -> str:
    for pattern in _PATTERNS:
        if pattern.pattern.startswith("(?i)"):
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


class Redactor:
    """
    Removes secrets from text: the known ones (``secrets()`` is asked each time, so OAuth tokens
    fetched later are covered) and anything shaped like a token.
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Callable[[], Iterable[str]] = tuple) -> None:
        self._secrets = secrets

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by ``<redacted>``."""
        for secret in sorted(self._secrets(), key=len, reverse=True):
            if secret and len(secret) >= 4 and secret in value:
                value = value.replace(secret, REDACTED)
        return _pattern_scrub(value)

    def may_hold_secret(self, raw: str) -> bool:
        """
        False only when no string decoded from the JSON text ``raw`` can hold a secret: none is in it,
        nothing token-shaped starts in it, and it has no escapes that could spell one in another form.
        """
        if "\\" in raw or any(secret and len(secret) >= 4 and secret in raw for secret in self._secrets()):
            return True
        if "dapi" in raw or "eyJ" in raw:
            return True
        lowered = raw.lower()
        return "bearer" in lowered or "basic" in lowered

    def answer(self, raw: str, decoded: Any) -> Any:
        """``decoded`` (the JSON of the text ``raw``) redacted; as it is when ``raw`` cannot hold a secret."""
        return self.json(decoded) if self.may_hold_secret(raw) else decoded

    def optional(self, value: str | None) -> str | None:
        """``text()`` of a value that may be absent."""
        return None if value is None else self.text(value)

    def json(self, value: Any, _depth: int = 0) -> Any:
        """A copy of decoded JSON with every string (keys included) redacted."""
        if _depth > _MAX_DEPTH:
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.json(v, _depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.json(v, _depth + 1) for v in value]
        return value
