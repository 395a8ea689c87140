"""The processes one command started (``mgn hub up``, ``mgn region up``, ``mgn demo``), kept
alive: a child that dies is started again after a backoff while the others keep running;
one that keeps dying stops the command with a message that names it.

- :class:`Supervisor` starts children (nats-servers, services), :meth:`~Supervisor.watch`es
  them in the foreground and stops them newest first by their own pid, never by name.
- :class:`RestartPolicy`: backoff 0.5 s doubling to 30 s (back to 0.5 s once a child has run
  for 60 s); more than 5 crashes of one child within 120 s is a crash loop.
- The state of every child (pid, state, up since, restarts, last exit) is written to a small
  JSON file (mode 0600) that ``mgn hub status`` / ``mgn region status`` read:
  :func:`read_state`, :func:`format_state`.
"""

from __future__ import annotations

import collections
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from deploy.natsserver import NatsServer
from deploy.processes import ServiceProcess
from shared.files import open_private, write_private

STATE_FILE = "supervisor.json"


class Child(Protocol):
    """What the supervisor needs of a process: :class:`~deploy.natsserver.NatsServer` and
    :class:`~deploy.processes.ServiceProcess` both are."""

    @property
    def pid(self) -> int | None: ...

    @property
    def running(self) -> bool: ...

    @property
    def returncode(self) -> int | None: ...

    @property
    def log_path(self) -> Path: ...

    def spawn(self) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...

    def log_tail(self, lines: int = ...) -> str: ...


Hook = Callable[[], None]
Say = Callable[[str], None]


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 0.5  # seconds before the first restart
    max_delay: float = 30.0  # the longest wait between restarts
    stable_after: float = 60.0  # a child up this long starts again from first_delay
    max_crashes: int = 5  # more crashes than this within `window` stop the command
    window: float = 120.0

    def delay(self, consecutive: int) -> float:
        """Wait before restart number ``consecutive`` (1, 2, ...) of an unstable child."""
        return float(min(self.first_delay * 2 ** max(consecutive - 1, 0), self.max_delay))


class CrashLoop(RuntimeError):
    """A child crashed more often than the policy allows; the message says which and why."""


@dataclass
class Supervised:
    """One child and what the supervisor knows of it."""

    name: str
    process: Child
    before_restart: Hook | None = None  # e.g. re-read the hub's users into its config
    after_start: Hook | None = None  # e.g. record the new pid where others look for it
    state: str = "running"  # running | restarting | failed | stopped
    up_since: float = field(default_factory=time.time)
    restarts: int = 0
    consecutive: int = 0  # crashes since it last ran for `stable_after` seconds
    last_exit_code: int | None = None
    last_exit_at: float | None = None
    restart_at: float = 0.0  # monotonic time of the next start, while restarting
    crashes: collections.deque[float] = field(default_factory=collections.deque)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "pid": self.process.pid if self.state == "running" else None,
            "up_since": _iso(self.up_since) if self.state == "running" else None,
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "last_exit_at": _iso(self.last_exit_at),
            "log": str(self.process.log_path),
        }


