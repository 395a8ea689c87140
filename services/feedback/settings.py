"""Settings of the feedback service; every one has a safe default for the demo.

Environment variables use the prefix ``MGN_FEEDBACK_``, e.g. ``MGN_FEEDBACK_REGION=kainuu``.
Mail goes to ``mail_dir`` (``.eml`` files) when that is set or when no SMTP host is given;
otherwise through the SMTP server.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts import validate_region
from shared.storage import normalise_url, sqlite_url


class FeedbackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MGN_FEEDBACK_", extra="ignore")

    region: str = "oulu"
    database_url: str = Field(default="", description="default: sqlite var/<region>/feedback.db")
    nats_url: str = "nats://127.0.0.1:4222"
    host: str = "127.0.0.1"
    port: int = Field(default=8103, ge=1, le=65535)
    graphiql: bool = True
    groups_url: str = Field(
        default="", description="GraphQL URL of the region's groups service (contact details)"
    )
    public_base_url: str = Field(
        default="", description="base of the survey links in mails; default http://host:port"
    )
    survey_days: int = Field(default=14, ge=1, le=365)
    reminder_days_before: int = Field(default=3, ge=0, le=364)
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "MicroENTRE <feedback@localhost>"
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_timeout: float = Field(default=20.0, gt=0)
    mail_dir: str = Field(default="", description="write mail as .eml files here (demo mode)")
    mail_interval_seconds: float = Field(default=5.0, gt=0)
    mail_retry_seconds: float = Field(default=30.0, gt=0)
    mail_max_attempts: int = Field(default=8, ge=1, le=100)
    timezone: str = Field(default="Europe/Helsinki", description="dates shown in mails and forms")
    replica_batch_size: int = Field(default=50, ge=1, le=1000)

    @field_validator("region")
    @classmethod
    def _region_is_valid(cls, value: str) -> str:
        return validate_region(value)

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}: use an IANA name") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _defaults(self) -> FeedbackSettings:
        if not self.database_url:
            self.database_url = sqlite_url(Path("var") / self.region / "feedback.db")
        self.database_url = normalise_url(self.database_url)
        if not self.mail_dir and not self.smtp_host:
            self.mail_dir = str(Path("var") / self.region / "mail")
        if self.reminder_days_before >= self.survey_days:
            raise ValueError(
                f"reminder_days_before ({self.reminder_days_before}) must be less than "
                f"survey_days ({self.survey_days})"
            )
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        self.public_base_url = self.public_base_url.rstrip("/")
        return self
