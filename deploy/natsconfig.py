"""Render nats-server configurations for the hub and for a region's leaf server.

The templates live in ``deploy/templates`` (plain text, :class:`string.Template`
placeholders). Both end in an ``$accounts`` placeholder: :attr:`HubConfig.accounts` carries
an accounts block rendered by :func:`render_accounts` (the gateway with full rights, one
nkey user per region with :func:`~shared.messaging.jetstream.region_user_permissions`), or
nothing for an open hub (tests, development).

The link (see :mod:`deploy.pki`): with :attr:`HubConfig.tls` the hub's leafnode listener
requires TLS from the first byte (``handshake_first``: not even the server's INFO goes out
in clear). A region's leaf server with :attr:`RegionConfig.leaf_seed` signs the hub's nonce
with its nkey and, with :attr:`RegionConfig.hub_ca_file`, accepts only a hub whose
certificate that CA signed (TLS first as well); it may know several hub URLs (a cluster).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from urllib.parse import quote, urlsplit, urlunsplit

from deploy.pki import HubTLS, is_public_user_key
from shared.contracts.subjects import validate_region
from shared.messaging.jetstream import region_user_permissions

HUB_DOMAIN = "hub"
LOCALHOST = "127.0.0.1"
ACCOUNT = "NET"  # the hub's one account: the gateway and every region's user
GATEWAY_USER = "gateway"
_SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _template(name: str) -> Template:
    text = resources.files("deploy").joinpath("templates", name).read_text(encoding="utf-8")
    return Template(text)


def _quote(value: str | Path) -> str:
    """A double-quoted config string (the nats config format reads JSON string escapes)."""
    return json.dumps(str(value))


def _server_name(name: str) -> str:
    if not _SERVER_NAME.fullmatch(name):
        raise ValueError(f"invalid server name {name!r}: use letters, digits, '-' and '_'")
    return name


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """One server's part in a clustered hub: the route port it listens on and every
    member's route URL (its own among them; the server skips itself)."""

    port: int
    routes: tuple[str, ...]
    name: str = "mgn-hub"


@dataclass(frozen=True, slots=True)
class HubConfig:
    """The national hub: JetStream domain ``hub`` and a leafnode listener for the regions."""

    port: int
    http_port: int
    leaf_port: int
    store_dir: Path
    server_name: str = "mgn-hub"
    host: str = LOCALHOST
    accounts: str = ""
    tls: HubTLS | None = None  # the leafnode listener's certificate; None: plain (tests)
    cluster: ClusterConfig | None = None  # one of three servers of a clustered hub

    @property
    def domain(self) -> str:
        return HUB_DOMAIN


@dataclass(frozen=True, slots=True)
class RegionConfig:
    """A region's leaf server: its own JetStream domain, linked to the hub's leafnode port."""

    region: str
    port: int
    http_port: int
    hub_leafnode_url: str | tuple[str, ...]  # one URL, or every server of a clustered hub
    store_dir: Path
    server_name: str = ""
    host: str = LOCALHOST
    reconnect: str = "1s"
    accounts: str = ""
    leaf_seed: str = ""  # the region's nkey seed; empty: an open hub
    hub_ca_file: Path | None = None  # the CA the hub's certificate must be signed by
    jetstream: bool = True  # False: a link check's throwaway leaf (no domain to collide)

    def __post_init__(self) -> None:
        validate_region(self.region)
        if not self.server_name:
            object.__setattr__(self, "server_name", f"mgn-{self.region}")

    @property
    def hub_urls(self) -> tuple[str, ...]:
        url = self.hub_leafnode_url
        return (url,) if isinstance(url, str) else url

    @property
    def domain(self) -> str:
        return self.region


ServerConfig = HubConfig | RegionConfig


def render_hub(cfg: HubConfig) -> str:
    return _template("hub.conf").substitute(
        server_name=_server_name(cfg.server_name),
        host=cfg.host,
        port=cfg.port,
        http_port=cfg.http_port,
        leaf_port=cfg.leaf_port,
        leaf_tls=_hub_tls(cfg.tls),
        cluster=_cluster(cfg),
        store_dir=_quote(cfg.store_dir),
        accounts=cfg.accounts,
    )


def _cluster(cfg: HubConfig) -> str:
    if cfg.cluster is None:
        return ""
    routes = ", ".join(_quote(url) for url in cfg.cluster.routes)
    return (
        "\n# One of the hub's servers: NATIONAL and DEADLETTER are kept on three of them (R3).\n"
        f"cluster {{\n  name: {_server_name(cfg.cluster.name)}\n"
        f"  listen: {cfg.host}:{cfg.cluster.port}\n  routes: [{routes}]\n}}\n"
    )


