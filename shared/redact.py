"""No secret in a log line: passwords in URLs (NATS, PostgreSQL, SMTP) and known secrets.

* :func:`redact_url`: ``nats://gateway:s3cret@hub:4222`` -> ``nats://gateway:***@hub:4222``,
  for the places that name a URL (start-up lines, errors);
* :func:`redact`: the same for every URL in a text, and every secret registered with
  :func:`register_secret` (the gateway's NATS password, the SMTP password, the metrics
  token) wherever it appears, e.g. in an exception's message;
* :func:`settings_problems`: a settings error as ``field: problem`` without the values
  pydantic would repeat (all of them, for a rule over several settings);
* :class:`RedactingFormatter`: the log handler's formatter
  (:func:`~shared.runtime.observability.configure_logging` installs it) applies
  :func:`redact` to every line it writes, traceback included, whichever library logged.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

MASK = "***"
# scheme://user:password@ (password up to the last "@" before the host)
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*:)([^\s/@]+)(@)")
# key=value / "key": "value" forms of a password or token
_ASSIGNED = re.compile(
    r"""((?:pass|password|passwd|secret|token)["']?\s*[:=]\s*["']?)([^"'\s,}&]+)""",
    re.IGNORECASE,
)
_secrets: set[str] = set()
MIN_SECRET = 6  # shorter values would mask ordinary words


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every log line of this process from now on."""
    if value and len(value) >= MIN_SECRET:
        _secrets.add(value)


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:{MASK}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact(text: str) -> str:
    """``text`` with URL passwords, ``password=...`` values and registered secrets masked."""
    text = _URL_PASSWORD.sub(rf"\1{MASK}\3", text)
    text = _ASSIGNED.sub(rf"\1{MASK}", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def settings_problems(exc: ValidationError) -> str:
    """A settings class's validation error without the values given: pydantic's own text
    repeats them (``input_value={...}``: every setting, passwords and URLs included)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or exc.title
        lines.append(f"{where}: {redact(error['msg'])}")
    return "; ".join(lines)


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner``, then masks secrets in the whole text (message, traceback,
    stack). The record itself is left as it is, for the other handlers of the process."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


__all__ = [
    "MASK",
    "RedactingFormatter",
    "redact",
    "redact_url",
    "register_secret",
    "settings_problems",
]
