"""The outbox and processed-events tables every service keeps in its own database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)

from shared.storage.types import UtcDateTime


@dataclass(frozen=True, slots=True)
class MessagingTables:
    outbox: Table
    processed: Table
    marks: Table  # per aggregate: every sequence up to ``upto`` processed (shared.messaging.inbox)


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Define ``outbox``, ``processed_events`` and ``processed_marks`` in a service's
    ``metadata``."""
    outbox = Table(
        "outbox",
        metadata,
        Column(
            "id",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime(), nullable=True),
    )
    # The relay's query: unpublished rows in id order. A partial index keeps it small.
    Index(
        "ix_outbox_unpublished",
        outbox.c.id,
        sqlite_where=text("published_at IS NULL"),
        postgresql_where=text("published_at IS NULL"),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", UtcDateTime(), nullable=False),
        # Null on rows recorded before the marks existed (found by event_id, never pruned).
        Column("aggregate_id", String(36), nullable=True),
        Column("sequence", BigInteger, nullable=True),
    )
    Index("ix_processed_events_aggregate", processed.c.aggregate_id, processed.c.sequence)
    marks = Table(
        "processed_marks",
        metadata,
        Column("aggregate_id", String(36), primary_key=True),
        Column("upto", BigInteger, nullable=False),  # sequences 1..upto are all processed
        Column("ahead", Integer, nullable=False),  # rows of processed_events above upto
        # when the mark last moved (the commit of the batch that moved it); null on rows
        # written before the column existed
        Column("applied_at", UtcDateTime(), nullable=True),
    )
    return MessagingTables(outbox=outbox, processed=processed, marks=marks)
