"""Dead letters: messages a consumer cannot apply are kept, with the reason, never dropped."""

from __future__ import annotations

import logging

from nats.aio.msg import Msg
from nats.js import JetStreamContext

log = logging.getLogger(__name__)

REASON_HEADER = "Mgn-Dead-Letter-Reason"
DETAIL_HEADER = "Mgn-Dead-Letter-Detail"
SUBJECT_HEADER = "Mgn-Original-Subject"
CONSUMER_HEADER = "Mgn-Consumer"


def deadletter_subject(scope: str, consumer: str) -> str:
    """``deadletter.<scope>.<consumer>``; scope is ``hub`` or a region id."""
    return f"deadletter.{scope}.{consumer}"


async def send_to_deadletter(
    js: JetStreamContext, msg: Msg, *, scope: str, consumer: str, reason: str, detail: str
) -> None:
    """Publish ``msg``'s body to the dead-letter stream with why it was refused.

    Raises if the dead-letter stream does not acknowledge: the caller must then leave the
    original message unacknowledged, so it is redelivered rather than lost.
    """
    headers = {
        REASON_HEADER: reason,
        DETAIL_HEADER: detail.replace("\r", " ").replace("\n", " ")[:1000],
        SUBJECT_HEADER: msg.subject,
        CONSUMER_HEADER: consumer,
    }
    original_id = (msg.headers or {}).get("Nats-Msg-Id")
    if original_id:
        headers["Nats-Msg-Id"] = f"dl:{consumer}:{original_id}"
    await js.publish(deadletter_subject(scope, consumer), msg.data, headers=headers)
    log.warning("dead-lettered %s from %s: %s: %s", original_id, msg.subject, reason, detail)
