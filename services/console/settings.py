"""Settings of the regional console; every one has a safe default for the demo.

Environment variables use the prefix ``MGN_CONSOLE_``, e.g. ``MGN_CONSOLE_PORT=8100``. The
secrets it calls the services with come from the node's credentials file
(``MGN_NODE_CREDENTIALS_FILE``, :mod:`shared.runtime.credentials`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts import validate_region
from shared.storage import normalise_url, sqlite_url

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MGN_CONSOLE_", extra="ignore")

    region: str = Field(default="oulu", description="Region id, e.g. oulu")
    database_url: str = Field(
        default="",
        description="staff accounts, sessions, API tokens, audit trail; "
        "default: sqlite var/<region>/console.db",
    )
    host: str = Field(
        default="127.0.0.1",
        description="interface the console listens on (behind the agency's reverse proxy: "
        "127.0.0.1; 0.0.0.0: every interface)",
    )
    port: int = Field(
        default=8100, ge=1, le=65535, description="HTTP port: pages, survey forms and APIs"
    )
    public_url: str = Field(
        default="",
        description="the console's address as people reach it (https://console.example.fi); "
        "default http://127.0.0.1:<port>",
    )
    groups_url: str = Field(
        default="http://127.0.0.1:8101", description="base URL of the region's groups service"
    )
    meetings_url: str = Field(
        default="http://127.0.0.1:8102", description="base URL of the region's meetings service"
    )
    feedback_url: str = Field(
        default="http://127.0.0.1:8103", description="base URL of the region's feedback service"
    )
    leaf_monitor_url: str = Field(
        default="",
        description="the region's leaf NATS server's monitoring URL (http://127.0.0.1:8222): "
        "the home page shows the link to the hub from its /leafz; empty: shown as unknown",
    )
    backend_timeout: float = Field(
        default=15.0, gt=0, description="seconds to wait for a service's answer"
    )
    session_hours: float = Field(
        default=10.0, gt=0, le=24 * 30, description="a sign-in lasts this long (hours)"
    )
    session_idle_minutes: float = Field(
        default=120.0, gt=0, description="a session unused this long (minutes) ends"
    )
    oidc_issuer: str = Field(
        default="",
        description="the agency's OpenID Connect provider (its issuer URL, e.g. "
        "https://login.agency.fi/realms/staff); empty: passwords only",
    )
    oidc_client_id: str = Field(default="", description="the console's client id there")
    oidc_client_secret: str = Field(default="", description="the console's client secret there")
    oidc_create_accounts: bool = Field(
        default=False,
        description="a person the provider signs in who has no account (by subject or email) "
        "gets one: a facilitator without groups, until an admin assigns them; off: refused",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="mark cookies Secure (sent over HTTPS only); default: yes unless the "
        "public URL is http://127.0.0.1 or http://localhost (the demo)",
    )

    @field_validator("region")
    @classmethod
    def _valid_region(cls, value: str) -> str:
        return validate_region(value)

    @model_validator(mode="after")
    def _defaults(self) -> ConsoleSettings:
        if not self.database_url:
            self.database_url = sqlite_url(Path("var") / self.region / "console.db")
        self.database_url = normalise_url(self.database_url)
        if not self.public_url:
            self.public_url = f"http://127.0.0.1:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"public_url {self.public_url!r}: expected https://host[:port]")
        if self.cookie_secure is None:
            self.cookie_secure = not (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)
        self.oidc_issuer = self.oidc_issuer.rstrip("/")
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("oidc_issuer is set: give oidc_client_id (and oidc_client_secret)")
        for name in ("groups_url", "meetings_url", "feedback_url"):
            setattr(self, name, str(getattr(self, name)).rstrip("/"))
        return self

    def service_url(self, service: str) -> str:
        return str(getattr(self, f"{service}_url"))
