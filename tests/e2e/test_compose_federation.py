"""The compose files on the project's own image (Docker only; skipped cleanly without one):
the hub (``deploy/compose/hub.yaml``) and a region (``region.yaml``) with credentials from
``mgn hub add-region`` in the hub's container; a group written through the region's API
reaches national GraphQL, and the region shows linked."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from shared.runtime.credentials import NodeCredentials
from tests.fixtures.containers import compose_hub, compose_region_factory, mgn_image
from tests.fixtures.nats import wait_for

__all__ = ["compose_hub", "compose_region_factory", "mgn_image"]  # fixtures for this module

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

NATION = """{ regions { id linkActive eventsBehind }
  groups(first: 500) { edges { node { name } } } }"""
CREATE_GROUP = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }"


async def graphql(
    url: str, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        body = (await client.post(url, json={"query": query, "variables": variables})).json()
    assert not body.get("errors"), body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def test_a_region_from_compose_reaches_the_hub_from_compose(
    compose_hub, compose_region_factory
):
    oulu = compose_region_factory("oulu")
    national = f"http://127.0.0.1:{compose_hub.ports['gateway']}/graphql"
    groups = f"http://127.0.0.1:{oulu.ports['groups']}/graphql"
    name = f"Kasvuryhmä {uuid.uuid4().hex[:6]}"

    async def create() -> dict[str, Any]:
        # the node's credentials, written by `mgn region up` in the container at its start
        secrets = json.loads(oulu.exec("node", "cat", "/data/node-credentials.json"))
        return await graphql(
            groups,
            CREATE_GROUP,
            NodeCredentials(secrets).headers("console"),
            i={"name": name, "municipality": "Oulu", "foundedOn": "2015-02-01"},
        )

    await wait_for(
        create,
        timeout=120,
        interval=1.0,
        message="the region's groups API",
    )

    async def visible() -> bool:
        data = await graphql(national, NATION)
        rows = {r["id"]: r for r in data["regions"]}
        names = {e["node"]["name"] for e in data["groups"]["edges"]}
        return bool(rows.get("oulu", {}).get("linkActive")) and name in names

    await wait_for(visible, timeout=120, interval=1.0, message="the group nationally")
