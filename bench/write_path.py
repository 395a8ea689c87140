"""CPU of the regional write path's own code, in one process (issue 12 part 5).

    python bench/write_path.py [--writes 1000] [--batch 10] [--db sqlite|postgres]

An ``addMember`` through the groups service's GraphQL app (strawberry and the ASGI
middleware, no uvicorn and no network: ``httpx.ASGITransport``), then the events it staged
applied by the meetings and the feedback replicas in batches of ``--batch`` (as their
consumers do at a steady trickle), each on its own fresh database. Prints the CPU of this
process (``time.process_time``: aiosqlite's thread included) per write and per event, and
the SQL statements each part executed per write. Without NATS, uvicorn and the relay: what
the services' code costs, apart from the servers around it (bench/pipeline.py measures
those, with the machine's load in every number).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import PG_ADMIN, create_postgres_database, drop_postgres_databases
from services.feedback import handlers as feedback
from services.feedback.orm import TABLES as FEEDBACK_TABLES
from services.feedback.orm import Base as FeedbackBase
from services.groups.app import build as build_groups
from services.groups.orm import TABLES as GROUPS_TABLES
from services.groups.settings import GroupsSettings
from services.meetings import handlers as meetings
from services.meetings.orm import TABLES as MEETINGS_TABLES
from services.meetings.orm import Base as MeetingsBase
from shared.contracts import DecodedEvent, decode
from shared.runtime import UnitOfWork
from shared.runtime.credentials import NodeCredentials
from shared.storage import create_engine, create_schema, session_factory
from shared.storage.migrations import migrate, version_table

REGION = "bench"
MEMBERS_PER_GROUP = 15
ADD_MEMBER = "mutation($i: AddMemberInput!) { addMember(input: $i) { id } }"
CREATE_GROUP = 'mutation { createGroup(input: {name: "bench", foundedOn: "2015-01-01"}) { id } }'


class Statements:
    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0

        def record(*_: Any) -> None:
            self.count += 1

        event.listen(engine.sync_engine, "before_cursor_execute", record)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def measured(work: Callable[[], Awaitable[None]]) -> float:
    start = time.process_time()
    await work()
    return time.process_time() - start


async def groups_writes(url: str, writes: int) -> tuple[float, float, list[DecodedEvent]]:
    """CPU seconds and statements of ``writes`` addMember calls; the events they staged."""
    settings = GroupsSettings(region=REGION, database_url=url, nats_url="nats://127.0.0.1:1")
    secret = "bench-secret"
    service = build_groups(settings, credentials=NodeCredentials({"console": secret}))
    runtime = service.runtime
    await migrate(runtime.engine, runtime.migrations, version_table=version_table("groups"))
    statements = Statements(runtime.engine)
    transport = httpx.ASGITransport(app=service.app)
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://groups", headers=headers
    ) as http:

        async def post(query: str, variables: dict[str, Any] | None = None) -> Any:
            response = await http.post("/graphql", json={"query": query, "variables": variables})
            body = response.json()
            if "errors" in body:
                raise RuntimeError(body["errors"])
            return body["data"]

        groups = [
            (await post(CREATE_GROUP))["createGroup"]["id"]
            for _ in range(-(-writes // MEMBERS_PER_GROUP))
        ]
        before = statements.count

        async def write_all() -> None:
            for i in range(writes):
                await post(
                    ADD_MEMBER,
                    {
                        "i": {
                            "groupId": groups[i // MEMBERS_PER_GROUP],
                            "companyName": f"Company {i}",
                            "employees": i % 10,
                            "turnoverEur": 100_000,
                            "joinedOn": "2016-01-01",
                        }
                    },
                )

        cpu = await measured(write_all)
        per_write = (statements.count - before) / writes
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(GROUPS_TABLES.outbox.c.subject, GROUPS_TABLES.outbox.c.body).order_by(
                    GROUPS_TABLES.outbox.c.id
                )
            )
        ).all()
    await runtime.engine.dispose()
    return cpu, per_write, [decode(row.body, row.subject) for row in rows]


async def replica(
    url: str, metadata: Any, outbox: Any, apply: Any, events: list[DecodedEvent], batch: int
) -> tuple[float, float]:
    engine = create_engine(url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    statements = Statements(engine)

    async def apply_all() -> None:
        for start in range(0, len(events), batch):
            await apply(events[start : start + batch], UnitOfWork(sessions, outbox))

    cpu = await measured(apply_all)
    await engine.dispose()
    return cpu, statements.count


async def main(args: argparse.Namespace) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="mgn-write-path-"))

    async def url(name: str) -> str:
        if args.db == "sqlite":
            return f"sqlite+aiosqlite:///{work / name}.db"
        return await create_postgres_database(PG_ADMIN, f"write_path_{name}")

    print(f"regional write path in one process ({args.db}; load {load()})")
    statements_per_write: dict[str, float] = {}
    try:
        cpu, statements, events = await groups_writes(await url("groups"), args.writes)
        joined = [e for e in events if e.envelope.type == "groups.member.joined"]
        statements_per_write["groups"] = statements
        print(
            f"  groups addMember (GraphQL app + handler): {1000 * cpu / args.writes:.2f} ms CPU "
            f"per write, {statements:.1f} statements per write | load {load()}"
        )
        node = feedback.Node(region=REGION, tz=ZoneInfo("Europe/Helsinki"))

        async def apply_feedback(batch: list[DecodedEvent], uow: UnitOfWork) -> int:
            return await feedback.apply_events(batch, uow, node)

        for name, metadata, outbox, apply in (
            (
                "meetings",
                MeetingsBase.metadata,
                MEETINGS_TABLES.outbox,
                meetings.apply_groups_events,
            ),
            ("feedback", FeedbackBase.metadata, FEEDBACK_TABLES.outbox, apply_feedback),
        ):
            cpu, count = await replica(await url(name), metadata, outbox, apply, events, args.batch)
            statements_per_write[name] = count / len(joined)
            print(
                f"  {name} replica, batches of {args.batch}: {1000 * cpu / len(joined):.2f} ms CPU "
                f"per write, {count / len(joined):.1f} statements per write | load {load()}"
            )
    finally:
        if args.db == "postgres":
            await drop_postgres_databases(PG_ADMIN)
    return statements_per_write


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
