"""The memos with their codings as a REFI-QDA project (``.qdpx``), for QualCoder, ATLAS.ti,
NVivo or MAXQDA: ``/exports/memos.qdpx`` and ``mgn export memos --format qdpx``.

A ``.qdpx`` is a zip of ``project.qde`` (XML in the REFI-QDA Project schema,
``urn:QDA-XML:project:1.0``) and ``Sources/<guid>.txt``, one UTF-8 text file per memo:

* ``Users``: the coders, by pseudonym (and ``consensus``, the reconciled coding);
* ``CodeBook``: the codes of one codebook version, each with its definition;
* ``Sources``: one ``TextSource`` per memo (the national, masked text) in the period (meeting
  days, Europe/Helsinki), region and group; each mark on a passage is a
  ``PlainTextSelection`` (start and end in characters of the text file, end exclusive) with its
  ``Coding`` (the coder as ``creatingUser``) and the coder's example as its description; a mark
  on the whole meeting is a ``Coding`` of the source; a coding's note and "coded, nothing
  found" are ``Notes`` the source refers to;
* ``Sets``: one per region and one per group, of their memos.

GUIDs are derived from the national ids (UUID 5), so the same snapshot gives the same project.
A passage whose quote no longer matches the memo's text (the memo was republished after it was
coded) is kept as a coding of the whole memo and counted in the project's description.
Researchers only (the memos' texts of every region, coder pseudonyms).
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.auth.guard import AccessDenied, Guard, Role
from services.gateway.orm import meetings, memos
from services.gateway.research import store
from services.gateway.research.scope import Scope
from services.gateway.research.tables import CONSENSUS, codebooks, coding_marks, codings
from services.gateway.snapshot import Snapshot
from services.gateway.views.days import day_of
from shared.files import open_private

NAMESPACE = "urn:QDA-XML:project:1.0"
MEDIA_TYPE = "application/zip"
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mgn:refi-qda")
CHUNK = 500  # memos per query of their codings
# characters XML 1.0 does not allow (a text keeps its length: each becomes a space)
_NOT_XML = dict.fromkeys((*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF), " ")


def guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_IDS, f"{kind}:{key}"))


def _text(value: str) -> str:
    return escape(value.translate(_NOT_XML))


def _attr(value: str) -> str:
    return quoteattr(value.translate(_NOT_XML), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _instant(value: datetime | None) -> str:
    if value is None:
        return ""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain_text(text: str) -> tuple[str, list[int]]:
    """The memo as its text file holds it (CRLF as LF: a reader's universal newlines would
    shorten it), and where each offset of the original text lands in it."""
    if "\r\n" not in text:
        return text, []
    removed, at = [], 0
    while (at := text.find("\r\n", at)) != -1:
        removed.append(at)  # the \r at ``at`` is dropped
        at += 2
    return text.replace("\r\n", "\n"), removed


def moved(offset: int, removed: list[int]) -> int:
    return offset - sum(1 for r in removed if r < offset)


def require_researcher(guard: Guard) -> None:
    if guard.role is not Role.RESEARCHER:
        raise AccessDenied(
            "forbidden: the memos.qdpx export (memo texts of every region, coder pseudonyms) "
            f"is for researchers; a token of {guard.describe()} cannot read it."
        )


@dataclass
class Written:
    path: Path
    memos: int = 0
    selections: int = 0  # marks on passages
    whole: int = 0  # marks on whole memos
    moved_to_whole: int = 0  # passages whose quote no longer matches: whole-memo codings
    coders: list[str] = field(default_factory=list)
    sha256: str = ""
    bytes: int = 0


def _codebook_query(codebook: str) -> Any:
    c = codebooks.c
    return (
        select(c.id)
        .where((c.id == codebook) | (c.key == codebook))
        .order_by(c.version.desc())
        .limit(1)
    )


async def resolve_codebook(session: AsyncSession, codebook: str) -> str:
    """A codebook's id from its id or key (a key: its newest version)."""
    found = await session.scalar(_codebook_query(codebook))
    if found is None:
        await store.codebook_row(session, codebook)  # raises UnknownCodebook
    return str(found)


def _memo_page(scope: Scope, guard: Guard, after: tuple[datetime, str] | None) -> Any:
    """The next ``CHUNK`` memos in ``scope`` after ``after`` (their meetings' start, id)."""
    m = memos.c
    query = (
        select(
            m.meeting_id,
            m.region,
            m.group_id,
            m.summary,
            m.version,
            m.published_at,
            meetings.c.starts_at,
        )
        .select_from(memos.join(meetings, meetings.c.id == m.meeting_id))
        .where(*scope.meeting_terms(guard))
        .order_by(meetings.c.starts_at, m.meeting_id)
        .limit(CHUNK)
    )
    if after is not None:
        query = query.where(tuple_(meetings.c.starts_at, m.meeting_id) > tuple_(*after))
    return query


