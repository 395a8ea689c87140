"""The HTTP client one process of the node keeps to another (the console to the regional
services, a service to the groups directory): one client per event loop, its connections
kept alive between requests, and a kept-alive connection the server closed handled.

- A new client per request cost a TLS context and a TCP connection each time (issue 9
  part 10): :meth:`KeptAlive.http` gives the same client for as long as the loop lives (a
  client of another, closed, loop is dropped, not reused).
- The services (uvicorn) close a connection idle for 5 s (their keep-alive timeout). httpx
  keeps one for 5 s too by default, so a request could go out on a connection the server
  was closing and fail with ``ReadError`` (seen under load). Idle connections are dropped
  here after ``KEEPALIVE_SECONDS``, before the server does.
- Should it happen still (a busy server closing early), :meth:`KeptAlive.send` asks a
  request that only reads (``retry=True``) once more on a new connection. A write is never
  sent twice: the first may have been done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import httpx

KEEPALIVE_SECONDS: Final = 2.0  # below the services' (uvicorn's) 5 s keep-alive timeout
STALE_CONNECTION: Final = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class KeptAlive:
    """One kept-alive ``httpx.AsyncClient`` per event loop (``transport``: tests may pass
    an ASGI or mock transport)."""

    def __init__(
        self,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def http(self) -> httpx.AsyncClient:
        """The client of the running loop (made on first use)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=self.timeout,
                transport=self._transport,
                limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
            )
            self._loop = loop
        return self._client

    async def send(
        self,
        method: str,
        url: str,
        *,
        retry: bool,
        json: Any = None,
        content: bytes | None = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The request's response; ``retry``: it only reads, so a connection the server
        closed as it went out is not a failure: asked once more, on a new connection.
        Other errors are httpx's (the caller says what they mean)."""
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if json is not None:
            kwargs["json"] = json
        if content is not None:
            kwargs["content"] = content
        try:
            return await self.http().request(method, url, **kwargs)
        except STALE_CONNECTION:
            if not retry:
                raise
            return await self.http().request(method, url, **kwargs)

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
