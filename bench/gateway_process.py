"""The national gateway as a child process for a benchmark: ``mgn service gateway`` on a free
port, its log in the work directory (the same command line every gateway bench starts)."""

from __future__ import annotations

from pathlib import Path

from deploy.natsserver import free_port
from deploy.processes import ServiceProcess


def gateway_process(
    work: Path, database_url: str, nats_url: str, env: dict[str, str] | None = None
) -> tuple[ServiceProcess, int]:
    """A gateway (not yet spawned) on ``database_url`` and the hub at ``nats_url``, and its port."""
    port = free_port()
    process = ServiceProcess(
        name="hub/gateway",
        args=["service", "gateway", "--db", database_url, "--nats", nats_url, "--port", str(port)],
        log_path=work / "gateway.log",
        health_url=f"http://127.0.0.1:{port}/healthz",
        env=env or {},
    )
    return process, port
