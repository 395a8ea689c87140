"""A national read model of two regions whose every free text is marked, served by the
gateway's own HTTP app with a real token for each role (tests of leaks and of exports)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.app import Gateway, build
from services.gateway.auth import create_token
from services.gateway.projections import project
from services.gateway.research import store
from services.gateway.research.coding import CodingInput, MarkInput
from services.gateway.research.tables import codebooks, coding_marks, codings, panel_persons
from services.gateway.settings import GatewaySettings
from shared.contracts import (
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    Event,
    FacilitatorAssigned,
    GroupCreated,
    InitiativeStarted,
    InitiativeUpdated,
    InterviewRecorded,
    MeetingCancelled,
    MeetingHeld,
    MeetingScheduled,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    MemoPublished,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
    decode,
    encode,
    make_envelope,
)
from shared.storage.migrations import migrate, version_table

REGIONS = ("kainuu", "oulu")  # kainuu first: the old national example took its text
ROLES = ("public", "researcher", *(f"agency:{r}" for r in REGIONS))
T0 = datetime(2024, 3, 12, 17, 0, tzinfo=UTC)


def marker(region: str) -> str:
    return f"{region.upper()}-OWN"


@dataclass
class Region:
    """One region's events, its texts all marked, and the ids of what it holds."""

    name: str
    events: list[Any] = field(default_factory=list)
    seq: dict[uuid.UUID, int] = field(default_factory=dict)
    rows: set[str] = field(default_factory=set)  # ids nobody else may see
    aggregate_ids: set[str] = field(default_factory=set)  # group and coder ids
    first: dict[str, str] = field(default_factory=dict)  # kind -> an id, for arguments
    # texts start with these in turn (e.g. spreadsheet formulas); none: the marker first
    prefixes: tuple[str, ...] = ()
    texts: list[str] = field(default_factory=list)  # every text written, in order

    def text(self, what: str) -> str:
        prefix = self.prefixes[len(self.texts) % len(self.prefixes)] if self.prefixes else ""
        self.texts.append(f"{prefix}{marker(self.name)} {what}")
        return self.texts[-1]

    def emit(self, event: Event, aggregate: uuid.UUID, at: datetime = T0) -> None:
        self.seq[aggregate] = n = self.seq.get(aggregate, 0) + 1
        env = make_envelope(
            event, region=self.name, aggregate_id=aggregate, sequence=n, occurred_at=at
        )
        self.events.append(decode(encode(env)))

    def new(self, kind: str, *, aggregate: bool = False) -> uuid.UUID:
        value = uuid.uuid4()
        (self.aggregate_ids if aggregate else self.rows).add(str(value))
        self.first.setdefault(kind, str(value))
        return value


def populate(region: Region) -> None:
    """A group with members, held and cancelled meetings, memos, CoP activities (coded by
    two researchers), actions, an initiative, a closed survey, interviews: every text
    field of the events carries the region's marker."""
    r = region
    g = r.new("group", aggregate=True)
    r.emit(
        GroupCreated(
            group_id=g,
            name=r.text("group"),
            municipality=r.text("town"),
            founded_on=date(2015, 1, 1),
        ),
        g,
    )
    people = [r.new("member") for _ in range(4)]
    for p in people:
        r.emit(
            MemberJoined(
                member_id=p,
                group_id=g,
                joined_on=date(2020, 1, 1),
                employees=2,
                industry_code="62010",
            ),
            p,
        )
    r.emit(
        MemberPaused(
            member_id=people[3], group_id=g, paused_on=date(2024, 1, 1), reason=r.text("pause")
        ),
        people[3],
    )
    r.emit(
        MemberLeft(
            member_id=people[3], group_id=g, left_on=date(2024, 2, 1), reason=r.text("left")
        ),
        people[3],
    )
    coders = [r.new("coder", aggregate=True) for _ in range(2)]
    r.emit(FacilitatorAssigned(group_id=g, facilitator_id=coders[0], role="researcher"), g)
    held: list[uuid.UUID] = []
    for i in range(3):
        m = r.new("meeting")
        starts = T0 + timedelta(days=30 * i)
        r.emit(
            MeetingScheduled(
                meeting_id=m,
                group_id=g,
                host_member_id=people[i],
                theme=r.text(f"theme {i}"),
                starts_at=starts,
            ),
            m,
        )
        r.emit(
            MeetingHeld(
                meeting_id=m, group_id=g, held_at=starts, attendee_member_ids=tuple(people[:3])
            ),
            m,
        )
        r.emit(MemoPublished(meeting_id=m, group_id=g, summary=r.text(f"memo {i}")), m)
        for coder in coders:  # the same activity coded by both: coder pairs for kappa
            a = r.new("activity")
            r.emit(
                ActivityRecorded(
                    activity_id=a,
                    meeting_id=m,
                    group_id=g,
                    activity_type="visits",
                    example=r.text(f"example {i}"),
                    member_ids=tuple(people[:2]),
                    coder_id=coder,
                ),
                a,
                starts + timedelta(hours=3),
            )
        action = r.new("action")
        r.emit(
            ActionItemAgreed(
                action_id=action,
                meeting_id=m,
                group_id=g,
                owner_member_id=people[0],
                description=r.text("do"),
            ),
            action,
        )
        r.emit(
            ActionItemClosed(
                action_id=action, group_id=g, closed_on=starts.date(), outcome=r.text("done")
            ),
            action,
        )
        held.append(m)
    cancelled = r.new("meeting")
    r.emit(
        MeetingScheduled(
            meeting_id=cancelled,
            group_id=g,
            host_member_id=people[0],
            theme=r.text("off"),
            starts_at=T0,
        ),
        cancelled,
    )
    r.emit(MeetingCancelled(meeting_id=cancelled, group_id=g, reason=r.text("why")), cancelled)
    ini = r.new("initiative")
    r.emit(
        InitiativeStarted(
            initiative_id=ini,
            group_id=g,
            origin_meeting_id=held[0],
            title=r.text("initiative"),
            member_ids=tuple(people[:2]),
            started_on=date(2024, 3, 1),
        ),
        ini,
    )
    r.emit(
        InitiativeUpdated(
            initiative_id=ini,
            group_id=g,
            status="completed",
            outcome=r.text("outcome"),
            member_ids=tuple(people[:3]),
            updated_on=date(2024, 4, 1),
        ),
        ini,
    )
    s = r.new("survey")
    r.emit(SurveyOpened(survey_id=s, meeting_id=held[0], group_id=g, invited=3, closes_at=T0), s)
    for score in (3, 4, 5):
        resp = r.new("response")
        r.emit(
            ResponseSubmitted(
                response_id=resp,
                survey_id=s,
                meeting_id=held[0],
                group_id=g,
                overall=score,
                usefulness=score,
                recommend=score * 2,
            ),
            resp,
        )
    r.emit(SurveyClosed(survey_id=s, meeting_id=held[0], group_id=g, invited=3, responses=3), s)
    iv = r.new("interview")
    r.emit(
        InterviewRecorded(
            interview_id=iv,
            member_id=people[0],
            person_key=r.new("person").hex,  # the region's key of its person: a row of it
            interviewed_on=date(2024, 2, 1),
            intends_to_grow="yes",
            planned_hires=1,
        ),
        iv,
    )


