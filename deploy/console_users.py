"""``mgn region user add|list|disable|enable``: the console's staff accounts, from the shell.

The accounts live in the console's database (default ``WORKDIR/console.db``; ``--db``
takes the same template as ``mgn region up``). ``add`` takes the password from
``--password-stdin``, prompts for it (twice) on a terminal, or with ``--generate`` prints a
generated one. Each change is written to the audit trail as ``cli:<OS user>``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from deploy.federation import database_url_for
from services.console import audit
from services.console.accounts import ROLES, AccountError, Staff, StaffStore, generate_password
from services.console.app import MIGRATIONS, SERVICE
from shared.contracts import SubjectError, validate_region
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table


def add_commands(region_cmds: Any) -> None:
    user = region_cmds.add_parser(
        "user", help="the console's staff accounts: add, list, disable, enable"
    )
    sub = user.add_subparsers(dest="user_command", required=True, metavar="USER_COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--region", required=True, help="region id")
        p.add_argument("--workdir", type=Path, help="(default var/<region>)")
        p.add_argument(
            "--db", dest="database_url", help="database URL template, as for `mgn region up`"
        )

    add = sub.add_parser("add", help="create an account (admin or facilitator)")
    common(add)
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="facilitator")
    add.add_argument("--name", default="", help="the name shown (default: the username)")
    add.add_argument("--email", default="")
    add.add_argument("--language", choices=("fi", "sv", "en"), default=None)
    add.add_argument(
        "--group", action="append", default=[], type=UUID, help="a group id (repeatable)"
    )
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    how.add_argument("--generate", action="store_true", help="generate one and print it")
    listing = sub.add_parser("list", help="every account: role, groups, enabled")
    common(listing)
    for name, text in (
        ("disable", "disable an account, ending its sessions"),
        ("enable", "enable a disabled account"),
    ):
        p = sub.add_parser(name, help=text)
        common(p)
        p.add_argument("username")


def database_url(args: argparse.Namespace) -> str:
    workdir = (args.workdir or Path("var") / args.region).resolve()
    return database_url_for(args.database_url, workdir, SERVICE, args.region)


def run(args: argparse.Namespace) -> int:
    try:
        validate_region(args.region)
        url = database_url(args)
    except (SubjectError, ValueError) as exc:
        raise SystemExit(f"mgn region user: error: {exc}") from None
    password = None
    if args.user_command == "add":
        password = _password(args)
    try:
        return asyncio.run(_run(args, url, password))
    except AccountError as exc:
        raise SystemExit(f"mgn region user {args.user_command}: error: {exc}") from None


def _password(args: argparse.Namespace) -> str:
    if args.generate:
        return generate_password()
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise SystemExit(
            "mgn region user add: error: give --password-stdin or --generate (no terminal "
            "to ask on)"
        )
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("mgn region user add: error: the passwords differ")
    return first


async def _run(args: argparse.Namespace, url: str, password: str | None) -> int:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    engine = create_engine(url)
    try:
        await migrate(engine, MIGRATIONS, version_table=version_table(SERVICE))
        async with session_factory(engine)() as session:
            store = StaffStore(session)
            actor = f"cli:{_os_user()}"
            if args.user_command == "list":
                _print(await store.all())
                return 0
            if args.user_command == "add":
                staff = await store.add(
                    args.username,
                    role=args.role,
                    password=password,
                    display_name=args.name,
                    email=args.email,
                    language=args.language or "",
                    groups=tuple(args.group),
                )
                await audit.record(
                    session,
                    actor=actor,
                    action="staff.add",
                    target=f"staff:{staff.username}",
                    details={"role": staff.role, "groups": [str(g) for g in args.group]},
                )
                await session.commit()
                print(f"Added {staff.role} {staff.username}.")
                if args.generate:
                    print(f"Password: {password}  (shown once; they can change it later)")
                return 0
            if args.user_command == "disable":
                staff = await store.disable(args.username)
                action = "staff.disable"
            else:
                staff = await store.enable(args.username)
                action = "staff.enable"
            await audit.record(
                session, actor=actor, action=action, target=f"staff:{staff.username}"
            )
            await session.commit()
            print(f"{staff.username}: {'disabled' if staff.disabled else 'enabled'}.")
            return 0
    finally:
        await engine.dispose()


def _print(accounts: list[Staff]) -> None:
    if not accounts:
        print("No accounts yet: mgn region user add --region <id> <username> --role admin")
        return
    print(f"{'username':<24} {'role':<12} {'state':<9} groups")
    for staff in accounts:
        state = "disabled" if staff.disabled else "enabled"
        groups = ", ".join(sorted(str(g) for g in staff.groups)) or "-"
        print(f"{staff.username:<24} {staff.role:<12} {state:<9} {groups}")


def _os_user() -> str:
    try:
        return os.getlogin()
    except OSError:
        return getpass.getuser()


async def demo_staff(
    database_url: str, region: str, groups: list[tuple[str, str]]
) -> list[tuple[str, str, str]]:
    """``mgn demo``'s accounts of a region: an admin and a facilitator of its first group
    (so a page of another group is refused to them). Returns (username, password, role)."""
    engine = create_engine(database_url)
    made: list[tuple[str, str, str]] = []
    try:
        await migrate(engine, MIGRATIONS, version_table=version_table(SERVICE))
        async with session_factory(engine)() as session:
            store = StaffStore(session)
            for username, role, name, assigned in (
                (f"admin-{region}", "admin", f"Admin ({region})", ()),
                (
                    f"facilitator-{region}",
                    "facilitator",
                    f"Fasilitaattori ({region})",
                    tuple(UUID(g) for g, _ in groups[:1]),
                ),
            ):
                password = generate_password()
                await store.add(
                    username, role=role, password=password, display_name=name, groups=assigned
                )
                await audit.record(
                    session, actor="cli:mgn demo", action="staff.add", target=f"staff:{username}"
                )
                made.append((username, password, role))
            await session.commit()
    finally:
        await engine.dispose()
    return made
