"""GraphQL: the surveys of groups at a glance (invited, answered, the fate of their mails),
for the console's feedback and home pages; one query for a page of surveys."""

# strawberry.field(description=...) is typed as returning Any:
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.feedback import handlers
from services.feedback.domain import Survey as DomainSurvey
from services.feedback.repository import FeedbackRepository
from shared.contracts import K_ANONYMITY

MAX_PAGE = 500


class _Context(Protocol):
    sessions: async_sessionmaker[AsyncSession]


@strawberry.type(description="A survey's mails: how many were sent, wait, or failed for good.")
class MailTally:
    invitations_sent: int
    reminders_sent: int
    waiting: int = strawberry.field(description="Pending or retrying.")
    failed: int = strawberry.field(description="Failed for good (see mailQueue with surveyId).")

    @classmethod
    def of(cls, tally: dict[tuple[str, str], int]) -> MailTally:
        def count(kinds: tuple[str, ...], statuses: tuple[str, ...]) -> int:
            return sum(n for (k, s), n in tally.items() if k in kinds and s in statuses)

        both = ("invitation", "reminder")
        return cls(
            invitations_sent=count(("invitation",), ("sent",)),
            reminders_sent=count(("reminder",), ("sent",)),
            waiting=count(both, ("pending", "retrying")),
            failed=count(both, ("failed",)),
        )


@strawberry.type(
    description="A meeting's survey at a glance. Results (surveySummary) only from "
    f"k = {K_ANONYMITY} responses up: enoughResponses says whether they can be shown."
)
class SurveyOverview:
    survey_id: UUID
    meeting_id: UUID
    group_id: UUID
    held_at: datetime
    closes_at: datetime
    open: bool
    invited: int
    responses: int
    k: int
    enough_responses: bool
    mails: MailTally

    @classmethod
    def of(
        cls, survey: DomainSurvey, responses: int, tally: dict[tuple[str, str], int]
    ) -> SurveyOverview:
        return cls(
            survey_id=survey.id,
            meeting_id=survey.meeting_id,
            group_id=survey.group_id,
            held_at=survey.held_at,
            closes_at=survey.closes_at,
            open=survey.is_open(handlers.utcnow()),
            invited=survey.invited,
            responses=responses,
            k=K_ANONYMITY,
            enough_responses=responses >= K_ANONYMITY,
            mails=MailTally.of(tally),
        )


@strawberry.type(description="One page of surveys.")
class SurveyPage:
    total: int
    has_more: bool
    surveys: list[SurveyOverview]


async def resolve_surveys(
    info: strawberry.Info[_Context, None],
    group_ids: list[UUID] | None = None,
    open_only: bool = False,
    first: int = 50,
    offset: int = 0,
) -> SurveyPage:
    first, offset = max(0, min(first, MAX_PAGE)), max(0, offset)
    async with info.context.sessions() as session:
        repo = FeedbackRepository(session)
        total, surveys = await repo.survey_rows(group_ids, open_only, first, offset)
        ids = [s.id for s in surveys]
        responses = await repo.response_counts(ids) if ids else {}
        tally = await repo.mail_tally(ids) if ids else {}
    return SurveyPage(
        total=total,
        has_more=offset + len(surveys) < total,
        surveys=[
            SurveyOverview.of(s, responses.get(s.id, 0), tally.get(s.id, {})) for s in surveys
        ],
    )
