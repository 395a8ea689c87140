"""FastStream subscribers feeding the feedback service from the region's stream.

Two durable pull consumers with manual acknowledgement, one on the meetings service's
subjects (MeetingHeld opens a survey) and one on the groups service's (persons, erasure,
members leaving): decode -> handler (change + processed event id in one transaction) ->
ack after the commit. Undecodable messages go to the region's dead-letter stream, then are
acked; a failure to apply is nak'ed with a growing delay (never ``term``).
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

MEETINGS_DURABLE = "feedback-meetings"
GROUPS_DURABLE = "feedback-groups"
MAX_RETRY_DELAY = 60.0

Apply = Callable[[DecodedEvent], Awaitable[bool]]


@dataclass
class ConsumerStats:
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


class ReplicaConsumer:
    """Consumes one other service's events of the region (``source``: meetings, groups)."""

    def __init__(
        self,
        *,
        region: str,
        source: str,
        durable: str,
        description: str,
        apply: Apply,
        jetstream: Callable[[], JetStreamContext],
    ) -> None:
        self.region = region
        self.source = source
        self.durable = durable
        self.description = description
        self._apply = apply
        self._jetstream = jetstream
        self.stats = ConsumerStats()

    def register(self, broker: NatsBroker, *, batch_size: int = 50) -> None:
        """Add the subscriber to ``broker`` (before the broker starts)."""

        async def on_event(msg: NatsMessage) -> None:
            await self.handle(msg)

        broker.subscriber(
            service_filter(self.region, self.source),
            stream=JStream(name=region_stream_name(self.region), declare=False),
            durable=self.durable,
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
            title=f"{self.durable}:consume",
            description=self.description,
        )(on_event)

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
                self.durable,
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
                consumer=self.durable,
                reason=err.reason,
                detail=str(err),
            )
        except Exception as exc:  # no dead-letter stream reachable: keep the message
            self.stats.last_error = f"dead-letter: {type(exc).__name__}: {exc}"
            log.error("%s: cannot dead-letter, will retry: %s", self.durable, exc)
            await msg.nack(delay=5.0)
            return
        self.stats.dead_lettered += 1
        await msg.ack()