async def _coders(session: AsyncSession, codebook_id: str, scope: Scope, guard: Guard) -> list[str]:
    c = codings.c
    query = (
        select(c.coder_id)
        .distinct()
        .select_from(
            codings.join(meetings, meetings.c.id == c.meeting_id).join(
                memos, memos.c.meeting_id == c.meeting_id
            )
        )
        .where(c.codebook_id == codebook_id, *scope.meeting_terms(guard))
    )
    return sorted(await session.scalars(query))


async def _codings_of(
    session: AsyncSession, codebook_id: str, meeting_ids: list[str]
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """meeting -> its codings; coding -> its marks."""
    c, k = codings.c, coding_marks.c
    rows = (
        await session.execute(
            select(codings)
            .where(c.codebook_id == codebook_id, c.meeting_id.in_(meeting_ids))
            .order_by(c.meeting_id, c.coder_id)
        )
    ).all()
    by_meeting: dict[str, list[Any]] = {}
    for row in rows:
        by_meeting.setdefault(row.meeting_id, []).append(row)
    marks: dict[str, list[Any]] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), CHUNK):
        found = await session.execute(
            select(coding_marks)
            .where(k.coding_id.in_(ids[start : start + CHUNK]))
            .order_by(k.coding_id, k.span_start, k.code, k.id)
        )
        for mark in found:
            marks.setdefault(mark.coding_id, []).append(mark)
    return by_meeting, marks


class _Project:
    """The ``project.qde`` text, written as the memos come (to a spooled temporary file)."""

    def __init__(self, out: IO[str], codes: dict[str, str]) -> None:
        self.out = out
        self.codes = codes  # code -> its GUID
        self.notes: list[str] = []
        self.sets: dict[tuple[str, str], list[str]] = {}

    def source(
        self, memo: Any, coded: list[Any], marks: dict[str, list[Any]], done: Written
    ) -> str:
        source = guid("source", memo.meeting_id)
        day = day_of(memo.starts_at).isoformat()
        name = f"{day} {memo.region} {memo.group_id} {memo.meeting_id}"
        text, removed = plain_text(memo.summary)
        about = (
            f"Memo of meeting {memo.meeting_id} on {day} (Europe/Helsinki), region "
            f"{memo.region}, group {memo.group_id}, version {memo.version}"
        )
        selections: list[str] = []
        whole: list[str] = []
        refs: list[str] = []
        for coding in coded:
            user = guid("user", coding.coder_id)
            when = _instant(coding.coded_at)
            for mark in marks.get(coding.id, []):
                coding_xml = (
                    f'<Coding guid="{guid("coding", mark.id)}" creatingUser="{user}" '
                    f'creationDateTime="{when}"><CodeRef targetGUID="{self.codes[mark.code]}"/>'
                    "</Coding>"
                )
                described = f"<Description>{_text(mark.example)}</Description>"
                passage = mark.span_start is not None and mark.span_end is not None
                if passage and memo.summary[mark.span_start : mark.span_end] == mark.quote:
                    start, end = moved(mark.span_start, removed), moved(mark.span_end, removed)
                    selections.append(
                        f'<PlainTextSelection guid="{guid("selection", mark.id)}" '
                        f'name={_attr(mark.code)} startPosition="{start}" '
                        f'endPosition="{end}" creatingUser="{user}" creationDateTime="{when}">'
                        f"{described}{coding_xml}</PlainTextSelection>"
                    )
                    done.selections += 1
                else:
                    whole.append(coding_xml)
                    done.whole += 1
                    done.moved_to_whole += passage
            said = []
            if coding.nothing_found:
                said.append(f"{coding.coder_id}: coded, none of the codebook's codes found.")
            if coding.note:
                said.append(f"{coding.coder_id}: {coding.note}")
            if said:
                note = guid("note", coding.id)
                refs.append(f'<NoteRef targetGUID="{note}"/>')
                self.notes.append(
                    f'<Note guid="{note}" name={_attr(f"{coding.coder_id} {day}")} '
                    f'creatingUser="{user}" creationDateTime="{when}">'
                    f"<PlainTextContent>{_text(' '.join(said))}</PlainTextContent></Note>"
                )
        self.out.write(
            f'<TextSource guid="{source}" name={_attr(name)} '
            f'plainTextPath="internal://{source}.txt" '
            f'creationDateTime="{_instant(memo.published_at)}">'
            f"<Description>{_text(about)}</Description>"
            + "".join(selections)
            + "".join(whole)
            + "".join(refs)
            + "</TextSource>\n"
        )
        self.sets.setdefault(("region", memo.region), []).append(source)
        self.sets.setdefault(("group", memo.group_id), []).append(source)
        done.memos += 1
        return text


