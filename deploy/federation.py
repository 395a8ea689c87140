"""Starting the hub and regional nodes: together (``mgn demo``) or apart (``mgn hub up`` on the
hub's machine, ``mgn region up`` on each region's).

- :class:`~deploy.supervisor.Supervisor`: the processes one command started (nats-server,
  services), restarted when they die; each logs under its ``logs`` directory and is stopped
  in reverse start order by its own pid.
- Hub: :func:`start_hub_nats` (JetStream domain ``hub``, one server or a cluster of three
  with NATIONAL and DEADLETTER at R3, a leafnode listener that requires TLS
  (:func:`hub_tls`), the accounts block of :class:`HubAuth`: the gateway with full rights,
  one restricted nkey user per region) and :func:`start_gateway` (which holds the registrar
  that sources joining regions; several may share one read model). :func:`add_region`
  creates a region's nkey and credentials file (:mod:`deploy.credentials`) and makes a
  running hub (every server) re-read its config (SIGHUP to its pid): no restart.
- Region: :func:`start_region` (its leaf server, signing in with the region's key over TLS
  checked against the hub's CA, and its services) and :func:`join_hub` (asks the gateway's
  registrar to source the region, retrying with backoff until answered: the link may come up
  later).
- :class:`Federation`: all of it on one machine, for ``mgn demo`` and end-to-end tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import string
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nats

from deploy.credentials import RegionCredentials
from deploy.natsconfig import (
    GATEWAY_USER,
    LOCALHOST,
    ClusterConfig,
    HubConfig,
    render,
    render_accounts,
    with_userinfo,
)
from deploy.natsserver import NatsServer, free_port
from deploy.pki import HubTLS, ensure_hub_tls, hub_names, is_public_user_key, new_region_key
from deploy.processes import ServiceProcess
from deploy.supervisor import STATE_FILE, Supervisor
from shared.contracts.subjects import validate_region
from shared.files import write_private
from shared.messaging.jetstream import (
    ensure_deadletter_stream,
    ensure_national_stream,
    join_inbox_prefix,
    join_subject,
)
from shared.runtime.credentials import NodeCredentials

log = logging.getLogger(__name__)

REGIONAL_SERVICES = ("groups", "meetings", "feedback")
CONSOLE = "console"  # the node's front door: pages, survey forms, the services' APIs
NODE_CREDENTIALS = "node-credentials.json"
CREDENTIALS_ENV = "MGN_NODE_CREDENTIALS_FILE"
JOIN_BACKOFF = (0.5, 30.0)  # first and longest wait between join attempts, seconds
# How long one join request waits for the registrar's answer. The registrar answers joins one
# at a time (0.1-0.3 s each with 50-100 sources on a loaded machine), so when many regions
# join at once a request waits its turn; given up on, it is still answered later (to nobody)
# and its retry queues again. At 5 s, 100 regions starting together sent 704-760 requests and
# took 200 s to join (bench/federation_scale.py). No answer at all (hub or link down) comes
# back at once as "no responders", not as this timeout.
JOIN_REQUEST_TIMEOUT = 30.0


DATABASE_PLACEHOLDERS = ("service", "region", "dir")


def database_url_for(template: str | None, region_dir: Path, service: str, region: str) -> str:
    """A service's database URL from ``mgn region up --db``'s template.

    The template must contain ``{service}`` (each service owns its own database: one URL for
    all three would have them share tables); ``{region}`` and ``{dir}`` (the region's
    directory) are optional. Default: one SQLite file per service in ``region_dir``.
    Raises ValueError naming the problem.
    """
    if template is None:
        template = "sqlite:///{dir}/{service}.db"
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(name)
    unknown = sorted(names - set(DATABASE_PLACEHOLDERS))
    if unknown:
        raise ValueError(
            f"database URL template {template!r}: unknown placeholder "
            f"{', '.join('{' + n + '}' for n in unknown)}; use {{service}}, {{region}}, {{dir}}"
        )
    if "service" not in names:
        raise ValueError(
            f"database URL template {template!r} must contain {{service}}: each of "
            f"{', '.join(REGIONAL_SERVICES)} needs its own database, e.g. "
            "postgresql://user@host/{region}_{service}"
        )
    return template.format(dir=region_dir, service=service, region=region)


@dataclass
class HubAuth:
    """The hub's users, kept in ``auth.json`` (mode 0600) beside its config: the gateway's
    password (it connects on the hub's own machine) and each region's public nkey."""

    path: Path
    gateway_password: str
    regions: dict[str, str] = field(default_factory=dict)  # region id -> public user nkey
    legacy: list[str] = field(default_factory=list)  # regions that had a password: re-onboard

    @classmethod
    def load_or_create(cls, path: Path) -> HubAuth:
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            keys = dict(data.get("region_keys", {}))
            # auth.json of the password era: {"regions": {id: password}}. Passwords no
            # longer open the link; those regions need a key (`mgn hub add-region` again).
            old = [r for r in data.get("regions", {}) if r not in keys]
            legacy = sorted({*old, *data.get("legacy", [])} - set(keys))
            auth = cls(path, str(data["gateway_password"]), keys, legacy)
            if "regions" in data:
                auth.save()  # the passwords are gone from disk too
            return auth
        auth = cls(path, secrets.token_urlsafe(24))
        auth.save()
        return auth

    def save(self) -> None:
        data: dict[str, Any] = {
            "gateway_password": self.gateway_password,
            "region_keys": self.regions,
        }
        if self.legacy:
            data["legacy"] = self.legacy
        write_private(self.path, json.dumps(data, indent=2))

    def add_region(
        self, region: str, hubs: tuple[str, ...] | list[str] = (), hub_ca: str = ""
    ) -> RegionCredentials:
        """A new nkey for the region: the public key is kept here, the seed goes only into
        the credentials returned. Called again, it replaces the key (the old file stops
        working once the hub reloads: a lost or leaked file is revoked this way)."""
        validate_region(region)
        seed, public = new_region_key()
        assert is_public_user_key(public)
        self.regions[region] = public
        if region in self.legacy:
            self.legacy.remove(region)
        self.save()
        return RegionCredentials(region, seed, tuple(hubs), hub_ca)

    def accounts(self) -> str:
        return render_accounts(self.gateway_password, self.regions)

    def gateway_url(self, client_url: str) -> str:
        return with_userinfo(client_url, GATEWAY_USER, self.gateway_password)


def hub_tls(
    hub_dir: Path,
    *,
    host: str = LOCALHOST,
    advertise: tuple[str, ...] = (),
    cert: Path | None = None,
    key: Path | None = None,
    ca: Path | None = None,
) -> tuple[HubTLS, str]:
    """The hub's leafnode TLS (:func:`deploy.pki.ensure_hub_tls`): the given files, or its
    own CA and certificate in ``hub_dir/tls`` for the listen address and advertised hosts."""
    hosts = [urlsplit(url).hostname or "" for url in advertise]
    return ensure_hub_tls(
        hub_dir / "tls", hub_names(host, [h for h in hosts if h]), cert=cert, key=key, ca=ca
    )


# -- processes -----------------------------------------------------------------------------


@dataclass
class RegionNode:
    region: str
    leaf: NatsServer
    services: dict[str, ServiceProcess]
    console: ServiceProcess
    console_url: str  # as people reach it (the public URL)
    credentials: NodeCredentials  # the services' APIs answer only these

    def graphql_url(self, service: str) -> str:
        """The service's own API (on 127.0.0.1: call it with ``api_headers()``)."""
        return self.services[service].health_url.replace("/healthz", "/graphql")

    def api_headers(self) -> dict[str, str]:
        """The console's credential: what a caller of ``graphql_url`` sends."""
        return self.credentials.headers(CONSOLE)

    @property
    def console_local_url(self) -> str:
        return self.console.health_url.removesuffix("/healthz")


# -- the hub -------------------------------------------------------------------------------

HUB_STATE = "hub.json"  # the running hub's nats-server pid and ports, for `mgn hub add-region`
REGION_STATE = "region.json"  # a running region's URLs and databases, for status and backups


def start_hub_nats(
    sup: Supervisor,
    hub_dir: Path,
    *,
    auth: HubAuth | None,
    tls: HubTLS | None = None,
    port: int | None = None,
    leaf_port: int | None = None,
    http_port: int | None = None,
    host: str = LOCALHOST,
    advertise: str = "",
    cluster_port: int | None = None,
) -> NatsServer:
    """The hub's nats-server (open if ``auth`` is None; leafnode TLS with ``tls``),
    NATIONAL created; state in hub.json. With ``cluster_port``: three servers (ports
    ``P``, ``P+1``, ``P+2`` of each kind) clustered on ``host``, NATIONAL and DEADLETTER R3;
    the first is returned, :func:`hub_servers` gives all three.

    ``advertise``: the leafnode URL(s) regions are told (comma-separated, written into their
    credentials files), e.g. ``nats-leaf://hub.example.fi:7422``; default the listeners'.
    """
    members = 3 if cluster_port is not None else 1

    def nth(base: int | None, i: int) -> int | None:
        return None if base is None else base + i

    routes = (
        tuple(f"nats-route://{host}:{cluster_port + i}" for i in range(members))
        if (cluster_port is not None)
        else ()
    )
    servers = [
        NatsServer.hub(
            hub_dir / ("nats" if members == 1 else f"nats-{i + 1}"),
            server_name="mgn-hub" if members == 1 else f"mgn-hub-{i + 1}",
            accounts=auth.accounts() if auth else "",
            port=nth(port, i),
            leaf_port=nth(leaf_port, i),
            http_port=nth(http_port, i),
            host=host,
            tls=tls,
            cluster=None
            if cluster_port is None
            else ClusterConfig(port=cluster_port + i, routes=routes),
        )
        for i in range(members)
    ]
    state_path = hub_dir / HUB_STATE

    def reread_users(server: NatsServer) -> Any:  # `mgn hub add-region` may have added some
        def hook() -> None:
            if auth is not None:
                fresh = HubAuth.load_or_create(auth.path).accounts()
                server.config = replace(_hub_config(server), accounts=fresh)

        return hook

    def record_pid(i: int, server: NatsServer) -> Any:  # add-region signals the current pid
        def hook() -> None:
            with contextlib.suppress(OSError, ValueError, KeyError, IndexError):
                state = json.loads(state_path.read_text(encoding="utf-8"))
                state["servers"][i]["pid"] = server.pid
                if i == 0:
                    state["pid"] = server.pid
                write_private(state_path, json.dumps(state, indent=2))

        return hook

    for i, server in enumerate(servers):
        if members > 1:  # a cluster's JetStream waits for its peers: start all, then wait
            sup.add(server.config.server_name, server, before_restart=reread_users(server),
                    after_start=record_pid(i, server))  # fmt: skip
        else:
            sup.start_server(
                server, before_restart=reread_users(server), after_start=record_pid(i, server)
            )
    if members > 1:
        for server in servers:
            server.wait_ready()
    client_urls = [s.client_url for s in servers]
    gateway_urls = [auth.gateway_url(u) if auth else u for u in client_urls]
    asyncio.run(_ensure_national(",".join(gateway_urls), replicas=members))
    listening = host not in ("0.0.0.0", "::")
    leafnode_urls = (
        [u.strip() for u in advertise.split(",") if u.strip()]
        if advertise
        else ([s.leafnode_url for s in servers] if listening else [])
    )
    state = {
        "pid": servers[0].pid,
        "config_path": str(servers[0].config_path),
        # What credentials files name; not a listen-everywhere address no region can dial.
        "leafnode_url": leafnode_urls[0] if leafnode_urls else "",
        "leafnode_urls": leafnode_urls,
        "tls": None if tls is None else {k: str(getattr(tls, k)) for k in ("cert", "key", "ca")},
        "client_url": ",".join(client_urls),
        "monitor_url": servers[0].monitor_url,
        "config": _state_config(servers[0]),
        "servers": [
            {
                "pid": s.pid,
                "config_path": str(s.config_path),
                "store_dir": str(_hub_config(s).store_dir),
                "config": _state_config(s),
            }
            for s in servers
        ],
    }
    write_private(state_path, json.dumps(state, indent=2))
    _CLUSTERS[servers[0].pid or 0] = servers
    return servers[0]


_CLUSTERS: dict[int, list[NatsServer]] = {}  # first server's pid -> every server of its hub


def hub_servers(first: NatsServer) -> list[NatsServer]:
    """Every server of the hub :func:`start_hub_nats` returned ``first`` of."""
    for servers in _CLUSTERS.values():
        if servers[0] is first:
            return servers
    return [first]


def _state_config(server: NatsServer) -> dict[str, Any]:
    cfg = _hub_config(server)
    out: dict[str, Any] = {
        "port": cfg.port,
        "http_port": cfg.http_port,
        "leaf_port": cfg.leaf_port,
        "host": cfg.host,
        "server_name": cfg.server_name,
    }
    if cfg.cluster is not None:
        out["cluster"] = {"port": cfg.cluster.port, "routes": list(cfg.cluster.routes)}
    return out


def _hub_config(hub: NatsServer) -> HubConfig:
    cfg = hub.config
    assert isinstance(cfg, HubConfig)
    return cfg


def start_gateway(
    sup: Supervisor,
    hub_dir: Path,
    hub: NatsServer,
    *,
    port: int,
    auth: HubAuth | None,
    database_url: str | None = None,
    label: str = "hub",
    wait: bool = True,
) -> ServiceProcess:
    """A gateway (with its registrar), on the hub's NATS servers (every one of a cluster)
    as the full-rights user. Several may share one PostgreSQL read model (each its own
    ``label`` and ``port``): one projects, the others stand by (services/gateway/lease.py)."""
    db = database_url or f"sqlite:///{hub_dir / 'gateway.db'}"
    servers = hub_servers(hub)
    urls = [auth.gateway_url(s.client_url) if auth else s.client_url for s in servers]
    # Credentials go through the environment, not the command line (``ps`` shows that).
    env = {"MGN_GATEWAY_NATS_URL": ",".join(urls)}
    if len(servers) > 1:
        env["MGN_GATEWAY_STREAM_REPLICAS"] = "3"
    gateway = sup.spawn_service("gateway", label, port, db, env["MGN_GATEWAY_NATS_URL"], env=env)
    if wait:
        gateway.wait_healthy()
    return gateway


def add_region(hub_dir: Path, region: str, out: Path | None = None) -> tuple[Path, bool]:
    """``mgn hub add-region``: a new nkey for the region (its public key kept in auth.json),
    its credentials file (seed, the hub's URLs, the hub's CA), the hub's config rewritten and
    a running hub told to re-read it. Returns the credentials file and whether a running hub
    was told to reload."""
    auth = HubAuth.load_or_create(hub_dir / "auth.json")
    state_path = hub_dir / HUB_STATE
    state: dict[str, Any] = (
        json.loads(state_path.read_text(encoding="utf-8")) if state_path.exists() else {}
    )
    tls = _state_tls(state)
    if tls is None:  # the hub has not started yet: its own CA now, the certificate at `up`
        tls, _ = hub_tls(hub_dir)
    urls = state.get("leafnode_urls") or (
        [state["leafnode_url"]] if state.get("leafnode_url") else []
    )
    creds = auth.add_region(region, tuple(urls), tls.ca_pem())
    path = creds.save(out or hub_dir / "credentials" / f"{region}.json")
    reloaded = False
    servers = state.get("servers") or ([state] if state else [])
    for server in servers:
        config = dict(server["config"])
        cluster = config.pop("cluster", None)
        cfg = HubConfig(
            **config,
            store_dir=Path(server.get("store_dir") or hub_dir / "nats" / "jetstream"),
            accounts=auth.accounts(),
            tls=_state_tls(state),
            cluster=None
            if cluster is None
            else ClusterConfig(port=cluster["port"], routes=tuple(cluster["routes"])),
        )
        config_path = Path(server["config_path"])
        write_private(config_path, render(cfg))  # it holds the users' keys and a password
        pid = int(server["pid"])
        if _is_our_nats_server(pid, config_path):
            os.kill(pid, signal.SIGHUP)
            reloaded = True
    return path, reloaded


def _state_tls(state: dict[str, Any]) -> HubTLS | None:
    paths = state.get("tls")
    return None if not paths else HubTLS(Path(paths["cert"]), Path(paths["key"]), Path(paths["ca"]))


def _is_our_nats_server(pid: int, config_path: Path) -> bool:
    """Is ``pid`` a live nats-server running ``config_path`` (not a recycled pid)?"""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(config_path).encode() in cmdline and b"nats-server" in cmdline[0]


# -- a region ------------------------------------------------------------------------------


def start_region(
    sup: Supervisor,
    region: str,
    region_dir: Path,
    hub_leafnode_url: str | tuple[str, ...],
    *,
    credentials: RegionCredentials | None = None,
    database_url: str | None = None,
    base_port: int | None = None,
    nats_port: int | None = None,
    console_port: int | None = None,
    public_url: str = "",
    mail_dir: Path | None = None,
    feedback_env: dict[str, str] | None = None,
    console_env: dict[str, str] | None = None,
) -> RegionNode:
    """The region's leaf server (with the region's key and the hub's CA if ``credentials``),
    its services and its console (the node's front door).

    ``database_url`` may use ``{service}``, ``{region}`` and ``{dir}`` (the region's directory);
    default: one SQLite file per service in ``region_dir``. Ports: the services at
    ``base_port``, +1, +2 (groups, meetings, feedback) and the console at ``console_port``;
    free ones when not given. The node's credentials (who may call the services' APIs) are
    generated once into ``region_dir/node-credentials.json`` (mode 0600) and kept. Survey
    links are built from ``public_url`` (default: the console's own address).
    ``mail_dir``: the feedback service writes its mail there as files instead of sending it
    (the demo); ``feedback_env`` / ``console_env``: more settings of those two (SMTP).
    """
    if credentials is not None and credentials.region != region:
        raise ValueError(f"credentials are for region {credentials.region!r}, not {region!r}")
    for service in (*REGIONAL_SERVICES, CONSOLE):  # a bad template fails before anything starts
        database_url_for(database_url, region_dir, service, region)
    node_credentials = NodeCredentials.generate().load_or_create(region_dir / NODE_CREDENTIALS)
    node_env = {CREDENTIALS_ENV: str(region_dir / NODE_CREDENTIALS)}
    leaf = NatsServer.region(
        region, region_dir / "nats", hub_leafnode_url, credentials=credentials, port=nats_port
    )
    sup.start_server(leaf)
    ports = {
        service: base_port + i if base_port else free_port()
        for i, service in enumerate(REGIONAL_SERVICES)
    }
    console_port = console_port or free_port()
    public = (public_url or f"http://127.0.0.1:{console_port}").rstrip("/")
    groups_url = f"http://127.0.0.1:{ports['groups']}/graphql"
    services: dict[str, ServiceProcess] = {}
    for service in REGIONAL_SERVICES:
        db = database_url_for(database_url, region_dir, service, region)
        prefix = f"MGN_{service.upper()}_"
        env = {**node_env, f"{prefix}NATS_URL": leaf.client_url}
        if service == "meetings":  # names attendees who block a recording
            env[f"{prefix}GROUPS_URL"] = groups_url
        if service == "feedback":  # contacts from the region's groups API; links to the console
            env[f"{prefix}GROUPS_URL"] = groups_url
            env[f"{prefix}PUBLIC_BASE_URL"] = public
            if mail_dir is not None:
                env[f"{prefix}MAIL_DIR"] = str(mail_dir)
            env.update(feedback_env or {})
        services[service] = sup.spawn_service(
            service, region, ports[service], db, leaf.client_url, env=env
        )
    hosts = os.environ.get("MGN_HTTP_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    console_env = {
        **node_env,
        "MGN_CONSOLE_PUBLIC_URL": public,
        "MGN_CONSOLE_LEAF_MONITOR_URL": leaf.monitor_url,
        # the Host header people's browsers send (through the agency's proxy) is the
        # public URL's; the console's edge answers 400 to others
        "MGN_HTTP_ALLOWED_HOSTS": ",".join(
            dict.fromkeys([*hosts, urlsplit(public).hostname or ""])
        ),
        **{
            f"MGN_CONSOLE_{s.upper()}_URL": f"http://127.0.0.1:{ports[s]}"
            for s in REGIONAL_SERVICES
        },
        **(console_env or {}),
    }
    console = sup.spawn_service(
        CONSOLE,
        region,
        console_port,
        database_url_for(database_url, region_dir, CONSOLE, region),
        leaf.client_url,
        env=console_env,
    )
    for process in (*services.values(), console):
        process.wait_healthy()
    return RegionNode(region, leaf, services, console, public, node_credentials)


async def join_hub(
    nats_url: str,
    region: str,
    *,
    timeout: float | None = None,
    stop: threading.Event | None = None,
    backoff: tuple[float, float] = JOIN_BACKOFF,
) -> dict[str, Any]:
    """Ask the hub's registrar (through the region's leaf server at ``nats_url``) to source
    the region into NATIONAL; retry with exponential backoff until it answers.

    Raises TimeoutError after ``timeout`` seconds (None: never), or if ``stop`` is set.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    wait, longest = backoff
    nc = await nats.connect(
        nats_url,
        inbox_prefix=join_inbox_prefix(region),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        error_cb=_quiet,
    )
    try:
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            patience = JOIN_REQUEST_TIMEOUT if remaining is None else remaining
            try:
                reply = await nc.request(
                    join_subject(region),
                    b"{}",
                    timeout=max(0.1, min(JOIN_REQUEST_TIMEOUT, patience)),
                )
                answer: dict[str, Any] = json.loads(reply.data)
                if "error" not in answer:
                    return answer
                log.warning("hub refused to source %s: %s", region, answer["error"])
            except (nats.errors.NoRespondersError, nats.errors.TimeoutError) as exc:
                log.debug("join of %s not answered yet: %r", region, exc)
            remaining = None if deadline is None else deadline - time.monotonic()
            if (remaining is not None and remaining <= 0) or (stop and stop.is_set()):
                raise TimeoutError(f"the hub did not answer {region}'s join request")
            pause = wait if remaining is None else min(wait, remaining)
            await asyncio.sleep(pause)
            wait = min(wait * 2, longest)
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


def join_in_background(
    nats_url: str, region: str, on_done: Any = None
) -> tuple[threading.Thread, threading.Event]:
    """Run :func:`join_hub` in a daemon thread (for a foreground supervisor); set the event
    to give up. ``on_done(answer_or_exception)`` is called once it ends."""
    stop = threading.Event()

    def run() -> None:
        try:
            result: Any = asyncio.run(join_hub(nats_url, region, stop=stop))
        except Exception as exc:
            result = exc
        if on_done is not None:
            on_done(result)

    thread = threading.Thread(target=run, name=f"join-{region}", daemon=True)
    thread.start()
    return thread, stop


# -- everything on one machine -------------------------------------------------------------


@dataclass
class Federation:
    """Hub, gateway and regions as children of this process (``mgn demo``), each region
    onboarded like a remote one: its own user at the hub, a join request to the registrar."""

    workdir: Path
    secure: bool = True
    hub: NatsServer | None = None
    gateway: ServiceProcess | None = None
    auth: HubAuth | None = None
    regions: dict[str, RegionNode] = field(default_factory=dict)
    sup: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.sup = Supervisor(
            self.workdir / "logs",
            pids_file=self.workdir / "pids",
            state_file=self.workdir / STATE_FILE,
            command="mgn demo",
        )

    def stop(self) -> None:
        self.sup.stop()

    def running_pids(self) -> list[int]:
        return self.sup.running_pids()

    @property
    def hub_dir(self) -> Path:
        return self.workdir / "hub"

    def start_hub(self) -> NatsServer:
        tls = None
        if self.secure:
            self.auth = HubAuth.load_or_create(self.hub_dir / "auth.json")
            tls = hub_tls(self.hub_dir)[0]
        self.hub = start_hub_nats(self.sup, self.hub_dir, auth=self.auth, tls=tls)
        return self.hub

    def start_gateway(self, port: int, database_url: str | None = None) -> ServiceProcess:
        self.gateway = start_gateway(
            self.sup,
            self.hub_dir,
            self._require_hub(),
            port=port,
            auth=self.auth,
            database_url=database_url,
        )
        return self.gateway

    def add_region(self, region: str) -> RegionCredentials | None:
        """The region's user at the hub (reloading the running hub); None on an open hub."""
        hub = self._require_hub()
        if self.auth is None:
            return None
        creds = self.auth.add_region(region, (hub.leafnode_url,), hub.hub_ca)
        cfg = hub.config
        assert isinstance(cfg, HubConfig)
        hub.reload(HubConfig(**{**_fields(cfg), "accounts": self.auth.accounts()}))
        return creds

    def start_region(
        self,
        region: str,
        database_url: str | None = None,
        *,
        console_port: int | None = None,
        join_timeout: float = 60.0,
    ) -> RegionNode:
        """Start a region's node and have the registrar source its stream into NATIONAL.
        ``console_port``: the console's port (default: a free one)."""
        hub = self._require_hub()
        creds = self.add_region(region)
        node = start_region(
            self.sup,
            region,
            self.workdir / region,
            hub.leafnode_url,
            credentials=creds,
            database_url=database_url,
            console_port=console_port,
            mail_dir=self.workdir / region / "mail",
        )
        self.regions[region] = node
        asyncio.run(join_hub(node.leaf.client_url, region, timeout=join_timeout))
        return node

    def _require_hub(self) -> NatsServer:
        if self.hub is None:
            raise RuntimeError("start the hub first")
        return self.hub


def _fields(cfg: HubConfig) -> dict[str, Any]:
    return {name: getattr(cfg, name) for name in HubConfig.__dataclass_fields__}


async def _ensure_national(hub_urls: str, *, replicas: int = 1, timeout: float = 30.0) -> None:
    """NATIONAL (and on a cluster DEADLETTER too, both at R3) before the gateway starts."""
    nc = await nats.connect(servers=hub_urls.split(","))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:  # a new cluster elects its JetStream leader first: retry a few seconds
                js = nc.jetstream()
                await ensure_national_stream(js, replicas=replicas)
                if replicas > 1:
                    await ensure_deadletter_stream(js, replicas=replicas)
                return
            except (nats.errors.Error, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await nc.close()


async def _quiet(exc: Exception) -> None:
    log.debug("nats client error: %r", exc)
