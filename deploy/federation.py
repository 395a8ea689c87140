"""Starting the hub and regional nodes: together (``mgn demo``) or apart (``mgn hub up`` on the
hub's machine, ``mgn region up`` on each region's).

- :class:`~deploy.supervisor.Supervisor`: the processes one command started (nats-server,
  services), restarted when they die; each logs under its ``logs`` directory and is stopped
  in reverse start order by its own pid.
- Hub: :func:`start_hub_nats` (JetStream domain ``hub``, a leafnode listener that requires
  TLS (:func:`hub_tls`), the accounts block of :class:`HubAuth`: the gateway with full
  rights, one restricted nkey user per region) and :func:`start_gateway` (which holds the
  registrar that sources joining regions). :func:`add_region` creates a region's nkey and
  credentials file (:mod:`deploy.credentials`) and makes a running hub re-read its config
  (SIGHUP to its pid): no restart.
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
from shared.messaging.jetstream import ensure_national_stream, join_inbox_prefix, join_subject

log = logging.getLogger(__name__)

REGIONAL_SERVICES = ("groups", "meetings", "feedback")
JOIN_BACKOFF = (0.5, 30.0)  # first and longest wait between join attempts, seconds


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        data: dict[str, Any] = {
            "gateway_password": self.gateway_password,
            "region_keys": self.regions,
        }
        if self.legacy:
            data["legacy"] = self.legacy
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        self.path.chmod(0o600)

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

    def graphql_url(self, service: str) -> str:
        return self.services[service].health_url.replace("/healthz", "/graphql")


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
) -> NatsServer:
    """The hub's nats-server (open if ``auth`` is None; leafnode TLS with ``tls``),
    NATIONAL created; state in hub.json.

    ``advertise``: the leafnode URL regions are told (written into their credentials files),
    e.g. ``nats-leaf://hub.example.fi:7422``; default the listener's own address.
    """
    hub = NatsServer.hub(
        hub_dir / "nats",
        accounts=auth.accounts() if auth else "",
        port=port,
        leaf_port=leaf_port,
        http_port=http_port,
        host=host,
        tls=tls,
    )
    state_path = hub_dir / HUB_STATE

    def reread_users() -> None:  # `mgn hub add-region` may have added some since the start
        if auth is not None:
            fresh = HubAuth.load_or_create(auth.path).accounts()
            hub.config = replace(_hub_config(hub), accounts=fresh)

    def record_pid() -> None:  # `mgn hub add-region` signals the hub's current pid
        with contextlib.suppress(OSError, ValueError):
            state = json.loads(state_path.read_text(encoding="utf-8"))
            state["pid"] = hub.pid
            state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")

    sup.start_server(hub, before_restart=reread_users, after_start=record_pid)
    client_url = auth.gateway_url(hub.client_url) if auth else hub.client_url
    asyncio.run(_ensure_national(client_url))
    cfg = _hub_config(hub)
    state = {
        "pid": hub.pid,
        "config_path": str(hub.config_path),
        # What credentials files name; not a listen-everywhere address no region can dial.
        "leafnode_url": advertise or ("" if host in ("0.0.0.0", "::") else hub.leafnode_url),
        "tls": None if tls is None else {k: str(getattr(tls, k)) for k in ("cert", "key", "ca")},
        "client_url": hub.client_url,
        "monitor_url": hub.monitor_url,
        "config": {
            "port": cfg.port,
            "http_port": cfg.http_port,
            "leaf_port": cfg.leaf_port,
            "host": cfg.host,
            "server_name": cfg.server_name,
        },
    }
    state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return hub


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
) -> ServiceProcess:
    """The gateway (with its registrar), on the hub's NATS server as the full-rights user."""
    db = database_url or f"sqlite:///{hub_dir / 'gateway.db'}"
    # Credentials go through the environment, not the command line (``ps`` shows that).
    url = auth.gateway_url(hub.client_url) if auth else hub.client_url
    gateway = sup.spawn_service("gateway", "hub", port, db, url, env={"MGN_GATEWAY_NATS_URL": url})
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
    url = str(state.get("leafnode_url", ""))
    creds = auth.add_region(region, (url,) if url else (), tls.ca_pem())
    path = creds.save(out or hub_dir / "credentials" / f"{region}.json")
    reloaded = False
    if state:
        cfg = HubConfig(
            **state["config"],
            store_dir=hub_dir / "nats" / "jetstream",
            accounts=auth.accounts(),
            tls=_state_tls(state),
        )
        config_path = Path(state["config_path"])
        config_path.write_text(render(cfg), encoding="utf-8")
        pid = int(state["pid"])
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
) -> RegionNode:
    """The region's leaf server (with the region's key and the hub's CA if ``credentials``)
    and its services.

    ``database_url`` may use ``{service}``, ``{region}`` and ``{dir}`` (the region's directory);
    default: one SQLite file per service in ``region_dir``.
    """
    if credentials is not None and credentials.region != region:
        raise ValueError(f"credentials are for region {credentials.region!r}, not {region!r}")
    for service in REGIONAL_SERVICES:  # a bad template fails before anything starts
        database_url_for(database_url, region_dir, service, region)
    leaf = NatsServer.region(
        region, region_dir / "nats", hub_leafnode_url, credentials=credentials, port=nats_port
    )
    sup.start_server(leaf)
    services: dict[str, ServiceProcess] = {}
    for i, service in enumerate(REGIONAL_SERVICES):
        db = database_url_for(database_url, region_dir, service, region)
        port = base_port + i if base_port else free_port()
        env = None
        groups_url = (
            services["groups"].health_url.replace("/healthz", "/graphql") if services else ""
        )
        if service == "meetings":  # names attendees who block a recording
            env = {"MGN_MEETINGS_NATS_URL": leaf.client_url, "MGN_MEETINGS_GROUPS_URL": groups_url}
        if service == "feedback":  # contacts from the region's groups API; demo mail to files
            env = {
                "MGN_FEEDBACK_NATS_URL": leaf.client_url,
                "MGN_FEEDBACK_GROUPS_URL": groups_url,
                "MGN_FEEDBACK_MAIL_DIR": str(region_dir / "mail"),
            }
        services[service] = sup.spawn_service(service, region, port, db, leaf.client_url, env=env)
    for process in services.values():
        process.wait_healthy()
    return RegionNode(region, leaf, services)


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
            try:
                reply = await nc.request(join_subject(region), b"{}", timeout=5)
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
        self, region: str, database_url: str | None = None, *, join_timeout: float = 60.0
    ) -> RegionNode:
        """Start a region's node and have the registrar source its stream into NATIONAL."""
        hub = self._require_hub()
        creds = self.add_region(region)
        node = start_region(
            self.sup,
            region,
            self.workdir / region,
            hub.leafnode_url,
            credentials=creds,
            database_url=database_url,
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


async def _ensure_national(hub_url: str) -> None:
    nc = await nats.connect(hub_url)
    try:
        await ensure_national_stream(nc.jetstream())
    finally:
        await nc.close()


async def _quiet(exc: Exception) -> None:
    log.debug("nats client error: %r", exc)
