"""The HTTP edge of every process: what a client may send, and for how long.

* :class:`BodyLimit` (ASGI middleware, in every app through
  :func:`~shared.runtime.asgi.service_app`): a request body larger than the limit (1 MiB
  by default, ``MGN_HTTP_MAX_BODY_BYTES``; an app may raise it for one route, e.g. the
  groups service's CSV import) gets 413 with a message naming the limit, at once from its
  ``Content-Length`` or, for a chunked body, as soon as the bytes read pass it, never
  after reading the rest. A client that stops sending its body for ``body_timeout``
  seconds gets 408.
* :func:`trusted_hosts`: requests whose ``Host`` is not an allowed name get 400
  (``MGN_HTTP_ALLOWED_HOSTS``; default the bind address and localhost).
* :func:`serve`: uvicorn with a deadline for a request's headers (:class:`HeaderDeadline`,
  uvicorn has none of its own: a client trickling headers held a connection for ever),
  the keep-alive timeout, a cap on open connections (beyond it: 503) and on WebSocket
  messages. ``mgn service ...`` and ``python -m services.<name>`` serve through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Mapping
from typing import Any

import h11
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from shared.runtime.heap import keep_imports_frozen
from shared.runtime.observability import OperationsSettings

MIB = 1024 * 1024
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::", "")


class EdgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MGN_HTTP_", extra="ignore")

    max_body_bytes: int = Field(
        MIB,
        ge=1024,
        description="largest request body (and WebSocket message) in bytes; larger: 413 "
        "(routes that need more say so: the groups service's CSV import)",
    )
    header_timeout: float = Field(
        10.0, gt=0, description="seconds a client has to send a request's headers"
    )
    body_timeout: float = Field(
        30.0, gt=0, description="seconds a client may pause while sending a body; then 408"
    )
    keep_alive: int = Field(5, ge=1, description="seconds an idle keep-alive connection stays")
    max_connections: int = Field(
        1000, ge=1, description="open connections and WebSockets at once; beyond: 503"
    )
    allowed_hosts: str = Field(
        "",
        description="comma-separated host names the Host header may carry (*.example.fi "
        "allowed; * for any); empty: the bind address and localhost (on 0.0.0.0 also "
        "this machine's names and addresses)",
    )


# --- body size and pace ---------------------------------------------------------------


class _Refused(Exception):
    """Raised into the app when its body is refused (too large, too slow)."""


def _refusal(status: int, code: str, message: str) -> tuple[Message, Message]:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def _size(n: int) -> str:
    return f"{n / MIB:g} MiB" if n % (MIB // 4) == 0 else f"{n:,} bytes"


class BodyLimit:
    """413 for a body over the limit of its path (``routes``: path -> bytes, exact paths),
    408 for a body that stops arriving; never reads a body past its limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int | None = None,
        routes: Mapping[str, int] | None = None,
        body_timeout: float | None = None,
    ) -> None:
        settings = EdgeSettings()
        self.app = app
        self.limit = limit if limit is not None else settings.max_body_bytes
        self.routes = dict(routes or {})
        self.body_timeout = body_timeout if body_timeout is not None else settings.body_timeout

    def limit_for(self, path: str) -> int:
        return self.routes.get(path, self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.limit_for(path)
        too_large = (
            f"request body too large for {path}: at most {_size(limit)} may be sent "
            "(MGN_HTTP_MAX_BODY_BYTES)"
        )
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_refusal(send, 413, "PAYLOAD_TOO_LARGE", too_large)
            return
        received, body_done, started, refused = 0, False, False, False

        async def refuse(status: int, code: str, message: str) -> None:
            # answered here, from inside the app's read: the app's own answer to the
            # exception below (Starlette's 500) is dropped by tracked_send
            nonlocal refused
            if not started:
                refused = True
                await _send_refusal(send, status, code, message)
            raise _Refused

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # e.g. a streaming response waiting for the disconnect
                return await receive()
            try:
                # asyncio.timeout, not wait_for: no task created for every read of a body
                async with asyncio.timeout(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                await refuse(
                    408,
                    "REQUEST_TIMEOUT",
                    f"the request body stopped arriving for {self.body_timeout:g} s",
                )
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > limit:
                    await refuse(413, "PAYLOAD_TOO_LARGE", too_large)
            else:
                body_done = True
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except _Refused:
            pass
        except Exception:
            if not refused:
                raise


async def _send_refusal(send: Send, status: int, code: str, message: str) -> None:
    start, body = _refusal(status, code, message)
    await send(start)
    await send(body)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# --- trusted hosts ----------------------------------------------------------------------


def allowed_hosts(bind_host: str, configured: str = "") -> list[str]:
    """The Host names accepted: ``configured`` (comma-separated) or, by default, the bind
    address and localhost; a wildcard bind adds this machine's names and addresses."""
    given = [h.strip() for h in configured.split(",") if h.strip()]
    if given:
        return given
    names = [*LOCAL_NAMES]
    if bind_host in WILDCARDS:
        hostname = socket.gethostname()
        names += [hostname, socket.getfqdn()]
        with contextlib.suppress(OSError):
            names += socket.gethostbyname_ex(hostname)[2]
    else:
        names.append(bind_host)
    return sorted(set(names))


def trusted_hosts(app: ASGIApp, hosts: list[str]) -> ASGIApp:
    """400 for a Host header not in ``hosts`` (IPv6 literals bracketed as in a URL)."""
    expanded = hosts + [f"[{h}]" for h in hosts if ":" in h and not h.startswith("[")]
    return TrustedHostMiddleware(app, allowed_hosts=expanded, www_redirect=False)


# --- the server -------------------------------------------------------------------------


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol closing a connection whose request headers are not complete
    within ``header_timeout`` seconds of its opening (or of the previous response), or that
    is still sending a body the app answered without reading."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        answered = self.cycle is None or self.cycle.response_complete
        # still waiting for (the rest of) a request's headers, or for the rest of a body
        # the app has answered already (e.g. 401 before reading it): nothing to serve
        if answered and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)


def server_config(app: ASGIApp, host: str, port: int, **uvicorn: Any) -> Any:
    """The uvicorn Config serving ``app`` behind the edge (EdgeSettings from the env)."""
    import uvicorn as _uvicorn

    settings = EdgeSettings()
    uvicorn.setdefault("access_log", OperationsSettings().access_log)  # MGN_ACCESS_LOG
    protocol = type(
        "HeaderDeadlineProtocol", (HeaderDeadline,), {"header_timeout": settings.header_timeout}
    )
    return _uvicorn.Config(
        trusted_hosts(app, allowed_hosts(host, settings.allowed_hosts)),
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=settings.keep_alive,
        limit_concurrency=settings.max_connections,
        ws_max_size=settings.max_body_bytes,
        **uvicorn,
    )


def serve(app: ASGIApp, host: str, port: int, **uvicorn: Any) -> None:
    """Run ``app`` with uvicorn behind the edge until stopped; what the process has imported
    and built by now is kept out of full garbage collections (:mod:`shared.runtime.heap`)."""
    import uvicorn as _uvicorn

    keep_imports_frozen()
    _uvicorn.Server(server_config(app, host, port, **uvicorn)).run()


__all__ = [
    "BodyLimit",
    "EdgeSettings",
    "HeaderDeadline",
    "allowed_hosts",
    "serve",
    "server_config",
    "trusted_hosts",
]
