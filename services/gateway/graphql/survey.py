"""GraphQL type ``Survey``: a meeting's feedback survey, as k-anonymous aggregates only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Row

from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved
from shared.contracts import K_ANONYMITY


@strawberry.type(description="A meeting's feedback survey: counts and k-anonymous means.")
class Survey:
    id: strawberry.ID
    region: str
    group_id: strawberry.ID
    meeting_id: strawberry.ID
    invited: int
    opened_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Survey:
        return cls(
            id=strawberry.ID(row.id),
            region=row.region,
            group_id=strawberry.ID(row.group_id),
            meeting_id=strawberry.ID(row.meeting_id),
            invited=row.invited,
            opened_at=row.opened_at,
            closes_at=row.closes_at,
            closed_at=row.closed_at,
        )

    @resolved("Whether the survey has closed.")
    def closed(self) -> bool:
        return self.closed_at is not None

    @resolved("How many attendees answered (the newest answer of each counts).")
    async def responses(self, info: Info) -> int:
        row = await info.context.loaders.survey_scores.load(str(self.id))
        return 0 if row is None else int(row.n)

    @resolved(f"Whether at least {K_ANONYMITY} answered, so the means are shown.")
    async def enough_responses(self, info: Info) -> bool:
        return await self._scores(info) is not None

    @resolved(f"Mean overall score (1-5); null unless at least {K_ANONYMITY} answered.")
    async def mean_overall(self, info: Info) -> float | None:
        return await self._mean(info, "overall")

    @resolved(f"Mean usefulness (1-5); null unless at least {K_ANONYMITY} answered.")
    async def mean_usefulness(self, info: Info) -> float | None:
        return await self._mean(info, "usefulness")

    @resolved(f"Mean likelihood to recommend (0-10); null unless {K_ANONYMITY}+ answered.")
    async def mean_recommend(self, info: Info) -> float | None:
        return await self._mean(info, "recommend")

    async def _scores(self, info: Info) -> Row[Any] | None:
        row = await info.context.loaders.survey_scores.load(str(self.id))
        return row if row is not None and row.n >= K_ANONYMITY else None

    async def _mean(self, info: Info, score: str) -> float | None:
        row = await self._scores(info)
        return None if row is None else round(float(row._mapping[score]), 2)
