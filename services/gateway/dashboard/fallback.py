"""The dashboard without JavaScript: its filters read from the address, and the national (or
one region's, one group's) figures as plain tables inside the page's ``<noscript>``.

The tables run the selects the GraphQL views run (``services.gateway.views.queries``, one
place for both) for the same period, region and group, so a browser without JavaScript reads
the same numbers the charts draw: meetings per month, CoP activities per Wenger type and
feedback per month of the meetings (counted, k-anonymous surveys only). Served only where the
gateway runs without tokens (a page load cannot carry one; with tokens the notice points to
the exports).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.orm import regions
from services.gateway.views import queries
from services.gateway.views.metrics import ratio
from services.gateway.views.queries import Scope
from shared.activity_types import ACTIVITY_TYPE_TEXTS
from shared.i18n import current_language
from shared.i18n.formats import format_number

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Filters:
    """The page's filters as the address gives them (``?from=&to=&region=&group=``)."""

    from_: date | None = None
    to: date | None = None
    region: str | None = None
    group: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)  # as typed, for the form
    errors: tuple[str, ...] = ()  # what is wrong with them, in the page's language

    @property
    def scope(self) -> Scope:
        return Scope(self.region, self.group, self.from_, self.to)


def parse_filters(params: Mapping[str, str], texts: Mapping[str, str]) -> Filters:
    """The filters of ``params``; a day that is not ``YYYY-MM-DD`` or a reversed period is
    named in ``errors`` (and left out) rather than widened or ignored silently."""
    raw = {k: params.get(k, "").strip() for k in ("from", "to", "region", "group")}
    errors: list[str] = []
    days: dict[str, date | None] = {}
    for key in ("from", "to"):
        days[key] = None
        if raw[key]:
            try:
                days[key] = date.fromisoformat(raw[key])
            except ValueError:
                errors.append(texts["badDay"].format(field=texts[key], value=raw[key]))
    first, last = days["from"], days["to"]
    if first is not None and last is not None and first > last:
        errors.append(texts["periodReversed"].format(**{"from": first, "to": last}))
        first = last = None
    return Filters(
        from_=first,
        to=last,
        region=raw["region"] or None,
        group=raw["group"] or None,
        raw=raw,
        errors=tuple(errors),
    )


async def region_names(sessions: Sessions) -> list[tuple[str, str]]:
    """(id, display name) of every region NATIONAL has seen, by id."""
    async with sessions() as session:
        rows = (await session.execute(select(regions.c.id, regions.c.display_name))).all()
    return sorted((r.id, r.display_name or r.id) for r in rows)


def _num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return format_number(round(value, digits) if digits else value, current_language())


def _table(
    tid: str, caption: str, head: Sequence[str], rows: Sequence[Sequence[str]], empty: str
) -> str:
    cells = "".join(
        f'<th scope="col"{"" if i == 0 else " class=num"}>{escape(h)}</th>'
        for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<th scope="row">{escape(c)}</th>' if i == 0 else f'<td class="num">{escape(c)}</td>'
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(head)}">{escape(empty)}</td></tr>'
    return (
        f'<table id="{tid}"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"
    )


async def fallback_tables(sessions: Sessions, filters: Filters, texts: Mapping[str, str]) -> str:
    """The three plain tables for ``filters`` (HTML), in the current language."""
    scope = filters.scope
    lang = current_language()
    async with sessions() as session:
        meetings = (await session.execute(queries.meetings_over_time(scope))).all()
        cop = (await session.execute(queries.cop_table(scope, examples=False))).all()
        feedback = (await session.execute(queries.feedback_trend(scope))).all()
    return "".join(
        (
            _table(
                "noscript-meetings",
                texts["meetings"],
                [texts["month"], texts["held"], texts["cancelled"], texts["attendanceRate"]],
                [_meeting_row(r) for r in meetings],
                texts["noData"],
            ),
            _table(
                "noscript-activities",
                texts["activities"],
                [texts["type"], texts["activitiesCol"], texts["meetingsCol"], texts["groups"]],
                [_cop_row(r, lang) for r in cop],
                texts["noData"],
            ),
            _table(
                "noscript-feedback",
                texts["feedback"],
                [
                    texts["month"],
                    texts["surveys"],
                    texts["responses"],
                    texts["overall"],
                    texts["usefulness"],
                ],
                [_feedback_row(r) for r in feedback if r.surveys],
                texts["noData"],
            ),
        )
    )


def _meeting_row(r: Any) -> list[str]:
    rate = ratio(r.attendees, r.expected)
    return [
        r.month,
        _num(r.meetings_held),
        _num(r.meetings_cancelled),
        "–" if rate is None else f"{_num(rate * 100, 1)} %",
    ]


def _cop_row(r: Any, lang: str) -> list[str]:
    text = ACTIVITY_TYPE_TEXTS.get(r.activity_type)
    name = text.name.get(lang) if text is not None else r.activity_type
    return [name, _num(r.activities), _num(r.meetings), _num(r.groups)]


def _feedback_row(r: Any) -> list[str]:
    return [
        r.month,
        _num(r.surveys),
        _num(r.responses),
        _num(ratio(r.overall_sum, r.responses), 2),
        _num(ratio(r.usefulness_sum, r.responses), 2),
    ]
