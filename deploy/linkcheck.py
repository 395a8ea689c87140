"""Is a region's leafnode link to the hub up, and if not, why: for ``mgn region up`` (which
says so as soon as it knows) and ``mgn region status``.

The leaf server knows why the hub was refused, but says it only in its log; this module
reads its ``/leafz`` and, while the link is down, the end of its log, and turns nats-server's
words into the operator's: a hub that did not prove itself (its certificate is not signed
by the CA in the credentials file, or not for the name dialled), a key the hub does not
accept, a hub that does not speak TLS, a hub that cannot be reached.

:func:`check_link` (``mgn region check-link``) tries a credentials file without starting the
region: a throwaway leaf server (no JetStream, so nothing of the region's can collide) links
with the file's key and CA and is stopped as soon as the answer is known.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from deploy.credentials import RegionCredentials
from deploy.natsconfig import RegionConfig
from deploy.natsserver import NatsServer

_TAIL_BYTES = 64 * 1024
_CONNECTED = re.compile(r"JetStream using domains")  # logged once a link is established

UNREACHABLE = "the hub cannot be reached right now; the region works on and retries every second."

# (pattern in the leaf server's log, what the operator is told), first match wins.
_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"TLS leafnode handshake error: .*(unknown authority|not signed)"),
        "the hub did not prove itself: its TLS certificate is not signed by the CA in the "
        "region's credentials file (a different server answers at that address, or the hub's "
        "CA was replaced: ask the hub's operator for a new credentials file). The link is "
        "refused.",
    ),
    (
        re.compile(r"TLS leafnode handshake error: .*certificate is (valid for|not valid)"),
        "the hub did not prove itself: its TLS certificate is not valid for the address "
        "dialled (use the hub's name from the credentials file, or ask the hub's operator to "
        "start the hub with --advertise naming that address). The link is refused.",
    ),
    (
        re.compile(r"TLS leafnode handshake error: .*(first record does not look like a TLS|EOF)"),
        "the server at the hub's address does not speak TLS on its leafnode port (an old or "
        "misconfigured hub): the link is refused, nothing was sent in clear.",
    ),
    (
        re.compile(r"Authorization Violation"),
        "the hub refused the region's key: the hub's operator has issued a new one (`mgn hub "
        "add-region` again) or removed the region. Ask for the current credentials file.",
    ),
    (
        re.compile(r"TLS leafnode handshake error"),
        "the TLS handshake with the hub failed (see the leaf server's log): the link is refused.",
    ),
    (
        re.compile(r"(connection refused|no such host|i/o timeout|Error trying to connect)"),
        UNREACHABLE,
    ),
)


@dataclass(frozen=True, slots=True)
class LinkState:
    up: bool
    problem: str = ""  # why it is down, in the operator's words ("" if up or not known)
    detail: str = ""  # the leaf server's log line the problem was read from

    def describe(self) -> str:
        if self.up:
            return "UP"
        return f"DOWN: {self.problem}" if self.problem else "DOWN"


def leaf_link(monitor_url: str, log_path: Path, timeout: float = 2.0) -> LinkState:
    """The link of the leaf server at ``monitor_url`` (its log at ``log_path``)."""
    with urllib.request.urlopen(f"{monitor_url}/leafz", timeout=timeout) as resp:
        leafz = json.loads(resp.read())
    if leafz.get("leafs"):
        return LinkState(up=True)
    return diagnose(_tail(log_path))


def diagnose(log_text: str) -> LinkState:
    """Why the link is down, from the leaf server's log since its last connection."""
    for line in reversed(log_text.splitlines()[-400:]):
        if _CONNECTED.search(line):
            break  # linked since the last error: that one is old news
        for pattern, problem in _PROBLEMS:
            if pattern.search(line):
                return LinkState(up=False, problem=problem, detail=line.strip())
    return LinkState(up=False)


def watch_link(
    monitor_url: str,
    log_path: Path,
    say: Callable[[str], None],
    *,
    interval: float = 1.0,
) -> threading.Event:
    """Say the link's state whenever it changes (a daemon thread); set the event to stop."""
    stop = threading.Event()

    def run() -> None:
        said = ""
        while not stop.wait(interval):
            try:
                state = leaf_link(monitor_url, log_path)
            except OSError:
                continue  # the leaf server is restarting: its supervisor says so
            text = state.describe()
            if text != said:
                said = text
                say(f"Link to the hub: {text}")

    threading.Thread(target=run, name="leaf-link", daemon=True).start()
    return stop


def check_link(
    credentials: RegionCredentials, hubs: Sequence[str], *, timeout: float = 15.0
) -> LinkState:
    """Link a throwaway leaf server to ``hubs`` with ``credentials`` and say how it went:
    up, refused (and why), or not reachable within ``timeout`` seconds."""
    with tempfile.TemporaryDirectory(prefix="mgn-link-check-") as tmp:
        leaf = NatsServer.region(
            credentials.region, Path(tmp), tuple(hubs), credentials=credentials
        )
        cfg = leaf.config
        assert isinstance(cfg, RegionConfig)
        leaf.config = replace(
            cfg, server_name=f"mgn-{credentials.region}-link-check", jetstream=False
        )
        leaf.start()
        try:
            deadline = time.monotonic() + timeout
            state = LinkState(up=False)
            while time.monotonic() < deadline:
                state = leaf_link(leaf.monitor_url, leaf.log_path)
                if state.up or (state.problem and state.problem != UNREACHABLE):
                    return state
                time.sleep(0.2)
            return state if state.problem else replace(state, problem=UNREACHABLE)
        finally:
            leaf.stop()


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - _TAIL_BYTES))
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
