"""Rendered nats-server configs say what they must, and the server accepts them."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from deploy.federation import hub_tls
from deploy.natsconfig import HubConfig, RegionConfig, render, render_accounts
from deploy.natsserver import nats_server_binary
from deploy.pki import new_region_key
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
    assert '{ urls: ["nats-leaf://127.0.0.1:17422"] }' in text
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


def secure_configs(tmp_path: Path) -> tuple[HubConfig, RegionConfig, str]:
    tls, _ = hub_tls(tmp_path)
    seed, public = new_region_key()
    hub = replace(hub_config(tmp_path), tls=tls, accounts=render_accounts("pw", {"oulu": public}))
    urls = ("nats-leaf://127.0.0.1:17422", "nats-leaf://127.0.0.1:17423")
    region = replace(
        region_config(tmp_path), hub_leafnode_url=urls, leaf_seed=seed, hub_ca_file=tls.ca
    )
    return hub, region, public


def test_secure_configs_say_tls_first_and_keys(tmp_path):
    hub, region, public = secure_configs(tmp_path)
    assert hub.tls is not None
    hub_text, region_text = render(hub), render(region)
    assert "handshake_first: true" in hub_text
    assert f'cert_file: "{hub.tls.cert}"' in hub_text
    assert f'nkey: "{public}"' in hub_text
    assert "password" not in hub_text.split("oulu")[-1]
    assert f'nkey: "{region.leaf_seed}"' in region_text
    assert f'tls: {{ ca_file: "{region.hub_ca_file}", handshake_first: true }}' in region_text
    assert '"nats-leaf://127.0.0.1:17422", "nats-leaf://127.0.0.1:17423"' in region_text
    with pytest.raises(ValueError, match="not a public user nkey"):
        render_accounts("pw", {"oulu": "a-password"})


@pytest.mark.parametrize("kind", ["hub", "region", "secure hub", "secure region"])
def test_server_accepts_rendered_config(tmp_path, kind):
    secure_hub, secure_region, _ = secure_configs(tmp_path)
    configs: dict[str, HubConfig | RegionConfig] = {
        "hub": hub_config(tmp_path),
        "region": region_config(tmp_path),
        "secure hub": secure_hub,
        "secure region": secure_region,
    }
    cfg = configs[kind]
    result = server_accepts(render(cfg), tmp_path / f"{kind.replace(' ', '-')}.conf")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout + result.stderr


def test_server_check_catches_a_bad_key(tmp_path):
    text = render(region_config(tmp_path)).replace("sync_interval", "sync_intervall")
    result = server_accepts(text, tmp_path / "bad.conf")
    assert result.returncode != 0
