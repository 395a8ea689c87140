"""No role reads another region's own words or rows: the whole national API enumerated.

A read model holds two regions, oulu and kainuu, every free text of each carrying its
region's marker (``OULU-OWN`` / ``KAINUU-OWN``), CoP examples of the same type and year
in both (so a national answer has to pick one). The test introspects the schema over HTTP
and calls every Query field with every combination of its filters that names a region or
an object of one (``region``, ``groupId``, ``memberId``, ``id``), selecting every field
reachable from it (nested objects too), then downloads every export in both formats with
and without ``?region=``; each as the public, each agency and a researcher, with real
tokens through the gateway's own HTTP app. Whatever answers: the caller's text must carry
no marker of a region it does not see in full, and no id of that region's rows (an
agency sees other regions' per-group aggregates, so group and coder ids are rows only
for the public). Refusals (FORBIDDEN, 403) are fine; anything else is a failure.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
)
from graphql.type import GraphQLEnumType, GraphQLScalarType
from sqlalchemy import select

from services.gateway.app import Gateway, build
from services.gateway.auth import create_token
from services.gateway.exports.registry import DATASETS
from services.gateway.orm import metadata
from services.gateway.projections import project
from services.gateway.research import store
from services.gateway.research.coding import CodingInput, MarkInput
from services.gateway.research.tables import codebooks, coding_marks, codings
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
from shared.storage import create_schema

REGIONS = ("kainuu", "oulu")  # kainuu first: the old national example took its text
ROLES = ("public", "researcher", *(f"agency:{r}" for r in REGIONS))
T0 = datetime(2024, 3, 12, 17, 0, tzinfo=UTC)
MAX_DEPTH = 7
pytestmark = pytest.mark.asyncio(
    loop_scope="module"
)  # Query -> groups -> edges -> node -> meetings -> activities -> example


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

    def text(self, what: str) -> str:
        return f"{marker(self.name)} {what}"

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


async def code_meetings(session: Any, regions: dict[str, Region]) -> dict[str, str]:
    """Two researchers code each region's first meeting (a memo passage, an example in the
    region's words) and a third reconciles: codings and marks are the region's rows."""
    book = await session.scalar(select(codebooks.c.id).where(codebooks.c.key == "wenger"))
    for region in regions.values():
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
    return {"codebookId": str(book), "codebook": str(book)}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Net]:
    path: Path = tmp_path_factory.mktemp("noleaks") / "gateway.db"
    unlimited = {"max_tokens": 100_000, "max_cost": 10**9, "max_depth": 50, "max_aliases": 1000}
    gateway = build(
        GatewaySettings(database_url=f"sqlite:///{path}", require_token=True, **unlimited)  # type: ignore[arg-type]
    )
    await create_schema(gateway.engine, metadata)
    regions = {name: Region(name) for name in REGIONS}
    for region in regions.values():
        populate(region)
    async with gateway.sessions() as session, session.begin():
        await project(session, [e for r in regions.values() for e in r.events])
        await store.ensure_first_codebook(session)
        national = await code_meetings(session, regions)
    tokens = {
        "public": (await create_token(gateway.sessions, "public")).token,
        "researcher": (await create_token(gateway.sessions, "researcher")).token,
    }
    for name in REGIONS:
        tokens[f"agency:{name}"] = (await create_token(gateway.sessions, "agency", name)).token
    transport = httpx.ASGITransport(app=gateway.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Net(gateway, client, tokens, regions, national)
    finally:
        await gateway.engine.dispose()
        await gateway.read_engine.dispose()


def unseen(net: Net, role: str) -> dict[str, set[str]]:
    """Per region the caller does not see in full: what must never reach it."""
    if role == "researcher":
        return {}
    own = role.split(":", 1)[1] if role.startswith("agency:") else None
    forbidden = {}
    for name, region in net.regions.items():
        if name == own:
            continue
        ids = set(region.rows)
        if role == "public":  # no per-group aggregates either
            ids |= region.aggregate_ids
        forbidden[name] = {marker(name), *ids}
    return forbidden


def leaks(text: str, forbidden: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{region}: {s}" for region, found in forbidden.items() for s in found if s in text
    )


# --- the schema, as introspection gives it ---------------------------------------------


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _nested_args(f: GraphQLField) -> str | None:
    """Arguments for a nested field: a page size where it takes one; None if it needs
    something else (then the field is skipped, and the test says so below)."""
    given = []
    for name, arg in f.args.items():
        if name == "first":
            given.append("first: 50")
        elif isinstance(arg.type, GraphQLNonNull) and arg.default_value is None:
            return None
    return f"({', '.join(given)})" if given else ""


def selection(type_: Any, depth: int, path: tuple[str, ...], skipped: list[str]) -> str:
    """Every field of ``type_`` down to MAX_DEPTH, no object type twice on one path."""
    type_ = _unwrap(type_)
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return ""
    assert isinstance(type_, GraphQLObjectType), type_
    parts = ["__typename"]
    for name, f in type_.fields.items():
        inner = _unwrap(f.type)
        args = _nested_args(f)
        if args is None:
            skipped.append(".".join((*path, name)))
            continue
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            parts.append(name + args)
        elif depth < MAX_DEPTH and inner.name not in path:
            parts.append(
                f"{name}{args} {{ {selection(inner, depth + 1, (*path, inner.name), skipped)} }}"
            )
    return " ".join(parts)


FILTERS = {"region", "groupId", "memberId", "id"}


def argument_sets(
    f: GraphQLField, regions: dict[str, Region], national: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """Every combination that names a region or an object of one; other arguments at
    their defaults (``first``: a full page; a required boolean: false)."""
    choices: list[list[tuple[str, Any]]] = []
    for name, arg in f.args.items():
        required = isinstance(arg.type, GraphQLNonNull) and arg.default_value is None
        if name == "region":
            choices.append([("region", None), *(("region", r) for r in regions)])
        elif name == "groupId":
            choices.append(
                [("groupId", None), *(("groupId", r.first["group"]) for r in regions.values())]
            )
        elif name == "memberId":
            choices.append(
                [("memberId", None), *(("memberId", r.first["member"]) for r in regions.values())]
            )
        elif name == "id" and _unwrap(f.type).name.lower() in national:
            choices.append([("id", national[_unwrap(f.type).name.lower()])])
        elif name == "id":
            kind = _unwrap(f.type).name.lower()
            choices.append([("id", r.first[kind]) for r in regions.values()])
        elif name == "meetingId":
            choices.append([("meetingId", r.first["meeting"]) for r in regions.values()])
        elif name in national:
            choices.append([(name, national[name])])
        elif name == "first":
            choices.append([("first", 500)])
        elif required and str(_unwrap(arg.type)) == "Boolean":
            choices.append([(name, False)])
        else:
            assert not required, f"{f}: the test does not know what to give {name}"
    for combo in itertools.product(*choices):
        yield {k: v for k, v in combo if v is not None}


def document(name: str, f: GraphQLField, given: dict[str, Any], skipped: list[str]) -> str:
    args = ", ".join(f"{k}: {json.dumps(v)}" for k, v in given.items())
    inner = selection(f.type, 2, (_unwrap(f.type).name,), skipped)
    return f"{{ {name}{f'({args})' if args else ''}{f' {{ {inner} }}' if inner else ''} }}"


async def introspected(net: Net) -> GraphQLSchema:
    resp = await net.client.post(
        "/graphql",
        json={"query": get_introspection_query()},
        headers={"authorization": f"Bearer {net.tokens['researcher']}"},
    )
    assert resp.status_code == 200, resp.text
    return build_client_schema(resp.json()["data"])


async def test_no_query_field_shows_a_role_another_regions_words_or_rows(net: Net) -> None:
    schema = await introspected(net)
    assert schema.query_type is not None
    skipped: list[str] = []
    calls, refused, seen = 0, 0, dict.fromkeys(ROLES, "")
    problems: list[str] = []
    for name, f in schema.query_type.fields.items():
        for given in argument_sets(f, net.regions, net.national):
            query = document(name, f, given, skipped)
            for role in ROLES:
                resp = await net.client.post(
                    "/graphql",
                    json={"query": query},
                    headers={"authorization": f"Bearer {net.tokens[role]}"},
                )
                calls += 1
                body = resp.json()
                errors = body.get("errors") or []
                codes = {(e.get("extensions") or {}).get("code") for e in errors}
                if errors and codes != {"FORBIDDEN"}:
                    problems.append(f"{role} {name}{given}: unexpected errors {errors}")
                refused += bool(errors)
                text = json.dumps(body.get("data"))
                seen[role] += text
                for leak in leaks(text, unseen(net, role)):
                    problems.append(f"{role} reads {leak} through {name}{given}")
    assert not problems, "\n".join(problems[:40])
    assert not skipped, f"fields the test could not select: {sorted(set(skipped))}"
    # the test could see a leak: the words are there for those who may read them
    for name in REGIONS:
        assert marker(name) in seen["researcher"]
        assert marker(name) in seen[f"agency:{name}"]
    assert calls > 400, calls
    assert 0 < refused < calls, (calls, refused)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_no_export_shows_a_role_another_regions_words_or_rows(net: Net, fmt: str) -> None:
    problems: list[str] = []
    served = dict.fromkeys(ROLES, "")
    for name, role, region in itertools.product(DATASETS, ROLES, (None, *REGIONS)):
        url = f"/exports/{name}.{fmt}" + (f"?region={region}" if region else "")
        resp = await net.client.get(url, headers={"authorization": f"Bearer {net.tokens[role]}"})
        if resp.status_code == 403:
            continue
        assert resp.status_code == 200, (role, url, resp.text)
        served[role] += resp.text
        problems += [
            f"{role} reads {leak} through {url}" for leak in leaks(resp.text, unseen(net, role))
        ]
    assert not problems, "\n".join(problems[:40])
    for name in REGIONS:
        assert marker(name) in served["researcher"]
        assert marker(name) in served[f"agency:{name}"]
