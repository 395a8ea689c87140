"""``mgn region backup|restore`` and ``mgn hub backup|restore`` (see :mod:`deploy.backup`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from sqlalchemy import MetaData

from deploy.backup import (
    NOT_IN_A_BACKUP,
    BackupError,
    Database,
    restore_databases,
    take_backup,
)
from deploy.federation import (
    CONSOLE,
    HUB_STATE,
    REGION_STATE,
    REGIONAL_SERVICES,
    HubAuth,
    database_url_for,
)
from deploy.reconcile import (
    PENDING_RESET,
    RegionReport,
    national_ack_floor,
    reconcile_region,
    reset_national_consumer,
)
from deploy.supervisor import read_state
from shared.files import write_private
from shared.messaging.tables import MessagingTables

REPORT = "restore-report.json"


def add_commands(hub_cmds: Any, region_cmds: Any) -> None:
    for cmds, what in ((region_cmds, "region"), (hub_cmds, "hub")):
        backup = cmds.add_parser(
            "backup",
            help=f"copy the {what}'s databases (online: SQLite backup API, pg_dump)",
            description=f"Copy every database of the {what} into a new directory, with "
            "backup.json saying what it holds and what no backup holds (the NATS streams). "
            "The node may be running.",
        )
        restore = cmds.add_parser(
            "restore",
            help=f"put a backup back in place of the {what}'s databases (stopped node)",
            description=f"Replace the {what}'s databases with a backup's copies, then say "
            "what the restored databases lack and square them with the streams, so that "
            "nothing is sent to the nation twice. The node must be stopped.",
        )
        restore.add_argument("--from", dest="source", type=Path, required=True, help="backup")
        for parser in (backup, restore):
            if what == "region":
                parser.add_argument("--region", required=True, help="region id")
                parser.add_argument("--workdir", type=Path, help="(default var/<region>)")
                parser.add_argument(
                    "--db",
                    dest="database_url",
                    help="the template `mgn region up --db` had (default: what the last "
                    "`region up` in WORKDIR used)",
                )
            else:
                parser.add_argument(
                    "--workdir", type=Path, default=Path("var/hub"), help="(%(default)s)"
                )
                parser.add_argument(
                    "--db", dest="database_url", help="gateway read model (default SQLite)"
                )
        backup.add_argument("--out", type=Path, help="(default WORKDIR/backups/<UTC time>)")


def run(args: argparse.Namespace) -> int:
    is_region = args.command == "region"
    action = args.region_command if is_region else args.hub_command
    workdir = (
        (args.workdir or Path("var") / args.region).resolve()
        if is_region
        else (args.workdir.resolve())
    )
    try:
        dbs = _region_databases(args, workdir) if is_region else _hub_databases(args, workdir)
        if action == "backup":
            return _backup(args, workdir, dbs, is_region)
        return (
            _restore_region(args, workdir, dbs) if is_region else _restore_hub(args, workdir, dbs)
        )
    except BackupError as exc:
        raise SystemExit(f"mgn {args.command} {action}: error: {exc}") from None


def _backup(args: argparse.Namespace, workdir: Path, dbs: list[Database], is_region: bool) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = (args.out or workdir / "backups" / stamp).resolve()
    floor = None if is_region else asyncio.run(_hub_ack_floor(workdir))
    manifest = take_backup(args.command, args.region if is_region else "hub", dbs, out)
    if not is_region:
        manifest["national_ack_floor"] = floor
        write_private(out / "backup.json", json.dumps(manifest, indent=2))
    print(f"Backup of the {args.command} in {out}:")
    for entry in manifest["databases"]:
        print(f"  {entry['name']}: {entry['backend']} -> {entry['file']} ({_holds(entry)})")
    if not is_region:
        print(
            f"  NATIONAL events applied up to sequence {floor}"
            if floor is not None
            else "  the hub's NATS server did not answer: a restore replays NATIONAL from "
            "its start (each event is applied once)"
        )
    _print_not_included()
    return 0


def _holds(entry: dict[str, Any]) -> str:
    """What a manifest entry says its copy holds: events, or rows (the console's)."""
    if "rows" in entry:
        return ", ".join(f"{n} {label}" for label, n in entry["rows"].items())
    return (
        f"{entry['events_written']} events written, {entry['events_unpublished']} not yet published"
    )


def _restore_region(args: argparse.Namespace, workdir: Path, dbs: list[Database]) -> int:
    _refuse_if_running(workdir, f"mgn region up --region {args.region}")
    manifest = restore_databases(
        "region", args.region, dbs, args.source.resolve(), optional=(CONSOLE,)
    )
    evented = [db for db in dbs if db.tables is not None]  # the console publishes nothing
    metadata = {db.name: _metadata(db.name) for db in evented}
    report = asyncio.run(
        reconcile_region(args.region, workdir / "nats" / "jetstream", evented, metadata)
    )
    write_private(
        workdir / REPORT,
        json.dumps({"backup": str(args.source), **manifest, **report.as_dict()}, indent=2),
    )
    print(f"Restored region {args.region} from {args.source} (taken {manifest['taken_at']}).")
    _print_console_restore(manifest)
    _print_region_report(report)
    print(f"Full report: {workdir / REPORT}. Start the region again with `mgn region up`.")
    return 0


def _print_region_report(report: RegionReport) -> None:
    if not report.stream_found:
        print(
            "  The region's stream was not found in its NATS store: events written after the "
            "backup cannot be listed here (those that reached the nation are in NATIONAL at "
            "the hub). Unpublished events in the backup are sent when the region starts; the "
            "nation applies each event id once."
        )
        _print_not_included()
        return
    for name, service in report.services.items():
        lost = service.after_backup
        if not lost:
            print(f"  {name}: nothing was written after the backup.")
        else:
            print(
                f"  {name}: {len(lost)} events written after the backup are NOT in the restored "
                "database. The region's stream has them, so the nation has (or will get) them: "
                "re-enter these changes by hand. First ones:"
            )
            for event in lost[:10]:
                print(
                    f"    {event.occurred_at}  {event.type}  {event.aggregate_id} "
                    f"(sequence {event.sequence})"
                )
        if service.marked_published:
            print(
                f"  {name}: {service.marked_published} events the backup held as unsent were "
                "already sent: marked sent, not sent again."
            )
        if service.versions_raised:
            print(
                f"  {name}: {service.versions_raised} records take their next change after the "
                "sequence the nation already has."
            )
    if report.consumers_reset:
        print(f"  Replicas replay the region's stream: {', '.join(report.consumers_reset)}.")
    if report.undecodable:
        print(f"  {report.undecodable} messages in the stream could not be read (skipped).")
    _print_not_included()


def _print_console_restore(manifest: dict[str, Any]) -> None:
    if CONSOLE in manifest.get("kept", []):
        print(
            "  console: this backup has no copy of the console's database (taken before "
            "backups included it): its staff accounts, sessions, API tokens and audit trail "
            "were kept as they are."
        )
        return
    entry = next(e for e in manifest["databases"] if e["name"] == CONSOLE)
    print(
        f"  console: staff accounts, API tokens and the audit trail as at the backup "
        f"({_holds(entry)}). Accounts, tokens and password changes made after it are gone "
        "(add them again with `mgn region user add` and the admin pages); sessions opened "
        "after it are signed out."
    )


def _restore_hub(args: argparse.Namespace, workdir: Path, dbs: list[Database]) -> int:
    _refuse_if_running(workdir, "mgn hub up")
    manifest = restore_databases("hub", "hub", dbs, args.source.resolve())
    floor = manifest.get("national_ack_floor")
    start = int(floor) + 1 if floor is not None else 1
    write_private(workdir / PENDING_RESET, json.dumps({"national_from_seq": start}))
    print(f"Restored the hub's read model from {args.source} (taken {manifest['taken_at']}).")
    print(
        f"  When `mgn hub up` starts next, the gateway applies NATIONAL again from sequence "
        f"{start}: the events after the backup come back from the stream (each applied once)."
    )
    print("  Tokens created after the backup are not in it: issue them again.")
    _print_not_included()
    return 0


def apply_pending_reset(workdir: Path, client_url: str) -> str | None:
    """At ``mgn hub up``, before the gateway starts: the reset a restore asked for."""
    path = workdir / PENDING_RESET
    if not path.exists():
        return None
    seq = int(json.loads(path.read_text(encoding="utf-8"))["national_from_seq"])

    async def reset() -> bool:
        nc = await nats.connect(client_url)
        try:
            return await reset_national_consumer(nc.jetstream(domain="hub"), _durable(), seq)
        finally:
            await nc.close()

    done = asyncio.run(reset())
    path.unlink()
    if done:
        return f"after the restore: the gateway applies NATIONAL again from sequence {seq}"
    return "after the restore: the gateway's consumer is new and reads NATIONAL from its start"


async def _hub_ack_floor(workdir: Path) -> int | None:
    """The gateway consumer's ack floor, read before the copy (None: hub not answering)."""
    try:
        state = json.loads((workdir / HUB_STATE).read_text(encoding="utf-8"))
        auth = HubAuth.load_or_create(workdir / "auth.json")
        urls = [auth.gateway_url(url) for url in state["client_url"].split(",")]
        nc = await nats.connect(servers=urls, connect_timeout=2, max_reconnect_attempts=0)
    except Exception:
        return None
    try:
        return await national_ack_floor(nc.jetstream(domain="hub"), _durable())
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


def _durable() -> str:
    """The gateway's consumer of NATIONAL (imported here: the gateway is a heavy import)."""
    from services.gateway.consumer import DURABLE

    return DURABLE


def _refuse_if_running(workdir: Path, command: str) -> None:
    try:
        state = read_state(workdir)
    except ValueError:
        state = None
    if state is not None and state["alive"]:
        raise BackupError(
            f"`{command}` is running (pid {state['pid']}): stop it first; a restore replaces "
            "the databases under the running services"
        )


def _region_databases(args: argparse.Namespace, workdir: Path) -> list[Database]:
    template = args.database_url
    if template is None:
        with contextlib.suppress(OSError, ValueError):
            state = json.loads((workdir / REGION_STATE).read_text(encoding="utf-8"))
            template = state.get("database_template")
    try:
        services = [
            Database(s, database_url_for(template, workdir, s, args.region), _tables(s))
            for s in REGIONAL_SERVICES
        ]
        console_url = database_url_for(template, workdir, CONSOLE, args.region)
    except ValueError as exc:
        raise BackupError(f"--db: {exc}") from None
    return [*services, Database(CONSOLE, console_url, None, console_counted())]


def console_counted() -> dict[str, Any]:
    """The console's tables a backup counts: what an operator would miss after a restore."""
    from services.console.orm import ApiTokenRow, AuditRow, StaffRow

    return {
        "staff accounts": StaffRow.__table__,
        "API tokens": ApiTokenRow.__table__,
        "audit entries": AuditRow.__table__,
    }


def _hub_databases(args: argparse.Namespace, workdir: Path) -> list[Database]:
    url = args.database_url or f"sqlite:///{workdir / 'gateway.db'}"
    return [Database("gateway", url, _tables("gateway"))]


def _tables(service: str) -> MessagingTables:
    tables: MessagingTables = importlib.import_module(f"services.{service}.orm").TABLES
    return tables


def _metadata(service: str) -> MetaData:
    metadata: MetaData = importlib.import_module(f"services.{service}.orm").Base.metadata
    return metadata


def _print_not_included() -> None:
    print("Not in any backup:")
    for item in NOT_IN_A_BACKUP:
        print(f"  - {item}")
