"""The hub's registrar: regions join NATIONAL by asking, and the gateway keeps their links fresh.

- **Join**: a regional node sends a core NATS request on ``mgnctl.<region>.join`` (through its
  leaf server; the hub's permissions let a region publish only under its own id, so a region
  can join only as itself). The registrar adds the region's source to NATIONAL
  (:func:`add_region_source`, idempotent) and replies ``{"region", "added", "resynced"}``.
  Joins are handled one at a time (a lock), so two regions joining at once cannot overwrite
  each other's source.
- **Freshness**: every ``interval`` seconds it reads NATIONAL's per-source state (lag and the
  seconds since the source last heard from the region — sources get heartbeats, so a healthy
  link shows well under a second) into :attr:`Registrar.links`, which GraphQL reads: no query
  ever waits on a region.
- **Resync**: a source that is stalled (no activity for ``stale_after`` seconds, or none at
  all) while the region's JetStream answers across the link (a probe: stream info of the
  region's stream, the one API call besides consumer-create a region lets through) is
  restarted with :func:`resync_region_source`: after a hub restart the server's own retry
  takes ~40 s, a resync ~1 s. Resyncs of one region are paced: the first at once, then
  ``resync_backoff`` (2 s doubling to 15 s) while the source stays stalled; back to the
  start once it delivers again. Also on a join of a region already sourced.
- **Reconnect**: when the gateway's connection to the hub comes back (the hub restarted),
  :meth:`Registrar.wake` checks every source at once instead of at the next tick, and the
  pacing starts over: the sources stalled by the restart are resynced within a second or
  two of the links returning.
- **Standby**: of several gateways on one read model only the projecting one (the lease
  holder, :mod:`services.gateway.lease`) answers joins and resyncs; the others only read
  the sources' state for their own GraphQL (``active=False``, :meth:`Registrar.set_active`).
- **Forged replies**: a region's user must be able to answer the hub's consumer-create
  requests on ``$JSC.R.>`` (the server picks those inboxes), so a region could answer
  another region's request first and leave that source waiting on a consumer that does not
  exist. Such a source shows no activity: the probe-and-resync above repairs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.nuid import NUID

from shared.messaging.jetstream import (
    JOIN_SUBSCRIPTION,
    SourceState,
    add_region_source,
    probe_inbox_prefix,
    region_from_join_subject,
    region_probe_subject,
    region_stream_name,
    resync_region_source,
    source_states,
)
from shared.runtime.tasks import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RegionLink:
    """How fresh NATIONAL's copy of a region is, as of ``checked_at`` (monotonic seconds)."""

    region: str
    events_behind: int  # the source's lag: messages the region has that NATIONAL has not
    source_active: float | None  # seconds since the source last heard from the region
    link_active: bool
    checked_at: float


