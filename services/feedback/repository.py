"""Load and save the feedback aggregates and the replica through a session."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.domain import (
    Answers,
    Interview,
    Response,
    Scores,
    Survey,
    SurveyStatus,
)
from services.feedback.orm import (
    TABLES,
    InterviewRow,
    InvitationRow,
    MailRow,
    PanelSecretRow,
    ReplicaMemberRow,
    ReplicaPersonRow,
    ResponseRow,
    SurveyAttendeeRow,
    SurveyLinkRow,
    SurveyRow,
)
from shared.contracts import Envelope
from shared.messaging.inbox import admit


def _survey(row: SurveyRow) -> Survey:
    return Survey(
        id=row.id,
        meeting_id=row.meeting_id,
        group_id=row.group_id,
        held_at=row.held_at,
        opened_at=row.opened_at,
        closes_at=row.closes_at,
        reminder_at=row.reminder_at,
        status=SurveyStatus(row.status),
        invited=row.invited,
        version=row.version,
        closed_at=row.closed_at,
    )


def _response(row: ResponseRow) -> Response:
    answers = Answers(row.overall, row.usefulness, row.recommend, row.takeaway, row.change_wish)
    return Response(
        row.id,
        row.survey_id,
        row.invitation_id,
        answers,
        row.version,
        row.submitted_at,
        row.updated_at,
    )


def _interview(row: InterviewRow) -> Interview:
    return Interview(
        id=row.id,
        member_id=row.member_id,
        person_id=row.person_id,
        interviewed_on=row.interviewed_on,
        intends_to_grow=row.intends_to_grow,
        planned_hires=row.planned_hires,
        barriers=tuple(b for b in row.barriers.split(",") if b),
        barrier_other=row.barrier_other,
        recorded_at=row.recorded_at,
    )


class FeedbackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # replica member rows locked in this transaction (held here: the identity map is weak)
        self._locked: dict[UUID, ReplicaMemberRow] = {}
        self.mail_queued = 0  # mails queued in this transaction (:meth:`queue_mail`)

    # -- idempotency ---------------------------------------------------------------------

    async def admit_all(self, envelopes: Sequence[Envelope]) -> list[int]:
        """Record those of ``envelopes`` not processed before; return their positions."""
        return await admit(self.session, TABLES, envelopes)

    # -- replica -------------------------------------------------------------------------

    async def lock_members(self, member_ids: Sequence[UUID]) -> None:
        """Create-if-missing and lock the members' rows (in id order: no deadlocks), so a
        survey opening and a person registering for the same member happen one after
        the other."""
        ids = sorted(set(member_ids) - self._locked.keys())  # once per transaction
        if not ids:
            return
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.session.execute(
            insert(ReplicaMemberRow)
            .values([{"member_id": m, "left_on": None} for m in ids])
            .on_conflict_do_nothing()
        )
        rows = await self.session.scalars(
            select(ReplicaMemberRow)
            .where(ReplicaMemberRow.member_id.in_(ids))
            .order_by(ReplicaMemberRow.member_id)
            .with_for_update()
        )
        self._locked.update((row.member_id, row) for row in rows)

    async def member(self, member_id: UUID) -> ReplicaMemberRow | None:
        locked = self._locked.get(member_id)
        return locked if locked is not None else await self.session.get(ReplicaMemberRow, member_id)

    async def put_person(self, person_id: UUID, member_id: UUID, language: str) -> None:
        row = await self.session.get(ReplicaPersonRow, person_id)
        if row is None:
            self.session.add(
                ReplicaPersonRow(person_id=person_id, member_id=member_id, language=language)
            )
        else:
            row.member_id, row.language = member_id, language
        await self.session.flush()

    async def person(self, person_id: UUID) -> ReplicaPersonRow | None:
        return await self.session.get(ReplicaPersonRow, person_id)

    async def persons_of(self, member_ids: Iterable[UUID]) -> list[ReplicaPersonRow]:
        ids = list(set(member_ids))
        if not ids:
            return []
        rows = await self.session.scalars(
            select(ReplicaPersonRow)
            .where(ReplicaPersonRow.member_id.in_(ids))
            .order_by(ReplicaPersonRow.member_id, ReplicaPersonRow.person_id)
        )
        return list(rows)

    # -- surveys -------------------------------------------------------------------------

    async def survey(self, survey_id: UUID, *, lock: bool = False) -> Survey | None:
        row = await self.session.get(SurveyRow, survey_id, with_for_update=lock)
        return None if row is None else _survey(row)

    async def survey_by_meeting(self, meeting_id: UUID) -> Survey | None:
        row = await self.session.scalar(select(SurveyRow).where(SurveyRow.meeting_id == meeting_id))
        return None if row is None else _survey(row)

    async def add_survey(self, survey: Survey, attendee_ids: Iterable[UUID]) -> None:
        self.session.add(
            SurveyRow(
                id=survey.id,
                meeting_id=survey.meeting_id,
                group_id=survey.group_id,
                held_at=survey.held_at,
                opened_at=survey.opened_at,
                closes_at=survey.closes_at,
                reminder_at=survey.reminder_at,
                reminders_queued=False,
                status=survey.status.value,
                invited=survey.invited,
                version=survey.version,
                closed_at=survey.closed_at,
            )
        )
        await self.session.flush()
        for member_id in sorted(set(attendee_ids)):
            self.session.add(SurveyAttendeeRow(survey_id=survey.id, member_id=member_id))
        await self.session.flush()

    async def add_attendees(self, survey_id: UUID, member_ids: Iterable[UUID]) -> None:
        """Members added to a survey's attendees (a corrected attendance)."""
        for member_id in sorted(set(member_ids)):
            self.session.add(SurveyAttendeeRow(survey_id=survey_id, member_id=member_id))
        await self.session.flush()

    async def save_survey(self, survey: Survey) -> None:
        row = await self.session.get(SurveyRow, survey.id)
        assert row is not None
        row.status, row.invited = survey.status.value, survey.invited
        row.version, row.closed_at = survey.version, survey.closed_at
        await self.session.flush()

    async def open_surveys_of_member(self, member_id: UUID) -> list[Survey]:
        rows = await self.session.scalars(
            select(SurveyRow)
            .join(SurveyAttendeeRow, SurveyAttendeeRow.survey_id == SurveyRow.id)
            .where(SurveyAttendeeRow.member_id == member_id, SurveyRow.status == "open")
            .order_by(SurveyRow.closes_at)
        )
        return [_survey(r) for r in rows]

    async def due_to_close(self, now: datetime, limit: int = 100) -> list[UUID]:
        rows = await self.session.scalars(
            select(SurveyRow.id)
            .where(SurveyRow.status == "open", SurveyRow.closes_at <= now)
            .order_by(SurveyRow.closes_at)
            .limit(limit)
        )
        return list(rows)

    async def due_for_reminders(self, now: datetime, limit: int = 100) -> list[SurveyRow]:
        rows = await self.session.scalars(
            select(SurveyRow)
            .where(
                SurveyRow.status == "open",
                SurveyRow.reminders_queued.is_(False),
                SurveyRow.reminder_at <= now,
                SurveyRow.closes_at > now,
            )
            .limit(limit)
            .with_for_update()
        )
        return list(rows)

    async def response_count(self, survey_id: UUID) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(ResponseRow).where(ResponseRow.survey_id == survey_id)
        )
        return int(count or 0)

    async def survey_rows(
        self, group_ids: Sequence[UUID] | None, open_only: bool, limit: int, offset: int
    ) -> tuple[int, list[Survey]]:
        """Surveys of ``group_ids`` (None: every group), newest meeting first, and how many."""
        where: list[ColumnElement[bool]] = []
        if group_ids is not None:
            where.append(SurveyRow.group_id.in_(list(group_ids)))
        if open_only:
            where.append(SurveyRow.status == SurveyStatus.OPEN.value)
        total = await self.session.scalar(select(func.count()).select_from(SurveyRow).where(*where))
        rows = await self.session.scalars(
            select(SurveyRow)
            .where(*where)
            .order_by(SurveyRow.held_at.desc(), SurveyRow.id)
            .limit(limit)
            .offset(offset)
        )
        return int(total or 0), [_survey(r) for r in rows]

    async def response_counts(self, survey_ids: Sequence[UUID]) -> dict[UUID, int]:
        rows = await self.session.execute(
            select(ResponseRow.survey_id, func.count())
            .where(ResponseRow.survey_id.in_(list(survey_ids)))
            .group_by(ResponseRow.survey_id)
        )
        return {survey_id: int(n) for survey_id, n in rows}

    async def mail_tally(
        self, survey_ids: Sequence[UUID]
    ) -> dict[UUID, dict[tuple[str, str], int]]:
        """Per survey, how many mails of each (kind, status)."""
        rows = await self.session.execute(
            select(MailRow.survey_id, MailRow.kind, MailRow.status, func.count())
            .where(MailRow.survey_id.in_(list(survey_ids)))
            .group_by(MailRow.survey_id, MailRow.kind, MailRow.status)
        )
        tally: dict[UUID, dict[tuple[str, str], int]] = {}
        for survey_id, kind, status, n in rows:
            tally.setdefault(survey_id, {})[(kind, status)] = int(n)
        return tally

    async def scores(self, survey_id: UUID) -> list[Scores]:
        rows = await self.session.execute(
            select(ResponseRow.overall, ResponseRow.usefulness, ResponseRow.recommend).where(
                ResponseRow.survey_id == survey_id
            )
        )
        return [Scores(*row) for row in rows]

    async def free_texts(self, survey_id: UUID) -> list[tuple[str, str]]:
        """(takeaway, change) of every response, in no meaningful order."""
        rows = await self.session.execute(
            select(ResponseRow.takeaway, ResponseRow.change_wish).where(
                ResponseRow.survey_id == survey_id
            )
        )
        return [(str(t), str(c)) for t, c in rows]

    # -- invitations, links --------------------------------------------------------------

    async def invitation_exists(self, survey_id: UUID, person_id: UUID) -> bool:
        found = await self.session.scalar(
            select(InvitationRow.id).where(
                InvitationRow.survey_id == survey_id, InvitationRow.person_id == person_id
            )
        )
        return found is not None

    async def add_invitation(
        self, survey_id: UUID, person: ReplicaPersonRow, now: datetime
    ) -> UUID:
        invitation_id = uuid4()
        self.session.add(
            InvitationRow(
                id=invitation_id,
                survey_id=survey_id,
                person_id=person.person_id,
                member_id=person.member_id,
                language=person.language,
                created_at=now,
            )
        )
        await self.session.flush()
        return invitation_id

    async def add_paper_invitation(self, survey_id: UUID, member_id: UUID, now: datetime) -> UUID:
        """The place of a paper answer: a member's, with no person and no link."""
        invitation_id = uuid4()
        self.session.add(
            InvitationRow(
                id=invitation_id,
                survey_id=survey_id,
                person_id=None,
                member_id=member_id,
                language="fi",
                created_at=now,
            )
        )
        await self.session.flush()
        return invitation_id

    async def attendees(self, survey_id: UUID) -> list[UUID]:
        rows = await self.session.scalars(
            select(SurveyAttendeeRow.member_id).where(SurveyAttendeeRow.survey_id == survey_id)
        )
        return list(rows)

    async def answered_members(self, survey_id: UUID) -> list[UUID]:
        rows = await self.session.scalars(
            select(InvitationRow.member_id)
            .join(ResponseRow, ResponseRow.invitation_id == InvitationRow.id)
            .where(InvitationRow.survey_id == survey_id)
        )
        return list(rows)

    async def invitation(self, invitation_id: UUID) -> InvitationRow | None:
        return await self.session.get(InvitationRow, invitation_id)

    async def lock_invitation(self, invitation_id: UUID) -> None:
        """Serialise answers through one link (a double click must not insert twice)."""
        await self.session.execute(
            select(InvitationRow.id).where(InvitationRow.id == invitation_id).with_for_update()
        )

    async def invitation_by_token_hash(self, token_hash: str) -> InvitationRow | None:
        return await self.session.scalar(
            select(InvitationRow)
            .join(SurveyLinkRow, SurveyLinkRow.invitation_id == InvitationRow.id)
            .where(SurveyLinkRow.token_hash == token_hash)
        )

    async def unanswered_invitations(self, survey_id: UUID) -> list[InvitationRow]:
        answered = select(ResponseRow.invitation_id).where(ResponseRow.survey_id == survey_id)
        rows = await self.session.scalars(
            select(InvitationRow)
            .outerjoin(ReplicaMemberRow, ReplicaMemberRow.member_id == InvitationRow.member_id)
            .where(
                InvitationRow.survey_id == survey_id,
                InvitationRow.person_id.is_not(None),
                InvitationRow.id.not_in(answered),
                ReplicaMemberRow.left_on.is_(None),
            )
        )
        return list(rows)

    def add_link(self, token_hash: str, invitation_id: UUID, now: datetime) -> None:
        self.session.add(
            SurveyLinkRow(token_hash=token_hash, invitation_id=invitation_id, created_at=now)
        )

    async def remove_link(self, token_hash: str) -> None:
        await self.session.execute(
            delete(SurveyLinkRow).where(SurveyLinkRow.token_hash == token_hash)
        )

    # -- responses -----------------------------------------------------------------------

    async def response_of(self, invitation_id: UUID, *, lock: bool = False) -> Response | None:
        query = select(ResponseRow).where(ResponseRow.invitation_id == invitation_id)
        if lock:
            query = query.with_for_update()
        row = await self.session.scalar(query)
        return None if row is None else _response(row)

    async def save_response(self, response: Response) -> None:
        row = await self.session.get(ResponseRow, response.id)
        a = response.answers
        values: dict[str, Any] = {
            "overall": a.overall,
            "usefulness": a.usefulness,
            "recommend": a.recommend,
            "takeaway": a.takeaway,
            "change_wish": a.change,
            "version": response.version,
            "updated_at": response.updated_at,
        }
        if row is None:
            self.session.add(
                ResponseRow(
                    id=response.id,
                    survey_id=response.survey_id,
                    invitation_id=response.invitation_id,
                    submitted_at=response.submitted_at,
                    **values,
                )
            )
        else:
            for key, value in values.items():
                setattr(row, key, value)
        await self.session.flush()

    # -- mail outbox ---------------------------------------------------------------------

    def queue_mail(
        self,
        *,
        invitation_id: UUID,
        survey_id: UUID,
        person_id: UUID,
        kind: str,
        now: datetime,
    ) -> None:
        self.mail_queued += 1
        self.session.add(
            MailRow(
                id=uuid4(),
                invitation_id=invitation_id,
                survey_id=survey_id,
                person_id=person_id,
                kind=kind,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
                sent_at=None,
            )
        )

    async def due_mail(self, now: datetime, limit: int) -> list[MailRow]:
        rows = await self.session.scalars(
            select(MailRow)
            .where(MailRow.status.in_(("pending", "retrying")), MailRow.next_attempt_at <= now)
            .order_by(MailRow.next_attempt_at, MailRow.created_at)
            .limit(limit)
        )
        return list(rows)

    async def mail(self, mail_id: UUID, *, lock: bool = False) -> MailRow | None:
        return await self.session.get(MailRow, mail_id, with_for_update=lock)

    def mail_query(
        self, status: str | None, limit: int, offset: int, survey_id: UUID | None = None
    ) -> Select[MailRow]:
        query = select(MailRow).order_by(MailRow.created_at.desc(), MailRow.id)
        if status:
            query = query.where(MailRow.status == status)
        if survey_id is not None:
            query = query.where(MailRow.survey_id == survey_id)
        return query.limit(limit).offset(offset)

    async def mail_counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(MailRow.status, func.count()).group_by(MailRow.status)
        )
        return {status: int(n) for status, n in rows}

    # -- erasure -------------------------------------------------------------------------

    async def erase_person(self, person_id: UUID) -> list[tuple[UUID, int]]:
        """Delete the person's links, mails and replica row; keep the pseudonymous scores
        of their responses but blank their free texts and unlink the invitations; keep
        their interviews' structured answers, unlinked from the person (a new version each).
        Returns the interviews unlinked, with their new versions."""
        invitations = select(InvitationRow.id).where(InvitationRow.person_id == person_id)
        await self.session.execute(
            delete(SurveyLinkRow).where(SurveyLinkRow.invitation_id.in_(invitations))
        )
        await self.session.execute(
            delete(MailRow).where(
                (MailRow.person_id == person_id) | MailRow.invitation_id.in_(invitations)
            )
        )
        await self.session.execute(
            update(ResponseRow)
            .where(ResponseRow.invitation_id.in_(invitations))
            .values(takeaway="", change_wish="")
        )
        await self.session.execute(
            update(InvitationRow).where(InvitationRow.person_id == person_id).values(person_id=None)
        )
        found = await self.session.execute(
            select(InterviewRow.id, InterviewRow.version)
            .where(InterviewRow.person_id == person_id)
            .order_by(InterviewRow.id)
        )
        unlinked = [(interview, version + 1) for interview, version in found]
        await self.session.execute(
            update(InterviewRow)
            .where(InterviewRow.person_id == person_id)
            .values(barrier_other="", person_id=None, version=InterviewRow.version + 1)
        )
        await self.session.execute(
            delete(ReplicaPersonRow).where(ReplicaPersonRow.person_id == person_id)
        )
        return unlinked

    # -- interviews ----------------------------------------------------------------------

    def add_interview(self, interview: Interview) -> None:
        self.session.add(
            InterviewRow(
                id=interview.id,
                member_id=interview.member_id,
                person_id=interview.person_id,
                interviewed_on=interview.interviewed_on,
                intends_to_grow=interview.intends_to_grow,
                planned_hires=interview.planned_hires,
                barriers=",".join(interview.barriers),
                barrier_other=interview.barrier_other,
                recorded_at=interview.recorded_at,
            )
        )

    async def interviews_keyed_nationally(self, limit: int) -> list[tuple[UUID, UUID | None, int]]:
        """Up to ``limit`` interviews recorded as version 1, whose national key the gateway
        made: (id, person id or ``None`` once erased, version), oldest first."""
        rows = await self.session.execute(
            select(InterviewRow.id, InterviewRow.person_id, InterviewRow.version)
            .where(InterviewRow.keyed_in_region.is_(False))
            .order_by(InterviewRow.recorded_at, InterviewRow.id)
            .limit(limit)
        )
        return [(interview, person, version) for interview, person, version in rows]

    async def mark_keyed_in_region(self, interview_id: UUID, version: int) -> None:
        await self.session.execute(
            update(InterviewRow)
            .where(InterviewRow.id == interview_id)
            .values(keyed_in_region=True, version=version)
        )

    async def panel_secret(self, now: datetime) -> bytes:
        """The region's secret for panel person keys, made (32 random bytes) the first time
        it is asked for; two first askers at once both get the one that was stored."""
        found = await self.session.scalar(select(PanelSecretRow.secret))
        if found is None:
            dialect = self.session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            made = {"id": 1, "secret": secrets.token_hex(32), "created_at": now}
            await self.session.execute(insert(PanelSecretRow).values(made).on_conflict_do_nothing())
            found = await self.session.scalar(select(PanelSecretRow.secret))
            assert found is not None
        return bytes.fromhex(found)

    async def interviews(self, member_id: UUID, person_id: UUID | None = None) -> list[Interview]:
        query = select(InterviewRow).where(InterviewRow.member_id == member_id)
        if person_id is not None:
            query = query.where(InterviewRow.person_id == person_id)
        rows = await self.session.scalars(
            query.order_by(InterviewRow.interviewed_on, InterviewRow.recorded_at)
        )
        return [_interview(r) for r in rows]
