"""The operations files under deploy/ agree with the code: the systemd units run commands
``mgn`` accepts, and the alert rules and the Grafana dashboard use series the processes
export."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from deploy.cli import _parser
from tests.unit.test_deploy_files import load_yaml

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
MONITORING = ROOT / "deploy" / "monitoring"
EXPORTERS = (
    ROOT / "shared" / "runtime" / "metrics.py",
    ROOT / "shared" / "runtime" / "service.py",
    ROOT / "services" / "gateway" / "app.py",
)
_SERIES = re.compile(r"\bmgn_[a-z_]+\b")


def exported() -> set[str]:
    """Every series name the code defines, as Prometheus exposes it."""
    names: set[str] = set()
    for path in EXPORTERS:
        for name in re.findall(r'"(mgn_[a-z_]+)"', path.read_text(encoding="utf-8")):
            names |= {name, f"{name}_total", f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def mgn_argv(command: str) -> list[str]:
    """The arguments after ``.../mgn`` in a unit's command, with a sample region and no
    ``$MGN_..._ARGS``."""
    words = shlex.split(command.replace("%i", "oulu").replace('"$node"', "oulu"))
    words = [w.replace("$node", "oulu") for w in words if not w.startswith("${MGN")]
    start = next(i for i, w in enumerate(words) if w.endswith("/mgn")) + 1
    return [w for w in words[start:] if not w.startswith("$MGN")]


@pytest.mark.parametrize("unit", ["mgn-hub.service", "mgn-region@.service"])
def test_units_run_commands_mgn_accepts(unit: str) -> None:
    text = (SYSTEMD / unit).read_text(encoding="utf-8")
    (exec_start,) = re.findall(r"^ExecStart=(.+)$", text, re.MULTILINE)
    args = _parser().parse_args(mgn_argv(exec_start))
    assert args.hub_command == "up" if args.command == "hub" else args.region_command == "up"
    assert "KillMode=mixed" in text
    assert "Restart=on-failure" in text
    assert "UMask=0077" in text


def test_backup_script_runs_commands_mgn_accepts() -> None:
    lines = [
        line
        for line in (SYSTEMD / "backup.sh").read_text(encoding="utf-8").splitlines()
        if "/mgn " in line
    ]
    assert len(lines) == 2
    for line in lines:
        args = _parser().parse_args(mgn_argv(line))
        assert (args.hub_command if args.command == "hub" else args.region_command) == "backup"


def test_alert_rules_use_exported_series() -> None:
    rules = load_yaml(MONITORING / "alerts.yml")
    series = exported()
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert len(exprs) >= 8
    for expr in exprs:
        unknown = set(_SERIES.findall(str(expr))) - series
        assert not unknown, f"{expr}: no process exports {unknown}"


def test_grafana_dashboard_uses_exported_series() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text(encoding="utf-8"))
    series = exported()
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 10
    for expr in exprs:
        unknown = set(_SERIES.findall(expr)) - series
        assert not unknown, f"{expr}: no process exports {unknown}"
