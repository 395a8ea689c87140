"""FastStream subscriber keeping the local replica of the groups service's data.

A durable pull consumer on the region's own stream, filtered to the groups service's
subjects, with manual acknowledgement: decode -> handler (change + processed event id in
one transaction) -> ack after the commit. Undecodable messages go to the region's
dead-letter stream, then are acked; a failure to apply is nak'ed with a growing delay
(never ``term``: the event must not be lost).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js import JetStreamContext
from nats.js.api import AckPolicy as JsAckPolicy

from shared.contracts import DecodedEvent, EventDecodeError, decode
from shared.contracts.subjects import service_filter
from shared.messaging.deadletter import send_to_deadletter
from shared.messaging.jetstream import region_stream_name

log = logging.getLogger(__name__)

REPLICA_DURABLE = "meetings-groups-replica"
MAX_RETRY_DELAY = 60.0

Apply = Callable[[DecodedEvent], Awaitable[bool]]


@dataclass
class ReplicaStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0
    last_error: str = ""


def retry_delay(num_delivered: int) -> float:
    """0.5 s after the first failed delivery, doubling, at most a minute."""
    return float(min(0.5 * 2 ** max(num_delivered - 1, 0), MAX_RETRY_DELAY))


async def _raw_body(msg: StreamMessage[Any]) -> bytes:
    # Keep FastStream from JSON-decoding: the contracts' codec does that, with typed errors.
    return msg.body


class GroupsReplicaConsumer:
    def __init__(
        self, *, region: str, apply: Apply, jetstream: Callable[[], JetStreamContext]
    ) -> None:
        self.region = region
        self._apply = apply
        self._jetstream = jetstream
        self.stats = ReplicaStats()

    def register(self, broker: NatsBroker, *, batch_size: int = 50) -> None:
        """Add the subscriber to ``broker`` (before the broker starts)."""

        async def on_groups_event(msg: NatsMessage) -> None:
            """Groups, memberships (join, leave, pause, rejoin), persons and their consents
            of the region, for host, attendance and recording-consent checks."""
            await self.handle(msg)

        broker.subscriber(
            service_filter(self.region, "groups"),
            stream=JStream(name=region_stream_name(self.region), declare=False),
            durable=REPLICA_DURABLE,
            pull_sub=PullSub(batch_size=batch_size, timeout=1.0),
            config=ConsumerConfig(
                ack_policy=JsAckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=30,
                max_deliver=-1,
                max_ack_pending=1000,
            ),
            ack_policy=AckPolicy.MANUAL,
            decoder=_raw_body,
            title=f"{REPLICA_DURABLE}:consume",
            description="Groups service events (GroupCreated, MemberJoined, MemberLeft, "
            "MemberPaused, MemberRejoined, PersonRegistered, ConsentGiven, ConsentWithdrawn, "
            "PersonErased) kept as the meetings service's local replica.",
        )(on_groups_event)

    async def handle(self, msg: NatsMessage) -> None:
        raw = msg.raw_message
        try:
            decoded = decode(raw.data, raw.subject)
        except EventDecodeError as err:
            await self._dead_letter(msg, err)
            return
        try:
            applied = await self._apply(decoded)
        except Exception as exc:
            attempts = raw.metadata.num_delivered if raw.metadata else 1
            self.stats.retries += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "%s: applying %s failed (delivery %s), retrying: %s",
                REPLICA_DURABLE,
                decoded.envelope.event_id,
                attempts,
                self.stats.last_error,
            )
            await msg.nack(delay=retry_delay(attempts or 1))
            return
        if applied:
            self.stats.applied += 1
        else:
            self.stats.duplicates += 1
        await msg.ack()

    async def _dead_letter(self, msg: NatsMessage, err: EventDecodeError) -> None:
        try:
            await send_to_deadletter(
                self._jetstream(),
                msg.raw_message,
                scope=self.region,
                consumer=REPLICA_DURABLE,
                reason=err.reason,
                detail=str(err),
            )
        except Exception as exc:  # no dead-letter stream reachable: keep the message
            self.stats.last_error = f"dead-letter: {type(exc).__name__}: {exc}"
            log.error("%s: cannot dead-letter, will retry: %s", REPLICA_DURABLE, exc)
            await msg.nack(delay=5.0)
            return
        self.stats.dead_lettered += 1
        await msg.ack()
