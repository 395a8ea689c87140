"""CSV and JSON lines exports read SQLite's dates and times as their stored texts
(services/gateway/exports/stored_times.py): the same ISO texts as formatting the values the
database types give, on SQLite and PostgreSQL, for every dataset of the research world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.gateway.auth import Guard, Role
from services.gateway.exports.registry import DATASETS
from services.gateway.exports.stored_times import iso_column
from services.gateway.exports.stream import _plain, chunks, scoped, stream
from tests.unit.test_gateway_research_graphql import World
from tests.unit.test_gateway_research_graphql import world as research_world  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")  # the world is built once per module
RESEARCHER = Guard(Role.RESEARCHER)


def stored(moment: datetime) -> str:
    """What SQLAlchemy's SQLite DATETIME stores for a UTC time."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_a_column_of_stored_times_becomes_isoformat() -> None:
    start = datetime(2015, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(minutes=17 * i, microseconds=(i % 4) * 250) for i in range(60)]
    values: list[Any] = [stored(m) for m in moments]
    expected: list[Any] = [m.isoformat() for m in moments]
    values[3] = expected[3] = None
    values[8] = moments[8].strftime("%Y-%m-%d %H:%M:%S")  # no fraction: 19 characters
    assert moments[8].microsecond == 0
    assert iso_column(values, "timestamp") == expected
    assert iso_column([None, None], "timestamp") == [None, None]
    assert iso_column([], "timestamp") == []


def test_dates_pass_and_other_texts_are_parsed_one_by_one() -> None:
    assert iso_column(["2024-02-29", None], "date") == ["2024-02-29", None]
    # not as SQLAlchemy stores them: parsed (a zone kept, converted to UTC)
    assert iso_column(["2024-01-01T12:00:00+02:00", None], "timestamp") == [
        "2024-01-01T10:00:00+00:00",
        None,
    ]
    assert iso_column(["20240105"], "date") == ["2024-01-05"]
    # only the shape is checked, not the calendar: SQLAlchemy stored them from real dates
    assert iso_column(["2024-13-01"], "date") == ["2024-13-01"]
    # a NUL inside a text cannot line the column up wrongly: parsed one by one
    assert iso_column(["2024-01-01 00:00:00\x00", None], "timestamp") == [
        "2024-01-01T00:00:00+00:00",
        None,
    ]
    # values the database types gave (PostgreSQL): not texts, left to the caller
    assert iso_column([datetime(2024, 1, 1, tzinfo=UTC)], "timestamp") is None
    assert iso_column([date(2024, 1, 1)], "date") is None


def typed(rows: list[Sequence[Any]]) -> list[list[Any]]:
    return [[_plain(v) for v in row] for row in rows]


@pytest.mark.parametrize("name", sorted(DATASETS))
async def test_stored_texts_give_the_typed_values_isoformat(
    research_world: World,  # noqa: F811
    name: str,
) -> None:
    ds = DATASETS[name]
    query = scoped(ds, RESEARCHER)
    by_type = [r async for chunk in chunks(research_world.sessions, ds, query) for r in chunk]
    as_texts = [
        r
        async for chunk in chunks(research_world.sessions, ds, query, stored_times=True)
        for r in chunk
    ]
    assert len(as_texts) == len(by_type)
    if not by_type:
        return
    timestamps = [i for i, c in enumerate(ds.columns) if c.type == "timestamp"]
    if any(row[i] is not None for row in by_type for i in timestamps):
        async with research_world.sessions() as session:
            sqlite = session.get_bind().dialect.name == "sqlite"
        # a streamed dataset's, on SQLite, are texts now; on PostgreSQL, and those of
        # rows Python derives or computes, the types' values, as before
        streamed = ds.expand is None and ds.collect is None and ds.derive is None
        kinds = {type(row[i]) for row in as_texts for i in timestamps} - {type(None)}
        assert kinds == ({str} if sqlite and streamed else {datetime})
    columns = [list(c) for c in zip(*as_texts, strict=True)]
    plain = [
        list(iso_column(col, c.type) or col) if c.type in ("date", "timestamp") else col
        for col, c in zip(columns, ds.columns, strict=True)
    ]
    assert typed([list(r) for r in zip(*plain, strict=True)]) == typed(by_type)
    # and the exported text is built from them
    text = "".join([p async for p in stream(research_world.sessions, ds, "jsonl", query)])
    assert len(text.splitlines()) == len(by_type)
