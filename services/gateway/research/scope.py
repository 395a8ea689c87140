"""What part of the national data a workspace query covers: a period of meeting days
(exact Helsinki days, inclusive, never widened), a region, a group; and who sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement

from services.gateway.auth.guard import Guard
from services.gateway.auth.sql import visible
from services.gateway.orm import meetings
from shared.i18n.formats import HELSINKI


def day_start(day: date) -> datetime:
    """The first instant of ``day`` in Europe/Helsinki (aware)."""
    return datetime.combine(day, time.min, tzinfo=HELSINKI)


@dataclass(frozen=True)
class Scope:
    from_: date | None = None
    to: date | None = None
    region: str | None = None
    group_id: str | None = None

    def meeting_terms(self, guard: Guard) -> list[ColumnElement[bool]]:
        """``WHERE`` terms on ``meetings``: the period, region and group, and only regions
        the caller sees in full."""
        m = meetings.c
        where: list[ColumnElement[bool]] = list(visible(guard, m.region))
        if self.from_ is not None:
            where.append(m.starts_at >= day_start(self.from_))
        if self.to is not None:
            where.append(m.starts_at < day_start(self.to + timedelta(days=1)))
        if self.region is not None:
            where.append(m.region == self.region)
        if self.group_id is not None:
            where.append(m.group_id == self.group_id)
        return where

    def coding_terms(
        self, region: ColumnElement[str], group: ColumnElement[str]
    ) -> list[ColumnElement[bool]]:
        """The region and group terms again on a table that carries its meeting's region and
        group (``codings``): the same rows, but an index on that table can find them."""
        where: list[ColumnElement[bool]] = []
        if self.region is not None:
            where.append(region == self.region)
        if self.group_id is not None:
            where.append(group == self.group_id)
        return where
