"""Rendered nats-server configs say what they must, and the server accepts them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploy.natsconfig import HubConfig, RegionConfig, render
from deploy.natsserver import nats_server_binary
from shared.contracts.subjects import SubjectError


def hub_config(tmp_path: Path) -> HubConfig:
    return HubConfig(port=14222, http_port=18222, leaf_port=17422, store_dir=tmp_path / "hub js")


def region_config(tmp_path: Path) -> RegionConfig:
    return RegionConfig(
        region="oulu",
        port=14223,
        http_port=18223,
        hub_leafnode_url="nats-leaf://127.0.0.1:17422",
        store_dir=tmp_path / "oulu",
    )


def server_accepts(config_text: str, path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(config_text, encoding="utf-8")
    return subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_hub_config(tmp_path):
    text = render(hub_config(tmp_path))
    assert "server_name: mgn-hub" in text
    assert "listen: 127.0.0.1:14222" in text
    assert "http: 127.0.0.1:18222" in text
    assert "domain: hub" in text
    assert f'store_dir: "{tmp_path / "hub js"}"' in text
    assert "listen: 127.0.0.1:17422" in text
    assert "remotes" not in text
    assert "$" not in text.replace("$JS", "")  # every placeholder substituted


def test_region_config(tmp_path):
    text = render(region_config(tmp_path))
    assert "server_name: mgn-oulu" in text
    assert "domain: oulu" in text
    assert "sync_interval: always" in text
    assert 'reconnect: "1s"' in text
    assert '{ url: "nats-leaf://127.0.0.1:17422" }' in text
    assert "$JS.oulu.API" in text  # the comment names the hub's way in
    assert "$" not in text.replace("$JS", "")


def test_accounts_block_goes_in(tmp_path):
    block = "accounts { NET: { jetstream: enabled } }"
    cfg = HubConfig(port=1, http_port=2, leaf_port=3, store_dir=tmp_path, accounts=block)
    assert block in render(cfg)


def test_region_id_is_validated(tmp_path):
    with pytest.raises(SubjectError):
        RegionConfig(
            region="hub",
            port=1,
            http_port=2,
            hub_leafnode_url="nats-leaf://x:1",
            store_dir=tmp_path,
        )


@pytest.mark.parametrize("kind", ["hub", "region"])
def test_server_accepts_rendered_config(tmp_path, kind):
    cfg = hub_config(tmp_path) if kind == "hub" else region_config(tmp_path)
    result = server_accepts(render(cfg), tmp_path / f"{kind}.conf")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout + result.stderr


def test_server_check_catches_a_bad_key(tmp_path):
    text = render(region_config(tmp_path)).replace("sync_interval", "sync_intervall")
    result = server_accepts(text, tmp_path / "bad.conf")
    assert result.returncode != 0
