"""JSON lines written a column at a time (exports/stream.json_lines) are ``json.dumps`` of
each row's record, character for character, on every kind of tricky value."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.gateway.exports.stream import _plain, json_lines, json_template

TRICKY: list[Any] = [
    None,
    "",
    "plain",
    "Ähtäri – Åland “öljy”",
    'a "quote"',
    "back\\slash",
    "line\nbreak\r\ttab",
    "nul\x00and\x1f",
    "\u2028\u2029\x7f",
    "=HYPERLINK(1)",
    "%s %d {}",
    0,
    -7,
    2**63,
    True,
    False,
    1.5,
    0.0,
    -0.0,
    1e-300,
    float("nan"),
    float("inf"),
    Decimal("2.50"),
    date(2020, 1, 2),
    datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
]


def reference(names: list[str], rows: list[tuple[Any, ...]]) -> str:
    return "".join(
        json.dumps(
            {n: _plain(v) for n, v in zip(names, row, strict=True)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "\n"
        for row in rows
    )


def test_json_lines_are_json_dumps_of_each_record() -> None:
    names = ["a", "b", 'ä "x"']
    # every pair of tricky values in a column of two rows, beside columns of one kind
    for first, second in itertools.product(TRICKY, repeat=2):
        rows: list[tuple[Any, ...]] = [(first, "x", 1), (second, None, None)]
        columns = [list(c) for c in zip(*rows, strict=True)]
        assert json_lines(json_template(names), columns) == reference(names, rows), rows
    # columns of a single kind each (the one-pass paths)
    rows = [("id-1", 3, None), (None, None, "ok"), ("ä", -1, ""), ("b", 0, "c")]
    columns = [list(c) for c in zip(*rows, strict=True)]
    assert json_lines(json_template(names), columns) == reference(names, rows)
    for line in json_lines(json_template(names), columns).splitlines():
        assert list(json.loads(line)) == names
