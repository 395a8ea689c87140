"""Settings of the groups service, from ``MGN_GROUPS_*`` environment variables.

Every setting has a safe default for the demo: region ``oulu``, a SQLite file
``var/<region>/groups.db`` under the working directory, NATS on localhost.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts import validate_region


class GroupsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MGN_GROUPS_", extra="ignore")

    region: str = Field(default="oulu", description="Region id, e.g. oulu")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty: sqlite file var/<region>/groups.db"
    )
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="The region's leaf server")
    host: str = Field(
        default="127.0.0.1",
        description="interface the HTTP API listens on (0.0.0.0: every interface)",
    )
    port: int = Field(
        default=8101,
        ge=1,
        le=65535,
        description="HTTP port of the API (GraphQL at /graphql, health at /healthz)",
    )
    graphiql: bool = Field(default=True, description="Serve the GraphiQL IDE on GET /graphql")
    display_name: str = Field(
        default="", max_length=200, description="How the region is shown; empty: the region id"
    )
    agency: str = Field(default="", max_length=200, description="The regional agency (PBAS)")

    @field_validator("region")
    @classmethod
    def _valid_region(cls, value: str) -> str:
        return validate_region(value)

    @model_validator(mode="after")
    def _default_database(self) -> GroupsSettings:
        if not self.display_name:
            self.display_name = self.region.title()
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///var/{self.region}/groups.db"
        return self
