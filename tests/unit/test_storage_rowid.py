"""shared.storage.rowid: a SQLite table rebuilt WITHOUT ROWID and back keeps its rows and
indexes; PostgreSQL and tables already stored that way are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from shared.storage.rowid import store_by_primary_key, store_by_rowid, without_rowid


def _indexes(conn: Connection, table: str) -> dict[str, str]:
    rows = conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
        ),
        {"t": table},
    )
    return {str(name): str(sql) for name, sql in rows.all()}


def test_rebuilt_without_rowid_and_back_keeps_rows_and_indexes(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE attendance (meeting_id VARCHAR(36) NOT NULL, "
            "member_id VARCHAR(36) NOT NULL, note TEXT, PRIMARY KEY (meeting_id, member_id))"
        )
        conn.exec_driver_sql("CREATE INDEX ix_attendance_member ON attendance (member_id)")
        conn.exec_driver_sql(
            "INSERT INTO attendance VALUES ('m1', 'a', 'x'), ('m1', 'b', NULL), ('m2', 'a', 'y')"
        )
        before = _indexes(conn, "attendance")
        rows = sorted(conn.exec_driver_sql("SELECT * FROM attendance").all())

        store_by_primary_key(conn, ["attendance"])
        assert without_rowid(conn, "attendance")
        assert sorted(conn.exec_driver_sql("SELECT * FROM attendance").all()) == rows
        assert _indexes(conn, "attendance") == before
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM attendance WHERE member_id = 'a'"
            )
        )
        assert "ix_attendance_member" in plan
        with pytest.raises(Exception, match="UNIQUE"):
            conn.exec_driver_sql("INSERT INTO attendance VALUES ('m1', 'a', 'z')")

    with engine.begin() as conn:
        store_by_primary_key(conn, ["attendance"])  # already so: nothing to do
        assert without_rowid(conn, "attendance")
        store_by_rowid(conn, ["attendance"])
        assert not without_rowid(conn, "attendance")
        assert sorted(conn.exec_driver_sql("SELECT * FROM attendance").all()) == rows
        assert _indexes(conn, "attendance") == before
        assert not conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE name LIKE '%_old'"
        ).all()
    engine.dispose()


def test_an_unknown_table_is_named(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn, pytest.raises(LookupError, match="no table 'nope'"):
        store_by_primary_key(conn, ["nope"])
    engine.dispose()
