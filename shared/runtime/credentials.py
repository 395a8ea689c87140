"""Who may call a regional service's API: the node's credentials and the one middleware that
checks them.

A regional node has one secret per caller, in one JSON file (mode 0600) written by
``mgn region up`` / ``mgn demo`` and named by ``MGN_NODE_CREDENTIALS_FILE``::

    {"console": "...", "groups": "...", "meetings": "...", "feedback": "..."}

- the console's, with which it calls the services for its pages and proxies the API for
  signed-in admins and the holders of API tokens (the tokens themselves are the console's:
  ``services/console``);
- each service's own, with which it calls another service (meetings and feedback ask groups
  who someone is: :mod:`shared.directory`).

A request carries one as ``Authorization: Bearer <secret>``. :class:`ApiAuthMiddleware`
refuses every other request with 401 and a message saying why, except the paths a service
serves to anyone (``/healthz``; ``/metrics`` has its own check; the feedback service's
``/survey/<token>``, whose token is its credential). Without a credentials file a service
refuses every call: it never falls open.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from hmac import compare_digest
from pathlib import Path
from typing import Any, Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Receive, Scope, Send

CALLERS: Final = ("console", "groups", "meetings", "feedback")
PUBLIC_PATHS: Final = ("/healthz", "/metrics")
SCHEME: Final = "Bearer"


class NodeSettings(BaseSettings):
    """Settings every process of a regional node reads."""

    model_config = SettingsConfigDict(env_prefix="MGN_NODE_", extra="ignore")

    credentials_file: str = Field(
        default="",
        description="JSON file (mode 0600) with the secrets the node's console and services "
        "call each other's APIs with; written by `mgn region up`. Empty: the services' APIs "
        "refuse every call",
    )


class CredentialsFileError(ValueError):
    """The node's credentials file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class NodeCredentials:
    """The node's secrets, by caller name."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    source: str = ""  # where they came from, for messages

    @classmethod
    def generate(cls, callers: Iterable[str] = CALLERS) -> NodeCredentials:
        return cls({name: secrets.token_urlsafe(32) for name in callers}, "generated")

    @classmethod
    def load(cls, path: str | Path) -> NodeCredentials:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CredentialsFileError(f"node credentials file {path} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CredentialsFileError(f"node credentials file {path}: {exc}") from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) >= 16 for k, v in data.items()
        ):
            raise CredentialsFileError(
                f"node credentials file {path}: expected a JSON object of caller name -> "
                "secret (at least 16 characters each)"
            )
        return cls(dict(data), str(path))

    @classmethod
    def from_settings(cls, settings: NodeSettings | None = None) -> NodeCredentials:
        """The file ``MGN_NODE_CREDENTIALS_FILE`` names; none (empty) when it is not set."""
        settings = settings or NodeSettings()
        if not settings.credentials_file:
            return cls({}, "")
        return cls.load(settings.credentials_file)

    def load_or_create(self, path: Path) -> NodeCredentials:
        """``path``'s credentials, or these written there (mode 0600) when it is absent."""
        if path.exists():
            return NodeCredentials.load(path)
        self.save(path)
        return NodeCredentials(dict(self.secrets), str(path))

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(dict(self.secrets), out, indent=2)
            out.write("\n")
        return path

    def secret(self, caller: str) -> str:
        """``caller``'s secret; empty when the node has none for it."""
        return self.secrets.get(caller, "")

    def headers(self, caller: str) -> dict[str, str]:
        """The header ``caller`` sends (none when it has no secret: it will be refused)."""
        value = self.secret(caller)
        return {"Authorization": f"{SCHEME} {value}"} if value else {}

    def caller_of(self, authorization: str | None) -> str | None:
        """The caller whose secret the ``Authorization`` header carries, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != SCHEME.lower() or not token.strip():
            return None
        token = token.strip()
        found = None
        for name, value in self.secrets.items():  # compare with every one: constant time
            if compare_digest(token.encode(), value.encode()):
                found = name
        return found


class ApiAuthMiddleware:
    """Refuses every HTTP request without a valid node credential, except ``public`` paths
    (exact, or prefixes ending in ``/``). Sets ``scope["state"]["caller"]``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        credentials: NodeCredentials,
        service: str,
        public: Iterable[str] = PUBLIC_PATHS,
        accepts: Iterable[str] | None = None,
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.service = service
        self.public = tuple(public)
        self.accepts = None if accepts is None else frozenset(accepts)

    def _is_public(self, path: str) -> bool:
        return any(path == p or (p.endswith("/") and path.startswith(p)) for p in self.public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        authorization = headers.get("authorization")
        caller = self.credentials.caller_of(authorization)
        if caller is not None and (self.accepts is None or caller in self.accepts):
            scope.setdefault("state", {})["caller"] = caller
            await self.app(scope, receive, send)
            return
        await _refuse(scope, send, self._why(authorization, caller))

    def _why(self, authorization: str | None, caller: str | None) -> str:
        where = (
            f"The {self.service} API of a regional node answers only the node's console and "
            "services. People and scripts use it through the regional console: "
            "/api/" + self.service + "/graphql, signed in or with an API token an admin "
            "issued ('Authorization: Bearer <token>')."
        )
        if not self.credentials.secrets:
            return (
                f"No node credentials are configured for the {self.service} service "
                "(MGN_NODE_CREDENTIALS_FILE), so it refuses every call. " + where
            )
        if not authorization:
            return f"No credential: send 'Authorization: Bearer <secret>'. {where}"
        if caller is None:
            return f"The credential is not valid for this node. {where}"
        return f"The {caller} credential may not call the {self.service} API. {where}"


async def _refuse(scope: Scope, send: Send, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401, "reason": message[:120]})
        return
    body = json.dumps(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    ).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Bearer realm="mgn"'),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})
