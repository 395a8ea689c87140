"""Is the broker answering right now? A PING/PONG round trip with a timeout.

A client's ``is_connected`` stays True while its server is stopped (SIGSTOP, a hung
process) or the path to it silently drops packets: the TCP connection looks open until the
client's own pings give up (nats-py: two missed pings, two minutes apart by default). Seen
in the field: a region's services said ``nats_connected=True`` for the whole 30 s their leaf
server was stopped. A flush waits for the server's PONG, so it fails within its timeout.
"""

from __future__ import annotations

import asyncio
import time

from nats.aio.client import Client as NATS

PROBE_TIMEOUT = 2  # seconds to wait for the server's PONG
PROBE_MAX_AGE = 1.0  # a result this fresh is reused (health and metrics ask often)
PING_INTERVAL = 5  # the client's own keep-alive pings, seconds (nats-py's default is 120)
MAX_OUTSTANDING_PINGS = 3  # missed pings before the client drops the connection and reconnects


class BrokerProbe:
    """Round trips to one connection's server, cached for :data:`PROBE_MAX_AGE` seconds."""

    def __init__(self, timeout: int = PROBE_TIMEOUT, max_age: float = PROBE_MAX_AGE) -> None:
        self.timeout = timeout
        self.max_age = max_age
        self.last_ok: bool = False
        self.last_rtt: float | None = None  # seconds, of the last answered probe
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def check(self, nc: NATS | None) -> bool:
        """True if ``nc`` is connected and its server answered a PING in time."""
        async with self._lock:  # concurrent callers share one round trip
            now = time.monotonic()
            if now - self._checked_at < self.max_age:
                return self.last_ok
            self.last_ok = await self._ping(nc)
            self._checked_at = time.monotonic()
            return self.last_ok

    async def _ping(self, nc: NATS | None) -> bool:
        if nc is None or not nc.is_connected:
            return False
        started = time.monotonic()
        try:
            await nc.flush(timeout=self.timeout)
        except Exception:  # FlushTimeoutError, closed, reconnecting: not answering
            return False
        self.last_rtt = time.monotonic() - started
        return True
