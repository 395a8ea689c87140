"""Files only their owner reads (shared/files.py, and SQLite files made by the engine) and
no secret in a log line (shared/redact.py), whatever the umask."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.files import open_private, private_dir, private_file, write_private
from shared.redact import RedactingFormatter, redact, redact_url, register_secret
from shared.runtime.observability import JsonFormatter
from shared.storage import create_engine


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_files_and_directories(tmp_path: Path, umask: int) -> None:
    state = write_private(tmp_path / "a" / "b" / "state.json", '{"x": 1}')
    assert state.read_text() == '{"x": 1}'
    assert (mode(state), mode(tmp_path / "a"), mode(tmp_path / "a" / "b")) == (0o600, 0o700, 0o700)
    loose = tmp_path / "loose.json"
    loose.write_text("old")
    loose.chmod(0o644)
    write_private(loose, b"new")  # replaced, not rewritten in place with the old mode
    assert (loose.read_bytes(), mode(loose)) == (b"new", 0o600)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with open_private(tmp_path / "logs" / "x.log", "ab") as log:
        log.write(b"line\n")
    with open_private(tmp_path / "logs" / "x.log", "a", encoding="utf-8") as log:
        log.write("more\n")
    assert (tmp_path / "logs" / "x.log").read_text() == "line\nmore\n"
    assert (mode(tmp_path / "logs" / "x.log"), mode(tmp_path / "logs")) == (0o600, 0o700)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    private_dir(shared, tighten=False)  # a directory given to us: left alone
    assert mode(shared) == 0o755
    private_dir(shared)  # one the project owns: tightened
    assert mode(shared) == 0o700
    db = private_file(tmp_path / "x.db")
    assert (db.read_bytes(), mode(db)) == (b"", 0o600)
    with open_private(tmp_path / "export.csv", "w", encoding="utf-8") as out:
        out.write("a,b\n")
    with open_private(tmp_path / "export.csv", "w", encoding="utf-8") as out:
        out.write("c\n")  # written from the start
    assert ((tmp_path / "export.csv").read_text(), mode(tmp_path / "export.csv")) == ("c\n", 0o600)
    with pytest.raises(ValueError, match="mode"):
        open_private(tmp_path / "y", "r")


async def test_sqlite_files_made_by_the_engine_are_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "node" / "groups.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        made = sorted(p.name for p in path.parent.iterdir())
        assert made == ["groups.db", "groups.db-shm", "groups.db-wal"]  # WAL mode
        assert {p.name: mode(p) for p in path.parent.iterdir()} == dict.fromkeys(made, 0o600)
        assert mode(path.parent) == 0o700
    finally:
        await engine.dispose()


def test_urls_lose_their_passwords() -> None:
    assert redact_url("nats://gateway:s3cr3t-pw@127.0.0.1:4222") == (
        "nats://gateway:***@127.0.0.1:4222"
    )
    assert redact_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
    assert redact_url("postgresql://mgn:pa%40ss@db:5432/gw") == "postgresql://mgn:***@db:5432/gw"
    line = "connect failed: nats://gw:abc123xyz@hub:4222, retry; smtp password=hunter22 x"
    assert redact(line) == "connect failed: nats://gw:***@hub:4222, retry; smtp password=*** x"
    assert redact('{"user":"oulu","pass":"Zx9-secret"}') == '{"user":"oulu","pass":"***"}'


def test_the_log_formatter_masks_messages_and_tracebacks() -> None:
    secret = "tok-" + os.urandom(8).hex()
    register_secret(secret)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter(JsonFormatter()))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("up at %s", "nats://gateway:pw-abcdef@hub:4222")
        try:
            raise ConnectionError(f"refused with {secret}")
        except ConnectionError:
            log.exception("lost the hub")
    finally:
        log.removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["message"] == "up at nats://gateway:***@hub:4222"
    assert "ConnectionError: refused with ***" in lines[1]["exc"]
    assert secret not in out.getvalue()
    assert "pw-abcdef" not in out.getvalue()


def test_a_refused_setting_is_named_without_the_values_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from deploy.cli import main

    password = "Pw-" + os.urandom(8).hex()
    monkeypatch.setenv("MGN_GATEWAY_PROFILE", "production")
    monkeypatch.setenv("MGN_GATEWAY_REQUIRE_TOKEN", "false")  # a contradiction: refused
    monkeypatch.setenv("MGN_GATEWAY_NATS_URL", f"nats://gateway:{password}@hub:4222")
    with pytest.raises(SystemExit) as refused:
        main(["service", "gateway", "--port", "8999"])
    message = str(refused.value)
    assert "MGN_GATEWAY_REQUIRE_TOKEN" in message
    assert password[:6] not in message  # pydantic's own text repeats every value given
    assert "nats://" not in message