@dataclass
class Net:
    gateway: Gateway
    client: httpx.AsyncClient
    tokens: dict[str, str]
    regions: dict[str, Region]
    national: dict[str, str] = field(default_factory=dict)  # argument -> a national id

    def auth(self, role: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[role]}"}


async def code_meetings(session: AsyncSession, regions: Iterable[Region]) -> dict[str, str]:
    """Two researchers code each region's first meeting (a memo passage, an example in the
    region's words) and a third reconciles: codings and marks are the region's rows."""
    await store.ensure_first_codebook(session)
    book = await session.scalar(select(codebooks.c.id).where(codebooks.c.key == "wenger"))
    assert book is not None
    for region in regions:
        meeting = region.first["meeting"]
        for coder in ("coder-a", "coder-b"):
            mark = MarkInput("problem_solving", 0, 4, region.text(f"example by {coder}"))
            coding = CodingInput(book, meeting, marks=(mark,))
            region.rows.add(await store.record_coding(session, coding, coder))
        mark = MarkInput("problem_solving", example=region.text("consensus"), featured=True)
        coding = CodingInput(book, meeting, marks=(mark,))
        region.rows.add(await store.reconcile_coding(session, coding, "coder-c"))
        marks = select(coding_marks.c.id).join(codings, codings.c.id == coding_marks.c.coding_id)
        region.rows.update(await session.scalars(marks.where(codings.c.region == region.name)))
        keys = select(panel_persons.c.person_key).where(panel_persons.c.region == region.name)
        region.rows.update(await session.scalars(keys))
    return {"codebookId": book, "codebook": book}


@asynccontextmanager
async def served(path: Path, regions: Iterable[Region], **settings: Any) -> AsyncIterator[Net]:
    """The regions' events projected into a gateway at ``path`` (SQLite), tokens required,
    a token per role in :data:`ROLES`; ``settings``: more GatewaySettings."""
    gateway = build(
        GatewaySettings(database_url=f"sqlite:///{path}", require_token=True, **settings)
    )
    migrations = Path(__file__).parents[2] / "services" / "gateway" / "migrations"
    await migrate(gateway.engine, migrations, version_table=version_table("gateway"))
    by_name = {r.name: r for r in regions}
    for region in by_name.values():
        populate(region)
    async with gateway.sessions() as session, session.begin():
        await project(session, [e for r in by_name.values() for e in r.events])
        national = await code_meetings(session, by_name.values())
    tokens = {
        "public": (await create_token(gateway.sessions, "public")).token,
        "researcher": (await create_token(gateway.sessions, "researcher")).token,
    }
    for name in by_name:
        tokens[f"agency:{name}"] = (await create_token(gateway.sessions, "agency", name)).token
    transport = httpx.ASGITransport(app=gateway.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Net(gateway, client, tokens, by_name, national)
    finally:
        await gateway.engine.dispose()
        await gateway.read_engine.dispose()
