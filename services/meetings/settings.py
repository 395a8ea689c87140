"""Settings of the meetings service; every one has a safe default for the demo.

Environment variables use the prefix ``MGN_MEETINGS_``, e.g. ``MGN_MEETINGS_REGION=kainuu``.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts import validate_region
from shared.storage import normalise_url, sqlite_url


class MeetingsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MGN_MEETINGS_", extra="ignore")

    region: str = Field(default="oulu", description="Region id, e.g. oulu")
    database_url: str = Field(default="", description="default: sqlite var/<region>/meetings.db")
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="The region's leaf server")
    host: str = Field(
        default="127.0.0.1",
        description="interface the HTTP API listens on (0.0.0.0: every interface)",
    )
    port: int = Field(
        default=8102,
        ge=1,
        le=65535,
        description="HTTP port of the API (GraphQL at /graphql, health at /healthz)",
    )
    graphiql: bool = Field(default=True, description="Serve the GraphiQL IDE on GET /graphql")
    timezone: str = Field(
        default="Europe/Helsinki", description="IANA zone giving a meeting's calendar date"
    )
    replica_batch_size: int = Field(
        default=50, ge=1, le=1000, description="events per transaction of the members replica"
    )
    groups_url: str = Field(
        default="",
        description="GraphQL URL of the region's groups service, asked for the names of "
        "attendees who block a recording (empty: the refusal gives member ids only)",
    )
    groups_timeout: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="seconds to wait for the groups service before refusing with ids only",
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

    @model_validator(mode="after")
    def _default_database(self) -> MeetingsSettings:
        if not self.database_url:
            self.database_url = sqlite_url(Path("var") / self.region / "meetings.db")
        self.database_url = normalise_url(self.database_url)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
