"""The ``mgn`` command line."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared.redact import settings_problems
from shared.runtime.observability import OperationsSettings, configure_logging

# service name -> (settings class, app factory), imported only when that service runs.
SERVICES: dict[str, tuple[str, str]] = {
    "groups": ("services.groups.settings:GroupsSettings", "services.groups.app:create_app"),
    "meetings": ("services.meetings.settings:MeetingsSettings", "services.meetings.app:create_app"),
    "feedback": ("services.feedback.settings:FeedbackSettings", "services.feedback.app:create_app"),
    "gateway": ("services.gateway.settings:GatewaySettings", "services.gateway.app:create_app"),
    "console": ("services.console.settings:ConsoleSettings", "services.console.app:create_app"),
}


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def _parser() -> argparse.ArgumentParser:
    from deploy import access, translations  # mgn token/export ..., mgn translations ...
    from deploy.nodes import DEFAULT_CONSOLE_PORT, add_commands  # mgn hub ..., mgn region ...

    parser = argparse.ArgumentParser(
        prog="mgn", description="MicroENTRE Growth Network: regional nodes and the national hub."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run a whole federation here (hub, regions, gateway) with sample data",
        description="Start the hub NATS server, the gateway and regional nodes (leaf NATS "
        "server + services, SQLite), load sample data through the regional APIs and print "
        "the national GraphQL URL. Ctrl-C stops every process it started.",
    )
    demo.add_argument(
        "--regions",
        default="oulu,kainuu,lappi",
        help="comma-separated region ids (default: %(default)s)",
    )
    demo.add_argument("--port", type=int, default=8000, help="gateway port (default: %(default)s)")
    demo.add_argument(
        "--console-port",
        type=int,
        default=DEFAULT_CONSOLE_PORT,
        metavar="FIRST",
        help="the consoles' ports: the first region's FIRST, the next FIRST+1, ... (fixed, so "
        "mailed survey links survive a restart; default: %(default)s)",
    )
    demo.add_argument("--groups", type=int, default=2, help="core groups per region (default: 2)")
    demo.add_argument(
        "--years",
        default="2015-2019",
        help="years of monthly meetings, FIRST-LAST (default: %(default)s)",
    )
    demo.add_argument(
        "--workdir",
        type=Path,
        default=Path("var/demo"),
        help="data, logs and NATS stores; wiped at start (default: %(default)s)",
    )
    demo.add_argument("--no-load", action="store_true", help="start empty, load no sample data")
    demo.add_argument(
        "--exit-after-load",
        action="store_true",
        help="stop everything once the data reached the nation (for scripts)",
    )

    service = commands.add_parser("service", help="run one service in this process")
    service.add_argument("name", choices=sorted(SERVICES))
    service.add_argument("--region", help="region id (regional services)")
    service.add_argument(
        "--db", dest="database_url", help="database URL (sqlite:///… or postgresql://…)"
    )
    service.add_argument(
        "--nats", dest="nats_url", help="NATS URL of the region's leaf server / the hub"
    )
    service.add_argument("--host", help="HTTP bind address")
    service.add_argument("--port", type=int, help="HTTP port")

    migrate = commands.add_parser(
        "migrate",
        help="upgrade a service's database to the newest schema, or write a new revision",
        description="Upgrade the database to the service's newest migration and print its "
        "revision before and after. With --autogenerate, write the next revision from what "
        "the service's orm.py has that the migrations do not (compared with a throwaway "
        "SQLite database, or with --db's, which must be up to date).",
    )
    migrate.add_argument("name", choices=sorted(SERVICES))
    migrate.add_argument(
        "--db", dest="database_url", help="database URL (default: the service's setting)"
    )
    migrate.add_argument(
        "--autogenerate", action="store_true", help="write a new revision (development)"
    )
    migrate.add_argument("-m", "--message", help="what the new revision changes")

    add_commands(commands)
    access.add_commands(commands)
    translations.add_commands(commands)
    return parser


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        years = int(first), int(last or first)
    except ValueError:
        raise SystemExit(
            f"mgn: error: --years {text!r}: expected FIRST-LAST, e.g. 2015-2019"
        ) from None
    if not 2000 <= years[0] <= years[1] <= 2100:
        raise SystemExit(f"mgn: error: --years {text!r}: FIRST must not be after LAST")
    return years


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # a supervisor's news reaches a log at once
        sys.stdout.reconfigure(line_buffering=True)
    try:
        operations = OperationsSettings()
    except ValidationError as exc:
        raise SystemExit(f"mgn: invalid setting: {settings_problems(exc)}") from None
    configure_logging(operations)  # MGN_LOG_FORMAT=json: JSON lines, here and in every child
    if args.command == "demo":
        from deploy.demo import run_demo
        from shared.contracts import SubjectError, validate_region

        regions = [r.strip() for r in args.regions.split(",") if r.strip()]
        try:
            for region in regions:
                validate_region(region)
        except SubjectError as exc:
            raise SystemExit(f"mgn: error: --regions: {exc}") from None
        first, last = _years(args.years)
        return run_demo(
            workdir=args.workdir.resolve(),
            regions=regions,
            port=args.port,
            console_port=args.console_port,
            groups_per_region=args.groups,
            first_year=first,
            last_year=last,
            load=not args.no_load,
            wait=not args.exit_after_load,
        )
    if args.command == "service":
        return _run_service(args)
    if args.command == "migrate":
        return _migrate(args)
    if args.command in ("token", "export"):
        from deploy import access

        return access.run(args)
    if args.command == "translations":
        from deploy import translations

        return translations.run(args)
    if args.command in ("hub", "region"):
        from deploy.nodes import run

        return run(args)
    raise AssertionError(args.command)  # pragma: no cover


def _run_service(args: argparse.Namespace) -> int:
    from shared.runtime.edge import serve

    settings_ref, factory_ref = SERVICES[args.name]
    overrides = {
        k: v
        for k, v in vars(args).items()
        if k in ("region", "database_url", "nats_url", "host", "port") and v is not None
    }
    try:
        settings = _load(settings_ref)(**overrides)
    except ValidationError as exc:
        problems = settings_problems(exc)
        raise SystemExit(f"mgn service {args.name}: invalid setting: {problems}") from None
    app = _load(factory_ref)(settings)
    # log_config=None: uvicorn's own loggers go through configure_logging's handler;
    # serve: behind the HTTP edge (header deadline, allowed hosts, connection cap)
    with _profiled(args.name):
        serve(app, settings.host, settings.port, log_config=None)
    return 0


@contextlib.contextmanager
def _profiled(name: str) -> Iterator[None]:
    """With ``MGN_PROFILE_DIR`` set (bench/pipeline.py --profile), run under cProfile and
    write ``<dir>/<name>.prof`` when the service stops: CPU time of the event loop's thread
    (what aiosqlite does in its own thread is not in it)."""
    directory = os.environ.get("MGN_PROFILE_DIR")
    if not directory:
        yield
        return
    import cProfile
    import signal

    # uvicorn re-raises the SIGTERM it shut down on; this handler turns it into SystemExit,
    # so the profile below is still written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    import time

    profiler = cProfile.Profile(time.thread_time)  # CPU time, not the time spent waiting
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(Path(directory) / f"{name}.prof")


def _migrate(args: argparse.Namespace) -> int:
    import asyncio
    import tempfile

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # before importing
    from shared.storage import create_engine
    from shared.storage.migrations import (
        current_revision,
        head_revision,
        migrate,
        new_revision,
        version_table,
    )

    package = importlib.import_module(f"services.{args.name}")
    location = Path(str(package.__file__)).parent / "migrations"
    table = version_table(args.name)

    async def upgrade(url: str) -> None:
        engine = create_engine(url)
        try:
            before = await current_revision(engine, version_table=table)
            print(f"{args.name}: {engine.url} ({table})")
            print(f"revision before: {before}")
            await migrate(engine, location, version_table=table)
            after = await current_revision(engine, version_table=table)
            print(f"revision after:  {after} (head {head_revision(location)})")
        finally:
            await engine.dispose()

    async def autogenerate(url: str, *, to_head: bool) -> None:
        engine = create_engine(url)
        try:
            if to_head:
                await migrate(engine, location, version_table=table)
            written = await new_revision(
                engine, location, version_table=table, message=args.message
            )
        finally:
            await engine.dispose()
        if written is None:
            print(f"{args.name}: orm.py and the migrations agree, no revision written")
        else:
            print(f"wrote {written}: review it, then commit it")

    if args.autogenerate:
        if not args.message:
            raise SystemExit("mgn migrate: error: --autogenerate needs -m MESSAGE")
        if args.database_url:
            asyncio.run(autogenerate(args.database_url, to_head=False))
        else:
            with tempfile.TemporaryDirectory(prefix="mgn-migrate-") as tmp:
                asyncio.run(autogenerate(f"sqlite:///{tmp}/{args.name}.db", to_head=True))
        return 0
    url = args.database_url or _load(SERVICES[args.name][0])().database_url
    asyncio.run(upgrade(url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