@dataclass
class Supervisor:
    """The processes one command started; :meth:`stop` stops them newest first."""

    log_dir: Path
    pids_file: Path | None = None  # if set, every started pid is appended here (tests)
    state_file: Path | None = None  # if set, children's state for `mgn ... status`
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    command: str = ""  # what runs them, e.g. "mgn region up" (shown by status)
    _children: list[Supervised] = field(default_factory=list)

    # -- starting ----------------------------------------------------------------------

    def start_server(
        self,
        server: NatsServer,
        *,
        before_restart: Hook | None = None,
        after_start: Hook | None = None,
    ) -> NatsServer:
        """Start a nats-server, wait until it is ready, and keep it running."""
        self.add(
            server.config.server_name,
            server,
            start=server.start,
            before_restart=before_restart,
            after_start=after_start,
        )
        return server

    def spawn_service(
        self,
        service: str,
        region: str,
        port: int,
        database_url: str,
        nats_url: str,
        env: dict[str, str] | None = None,
    ) -> ServiceProcess:
        args = ["service", service, "--db", database_url, "--port", str(port)]
        if env is None:
            args += ["--nats", nats_url]
        if service != "gateway":
            args += ["--region", region]
        process = ServiceProcess(
            name=f"{region}/{service}",
            args=args,
            log_path=self.log_dir / f"{region}-{service}.log",
            health_url=f"http://127.0.0.1:{port}/healthz",
            env=env or {},
        )
        self.add(process.name, process)
        return process

    def add(
        self,
        name: str,
        process: Child,
        *,
        start: Hook | None = None,
        before_restart: Hook | None = None,
        after_start: Hook | None = None,
    ) -> None:
        """Start ``process`` (``start``, default its ``spawn``) and keep it running; later
        starts are ``spawn`` (not waiting: the others reconnect on their own)."""
        child = Supervised(name, process, before_restart=before_restart, after_start=after_start)
        self._children.append(child)
        (start or process.spawn)()
        self._started(child)

    def _started(self, child: Supervised) -> None:
        child.state = "running"
        child.up_since = time.time()
        self._note_pid(child.process.pid)
        if child.after_start is not None:
            child.after_start()
        self.write_state()

    def _note_pid(self, pid: int | None) -> None:
        if self.pids_file is not None and pid is not None:
            with open_private(self.pids_file, "a", encoding="utf-8") as out:
                out.write(f"{pid}\n")

    # -- watching ----------------------------------------------------------------------

    def watch(self, say: Say = print, *, interval: float = 0.25) -> None:
        """Keep every child running until interrupted (KeyboardInterrupt propagates).

        Raises :class:`CrashLoop` when a child crashed more than the policy allows; the
        other children are still running then (the caller's :meth:`stop` ends them).
        """
        while True:
            self.check(say)
            time.sleep(interval)

    def check(self, say: Say = print) -> None:
        """One pass of :meth:`watch`: note the children that died, restart those due."""
        now = time.monotonic()
        for child in self._children:
            if child.state == "running" and not child.process.running:
                self._died(child, now, say)
            elif child.state == "restarting" and now >= child.restart_at:
                self._restart(child, say)

    def _died(self, child: Supervised, now: float, say: Say) -> None:
        policy = self.policy
        child.last_exit_code = child.process.returncode
        child.last_exit_at = time.time()
        if child.last_exit_at - child.up_since >= policy.stable_after:
            child.consecutive = 0
        child.consecutive += 1
        child.crashes.append(now)
        while child.crashes and now - child.crashes[0] > policy.window:
            child.crashes.popleft()
        if len(child.crashes) > policy.max_crashes:
            child.state = "failed"
            self.write_state()
            raise CrashLoop(
                f"{child.name} crashed {len(child.crashes)} times within {policy.window:g}s "
                f"(last exit code {child.last_exit_code}); not restarting it again. "
                f"Its log, {child.process.log_path}, ends with:\n{child.process.log_tail(15)}"
            )
        delay = policy.delay(child.consecutive)
        child.state = "restarting"
        child.restart_at = now + delay
        self.write_state()
        say(
            f"{child.name} exited (code {child.last_exit_code}); restarting it in {delay:g}s "
            f"(restart {child.restarts + 1}; log {child.process.log_path})"
        )

    def _restart(self, child: Supervised, say: Say) -> None:
        try:
            if child.before_restart is not None:
                child.before_restart()
            child.process.spawn()
        except Exception as exc:  # e.g. the binary vanished: count it as a crash
            say(f"{child.name} could not be started again: {exc}")
            child.state = "running"  # seen dead at the next check, counted, backed off
            return
        child.restarts += 1
        self._started(child)
        say(f"{child.name} started again (pid {child.process.pid})")

    # -- stopping and reporting --------------------------------------------------------

    def stop(self) -> None:
        """Stop everything started, newest first (services flush their outbox first)."""
        for child in reversed(self._children):
            if child.state != "stopped":
                child.process.stop()
                child.state = "stopped"
                self.write_state()

    def running_pids(self) -> list[int]:
        return [
            c.process.pid for c in self._children if c.process.running and c.process.pid is not None
        ]

    def children(self) -> list[dict[str, Any]]:
        return [child.describe() for child in self._children]

    def write_state(self) -> None:
        """Write every child's state to :attr:`state_file` (atomically, mode 0600)."""
        if self.state_file is None:
            return
        state = {
            "command": self.command,
            "pid": os.getpid(),
            "updated_at": _iso(time.time()),
            "children": self.children(),
        }
        write_private(self.state_file, json.dumps(state, indent=2))


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


# -- status ----------------------------------------------------------------------------


def read_state(workdir: Path) -> dict[str, Any] | None:
    """The supervisor's last state in ``workdir`` with ``"alive"``: is its command running?"""
    path = workdir / STATE_FILE
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read: {exc}") from None
    state["alive"] = _pid_alive(int(state.get("pid") or 0))
    return state


def format_state(state: dict[str, Any]) -> list[str]:
    """Lines for ``mgn ... status``: the command, then one row per child."""
    command = state.get("command") or "the supervisor"
    if state["alive"]:
        head = f"{command}: running (pid {state['pid']})"
    else:
        head = f"{command}: NOT RUNNING (last seen {state.get('updated_at')})"
    columns = f"  {'process':<20} {'state':<10} {'pid':>7}  {'up since':<25} restarts  last exit"
    lines = [head, columns]
    for child in state.get("children", []):
        alive = state["alive"] and child.get("state") == "running"
        pid = child.get("pid") if alive else None
        last = child.get("last_exit_code")
        last_text = "-" if last is None else f"code {last} at {child.get('last_exit_at')}"
        lines.append(
            f"  {child['name']:<20} {child.get('state', '?') if state['alive'] else 'stopped':<10} "
            f"{pid or '-':>7}  {(child.get('up_since') if alive else None) or '-':<25} "
            f"{child.get('restarts', 0):>8}  {last_text}"
        )
    return lines


def _pid_alive(pid: int) -> bool:
    """Is ``pid`` a live ``mgn`` command (not a zombie, not a recycled pid)?"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    args = [os.path.basename(arg) for arg in cmdline.split(b"\0")[:3]]
    return stat[0] != "Z" and (b"mgn" in args or b"deploy.cli" in args)
