"""iCalendar (RFC 5545) feeds of upcoming meetings and the memo series as Markdown.

Written by hand: CRLF line ends, lines folded at 75 octets (never inside a UTF-8
character), TEXT values escaped (backslash, semicolon, comma, newline).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from uuid import UUID

from services.meetings.domain import Meeting, MeetingStatus, local_date

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


def render_calendar(
    meetings: Iterable[Meeting], *, region: str, name: str, now: datetime | None = None
) -> str:
    """A VCALENDAR with one VEVENT per meeting; cancelled ones have STATUS:CANCELLED."""
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
        lines += [
            "BEGIN:VEVENT",
            f"UID:{meeting_uid(meeting.id, region)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc_stamp(meeting.starts_at)}",
            f"SEQUENCE:{meeting.version - 1}",
            f"SUMMARY:{escape_text(meeting.theme)}",
            "DESCRIPTION:"
            + escape_text(
                f"Monthly core-group meeting at the premises of host member "
                f"{meeting.host_member_id}."
                + (f"\nCancelled: {meeting.cancel_reason}" if cancelled else "")
            ),
            f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def render_memo_series(group_name: str, meetings: Sequence[Meeting], tz: tzinfo) -> str:
    """The group's memos, oldest first, as one Markdown document."""
    out = [f"# Memos of {group_name}", ""]
    if not meetings:
        out += ["No memos have been published yet.", ""]
    for meeting in meetings:
        day = local_date(meeting.held_at or meeting.starts_at, tz)
        out += [
            f"## {day.isoformat()}: {meeting.theme}",
            "",
            f"Host member: {meeting.host_member_id}. Attendance: {meeting.attendance_count}.",
            "",
            (meeting.memo or "").strip(),
            "",
        ]
    return "\n".join(out)
