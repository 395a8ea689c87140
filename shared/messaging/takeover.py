"""A new durable consumer taking over from an old one on the same stream and filter.

A durable's ack policy cannot change on the server (nats-server refuses the update), so a
consumer that moves from an ack per message (``AckPolicy.EXPLICIT``) to one ack per batch
(``AckPolicy.ALL``) needs a durable of another name. :func:`take_over` creates it where the
old one stands and deletes the old one, so that no event is lost and none is applied twice:

- the new durable starts at the old one's **ack floor + 1**: every event above the floor is
  delivered again, also those the old durable had delivered and seen acknowledged one by one
  above it (explicit acks can leave such gaps). Those arrive as duplicates, which the
  consumer's record of processed events (:mod:`shared.messaging.inbox`, in the same
  transaction as their effect) turns into no-ops. Nothing below the floor can be missing:
  the floor only passes events that were acknowledged, i.e. applied and committed.
- the new durable is created before the old one is deleted: a crash in between leaves both,
  and the next start finds the new one and deletes the old one (the new one keeps its own
  position). An old process still consuming meanwhile changes nothing either: what it
  applies after the floor was read comes again to the new durable as a duplicate.
- without an old durable (a new region) the new one starts at the stream's beginning, as
  any durable does.

Going back to code that uses the old name re-creates it from the stream's beginning: the
region's whole stream is delivered again, all duplicates, applied as no-ops.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)


async def take_over(
    js: JetStreamContext, stream: str, config: ConsumerConfig, old: str
) -> int | None:
    """Make sure durable ``config.durable_name`` exists on ``stream`` and ``old`` does not.

    Creates the new durable (with ``config``) at ``old``'s ack floor + 1 if ``old`` exists
    and the new one does not, then deletes ``old``. Returns the stream sequence the new
    durable was created to start at, or ``None`` if this call did not create it from
    ``old`` (it existed, or there was no ``old``: then ``config`` is left to the caller).
    """
    new = config.durable_name
    if not new or new == old:
        raise ValueError(f"a take-over needs a new durable name, not {new!r} from {old!r}")
    try:
        old_info = await js.consumer_info(stream, old)
    except NotFoundError:
        return None
    start: int | None = None
    try:
        await js.consumer_info(stream, new)
    except NotFoundError:
        floor = old_info.ack_floor.stream_seq if old_info.ack_floor else 0
        start = (floor or 0) + 1
        await js.add_consumer(
            stream,
            config=replace(
                config, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start
            ),
        )
    with contextlib.suppress(NotFoundError):  # deleted meanwhile by another taking over
        await js.delete_consumer(stream, old)
    log.info(
        "%s: durable %s took over from %s%s",
        stream,
        new,
        old,
        f" at stream sequence {start}" if start is not None else " (it existed already)",
    )
    return start
