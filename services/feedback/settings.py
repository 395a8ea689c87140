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

    region: str = Field(default="oulu", description="Region id, e.g. oulu")
    database_url: str = Field(default="", description="default: sqlite var/<region>/feedback.db")
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="The region's leaf server")
    host: str = Field(
        default="127.0.0.1",
        description="interface the HTTP API listens on (0.0.0.0: every interface)",
    )
    port: int = Field(
        default=8103, ge=1, le=65535, description="HTTP port of the API and the survey forms"
    )
    graphiql: bool = Field(default=True, description="Serve the GraphiQL IDE on GET /graphql")
    groups_url: str = Field(
        default="", description="GraphQL URL of the region's groups service (contact details)"
    )
    public_base_url: str = Field(
        default="", description="base of the survey links in mails; default http://host:port"
    )
    survey_days: int = Field(
        default=14, ge=1, le=365, description="days a survey stays open after the meeting"
    )
    reminder_days_before: int = Field(
        default=3, ge=0, le=364, description="days before closing that the one reminder goes out"
    )
    smtp_host: str = Field(default="", description="SMTP server; empty: write mail to mail_dir")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port")
    smtp_from: str = Field(
        default="MicroENTRE <feedback@localhost>", description="From address of the mails"
    )
    smtp_starttls: bool = Field(default=False, description="upgrade with STARTTLS before login")
    smtp_user: str = Field(default="", description="SMTP login; empty: no login")
    smtp_password: str = Field(default="", description="SMTP password (with smtp_user)")
    smtp_timeout: float = Field(
        default=20.0, gt=0, description="seconds to wait for the SMTP server"
    )
    mail_dir: str = Field(default="", description="write mail as .eml files here (demo mode)")
    mail_interval_seconds: float = Field(
        default=5.0, gt=0, description="seconds between passes of the mail sender"
    )
    mail_retry_seconds: float = Field(
        default=30.0, gt=0, description="seconds before a failed send is retried (doubling)"
    )
    mail_max_attempts: int = Field(
        default=8, ge=1, le=100, description="sends of one mail before it is marked failed"
    )
    timezone: str = Field(default="Europe/Helsinki", description="dates shown in mails and forms")
    replica_batch_size: int = Field(
        default=50, ge=1, le=1000, description="events per transaction of the members replica"
    )

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
