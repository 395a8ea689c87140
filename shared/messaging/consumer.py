"""The one consumer stack: a durable JetStream pull consumer that applies events exactly
once to a SQL database. The national projection (the gateway) and the regional replicas
(meetings, feedback) all run it; only what they apply differs (a :data:`BatchApply`).

For each fetched batch: undecodable messages go to the dead-letter stream (with the
reason) and are acknowledged; the rest are applied in ONE transaction together with the
record of what was processed (:func:`shared.messaging.inbox.admit`); only after the commit
are they acknowledged. A crash anywhere leaves messages unacknowledged, so they are
redelivered, and the record makes the redelivery a no-op.

One retry and dead-letter policy (:func:`retry_delay`, :func:`is_transient`): when a batch
fails its events are applied one by one; an event that fails is nak'ed with a delay
growing from 0.5 s to a minute. A failure of the database or the network (the database
away, locked, a timeout) is retried for as long as it lasts and never dead-letters
anything; any other failure of the same event ``max_attempts`` deliveries in a row sends
it to the dead-letter stream with the reason, so one poisoned event does not stop the
others behind it.

Fast, ordered recovery: a batch being applied is kept alive with progress acknowledgements
(``+WPI``) so a slow commit is not redelivered under it; and when the consumer starts and
finds events a dead predecessor had fetched but never acknowledged, it resets the durable
to its ack floor (:func:`reset_consumer`), so they come again at once and in stream order,
instead of after the ack wait and behind newer events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts import DecodedEvent, EventDecodeError, decode
from shared.messaging.deadletter import send_to_deadletter
from shared.messaging.inbox import admit
from shared.messaging.reset import reset_consumer
from shared.messaging.tables import MessagingTables
from shared.messaging.takeover import take_over

log = logging.getLogger(__name__)

Projector = Callable[[AsyncSession, Sequence[DecodedEvent]], Awaitable[None]]
# Applies the events of a batch not applied before, in one transaction with the record of
# them; returns how many it applied (the rest were duplicates).
BatchApply = Callable[[Sequence[DecodedEvent]], Awaitable[int]]
JetStreamSource = JetStreamContext | Callable[[], JetStreamContext]

MAX_RETRY_DELAY = 60.0


def retry_delay(num_delivered: int) -> float:
    """0.5 s after the first failed delivery, doubling, at most a minute."""
    return float(min(0.5 * 2 ** max(num_delivered - 1, 0), MAX_RETRY_DELAY))


def is_transient(exc: BaseException) -> bool:
    """A failure of the database or the network rather than of the event: retried for as
    long as it lasts, never a reason to dead-letter."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | OSError | TimeoutError | ConnectionError)


def projecting(
    sessions: async_sessionmaker[AsyncSession], tables: MessagingTables, project: Projector
) -> BatchApply:
    """A :data:`BatchApply` that opens a transaction, admits the batch's new events
    (:func:`~shared.messaging.inbox.admit`) and hands them to ``project``."""

    async def apply(events: Sequence[DecodedEvent]) -> int:
        async with sessions() as session, session.begin():
            positions = await admit(session, tables, [e.envelope for e in events])
            fresh = [events[i] for i in positions]
            if fresh:
                await project(session, fresh)
        return len(fresh)

    return apply


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    batches: int = 0
    reclaimed: int = 0  # events taken back at start from a predecessor that died holding them
    retries: int = 0  # deliveries that failed to apply and were nak'ed for another try
    last_error: str = ""


@dataclass(frozen=True)
class ConsumerSpec:
    stream: str
    durable: str
    filter_subject: str | None = None
    deadletter_scope: str = "hub"
    batch_size: int = 500
    fetch_timeout: float = 1.0
    # After a batch smaller than batch_size, wait this long for more before applying it (0:
    # apply at once), unless the consumer was idle before it (its last fetch found nothing):
    # a steady trickle is applied in fewer, larger transactions at the price of up to this
    # much latency, while an isolated event is applied at once.
    linger: float = 0.0
    ack_wait: float = 30.0
    # deliveries of one event that fails to apply (not transiently) before dead-lettering
    max_attempts: int = 5
    # At start, take back at once what a dead predecessor fetched and never acknowledged.
    # Only for a durable with one worker at a time (the gateway's projection).
    reclaim_on_start: bool = True
    # Acknowledge a batch with ONE ack of its last settled message (AckPolicy.ALL) instead
    # of one per message: one publish per batch for the client, one ack for the server to
    # process. Only for a durable with one worker at a time. An existing durable's ack
    # policy cannot change: give a new durable name and, in ``replaces``, the name of the
    # explicit-ack durable it takes over from (:func:`shared.messaging.takeover.take_over`).
    ack_all: bool = False
    replaces: str | None = None


