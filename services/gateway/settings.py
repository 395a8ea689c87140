"""Settings of the national gateway (environment variables ``MGN_GATEWAY_*``)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Every setting has a safe default for the demo; production sets ``DATABASE_URL`` and
    ``PROFILE=production`` (no GraphiQL, no introspection; see ``profile``)."""

    model_config = SettingsConfigDict(env_prefix="MGN_GATEWAY_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/hub/gateway.db",
        description="read model: sqlite:///path.db or postgresql://user@host:port/db",
    )
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="the hub's client URL")
    jetstream_domain: str = Field(
        default="hub", description="JetStream domain of the hub; empty: the server's own"
    )
    host: str = Field(
        default="127.0.0.1",
        description="interface the HTTP API listens on (0.0.0.0: every interface)",
    )
    port: int = Field(
        default=8000, ge=1, le=65535, description="HTTP port of the national GraphQL API"
    )
    graphiql: bool = Field(
        default=True, description="GraphiQL on GET /graphql; off in the production profile"
    )
    batch_size: int = Field(default=500, ge=1, le=5000, description="events per transaction")
    batch_linger: float = Field(
        default=1.0,
        ge=0,
        le=2.0,
        description="after a short batch, seconds to wait for more events before applying it "
        "(0: apply at once): a trickle is applied tens of events per transaction instead of "
        "a few, at the price of up to this much freshness; at 30 events/s, 1.0 measured "
        "0.9-1.04 ms of CPU per event and views fresh within 1.6 s (p99), 0 measured 5.6-6.6 ms "
        "(bench/trickle.py, bench/README.md)",
    )
    sqlite_cache_mb: int = Field(
        default=64,
        ge=0,
        le=4096,
        description="on SQLite, the most memory each connection's page cache may take "
        "(0: SQLite's 2 MB); the projection's cost per event grows with the read model "
        "when its indexes no longer fit (bench/project_cost.py)",
    )
    ack_wait: float = Field(
        default=30.0,
        gt=0,
        description="seconds before an unacknowledged event is redelivered (a batch being "
        "applied is kept alive; a restarted gateway takes back at once what the previous one "
        "had fetched)",
    )
    registrar: bool = Field(
        default=True, description="answer regions' join requests and watch their links"
    )
    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="replicas of NATIONAL and DEADLETTER: 3 on a clustered hub (mgn hub up "
        "--cluster), 1 on a single server",
    )
    lease_ttl: float = Field(
        default=6.0,
        ge=1.0,
        le=60.0,
        description="seconds the projection lease lasts unless renewed (renewed every third "
        "of it): of several gateways on one read model one projects, a standby takes over "
        "within this plus a third",
    )
    instance: str = Field(
        default="",
        max_length=200,
        description="this gateway's name in the projection lease (default HOST:PORT)",
    )
    freshness_interval: float = Field(
        default=2.0, gt=0, description="seconds between reads of NATIONAL's per-region state"
    )

    # GraphQL safety (services/gateway/graphql/safety.py). The limits apply in every profile.
    profile: Literal["demo", "production"] = Field(
        default="demo",
        description="demo: GraphiQL and introspection on; production: both off, and "
        "asking for either is refused at start",
    )
    introspection: bool = Field(
        default=True, description="answer __schema/__type; off in the production profile"
    )
    require_token: bool = Field(
        default=False,
        description="refuse /graphql and /exports without a token (mgn token create); "
        "off in the demo (no token: a national researcher), on in the production profile",
    )
    live_queue_size: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="events a live subscriber may fall behind before it is dropped",
    )
    max_depth: int = Field(default=10, ge=1, le=50, description="deepest selection nesting")
    max_aliases: int = Field(default=30, ge=0, le=1000, description="aliases in one document")
    max_tokens: int = Field(
        default=2000, ge=100, le=100_000, description="lexer tokens in one document"
    )
    max_cost: int = Field(
        default=50_000,
        ge=1,
        description="highest query cost: fields, each connection's items times its `first` "
        "(see services/gateway/graphql/cost.py)",
    )

    @model_validator(mode="after")
    def _production_is_locked_down(self) -> Self:
        """``MGN_GATEWAY_PROFILE=production`` turns GraphiQL and introspection off and tokens
        on. Setting GraphiQL or introspection on explicitly (``MGN_GATEWAY_GRAPHIQL=true`` or
        ``MGN_GATEWAY_INTROSPECTION=true``), or ``MGN_GATEWAY_REQUIRE_TOKEN=false``, with it is
        a contradiction: the gateway refuses to start rather than guess."""
        if self.profile != "production":
            return self
        unsafe: list[str] = [
            name
            for name in ("graphiql", "introspection")
            if name in self.model_fields_set and getattr(self, name)
        ]
        if "require_token" in self.model_fields_set and not self.require_token:
            unsafe.append("require_token")
        if unsafe:
            names = ", ".join(f"MGN_GATEWAY_{n.upper()}" for n in unsafe)
            raise ValueError(
                "the production profile serves no GraphiQL and no introspection and requires "
                f"tokens: unset {names} "
                "or use MGN_GATEWAY_PROFILE=demo"
            )
        self.graphiql = False
        self.introspection = False
        self.require_token = True
        return self