class Registrar:
    """Answers join requests and watches NATIONAL's sources (see the module docstring)."""

    def __init__(
        self,
        nc: NATS,
        js: JetStreamContext,
        *,
        interval: float = 2.0,
        stale_after: float = 5.0,
        resync_backoff: tuple[float, float] = (2.0, 15.0),
        ping_timeout: float = 1.0,
        active: bool = True,
    ) -> None:
        self.active = active
        self.nc = nc
        self.js = js
        self.interval = interval
        self.stale_after = stale_after
        self.resync_backoff = resync_backoff
        self.ping_timeout = ping_timeout
        self.links: dict[str, RegionLink] = {}
        self.joins = 0
        self.resyncs = 0
        self._lock = asyncio.Lock()
        self._next_resync: dict[str, float] = {}  # region -> earliest next resync (monotonic)
        self._resync_wait: dict[str, float] = {}  # region -> pause after the next resync
        self._wake = asyncio.Event()
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._nuid = NUID()

    async def start(self) -> None:
        if self.active:
            self._sub = await self.nc.subscribe(JOIN_SUBSCRIPTION, cb=self._on_join)
        self._task = asyncio.create_task(self._watch(), name="gateway-registrar")

    async def set_active(self, active: bool) -> None:
        """Answer joins and resync (the projecting gateway), or only watch (a standby)."""
        self.active = active
        if active and self._sub is None and self._task is not None:
            self._sub = await self.nc.subscribe(JOIN_SUBSCRIPTION, cb=self._on_join)
            self.wake()
        elif not active and self._sub is not None:
            sub, self._sub = self._sub, None
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def summary(self) -> dict[str, object]:
        """For the gateway's /healthz: joins answered, resyncs done, each region's link."""
        return {
            "joins": self.joins,
            "resyncs": self.resyncs,
            "links": {
                region: {"link_active": link.link_active, "events_behind": link.events_behind}
                for region, link in sorted(self.links.items())
            },
        }

    # -- joining -----------------------------------------------------------------

    async def join(self, region: str) -> dict[str, object]:
        """Source ``region`` into NATIONAL (once); resync its source if it is stalled."""
        async with self._lock:
            added = await add_region_source(self.js, region)
            resynced = False
            if not added:
                state = (await source_states(self.js)).get(region)
                if state is None or (self._stalled(state) and not _stream_missing(state)):
                    resynced = await self._resync(region, force=True)
            self.joins += 1
        log.info("region %s joined (source added: %s, resynced: %s)", region, added, resynced)
        return {"region": region, "added": added, "resynced": resynced}

    async def _on_join(self, msg: Msg) -> None:
        region = region_from_join_subject(msg.subject)
        if region is None or not msg.reply:
            return
        try:
            answer = await self.join(region)
        except Exception as exc:  # the region retries; say why it was not sourced
            log.exception("join of region %s failed", region)
            answer = {"region": region, "error": f"{type(exc).__name__}: {exc}"}
        with contextlib.suppress(Exception):
            await msg.respond(json.dumps(answer).encode())

    # -- watching ----------------------------------------------------------------

    def wake(self) -> None:
        """Check every source now and let stalled ones resync at once (the connection to
        the hub has just come back: give as ``reconnected_cb``, or call from one)."""
        self._next_resync.clear()
        self._resync_wait.clear()
        self._wake.set()

    async def on_reconnected(self) -> None:
        """A nats-py ``reconnected_cb``."""
        log.info("registrar: connection to the hub is back; checking every source")
        self.wake()

    async def _watch(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the hub is restarting, NATIONAL not there yet, ...
                log.debug("registrar refresh failed: %r", exc)
            with contextlib.suppress(TimeoutError):  # not wait_for: see cancel_and_wait
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()

    async def refresh(self) -> Mapping[str, RegionLink]:
        """Read every source's state, ping the stalled ones, resync those whose link is up."""
        states = await source_states(self.js)
        now = time.monotonic()
        stalled = [r for r, state in states.items() if self.active and self._stalled(state)]
        answers = await asyncio.gather(*(self.ping(region) for region in stalled))
        reachable = {region for region, up in zip(stalled, answers, strict=True) if up}
        links: dict[str, RegionLink] = {}
        for region, state in states.items():
            active = not self._stalled(state)
            if active:  # delivering again: the next stall is resynced at once
                self._resync_wait.pop(region, None)
                self._next_resync.pop(region, None)
            elif region in reachable:
                active = True
                # Not while the region's stream does not exist yet ("stream not found"): the
                # server retries that by itself, and re-adding the source while its retry was
                # in flight lost messages of the first copy (seen in tests).
                if not _stream_missing(state):
                    async with self._lock:
                        await self._resync(region)
            links[region] = RegionLink(
                region=region,
                events_behind=state.lag,
                source_active=state.active,
                link_active=active,
                checked_at=now,
            )
        self.links = links
        return links

    def _stalled(self, state: SourceState) -> bool:
        return state.active is None or state.active > self.stale_after

    async def _resync(self, region: str, *, force: bool = False) -> bool:
        """Resync unless paced out (``force``: a join asks for it); then wait longer."""
        now = time.monotonic()
        if not force and now < self._next_resync.get(region, 0.0):
            return False
        first, longest = self.resync_backoff
        wait = self._resync_wait.get(region, first)
        self._next_resync[region] = now + wait
        self._resync_wait[region] = min(wait * 2, longest)
        done = await resync_region_source(self.js, region)
        if done:
            self.resyncs += 1
            log.info("resynced NATIONAL's source of region %s", region)
        return done

    async def ping(self, region: str) -> bool:
        """Does the region's JetStream answer across the leafnode link right now?

        Asks for the info of the region's stream (a region's user lets only that and
        consumer-create through) with the reply subject under ``mgnctl.<region>.``: only
        that region's user may publish there, so no other region can answer for it.
        """
        inbox = f"{probe_inbox_prefix(region)}.{self._nuid.next().decode()}"
        sub = await self.nc.subscribe(inbox, max_msgs=1)
        try:
            await self.nc.publish(region_probe_subject(region), b"", reply=inbox)
            reply = await sub.next_msg(timeout=self.ping_timeout)
            # No responders: the server itself answers with an empty 503 status message.
            if not reply.data or (reply.headers or {}).get("Status"):
                return False
            config = json.loads(reply.data).get("config") or {}
            return bool(config.get("name") == region_stream_name(region))
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


def _stream_missing(state: SourceState) -> bool:
    return state.error is not None and "not found" in state.error.lower()
