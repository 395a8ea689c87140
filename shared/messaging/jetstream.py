"""The federation's JetStream streams: one per region, NATIONAL at the hub, DEADLETTER.

- ``REGION_<REGION>`` lives in the region's own JetStream domain (create it through a
  connection to the region's leaf server) and holds ``mgn.<region>.>``.
- ``NATIONAL`` lives at the hub, has no subjects of its own and sources every region
  stream across the leafnode link through ``$JS.<region>.API``, each source filtered to
  ``mgn.<region>.>`` so a region cannot forge another region's events into the nation.
- Every ``ensure_*`` is idempotent: it creates the stream, or updates it when the
  settings we own differ, passing the server's full config back (an update replaces the
  whole config, so a partial one would reset what it leaves out).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import (
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
    StreamSource,
)
from nats.js.errors import NotFoundError

from shared.contracts.subjects import region_filter, validate_region

NATIONAL_STREAM = "NATIONAL"
DEADLETTER_STREAM = "DEADLETTER"
REGION_STREAM_PREFIX = "REGION_"
REGION_MAX_AGE = 365 * 24 * 3600.0  # seconds
DUPLICATE_WINDOW = 120.0  # seconds

_NS = 1_000_000_000
# The settings each ensure_* owns; anything else on the server is left as it is.
_OWNED = (
    "subjects",
    "retention",
    "storage",
    "max_age",
    "duplicate_window",
    "description",
    "num_replicas",  # 1 -> 3 when a hub becomes a cluster: the server adds the copies
)
_source_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


class WrongDomainError(RuntimeError):
    """A JetStream context points at another domain than the stream belongs in."""


class SourceConflictError(RuntimeError):
    """NATIONAL already has a source of that name with other settings (a hand edit?)."""


def region_stream_name(region: str) -> str:
    """``REGION_OULU`` for ``oulu``."""
    return REGION_STREAM_PREFIX + validate_region(region).upper()


def region_api_prefix(region: str) -> str:
    """The JetStream API prefix through which the hub reaches a region's domain."""
    return f"$JS.{validate_region(region)}.API"


def region_from_api_prefix(api: str) -> str | None:
    """``oulu`` for ``$JS.oulu.API``; ``None`` for anything else."""
    parts = api.split(".")
    if len(parts) == 3 and parts[0] == "$JS" and parts[2] == "API":
        return parts[1]
    return None


