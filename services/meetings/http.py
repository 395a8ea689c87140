"""Plain HTTP routes next to GraphQL: iCalendar feeds and the memo series as Markdown."""

from __future__ import annotations

from datetime import UTC, datetime, time
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from services.meetings.api.names import member_cards
from services.meetings.calendar import render_calendar, render_memo_series
from services.meetings.commands import Node
from services.meetings.domain import Meeting, local_date
from services.meetings.replica import ReplicaStore
from services.meetings.repository import MeetingRepository
from shared.directory import GroupsDirectory, MemberCard

ICS = "text/calendar; charset=utf-8"


def _not_found(what: str) -> Response:
    return PlainTextResponse(f"{what} is not known to this region's meetings service.\n", 404)


def _start_of_today(node: Node) -> datetime:
    today = local_date(datetime.now(UTC), node.tz)
    return datetime.combine(today, time(), tzinfo=node.tz)


def http_routes(
    sessions: async_sessionmaker[AsyncSession], node: Node, directory: GroupsDirectory | None = None
) -> list[Route]:
    async def hosts(meetings: list[Meeting]) -> dict[UUID, MemberCard]:
        return await member_cards(directory, {m.host_member_id for m in meetings})

    async def group_calendar(request: Request) -> Response:
        group_id: UUID = request.path_params["group_id"]
        async with sessions() as session:
            group = await ReplicaStore(session).group(group_id)
            if group is None:
                return _not_found(f"Group {group_id}")
            meetings = await MeetingRepository(session).upcoming([group_id], _start_of_today(node))
        body = render_calendar(
            meetings, region=node.region, name=f"{group.name} meetings", hosts=await hosts(meetings)
        )
        return Response(body, media_type=ICS)

    async def member_calendar(request: Request) -> Response:
        member_id: UUID = request.path_params["member_id"]
        async with sessions() as session:
            member = await ReplicaStore(session).member(member_id)
            if member is None or not member.has_joined:
                return _not_found(f"Member {member_id}")
            group = await ReplicaStore(session).group(member.group_id)
            meetings: list[Meeting] = []
            if member.effective_left_on is None:  # a member who left gets an empty feed
                meetings = await MeetingRepository(session).upcoming(
                    [member.group_id], _start_of_today(node)
                )
        name = f"{group.name if group else member.group_id} meetings"
        body = render_calendar(meetings, region=node.region, name=name, hosts=await hosts(meetings))
        return Response(body, media_type=ICS)

    async def memo_series(request: Request) -> Response:
        group_id: UUID = request.path_params["group_id"]
        async with sessions() as session:
            group = await ReplicaStore(session).group(group_id)
            if group is None:
                return _not_found(f"Group {group_id}")
            meetings = await MeetingRepository(session).with_memos(group_id)
        return PlainTextResponse(
            render_memo_series(group.name, meetings, node.tz, hosts=await hosts(meetings)),
            media_type="text/markdown; charset=utf-8",
        )

    return [
        Route("/calendar/group/{group_id:uuid}.ics", group_calendar),
        Route("/calendar/member/{member_id:uuid}.ics", member_calendar),
        Route("/groups/{group_id:uuid}/memos.md", memo_series),
    ]
