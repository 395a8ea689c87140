"""iCalendar (RFC 5545) feeds of upcoming meetings and the memo series as Markdown.

Written by hand: CRLF line ends, lines folded at 75 octets (never inside a UTF-8
character), TEXT values escaped (backslash, semicolon, comma, newline).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from uuid import UUID

from services.meetings.domain import MEETING_LENGTH, Meeting, MeetingStatus, local_date
from shared.directory import MemberCard

PRODID = "-//MicroENTRE Growth Network//mgn meetings//EN"
FOLD_AT = 75


def escape_text(value: str) -> str:
    """An RFC 5545 TEXT value (3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into CRLF-separated pieces of at most 75 octets (3.1)."""
    pieces: list[str] = []
    current, size, limit = "", 0, FOLD_AT
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = " ", 1, FOLD_AT  # continuation starts with a space
        current += char
        size += width
    pieces.append(current)
    return "\r\n".join(pieces)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def meeting_uid(meeting_id: UUID, region: str) -> str:
    return f"{meeting_id}@{region}.meetings.mgn"


def venue(host: MemberCard | None, member_id: UUID) -> str:
    """Where a meeting is: the host company and its address (as far as they are known)."""
    if host is None or not host.company_name:
        return f"host member {member_id}"
    return ", ".join(part for part in (host.company_name, host.address) if part)


def render_calendar(
    meetings: Iterable[Meeting],
    *,
    region: str,
    name: str,
    now: datetime | None = None,
    hosts: Mapping[UUID, MemberCard] | None = None,
) -> str:
    """A VCALENDAR with one VEVENT per meeting; cancelled ones have STATUS:CANCELLED.

    Times are UTC (``...Z``, RFC 5545 form 2), which every calendar shows in its own zone;
    the event lasts :data:`MEETING_LENGTH`. ``hosts``: the hosts' cards from the groups
    service, naming the host company in the description and as LOCATION."""
    known = hosts or {}
    stamp = utc_stamp(now or datetime.now(UTC))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for meeting in meetings:
        cancelled = meeting.status is MeetingStatus.CANCELLED
        host = known.get(meeting.host_member_id)
        where = venue(host, meeting.host_member_id)
        at = host.company_name if host and host.company_name else where
        lines += [
            "BEGIN:VEVENT",
            f"UID:{meeting_uid(meeting.id, region)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc_stamp(meeting.starts_at)}",
            f"DTEND:{utc_stamp(meeting.starts_at + MEETING_LENGTH)}",
            f"SEQUENCE:{meeting.version - 1}",
            f"SUMMARY:{escape_text(meeting.theme)}",
            f"LOCATION:{escape_text(where)}",
            "DESCRIPTION:"
            + escape_text(
                f"Monthly core-group meeting at the premises of {at}."
                + (f"\nCancelled: {meeting.cancel_reason}" if cancelled else "")
            ),
            f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def render_memo_series(
    group_name: str,
    meetings: Sequence[Meeting],
    tz: tzinfo,
    *,
    hosts: Mapping[UUID, MemberCard] | None = None,
) -> str:
    """The group's memos, oldest first, as one Markdown document; hosts by company name
    (``hosts`` from the groups service; by id where it did not answer)."""
    known = hosts or {}
    out = [f"# Memos of {group_name}", ""]
    if not meetings:
        out += ["No memos have been published yet.", ""]
    for meeting in meetings:
        day = local_date(meeting.held_at or meeting.starts_at, tz)
        out += [
            f"## {day.isoformat()}: {meeting.theme}",
            "",
            f"Host: {_host_name(known.get(meeting.host_member_id), meeting.host_member_id)}. "
            f"Attendance: {meeting.attendance_count}.",
            "",
            (meeting.memo or "").strip(),
            "",
        ]
    return "\n".join(out)


def _host_name(host: MemberCard | None, member_id: UUID) -> str:
    return host.company_name if host and host.company_name else f"member {member_id}"
