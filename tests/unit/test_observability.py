"""JSON log lines (MGN_LOG_FORMAT=json) and the settings every process reads."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from pydantic import ValidationError

from shared.runtime.observability import JsonFormatter, OperationsSettings


def test_a_record_is_one_json_object_with_its_traceback_and_extras() -> None:
    logger = logging.getLogger("mgn.test")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord(
            "mgn.test", logging.ERROR, __file__, 1, "applied %d of %s", (3, "oulu"),
            sys.exc_info(), extra={"consumer": "gateway-read-model"},
        )  # fmt: skip
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "mgn.test"
    assert entry["message"] == "applied 3 of oulu"
    assert entry["consumer"] == "gateway-read-model"
    assert "ValueError: boom" in entry["exc"]
    assert entry["ts"].endswith("+00:00")


def test_settings_refuse_an_unknown_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MGN_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        OperationsSettings()


def test_mgn_logs_json_lines_when_asked() -> None:
    """A real ``mgn`` run: every line it logs on stderr is a JSON object."""
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "migrate", "groups", "--db", "sqlite:///:memory:"],
        env={"MGN_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "nothing logged"
    for line in lines:
        assert json.loads(line)["level"] in ("DEBUG", "INFO", "WARNING", "ERROR")