def _users(coders: Iterable[str]) -> str:
    users = "".join(f'<User guid="{guid("user", c)}" name={_attr(c)}/>' for c in coders)
    return f"<Users>{users}</Users>\n" if users else ""


def _codebook(codes: list[Any], ids: dict[str, str], language: str) -> str:
    found = []
    for code in codes:
        name = getattr(code, f"name_{language}") or code.code
        definition = getattr(code, f"definition_{language}")
        found.append(
            f'<Code guid="{ids[code.code]}" name={_attr(f"{code.code}: {name}")} '
            f'isCodable="true"><Description>{_text(definition)}</Description></Code>'
        )
    return f"<CodeBook><Codes>{''.join(found)}</Codes></CodeBook>\n" if found else ""


async def write_qdpx(
    sessions: async_sessionmaker[AsyncSession],
    guard: Guard,
    path: Path,
    scope: Scope,
    codebook: str,
    snapshot: Snapshot,
    language: str = "en",
) -> Written:
    """The memos in ``scope`` with their codings of ``codebook`` (an id, or a key for its
    newest version) as a ``.qdpx`` at ``path``."""
    require_researcher(guard)
    done = Written(path)
    # the snapshot's time, not the clock's: the same snapshot gives the same bytes
    when = _instant(snapshot.applied_at)
    created = f' creationDateTime="{when}"' if when else ""
    stamp = (snapshot.applied_at or datetime(1980, 1, 1, tzinfo=UTC)).astimezone(UTC)
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, 0)
    with (
        tempfile.SpooledTemporaryFile(max_size=16 << 20, mode="w+", encoding="utf-8") as qde,
        open_private(path, "wb") as raw,
        zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        async with sessions() as session:
            book_id = await resolve_codebook(session, codebook)
            book = await store.codebook_row(session, book_id)
            codes = await store.code_rows(session, book_id)
            ids = {code.code: guid("code", f"{book_id}:{code.code}") for code in codes}
            done.coders = await _coders(session, book_id, scope, guard)
            project = _Project(qde, ids)
            qde.write("<Sources>\n")
            after: tuple[datetime, str] | None = None
            while page := (await session.execute(_memo_page(scope, guard, after))).all():
                after = (page[-1].starts_at, page[-1].meeting_id)
                coded, marks = await _codings_of(session, book_id, [m.meeting_id for m in page])
                for memo in page:
                    text = project.source(memo, coded.get(memo.meeting_id, []), marks, done)
                    name = f"Sources/{guid('source', memo.meeting_id)}.txt"
                    entry = zipfile.ZipInfo(name, date_time)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(entry, text.encode("utf-8"))
            qde.write("</Sources>\n")
        description = (
            f"MicroENTRE Growth Network: meeting memos (national, masked texts) with their "
            f"codings of codebook {book.key} v{book.version}, at {snapshot.stream} stream "
            f"sequence {snapshot.sequence} ({snapshot.time or 'nothing applied yet'}). Period "
            f"{scope.from_ or 'any'} to {scope.to or 'any'} (meeting days, Europe/Helsinki), "
            f"region {scope.region or 'all'}, group {scope.group_id or 'all'}. Users are coder "
            f"pseudonyms; '{CONSENSUS}' is the reconciled coding. {done.moved_to_whole} coded "
            "passage(s) no longer matching the memo's text (republished after coding) are "
            "codings of the whole memo."
        )
        head = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<Project xmlns="{NAMESPACE}" name={_attr(f"mgn memos {book.key} v{book.version}")} '
            f'origin="mgn gateway"{created}>\n'
            + _users(done.coders)
            + _codebook(codes, ids, language)
        )
        sets = "".join(
            f'<Set guid="{guid("set", f"{kind}:{key}")}" name={_attr(f"{kind} {key}")}>'
            + "".join(f'<MemberSource targetGUID="{s}"/>' for s in members)
            + "</Set>"
            for (kind, key), members in sorted(project.sets.items())
        )
        entry = zipfile.ZipInfo("project.qde", date_time)
        entry.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(entry, "w") as out:
            out.write(head.encode("utf-8"))
            if done.memos:
                qde.seek(0)
                for block in iter(lambda: qde.read(1 << 20), ""):
                    out.write(block.encode("utf-8"))
            if project.notes:
                out.write(f"<Notes>{''.join(project.notes)}</Notes>\n".encode())
            if sets:
                out.write(f"<Sets>{sets}</Sets>\n".encode())
            out.write(f"<Description>{_text(description)}</Description>\n</Project>\n".encode())
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for piece in iter(lambda: data.read(1 << 20), b""):
            digest.update(piece)
            done.bytes += len(piece)
    done.sha256 = digest.hexdigest()
    return done


__all__ = ["MEDIA_TYPE", "NAMESPACE", "Written", "guid", "write_qdpx"]
