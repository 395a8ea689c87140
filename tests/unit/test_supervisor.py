"""The supervisor's restart rules with real (tiny) child processes: a child that dies is
started again after its backoff while the others keep running; one that keeps dying raises
CrashLoop naming it; the state file says what ``mgn ... status`` prints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.supervisor import (
    STATE_FILE,
    CrashLoop,
    RestartPolicy,
    Supervisor,
    format_state,
    read_state,
)

FAST = RestartPolicy(first_delay=0.05, max_delay=0.4, stable_after=5.0, max_crashes=3, window=10)


@dataclass
class Sleeper:
    """A child process: ``python -c`` that sleeps, or exits at once with ``exit_code``."""

    name: str
    log_path: Path
    exit_code: int | None = None  # None: runs until stopped
    spawns: int = 0
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    def spawn(self) -> None:
        forever = "import time; time.sleep(60)"
        code = forever if self.exit_code is None else f"exit({self.exit_code})"
        self._proc = subprocess.Popen([sys.executable, "-c", code])
        self.spawns += 1

    def stop(self, timeout: float = 5.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout)

    def log_tail(self, lines: int = 30) -> str:
        return f"last words of {self.name}"


def supervise(sup: Supervisor, *children: Sleeper) -> None:
    for child in children:
        sup.add(child.name, child)


def run_until(sup: Supervisor, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        sup.check(say=lambda _line: None)
        time.sleep(0.02)


def test_a_killed_child_is_restarted_while_the_others_keep_running(tmp_path: Path) -> None:
    said: list[str] = []
    sup = Supervisor(tmp_path / "logs", state_file=tmp_path / STATE_FILE, policy=FAST)
    a, b = Sleeper("a", tmp_path / "a.log"), Sleeper("b", tmp_path / "b.log")
    supervise(sup, a, b)
    try:
        first_a, first_b = a.pid, b.pid
        assert first_a is not None
        os.kill(first_a, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while a.spawns < 2:
            assert time.monotonic() < deadline
            sup.check(said.append)
            time.sleep(0.02)
        assert a.running
        assert a.pid != first_a
        assert b.running
        assert b.pid == first_b
        assert b.spawns == 1
        assert any("a exited (code -9); restarting it in 0.05s" in line for line in said), said
        assert any(line.startswith("a started again (pid") for line in said), said

        state = read_state(tmp_path)
        assert state is not None
        rows = {c["name"]: c for c in state["children"]}
        assert rows["a"]["restarts"] == 1
        assert rows["a"]["last_exit_code"] == -9
        assert rows["a"]["pid"] == a.pid
        assert rows["a"]["state"] == "running"
        assert rows["b"]["restarts"] == 0
        assert rows["b"]["last_exit_code"] is None
        assert (tmp_path / STATE_FILE).stat().st_mode & 0o077 == 0
    finally:
        sup.stop()
    assert not a.running
    assert not b.running


def test_backoff_doubles_up_to_its_limit() -> None:
    assert [FAST.delay(n) for n in range(1, 6)] == [0.05, 0.1, 0.2, 0.4, 0.4]


def test_a_child_that_keeps_crashing_stops_with_a_message_naming_it(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", state_file=tmp_path / STATE_FILE, policy=FAST)
    good, bad = Sleeper("good", tmp_path / "g.log"), Sleeper("oulu/groups", tmp_path / "x.log", 3)
    supervise(sup, good, bad)
    try:
        with pytest.raises(CrashLoop) as caught:
            run_until(sup, lambda: False, timeout=15)
        message = str(caught.value)
        assert "oulu/groups crashed 4 times within 10s (last exit code 3)" in message
        assert "last words of oulu/groups" in message
        assert str(bad.log_path) in message
        assert bad.spawns == 4  # the first start and three restarts
        assert good.running  # the caller decides to stop the rest
        state = read_state(tmp_path)
        assert state is not None
        assert {c["name"]: c["state"] for c in state["children"]} == {
            "good": "running",
            "oulu/groups": "failed",
        }
    finally:
        sup.stop()


def test_status_lines_say_whether_the_command_still_runs(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", state_file=tmp_path / STATE_FILE, command="mgn region up")
    child = Sleeper("oulu/groups", tmp_path / "g.log")
    supervise(sup, child)
    try:
        state = read_state(tmp_path)
        assert state is not None
        # This test process is not an `mgn` command: the state reads as left behind.
        lines = format_state(state)
        assert lines[0].startswith("mgn region up: NOT RUNNING (last seen ")
        assert "oulu/groups" in lines[2]
        assert "stopped" in lines[2]
        state["alive"] = True
        lines = format_state(state)
        assert lines[0] == f"mgn region up: running (pid {os.getpid()})"
        assert str(child.pid) in lines[2]
        assert "running" in lines[2]
    finally:
        sup.stop()
    assert read_state(tmp_path / "elsewhere") is None