def region_stream_config(region: str) -> StreamConfig:
    return StreamConfig(
        name=region_stream_name(region),
        description=f"Events of region {region}",
        subjects=[region_filter(region)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=REGION_MAX_AGE,
        duplicate_window=DUPLICATE_WINDOW,
    )


def national_stream_config(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=NATIONAL_STREAM,
        description="Every region's events, sourced across the leafnode links",
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW,
        num_replicas=replicas,
    )


def deadletter_stream_config(scope: str = "hub", replicas: int = 1) -> StreamConfig:
    """``DEADLETTER`` on ``deadletter.<scope>.>``: scope ``hub`` at the hub, the region id
    in a region's domain. Distinct subjects per domain keep the two from storing each
    other's dead letters across the leafnode link."""
    return StreamConfig(
        name=DEADLETTER_STREAM,
        description="Events a consumer could not parse or apply, with the reason",
        subjects=[f"deadletter.{scope}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW,
        num_replicas=replicas,
    )


def region_deliver_prefix(region: str) -> str:
    """``mgnctl.<region>.src``: where the region's source consumer delivers to the hub.

    Each region has its own prefix (the server's default, ``$JS.S``, is shared by every
    source), so a region's user may publish deliveries to its own source only: with the
    shared prefix it could inject messages, or forged flow-control requests whose reply the
    hub then "answers" on any subject, into another region's source.
    """
    return f"{CONTROL_PREFIX}.{validate_region(region)}.src"


def region_source(region: str) -> StreamSource:
    """NATIONAL's source for one region: across the link, filtered to the region's subjects,
    delivered under the region's own prefix (:func:`region_deliver_prefix`)."""
    return StreamSource(
        name=region_stream_name(region),
        external=ExternalStream(
            api=region_api_prefix(region), deliver=region_deliver_prefix(region)
        ),
        filter_subject=region_filter(region),
    )


def _norm(value: Any, name: str = "") -> Any:
    # The server reports an empty subject list / unlimited age as None, [] or 0.
    if name == "num_replicas":
        return value or 1  # not given: one copy
    return value or None


async def ensure_stream(js: JetStreamContext, wanted: StreamConfig) -> StreamInfo:
    """Create ``wanted``, or update the settings in ``_OWNED`` that differ; keep the rest."""
    if not wanted.name:
        raise ValueError("a stream config needs a name")
    try:
        info = await js.stream_info(wanted.name)
    except NotFoundError:
        return await js.add_stream(wanted)
    current = info.config
    changes = {
        name: getattr(wanted, name)
        for name in _OWNED
        if _norm(getattr(current, name), name) != _norm(getattr(wanted, name), name)
    }
    if not changes:
        return info
    return await js.update_stream(current.evolve(**changes))


async def ensure_region_stream(js: JetStreamContext, region: str) -> StreamInfo:
    """``REGION_<REGION>``; ``js`` must reach the region's own domain (its leaf server),
    or a standalone server without a domain (a region not federated yet, development).

    Raises :class:`WrongDomainError` for any other domain: created at the hub, the stream
    would capture the region's subjects there too.
    """
    domain = (await js.account_info()).domain
    if domain is not None and domain != region:
        raise WrongDomainError(
            f"{region_stream_name(region)} belongs in JetStream domain {region!r}, "
            f"but this context reaches domain {domain!r}"
        )
    return await ensure_stream(js, region_stream_config(region))


async def ensure_national_stream(js: JetStreamContext, *, replicas: int = 1) -> StreamInfo:
    """``NATIONAL`` at the hub (``replicas`` 3 on a clustered hub); keeps the sources."""
    return await ensure_stream(js, national_stream_config(replicas))


async def ensure_deadletter_stream(
    js: JetStreamContext, scope: str = "hub", *, replicas: int = 1
) -> StreamInfo:
    return await ensure_stream(js, deadletter_stream_config(scope, replicas))


def _same_source(a: StreamSource, b: StreamSource) -> bool:
    return _same_origin(a, b) and _deliver(a) == _deliver(b)


def _same_origin(a: StreamSource, b: StreamSource) -> bool:
    """The same region stream, reached the same way, filtered the same (delivery aside)."""
    api_a = a.external.api if a.external else None
    api_b = b.external.api if b.external else None
    return a.name == b.name and api_a == api_b and a.filter_subject == b.filter_subject


def _deliver(source: StreamSource) -> str | None:
    return (source.external.deliver if source.external else None) or None


def _source_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _source_locks.get(loop)
    if lock is None:
        lock = _source_locks[loop] = asyncio.Lock()
    return lock


async def add_region_source(js: JetStreamContext, region: str) -> bool:
    """Add the region's source to NATIONAL unless it is there; True if this call added it.

    The region's earlier events are copied in too, so onboarding needs no hub restart.
    A source that differs only in its delivery prefix (added before sources had one) is
    replaced in place: the server resumes after the last message it copied from it.
    Raises :class:`SourceConflictError` if a source of the same name has other settings:
    replacing it could copy the region's history a second time, so a person decides.
    """
    wanted = region_source(region)
    async with _source_lock():
        info = await js.stream_info(NATIONAL_STREAM)
        sources = list(info.config.sources or [])
        for i, source in enumerate(sources):
            if _same_source(source, wanted):
                return False
            if _same_origin(source, wanted):
                sources[i] = wanted
                await js.update_stream(info.config.evolve(sources=sources))
                return True
            if source.name == wanted.name:
                raise SourceConflictError(
                    f"{NATIONAL_STREAM} has a source {source.name} with other settings: "
                    f"{source.as_dict()}; expected {wanted.as_dict()}"
                )
        await js.update_stream(info.config.evolve(sources=[*sources, wanted]))
        return True


async def resync_region_source(js: JetStreamContext, region: str) -> bool:
    """Make NATIONAL re-create its consumer on the region now; False if there is no source.

    After the hub restarts (or a region's leaf server does), the server's own retry sends a
    consumer-create request while the link is still down and waits 30 s for an answer
    (``srcConsumerWaitTime``, hard-coded) plus a 10 s backoff: measured 25-40 s before
    NATIONAL catches up. Removing and re-adding the source once the link is back restarts
    it at once; the server resumes after the last message NATIONAL already copied from
    that source, so nothing is copied twice (measured: caught up in ~2 s, no duplicates).
    Should the second update fail, :func:`add_region_source` puts the source back.
    A source of the region without its delivery prefix (added before sources had one; with
    today's rights it cannot deliver) comes back with it.
    """
    wanted = region_source(region)
    async with _source_lock():
        info = await js.stream_info(NATIONAL_STREAM)
        sources = list(info.config.sources or [])
        index = next((i for i, s in enumerate(sources) if _same_origin(s, wanted)), None)
        if index is None:
            return False
        others = sources[:index] + sources[index + 1 :]
        await js.update_stream(info.config.evolve(sources=others))
        sources[index] = wanted
        await js.update_stream(info.config.evolve(sources=sources))
        return True


@dataclass(frozen=True, slots=True)
class SourceState:
    """How fresh NATIONAL's copy of one region is."""

    region: str
    stream: str
    lag: int  # messages the region has that NATIONAL has not copied yet
    active: float | None  # seconds since the source last delivered; None: never/not now
    error: str | None = None


async def source_states(js: JetStreamContext) -> dict[str, SourceState]:
    """Per region (keyed by region id), the freshness of NATIONAL's source."""
    info = await js.stream_info(NATIONAL_STREAM)
    region_of = {
        src.name: region_from_api_prefix(src.external.api)
        for src in info.config.sources or []
        if src.external is not None
    }
    states: dict[str, SourceState] = {}
    for src in info.sources or []:
        region = region_of.get(src.name)
        if region is None:
            continue
        active = src.active if src.active is not None and src.active >= 0 else None
        error = src.error.get("description") if src.error else None
        states[region] = SourceState(
            region=region,
            stream=src.name,
            lag=src.lag or 0,
            active=None if active is None else active / _NS,
            error=str(error) if error is not None else None,
        )
    return states


# -- onboarding: the join request and a region's broker permissions ------------------------
#
# A region asks the hub to source its stream with a core NATS request on ``mgnctl.<region>.join``.
# Not under ``mgn.<region>.>``: the region's own stream captures that, so a request there would be
# stored as an event (and copied into NATIONAL) and answered at once by the region's JetStream
# with a PubAck instead of by the hub. The reply comes back on ``mgnctl.<region>.inbox.>``.
CONTROL_PREFIX = "mgnctl"
JOIN_SUBSCRIPTION = f"{CONTROL_PREFIX}.*.join"


def join_subject(region: str) -> str:
    """``mgnctl.<region>.join``: where a regional node asks the hub's registrar to source it."""
    return f"{CONTROL_PREFIX}.{validate_region(region)}.join"


def join_inbox_prefix(region: str) -> str:
    """The inbox prefix of a region's join client: the hub's reply crosses the link there."""
    return f"{CONTROL_PREFIX}.{validate_region(region)}.inbox"


def region_from_join_subject(subject: str) -> str | None:
    """``oulu`` for ``mgnctl.oulu.join``; ``None`` for anything else (or an invalid id)."""
    parts = subject.split(".")
    if len(parts) != 3 or parts[0] != CONTROL_PREFIX or parts[2] != "join":
        return None
    try:
        return validate_region(parts[1])
    except ValueError:
        return None


def region_user_permissions(region: str) -> dict[str, dict[str, list[str]]]:
    """Exactly what a region's leafnode user at the hub needs (verified on nats-server 2.15).

    Seen from the hub, "publish" is what may flow from the region and "subscribe" what may
    flow to it.

    publish: its own events (``mgn.<region>.>``); its control subjects
    (``mgnctl.<region>.>``: join requests and its source's deliveries under
    :func:`region_deliver_prefix`); replies to the hub's consumer-create requests
    (``$JSC.R.>``: the server picks those inboxes, no narrower pattern exists).

    subscribe: the only JetStream API calls the hub makes to the region (create the
    source consumer on ``REGION_<R>``; stream info of it, the registrar's probe), the flow
    control replies of that consumer (``$JS.FC.REGION_<R>.>``) and the replies to its
    own control requests. Nothing else of the region's JetStream API (purge, delete,
    message get, consumers on other streams) can be reached through the link, whoever asks.
    """
    region = validate_region(region)
    stream = region_stream_name(region)
    api = region_api_prefix(region)
    return {
        "publish": {"allow": [region_filter(region), f"{CONTROL_PREFIX}.{region}.>", "$JSC.R.>"]},
        "subscribe": {
            "allow": [
                f"{api}.CONSUMER.CREATE.{stream}.>",
                f"{api}.STREAM.INFO.{stream}",
                f"$JS.FC.{stream}.>",
                f"{join_inbox_prefix(region)}.>",
            ]
        },
    }


def probe_inbox_prefix(region: str) -> str:
    """Where the region answers the registrar's probe: under its own control prefix, which
    only the region's user may publish to (unlike ``$JSC.R.>``, shared by every region)."""
    return f"{CONTROL_PREFIX}.{validate_region(region)}.probe"


def region_probe_subject(region: str) -> str:
    """The JetStream API call the registrar uses to ask whether a region answers."""
    return f"{region_api_prefix(region)}.STREAM.INFO.{region_stream_name(region)}"
