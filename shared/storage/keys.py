"""``column IN (a batch's keys)`` as ONE bound parameter, whatever the number of keys.

``column.in_([...])`` binds one parameter per key and SQLAlchemy renders the list into the
statement on every execution ("expanding" parameters): on the projection's per-batch
queries (hundreds of keys each) that rendering and the per-key bind processing measured
14 % of the consumer's CPU (bench/project_cost.py --profile), and a list longer than the
database's parameter limit had to be cut into chunks. :func:`among` binds the whole list
as one value instead, so the statement is compiled once and reused as it is:

- SQLite: ``column IN (SELECT value FROM json_each(:keys))``, the keys as one JSON array;
- PostgreSQL: ``column = ANY(:keys)``, the keys as one array.

Both are index seeks on ``column`` per key (SQLite's plan: ``SEARCH ... USING INDEX`` with
a ``LIST SUBQUERY`` over ``json_each``; ``tests/unit/test_storage_keys.py`` checks it).
The keys must be JSON scalars of the column's kind: text (ids), integers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession


def among(
    session: AsyncSession | str, column: ColumnElement[Any], keys: Iterable[Any]
) -> ColumnElement[bool]:
    """``column`` is one of ``keys`` (none: false), for ``session``'s database (or a
    dialect's name)."""
    dialect = session if isinstance(session, str) else session.get_bind().dialect.name
    values = list(keys)
    if dialect == "postgresql":
        array = postgresql.ARRAY(column.type if values else String())
        return column == any_(bindparam(None, values, type_=array))
    listed = func.json_each(bindparam(None, json.dumps(values), type_=String()))
    return column.in_(select(listed.table_valued("value").c.value).scalar_subquery())


__all__ = ["among"]
