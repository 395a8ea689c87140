"""Throwaway benchmark databases: SQLite files in the work dir, PostgreSQL databases named
``bench_<pid>_*`` (dropped again by :func:`drop_postgres_databases`): the process id keeps
two benchmarks on one PostgreSQL (the machine is shared) from dropping each other's."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFIX = f"bench_{os.getpid()}_"
KINDS = ("sqlite", "postgres")


def postgres_answers(admin_url: str) -> bool:
    url = make_url(admin_url)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=0.5):
            return True
    except OSError:
        return False


async def create_postgres_database(admin_url: str, name: str) -> str:
    """(Re)create database ``bench_<pid>_<name>``; return its URL."""
    database = f"{PREFIX}{name}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


async def drop_postgres_databases(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{PREFIX}%"
        )
        for row in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await conn.close()


async def database_url(kind: str, workdir: Path, name: str, admin_url: str) -> str:
    """A fresh, empty database of ``kind`` (sqlite or postgres)."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{name}-{uuid.uuid4().hex[:6]}.db'}"
    if kind == "postgres":
        return await create_postgres_database(admin_url, name)
    raise ValueError(f"unknown database kind {kind!r}: use one of {', '.join(KINDS)}")
