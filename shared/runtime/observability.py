"""Settings every process shares (logs, metrics), and the log format: text or JSON lines.

``mgn`` reads them from the environment (``MGN_LOG_FORMAT=json`` ...) and passes them on to
the processes it starts, which inherit its environment.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.messaging.retention import Retention
from shared.redact import RedactingFormatter, redact, register_secret

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class OperationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MGN_", extra="ignore")

    log_format: Literal["text", "json"] = Field(
        "text",
        description="text: one readable line per record; json: one JSON object per line "
        "(ts, level, logger, message, and exc with the traceback), for a log collector",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="the lowest level written"
    )
    access_log: bool = Field(
        False,
        description="one log line per HTTP request (uvicorn's access log); off: a line per "
        "request is CPU on every write, and /metrics counts and times the requests anyway",
    )
    outbox_retention_days: float = Field(
        7.0,
        gt=0,
        description="days a published event stays in a service's outbox before it is "
        "deleted (the stream keeps the event); an unsent one is never deleted",
    )
    processed_retention_days: float = Field(
        7.0,
        gt=0,
        description="days a consumer keeps the row of an event it applied above a gap in "
        "its aggregate's sequence once the gap has filled (events in order get no row: the "
        "per-aggregate sequence mark alone recognises a redelivery)",
    )
    metrics_token: str = Field(
        "",
        description="bearer token that lets a scraper on another machine read /metrics; "
        "empty: /metrics answers only on the loopback interface",
    )


def retention(settings: OperationsSettings | None = None) -> Retention:
    """The messaging tables' retention from the settings (shared.messaging.retention)."""
    settings = settings or OperationsSettings()
    return Retention(
        outbox=timedelta(days=settings.outbox_retention_days),
        processed=timedelta(days=settings.processed_retention_days),
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``exc`` (traceback) when there is one, and any ``extra=`` fields of the call."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: OperationsSettings | None = None) -> None:
    """Send every logger (uvicorn's too, which must then be run with ``log_config=None``)
    to stderr in the configured format, secrets masked (:mod:`shared.redact`), uncaught
    exceptions too."""
    settings = settings or OperationsSettings()
    register_secret(settings.metrics_token)
    handler = logging.StreamHandler(sys.stderr)
    inner = JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(RedactingFormatter(inner))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    sys.excepthook = _redacted_excepthook


def _redacted_excepthook(kind: Any, value: Any, tb: Any) -> None:
    """An uncaught exception's traceback on stderr, secrets masked (it ends in the log)."""
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(redact(text))
