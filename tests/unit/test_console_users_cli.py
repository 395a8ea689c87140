"""`mgn region user add|list|disable|enable`: the console's accounts from the shell."""

from __future__ import annotations

import asyncio
import io
import re
import sys
import uuid
from pathlib import Path

import pytest

from deploy.cli import main
from services.console.accounts import Staff, StaffStore
from services.console.audit import entries
from shared.storage import create_engine, session_factory


def mgn(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


async def _read(db: Path, username: str) -> tuple[tuple[Staff | None, Staff | None], list[str]]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        async with session_factory(engine)() as session:
            store = StaffStore(session)
            staff = await store.by_username(username)
            authenticated = await store.authenticate(username, "a long password 1")
            trail, _ = await entries(session)
            return (staff, authenticated), [e.action for e in trail]
    finally:
        await engine.dispose()


def test_add_list_disable_enable(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch):
    where = ("--region", "oulu", "--workdir", str(tmp_path))
    group = str(uuid.uuid4())
    out = mgn(capsys, "region", "user", "add", *where, "ada", "--role", "admin", "--generate")
    assert "Added admin ada." in out
    assert re.search(r"Password: \S{10,}", out)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long password 1\n"))
    out = mgn(capsys, "region", "user", "add", *where, "Anna", "--group", group,
              "--password-stdin")  # fmt: skip
    assert "Added facilitator anna." in out
    listing = mgn(capsys, "region", "user", "list", *where)
    assert re.search(rf"anna\s+facilitator\s+enabled\s+{group}", listing)
    assert "disabled" in mgn(capsys, "region", "user", "disable", *where, "anna")
    (staff, signed_in), _ = asyncio.run(_read(tmp_path / "console.db", "anna"))
    assert staff is not None
    assert signed_in is None  # disabled: the right password no longer signs in
    assert "enabled" in mgn(capsys, "region", "user", "enable", *where, "anna")
    (_, signed_in), actions = asyncio.run(_read(tmp_path / "console.db", "anna"))
    assert signed_in is not None
    assert actions == ["staff.enable", "staff.disable", "staff.add", "staff.add"]
    with pytest.raises(SystemExit, match="taken"):
        main(["region", "user", "add", *where, "anna", "--generate"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit, match="too short"):
        main(["region", "user", "add", *where, "bert", "--password-stdin"])
