"""``mgn token create|list|revoke`` and ``mgn export``: the national API's access, by hand.

Both work on the gateway's database directly (``--db``, default ``MGN_GATEWAY_DATABASE_URL``
or the gateway's default), bringing its schema up to date first, so tokens can be issued
before the gateway ever starts. ``mgn export`` applies the role of ``--token`` if given;
without one it runs as the operator it is: a national researcher.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import IO, Any, TextIO

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.files import open_private

Sessions = async_sessionmaker[AsyncSession]


def add_commands(commands: Any) -> None:
    token = commands.add_parser(
        "token",
        help="issue, list and revoke the national API's access tokens",
        description="Tokens for the gateway's GraphQL API and exports. Roles: researcher "
        "(every region, pseudonymous), agency (its --region in full, others as aggregates), "
        "public (national aggregates only). The token is printed once: only its SHA-256 "
        "is stored.",
    )
    token_cmds = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_cmds.add_parser("create", help="issue a token (printed once)")
    create.add_argument("--role", required=True, choices=["researcher", "agency", "public"])
    create.add_argument("--region", help="the agency's own region (agency tokens only)")
    create.add_argument("--label", default="", help="who or what it is for")
    listing = token_cmds.add_parser("list", help="every token: id, role, region, state")
    revoke = token_cmds.add_parser("revoke", help="revoke a token by id (works at once)")
    revoke.add_argument("id", help="the token's id (see `mgn token list`) or the token")
    for sub in (create, listing, revoke):
        _db_option(sub)

    export = commands.add_parser(
        "export",
        help="export a dataset of the national read model (CSV, JSON lines, Parquet, SPSS, Stata)",
        description="Stream a pseudonymous dataset of the gateway's read model to a file. "
        "Datasets and their columns: `mgn export --list`.",
    )
    export.add_argument("name", nargs="?", help="dataset name (see --list), or table1")
    export.add_argument("--list", action="store_true", help="print the data dictionary")
    export.add_argument(
        "--all",
        action="store_true",
        help="every dataset the role may read, as CSV into the directory --out, with a "
        "Frictionless Data Package descriptor (datapackage.json: schemas, snapshot, SHA-256)",
    )
    export.add_argument(
        "--also",
        action="append",
        choices=["sav", "dta", "jsonl", "parquet"],
        default=[],
        help="with --all: each dataset also as an SPSS (sav), Stata (dta), JSON lines or "
        "Parquet file, listed in datapackage.json with its SHA-256 (repeat for several)",
    )
    export.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="with --all: datasets written by this many processes at once (default 1: in "
        "this process; on a busy 2-core machine 2 was not faster, see bench/README.md)",
    )
    export.add_argument(
        "--format",
        choices=["csv", "jsonl", "parquet", "sav", "dta", "qdpx", "md", "tex"],
        default="csv",
        help="parquet (needs pyarrow), sav (SPSS), dta (Stata): a dataset to --out FILE; "
        "qdpx: memos with their codings as a REFI-QDA project (--out FILE; --from, --to, "
        "--region, --group, --codebook, --language); md, tex: table1",
    )
    export.add_argument("--out", type=Path, help="output file (default: standard output)")
    export.add_argument("--region", help="only this region's rows")
    export.add_argument("--token", help="apply this token's role (default: researcher)")
    table1 = export.add_argument_group("table1 (Table 1 of a codebook, from the codings)")
    table1.add_argument("--codebook", default="wenger", help="key (its newest version) or id")
    table1.add_argument("--from", dest="from_", type=date.fromisoformat, help="first meeting day")
    table1.add_argument("--to", type=date.fromisoformat, help="last meeting day (inclusive)")
    table1.add_argument("--group", help="only this group's meetings")
    table1.add_argument("--coder", help="this coder's coding (default: the consensus)")
    table1.add_argument("--examples", type=int, default=2, help="examples per code (<= 10)")
    table1.add_argument("--language", choices=["fi", "sv", "en"], default="en")
    _db_option(export)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", dest="database_url", help="gateway database URL (default: the gateway's setting)"
    )


def run(args: argparse.Namespace) -> int:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "token":
        action = {"create": _create, "list": _list, "revoke": _revoke}[args.token_command]
        return _with_db(args, action)
    if args.list:
        return _dictionary(sys.stdout)
    if args.all:
        if args.jobs < 1:
            raise SystemExit(f"mgn: error: export --all: --jobs {args.jobs}: give 1 or more")
        if args.name or args.out is None or args.format != "csv":
            raise SystemExit(
                "mgn: error: export --all: no dataset name; --out DIR; CSV "
                "(--also sav, dta, jsonl, parquet)"
            )
        return _with_db(args, _export_all, reads_only=True)
    if args.also:
        raise SystemExit("mgn: error: export: --also is for --all (one dataset: --format)")
    if not args.name:
        raise SystemExit("mgn: error: export: name a dataset (see `mgn export --list`)")
    if args.name == "table1":
        if args.format in ("jsonl", "parquet", "sav", "dta"):
            raise SystemExit("mgn: error: export table1: --format csv, md or tex")
        return _with_db(args, _table1, reads_only=True)
    if args.format == "qdpx":
        if args.name != "memos" or args.out is None:
            raise SystemExit("mgn: error: export: --format qdpx is for memos, with --out FILE")
        return _with_db(args, _qdpx, reads_only=True)
    if args.format in ("md", "tex"):
        raise SystemExit(f"mgn: error: export {args.name}: --format {args.format} is for table1")
    if args.format in ("parquet", "sav", "dta") and args.out is None:
        raise SystemExit(f"mgn: error: export {args.name}: --format {args.format} needs --out FILE")
    return _with_db(args, _export, reads_only=True)


def _with_db(
    args: argparse.Namespace,
    action: Callable[[Sessions, argparse.Namespace], Coroutine[Any, Any, int]],
    *,
    reads_only: bool = False,
) -> int:
    """Prepare the gateway's database as the gateway does when it starts (migrations, the
    first codebook), then run ``action`` on it.

    ``reads_only`` (the exports): a database already prepared is not written, and on SQLite
    the action's transactions are plain reads, so an export of a live gateway's file neither
    takes the write lock for a whole dataset (holding up the gateway's consumer) nor fails
    with "database is locked" behind it.
    """
    from services.gateway.research.store import ensure_first_codebook, has_first_codebook
    from services.gateway.settings import GatewaySettings
    from shared.storage import create_engine, session_factory
    from shared.storage.migrations import current_revision, head_revision, migrate, version_table

    url = args.database_url or GatewaySettings().database_url
    migrations = Path(__file__).parent.parent / "services" / "gateway" / "migrations"
    table = version_table("gateway")

    async def prepared(engine: AsyncEngine) -> bool:
        if await current_revision(engine, version_table=table) != head_revision(migrations):
            return False
        async with session_factory(engine)() as session:
            return await has_first_codebook(session)

    async def prepare(engine: AsyncEngine) -> None:
        await migrate(engine, migrations, version_table=table)
        async with session_factory(engine)() as session, session.begin():
            await ensure_first_codebook(session)

    async def main() -> int:
        engine = create_engine(url, sqlite_immediate=not reads_only)
        try:
            if not reads_only:
                await prepare(engine)
            elif not await prepared(engine):
                writer = create_engine(url)
                try:
                    await prepare(writer)
                finally:
                    await writer.dispose()
            return await action(session_factory(engine), args)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _create(sessions: Sessions, args: argparse.Namespace) -> int:
    from services.gateway.auth import TokenError, create_token

    try:
        issued = await create_token(sessions, args.role, args.region, args.label)
    except TokenError as exc:
        raise SystemExit(f"mgn: error: token create: {exc}") from None
    info = issued.info
    where = f" for region {info.region}" if info.region else ""
    print(f"token {info.id}: role {info.role.value}{where}", file=sys.stderr)
    print("shown once, store it now; send it as 'Authorization: Bearer <token>':", file=sys.stderr)
    print(issued.token)
    return 0


async def _list(sessions: Sessions, args: argparse.Namespace) -> int:
    from services.gateway.auth import list_tokens

    tokens = await list_tokens(sessions)
    print(f"{'ID':<14}{'ROLE':<12}{'REGION':<12}{'CREATED (UTC)':<22}{'STATE':<30}LABEL")
    for t in tokens:
        state = "active" if t.revoked_at is None else f"revoked {t.revoked_at:%Y-%m-%d %H:%M}"
        print(
            f"{t.id:<14}{t.role.value:<12}{t.region or '-':<12}"
            f"{t.created_at:%Y-%m-%d %H:%M:%S}   {state:<30}{t.label}"
        )
    return 0


async def _revoke(sessions: Sessions, args: argparse.Namespace) -> int:
    from services.gateway.auth import TokenError, revoke_token

    try:
        info = await revoke_token(sessions, args.id)
    except TokenError as exc:
        raise SystemExit(f"mgn: error: token revoke: {exc}") from None
    assert info.revoked_at is not None
    print(f"token {info.id} ({info.role.value}) revoked at {info.revoked_at.isoformat()}")
    return 0


async def _export(sessions: Sessions, args: argparse.Namespace) -> int:
    from services.gateway.auth import ANONYMOUS, AccessDenied, TokenError, resolve_token
    from services.gateway.exports.package import sha256_line, write
    from services.gateway.exports.registry import UnknownDataset, dataset
    from services.gateway.exports.stream import scoped
    from services.gateway.snapshot import current

    try:
        ds = dataset(args.name)
        guard = ANONYMOUS if args.token is None else await resolve_token(sessions, args.token)
        query = scoped(ds, guard, args.region)
    except (UnknownDataset, TokenError, AccessDenied) as exc:
        raise SystemExit(f"mgn: error: export: {exc}") from None
    async with sessions() as session:  # read first: the rows are at least this new
        snap = await current(session)
    started = time.perf_counter()
    progress = _progress(started)
    if args.format in ("parquet", "sav", "dta"):
        return await _export_file(sessions, args, ds, query, snap, started)
    out: IO[bytes]
    out = (  # a file of research data: 0600, like every file the project writes
        sys.stdout.buffer if args.out is None else open_private(args.out, "wb")
    )
    try:
        written = await write(
            sessions, ds, args.format, query, out, lambda n: progress(ds.name, n), args.out
        )
    finally:
        if args.out is not None:
            out.close()
        else:
            out.flush()
    if args.out is not None:  # beside the file, for `sha256sum --check`
        with open_private(args.out.with_name(args.out.name + ".sha256"), "w") as sums:
            sums.write(sha256_line(written))
    took = time.perf_counter() - started
    print(
        f"export {ds.name}: {written.rows:,} rows to {args.out or 'standard output'} in "
        f"{took:.2f} s ({written.rows / max(took, 1e-9):,.0f} rows/s)",
        file=sys.stderr,
    )
    print(_snapshot_line(snap), file=sys.stderr)
    print(f"sha256 {written.sha256}", file=sys.stderr)
    return 0


async def _export_file(
    sessions: Sessions, args: argparse.Namespace, ds: Any, query: Any, snap: Any, started: float
) -> int:
    """A dataset written whole to ``--out``: Parquet, SPSS or Stata, its SHA-256 beside it."""
    from services.gateway.exports.parquet import write_parquet
    from services.gateway.exports.stats import NotInValueSet, write_stats

    progress = _progress(started)
    step = lambda n: progress(ds.name, n)  # noqa: E731
    try:
        if args.format == "parquet":
            extra = {"mgn:snapshot": _snapshot_line(snap)}
            rows, digest = await write_parquet(sessions, ds, query, args.out, step, extra)
        else:
            note = _snapshot_line(snap)
            rows, digest = await write_stats(sessions, ds, query, args.out, args.format, step, note)
    except (RuntimeError, NotInValueSet) as exc:  # pyarrow missing; the dictionary behind
        raise SystemExit(f"mgn: error: export {ds.name}: {exc}") from None
    with open_private(args.out.with_name(args.out.name + ".sha256"), "w") as sums:
        sums.write(f"{digest}  {args.out.name}\n")
    took = time.perf_counter() - started
    print(f"export {ds.name}: {rows:,} rows to {args.out} in {took:.2f} s", file=sys.stderr)
    print(_snapshot_line(snap), file=sys.stderr)
    print(f"sha256 {digest}", file=sys.stderr)
    return 0


async def _export_all(sessions: Sessions, args: argparse.Namespace) -> int:
    from services.gateway.auth import ANONYMOUS, TokenError, resolve_token
    from services.gateway.exports.package import write_all

    try:
        guard = ANONYMOUS if args.token is None else await resolve_token(sessions, args.token)
    except TokenError as exc:
        raise SystemExit(f"mgn: error: export: {exc}") from None
    started = time.perf_counter()
    from services.gateway.exports.stats import NotInValueSet

    try:
        snap, target, files, refused = await write_all(
            sessions,
            guard,
            args.out,
            args.region,
            _progress(started),
            also=tuple(args.also),
            jobs=args.jobs,
        )
    except (RuntimeError, NotInValueSet) as exc:  # pyarrow missing; the dictionary behind
        raise SystemExit(f"mgn: error: export --all: {exc}") from None
    for w in files:
        for one in (w, *w.also):
            print(f"{one.sha256}  {one.path} ({one.rows:,} rows)", file=sys.stderr)
    if refused:
        print(f"not allowed for this role: {', '.join(refused)}", file=sys.stderr)
    took = time.perf_counter() - started
    print(
        f"export --all: {len(files)} datasets, {sum(w.rows for w in files):,} rows and "
        f"{target} in {took:.2f} s",
        file=sys.stderr,
    )
    print(_snapshot_line(snap), file=sys.stderr)
    return 0


async def _qdpx(sessions: Sessions, args: argparse.Namespace) -> int:
    from services.gateway.auth import ANONYMOUS, AccessDenied, TokenError, resolve_token
    from services.gateway.exports.qdpx import write_qdpx
    from services.gateway.research.scope import Scope
    from services.gateway.snapshot import current
    from shared.errors import DomainError

    async with sessions() as session:
        snap = await current(session)
    started = time.perf_counter()
    try:
        guard = ANONYMOUS if args.token is None else await resolve_token(sessions, args.token)
        scope = Scope(args.from_, args.to, args.region, args.group)
        written = await write_qdpx(
            sessions, guard, args.out, scope, args.codebook, snap, args.language
        )
    except (TokenError, AccessDenied) as exc:
        raise SystemExit(f"mgn: error: export memos: {exc}") from None
    except DomainError as exc:
        raise SystemExit(f"mgn: error: export memos: {exc.render('en')}") from None
    with open_private(args.out.with_name(args.out.name + ".sha256"), "w") as sums:
        sums.write(f"{written.sha256}  {args.out.name}\n")
    took = time.perf_counter() - started
    print(
        f"export memos: {written.memos:,} memos, {written.selections:,} coded passages, "
        f"{written.whole:,} whole-memo codings, {len(written.coders)} coders to {args.out} "
        f"in {took:.2f} s",
        file=sys.stderr,
    )
    print(_snapshot_line(snap), file=sys.stderr)
    print(f"sha256 {written.sha256}", file=sys.stderr)
    return 0


def _progress(started: float) -> Callable[[str, int], None]:
    last = [0.0]

    def report(name: str, rows: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 1.0:
            last[0] = now
            rate = rows / max(now - started, 1e-9)
            print(f"export {name}: {rows:,} rows ({rate:,.0f} rows/s)", file=sys.stderr)

    return report


def _snapshot_line(snap: Any) -> str:
    when = snap.time or "nothing applied yet"
    return f"snapshot: {snap.stream} stream sequence {snap.sequence} ({when})"


async def _table1(sessions: Sessions, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from services.gateway.auth import ANONYMOUS, AccessDenied, Level, TokenError, resolve_token
    from services.gateway.research.scope import Scope
    from services.gateway.research.table1 import table1
    from services.gateway.research.table1_render import render
    from services.gateway.research.tables import codebooks
    from shared.errors import DomainError

    c = codebooks.c
    async with sessions() as session:
        try:
            guard = ANONYMOUS if args.token is None else await resolve_token(sessions, args.token)
            if args.region is not None or guard.regions_at(Level.FULL) == frozenset():
                guard.require(Level.FULL, args.region, "table1")  # rows in full, as in GraphQL
            book = await session.scalar(
                select(c.id)
                .where((c.id == args.codebook) | (c.key == args.codebook))
                .order_by(c.version.desc())
                .limit(1)
            )
            if book is None:
                raise SystemExit(f"mgn: error: export table1: no codebook {args.codebook!r}")
            scope = Scope(args.from_, args.to, args.region, args.group)
            table = await table1(
                session,
                book,
                scope,
                guard,
                coder=args.coder,
                examples=args.examples,
                language=args.language,
            )
        except (TokenError, AccessDenied, DomainError) as exc:
            raise SystemExit(f"mgn: error: export table1: {exc}") from None
    text = render(table, args.format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    print(
        f"export table1: {table.codebook_key} v{table.version}, {len(table.rows)} codes, "
        f"{sum(r.activities for r in table.rows):,} activities ({table.coder}) to "
        f"{args.out or 'standard output'}",
        file=sys.stderr,
    )
    return 0


def _dictionary(out: TextIO) -> int:
    from services.gateway.exports.registry import DATASETS

    for ds in DATASETS.values():
        print(f"{ds.name}: {ds.description}", file=out)
        for c in ds.columns:
            print(f"  {c.name:<20}{c.type:<11}{c.meaning}", file=out)
    return 0
