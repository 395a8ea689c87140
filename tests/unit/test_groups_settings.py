"""Settings of the groups service: safe demo defaults, MGN_GROUPS_* overrides."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.groups.settings import GroupsSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("REGION", "DATABASE_URL", "NATS_URL", "HOST", "PORT", "GRAPHIQL"):
        monkeypatch.delenv(f"MGN_GROUPS_{name}", raising=False)


def test_defaults_suit_the_demo():
    settings = GroupsSettings()
    assert settings.model_dump() == {
        "region": "oulu",
        "database_url": "sqlite+aiosqlite:///var/oulu/groups.db",
        "nats_url": "nats://127.0.0.1:4222",
        "host": "127.0.0.1",
        "port": 8101,
        "graphiql": True,
        "display_name": "Oulu",
        "agency": "",
    }


def test_the_environment_overrides_and_the_database_follows_the_region(monkeypatch):
    monkeypatch.setenv("MGN_GROUPS_REGION", "kainuu")
    monkeypatch.setenv("MGN_GROUPS_PORT", "9101")
    monkeypatch.setenv("MGN_GROUPS_GRAPHIQL", "false")
    settings = GroupsSettings()
    assert (settings.region, settings.port, settings.graphiql) == ("kainuu", 9101, False)
    assert settings.database_url == "sqlite+aiosqlite:///var/kainuu/groups.db"


def test_an_explicit_database_url_is_kept():
    url = "postgresql+asyncpg://mgn@db/groups"
    assert GroupsSettings(database_url=url).database_url == url


@pytest.mark.parametrize("region", ["Oulu", "hub", "o", "oulu-1"])
def test_an_invalid_region_is_refused(region):
    with pytest.raises(ValidationError, match="invalid region id"):
        GroupsSettings(region=region)
