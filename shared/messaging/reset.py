"""Reset a durable consumer's delivery state (nats-server 2.14+, ``$JS.API.CONSUMER.RESET``).

After a reset the consumer forgets what it had delivered and not yet seen acknowledged, and
delivers again from ``seq`` (0: right after its ack floor), in stream order. Verified with
nats-server 2.15: a consumer with delivered 10, ack floor 2 and 8 pending redelivered 3, 4,
5, ... at once, each with ``num_delivered`` 1.
"""

from __future__ import annotations

import json

from nats.js import JetStreamContext


async def reset_consumer(js: JetStreamContext, stream: str, durable: str, seq: int = 0) -> int:
    """Reset ``durable`` on ``stream`` to deliver from ``seq`` next (0: after its ack floor);
    return the stream sequence it was reset to. Raises nats' APIError if the server refuses
    (e.g. no such consumer)."""
    # JetStreamContext has no method for it yet: the request its own methods send.
    prefix: str = js._prefix
    answer = await js._api_request(
        f"{prefix}.CONSUMER.RESET.{stream}.{durable}", json.dumps({"seq": seq}).encode()
    )
    return int(answer.get("reset_seq", seq))