def _with_stream_seq(msg: Msg, event: DecodedEvent) -> DecodedEvent:
    """``event`` with the stream sequence of the message it came in (if it has one)."""
    try:
        seq = msg.metadata.sequence.stream
    except (ValueError, AttributeError, IndexError, TypeError):  # not a JetStream message
        return event
    return DecodedEvent(event.envelope, event.event, int(seq))


RESTART_DELAY = 1.0  # seconds before a crashed consumer loop starts again
# After a linger, how long the fetch of what arrived meanwhile may wait for a first event
# (the server answers at once when events are there).
MORE_WAIT = 0.05


async def keep_running(consumer: EventConsumer) -> None:
    """Run ``consumer``; an unexpected error restarts it after a second; only its
    :meth:`~EventConsumer.stop` (or a cancellation) ends this."""
    while not consumer.stopping:
        try:
            await consumer.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            consumer.stats.last_error = f"consumer: {type(exc).__name__}: {exc}"
            log.exception("%s stopped; restarting in %ss", consumer.spec.durable, RESTART_DELAY)
            await asyncio.sleep(RESTART_DELAY)


class EventConsumer:
    def __init__(self, js: JetStreamSource, apply: BatchApply, spec: ConsumerSpec) -> None:
        """``js``: the JetStream context, or a function giving it when :meth:`run` starts
        (a regional service connects after building its consumers)."""
        self._js_source = js
        self._apply = apply
        self.spec = spec
        self.stats = ConsumerStats()
        self._stopping = False
        self._running = False
        self._stopped = asyncio.Event()

    async def stop(self, timeout: float = 30.0) -> bool:
        """Ask :meth:`run` to finish the batch in hand (commit and acknowledge) and return.

        Prefer this to cancelling the task: a cancellation inside a database transaction
        can strand the connection (with aiosqlite it kept SQLite's write lock), and on
        Python 3.11 nats-py's fetch can swallow a cancellation. Returns False if ``run``
        did not end within ``timeout`` seconds (the caller may then cancel it).
        """
        self._stopping = True
        if not self._running:
            return True
        try:
            async with asyncio.timeout(timeout):
                await self._stopped.wait()
        except TimeoutError:
            return False
        return True

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def run(self) -> None:
        """Consume until :meth:`stop` (or cancellation)."""
        self._running = True
        self._stopped.clear()
        try:
            await self._consume()
        finally:
            self._running = False
            self._stopped.set()

    @property
    def _js(self) -> JetStreamContext:
        source = self._js_source
        return source if isinstance(source, JetStreamContext) else source()

    def consumer_config(self) -> ConsumerConfig:
        """The durable this consumer creates when it does not exist yet."""
        return ConsumerConfig(
            durable_name=self.spec.durable,
            ack_policy=AckPolicy.ALL if self.spec.ack_all else AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.spec.ack_wait,
            max_ack_pending=max(self.spec.batch_size * 4, 1000),
            filter_subject=self.spec.filter_subject,
        )

    async def _consume(self) -> None:
        config = self.consumer_config()
        if self.spec.replaces:
            await take_over(self._js, self.spec.stream, config, self.spec.replaces)
        sub = await self._js.pull_subscribe(
            self.spec.filter_subject or "",
            durable=self.spec.durable,
            stream=self.spec.stream,
            config=config,
        )
        if self.spec.reclaim_on_start:
            await self._reclaim()
        idle = True  # the last fetch found nothing: no trickle to wait for
        try:
            while not self._stopping:
                try:
                    msgs = await sub.fetch(self.spec.batch_size, timeout=self.spec.fetch_timeout)
                except (NatsTimeoutError, TimeoutError):
                    idle = True
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # connection trouble: nats-py reconnects; try again
                    self.stats.last_error = f"fetch: {type(exc).__name__}: {exc}"
                    log.warning("%s: %s", self.spec.durable, self.stats.last_error)
                    await asyncio.sleep(0.5)
                    continue
                if self.spec.linger > 0 and len(msgs) < self.spec.batch_size and not idle:
                    msgs = [*msgs, *await self._more(sub, self.spec.batch_size - len(msgs))]
                idle = False
                await self.handle(msgs)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _more(self, sub: JetStreamContext.PullSubscription, wanted: int) -> list[Msg]:
        """After a short batch, wait ``linger`` seconds and take what arrived meanwhile: a
        trickle of events is applied a few per transaction, not one by one. The batch's
        first event waits at most ``linger`` plus one short fetch (``MORE_WAIT``), not a
        second ``linger`` when nothing came."""
        await asyncio.sleep(self.spec.linger)
        try:
            return list(await sub.fetch(wanted, timeout=min(MORE_WAIT, self.spec.linger)))
        except (NatsTimeoutError, TimeoutError):
            return []
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the batch in hand is applied; the next fetch retries
            self.stats.last_error = f"fetch: {type(exc).__name__}: {exc}"
            return []

    async def _reclaim(self) -> None:
        info = await self._js.consumer_info(self.spec.stream, self.spec.durable)
        if not info.num_ack_pending:
            return
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        await reset_consumer(self._js, self.spec.stream, self.spec.durable)
        self.stats.reclaimed += info.num_ack_pending
        log.info(
            "%s: %d events fetched before a restart and never acknowledged are delivered "
            "again now, from stream sequence %d on",
            self.spec.durable,
            info.num_ack_pending,
            floor + 1,
        )

    async def handle(self, msgs: Sequence[Msg]) -> None:
        """Apply one fetched batch; every message ends acknowledged, dead-lettered or nak'ed."""
        # A timer, not a task per batch: the keeper starts only for a batch still being
        # worked after a third of the ack wait.
        interval = max(self.spec.ack_wait / 3, 0.2)
        keeper: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            interval,
            lambda: keeper.append(
                asyncio.create_task(
                    self._keep_alive(msgs, interval), name=f"{self.spec.durable}-wpi"
                )
            ),
        )
        try:
            await self._handle(msgs)
        finally:
            timer.cancel()
            for task in keeper:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @staticmethod
    async def _keep_alive(msgs: Sequence[Msg], interval: float) -> None:
        """Tell the server now and every ``interval`` s that the batch is still being worked."""
        while True:
            await asyncio.gather(*(msg.in_progress() for msg in msgs), return_exceptions=True)
            await asyncio.sleep(interval)

    async def _handle(self, msgs: Sequence[Msg]) -> None:
        self.stats.batches += 1
        decoded: list[tuple[int, DecodedEvent]] = []  # (position in msgs, event)
        settled: set[int] = set()  # positions applied (or duplicates) or dead-lettered
        for i, msg in enumerate(msgs):
            try:
                decoded.append((i, _with_stream_seq(msg, decode(msg.data, msg.subject))))
            except EventDecodeError as exc:
                if await self._reject(msg, exc.reason, str(exc)):
                    settled.add(i)
        if decoded:
            try:
                await self.apply_batch([event for _, event in decoded])
            except Exception as exc:
                self.stats.last_error = f"batch: {type(exc).__name__}: {exc}"
                log.warning("%s: batch failed (%s); applying one by one", self.spec.durable, exc)
                for i, event in decoded:
                    if await self._apply_one(msgs[i], event):
                        settled.add(i)
            else:
                settled.update(i for i, _ in decoded)
        await self._acknowledge(msgs, settled)

    async def _acknowledge(self, msgs: Sequence[Msg], settled: set[int]) -> None:
        """Acknowledge the settled messages of a batch (each ack only buffers a publish).

        With ``ack_all``, one ack of the last message before the first unsettled one: an
        AckAll acknowledges every earlier message too, so none past an unsettled (nak'ed)
        one may be acknowledged; those come again after the ack wait, as duplicates."""
        if not self.spec.ack_all:
            for i in sorted(settled):
                await msgs[i].ack()
            return
        last = -1
        while last + 1 in settled:
            last += 1
        if last >= 0:
            await msgs[last].ack()

    async def apply_batch(self, events: Sequence[DecodedEvent]) -> None:
        """Apply the events not applied before, and record them, in one transaction."""
        applied = await self._apply(events)
        self.stats.applied += applied
        self.stats.duplicates += len(events) - applied

    async def _apply_one(self, msg: Msg, event: DecodedEvent) -> bool:
        """Apply one event of a failed batch; True if it is settled (applied, a duplicate or
        dead-lettered), False if it was nak'ed for another try."""
        try:
            await self.apply_batch([event])
        except Exception as exc:
            attempts = (msg.metadata.num_delivered if msg.metadata else None) or 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            if attempts >= self.spec.max_attempts and not is_transient(exc):
                return await self._reject(msg, "apply_failed", self.stats.last_error)
            self.stats.retries += 1
            log.warning(
                "%s: applying %s failed (delivery %d), retrying: %s",
                self.spec.durable,
                event.envelope.event_id,
                attempts,
                self.stats.last_error,
            )
            await msg.nak(delay=retry_delay(attempts))
            return False
        return True

    async def _reject(self, msg: Msg, reason: str, detail: str) -> bool:
        """Send ``msg`` to the dead-letter stream; True if it is there (the caller then
        acknowledges it), False if it was nak'ed because the dead-letter stream did not
        take it."""
        try:
            await send_to_deadletter(
                self._js,
                msg,
                scope=self.spec.deadletter_scope,
                consumer=self.spec.durable,
                reason=reason,
                detail=detail,
            )
        except Exception as exc:  # dead-letter stream unavailable: keep the message
            log.error("%s: cannot dead-letter (%s); will retry", self.spec.durable, exc)
            await msg.nak(delay=5.0)
            return False
        self.stats.dead_lettered += 1
        return True
