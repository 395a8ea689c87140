"""A gateway read model for tests of the coding workspace (tests/unit/test_gateway_coding.py,
test_gateway_table1.py): regions' groups with held meetings and memos, the first codebook,
and GraphQL calls as a given caller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.gateway.auth.guard import Guard, Role
from services.gateway.graphql import GatewayContext, schema
from services.gateway.orm import metadata
from services.gateway.projections import project
from services.gateway.research.store import ensure_first_codebook
from shared.contracts import (
    DecodedEvent,
    GroupCreated,
    MeetingHeld,
    MeetingScheduled,
    MemoPublished,
    decode,
    encode,
    make_envelope,
)
from shared.contracts.base import Event
from shared.storage import create_engine, create_schema, session_factory
from shared.storage.migrations import migrate, version_table

T0 = datetime(2024, 3, 5, 16, 0, tzinfo=UTC)
ANNA_ID, BO_ID, CAJ_ID = "anna00000001", "bo0000000002", "caj000000003"
ANNA = Guard(Role.RESEARCHER, token_id=ANNA_ID)
BO = Guard(Role.RESEARCHER, token_id=BO_ID)
CAJ = Guard(Role.RESEARCHER, token_id=CAJ_ID)
AGENCY = Guard(Role.AGENCY, region="oulu", token_id="agency000001")
PUBLIC = Guard(Role.PUBLIC, token_id="public000001")
MEMO = "The host told of a cash-flow gap. Two members will share a booth at the fair."

Sessions = async_sessionmaker[AsyncSession]
MIGRATIONS = Path(__file__).parents[2] / "services" / "gateway" / "migrations"


def group_events(
    region: str, name: str, meetings: int, first: datetime = T0
) -> tuple[list[DecodedEvent], str, list[str]]:
    """A group of ``region`` with ``meetings`` held meetings a month apart, each with a memo:
    the events, the group's id and the meetings' ids."""
    events: list[DecodedEvent] = []
    seq: dict[uuid.UUID, int] = {}

    def emit(event: Event, aggregate: uuid.UUID) -> None:
        seq[aggregate] = n = seq.get(aggregate, 0) + 1
        env = make_envelope(
            event, region=region, aggregate_id=aggregate, sequence=n, occurred_at=T0
        )
        events.append(decode(encode(env)))

    group, host = uuid.uuid4(), uuid.uuid4()
    emit(GroupCreated(group_id=group, name=name, founded_on=date(2015, 1, 1)), group)
    ids = []
    for i in range(meetings):
        m = uuid.uuid4()
        starts = first + timedelta(days=30 * i)
        emit(
            MeetingScheduled(
                meeting_id=m, group_id=group, host_member_id=host, theme="T", starts_at=starts
            ),
            m,
        )
        emit(MeetingHeld(meeting_id=m, group_id=group, held_at=starts), m)
        emit(MemoPublished(meeting_id=m, group_id=group, summary=MEMO), m)
        ids.append(str(m))
    return events, str(group), ids


@dataclass
class Desk:
    engine: AsyncEngine
    sessions: Sessions
    meetings: list[str]
    wenger: str = ""  # the first codebook's id
    groups: dict[str, str] = field(default_factory=dict)  # name -> id

    async def run(self, query: str, guard: Guard = ANNA, /, **variables: Any) -> Any:
        ctx = GatewayContext.create(self.sessions, guard=guard, write_sessions=self.sessions)
        return await schema.execute(query, variable_values=variables, context_value=ctx)

    async def ok(self, query: str, guard: Guard = ANNA, /, **variables: Any) -> dict[str, Any]:
        result = await self.run(query, guard, **variables)
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    async def refused(self, query: str, guard: Guard = ANNA, /, **variables: Any) -> dict[str, Any]:
        result = await self.run(query, guard, **variables)
        assert result.errors, result.data
        return dict(result.errors[0].extensions or {}) | {"message": result.errors[0].message}


async def open_desk(
    database_url: str, *groups: tuple[str, str, int], migrated: bool = False
) -> Desk:
    """A read model with ``groups`` (region, name, meetings) and the first codebook;
    ``migrated``: its schema from the gateway's migrations (else from ``metadata``)."""
    engine = create_engine(database_url)
    if migrated:
        await migrate(engine, MIGRATIONS, version_table=version_table("gateway"))
    else:
        await create_schema(engine, metadata)
    sessions = session_factory(engine)
    desk = Desk(engine, sessions, [])
    events = []
    for region, name, count in groups:
        built, group, ids = group_events(region, name, count)
        events += built
        desk.groups[name] = group
        desk.meetings += ids
    async with sessions() as session, session.begin():
        await project(session, events)
        await ensure_first_codebook(session)
        await ensure_first_codebook(session)  # idempotent
    data = await desk.ok('{ codebooks(key: "wenger") { id version } }')
    desk.wenger = data["codebooks"][0]["id"]
    return desk