def _hub_tls(tls: HubTLS | None) -> str:
    if tls is None:
        return ""
    return (
        "\n  # Only TLS, from the first byte; regions check this certificate against the CA\n"
        "  # in their credentials file.\n"
        f"  tls {{\n    cert_file: {_quote(tls.cert)}\n    key_file: {_quote(tls.key)}\n"
        "    handshake_first: true\n    timeout: 3\n  }"
    )


def _region_jetstream(cfg: RegionConfig) -> str:
    return (
        "jetstream {\n"
        "  # The region's own domain: its stream lives here and the hub reaches it as "
        f"$JS.{cfg.region}.API.\n"
        f"  domain: {cfg.region}\n"
        f"  store_dir: {_quote(cfg.store_dir)}\n"
        "  # A regional node is small and quiet: fsync every write before acknowledging it.\n"
        "  sync_interval: always\n"
        "}\n"
    )


def _remote(cfg: RegionConfig) -> str:
    urls = ", ".join(_quote(url) for url in cfg.hub_urls)
    parts = [f"urls: [{urls}]"]
    if cfg.leaf_seed:
        parts.append(f"nkey: {_quote(cfg.leaf_seed)}")
    if cfg.hub_ca_file is not None:
        parts.append(f"tls: {{ ca_file: {_quote(cfg.hub_ca_file)}, handshake_first: true }}")
    return "{ " + ", ".join(parts) + " }"


def render_region(cfg: RegionConfig) -> str:
    return _template("region.conf").substitute(
        server_name=_server_name(cfg.server_name),
        host=cfg.host,
        port=cfg.port,
        http_port=cfg.http_port,
        jetstream=_region_jetstream(cfg) if cfg.jetstream else "jetstream: disabled\n",
        reconnect=_quote(cfg.reconnect),
        remote=_remote(cfg),
        accounts=cfg.accounts,
    )


LEAFNODE_SCHEMES = ("nats-leaf", "nats", "tls", "ws", "wss")


def validate_leafnode_url(url: str) -> str:
    """``url`` if it is a usable leafnode URL (``nats-leaf://host:port``); else ValueError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"leafnode URL {url!r}: {exc}") from None
    if parts.scheme not in LEAFNODE_SCHEMES or not parts.hostname:
        raise ValueError(
            f"leafnode URL {url!r}: expected nats-leaf://HOST:PORT (e.g. "
            "nats-leaf://hub.example.fi:7422)"
        )
    if port is None:
        raise ValueError(f"leafnode URL {url!r} has no port (the hub's default is 7422)")
    if parts.hostname in ("0.0.0.0", "::"):
        raise ValueError(
            f"leafnode URL {url!r}: {parts.hostname} is a listen address, not one a region "
            "can reach; give the hub's host name or IP address"
        )
    return url


def with_userinfo(url: str, user: str, password: str) -> str:
    """``url`` with ``user:password@`` in it (replacing any); ``url`` itself if no user."""
    if not user:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    return urlunsplit(parts._replace(netloc=auth + host))


def render_accounts(gateway_password: str, regions: dict[str, str]) -> str:
    """The hub's accounts block: account ``NET`` with JetStream, the gateway user with full
    rights and, per region id in ``regions`` (id -> the public key of its nkey), an nkey
    user allowed exactly what sourcing and onboarding need. Leaf connections log in as one
    of these users (the hub's ``leafnodes`` block has no authorization of its own)."""
    users = [f"      {{ user: {_quote(GATEWAY_USER)}, password: {_quote(gateway_password)} }}"]
    for region in sorted(regions):
        validate_region(region)
        key = regions[region]
        if not is_public_user_key(key):
            raise ValueError(f"region {region}: {key[:4]}... is not a public user nkey")
        perms = json.dumps(region_user_permissions(region))
        users.append(f"      # {region}\n      {{ nkey: {_quote(key)}, permissions: {perms} }}")
    body = "\n".join(users)
    return (
        "\n# Who may connect: the gateway (full rights) and one nkey user per region.\n"
        f"accounts {{\n  {ACCOUNT} {{\n    jetstream: enabled\n"
        f"    users: [\n{body}\n    ]\n  }}\n}}\n"
    )


def render(cfg: ServerConfig) -> str:
    """Render either kind of configuration."""
    return render_hub(cfg) if isinstance(cfg, HubConfig) else render_region(cfg)
