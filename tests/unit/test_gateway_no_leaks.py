"""No role reads another region's own words or rows: the whole national API enumerated.

A read model holds two regions, oulu and kainuu, every free text of each carrying its
region's marker (``OULU-OWN`` / ``KAINUU-OWN``), CoP examples of the same type and year
in both (so a national answer has to pick one; tests/unit/two_regions.py). The test
introspects the schema over HTTP and calls every Query field with every combination of
its filters that names a region or an object of one (``region``, ``groupId``,
``memberId``, ``id``), selecting every field reachable from it (nested objects too), then
downloads every export in every format (CSV, JSON lines, SPSS, Stata) with and without
``?region=``, each as the public, each agency and a researcher, with real tokens through
the gateway's own HTTP app; and it subscribes to every Subscription field with each
region filter, for every role, while both regions' events are published to the live feed.
Whatever answers: the caller's text must carry no marker of a region it does not see in
full, and no id of that region's rows (an agency sees other regions' per-group
aggregates, so group and coder ids are rows only for the public). Refusals (FORBIDDEN,
403) are fine; anything else is a failure.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
)
from graphql.type import GraphQLEnumType, GraphQLScalarType
from strawberry.types import ExecutionResult

from services.gateway.auth import Guard, Role
from services.gateway.exports.registry import DATASETS
from services.gateway.graphql import GatewayContext, build_schema
from services.gateway.live import Broadcaster
from services.gateway.settings import GatewaySettings
from tests.fixtures.nats import wait_for
from tests.unit.two_regions import REGIONS, ROLES, Net, Region, marker, served

MAX_DEPTH = 7  # Query -> groups -> edges -> node -> meetings -> activities -> example
pytestmark = pytest.mark.asyncio(loop_scope="module")
UNLIMITED = {"max_tokens": 100_000, "max_cost": 10**9, "max_depth": 50, "max_aliases": 1000}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Net]:
    path = tmp_path_factory.mktemp("noleaks") / "gateway.db"
    async with served(path, [Region(name) for name in REGIONS], **UNLIMITED) as net:
        yield net


def unseen(net: Net, role: str) -> dict[str, set[str]]:
    """Per region the caller does not see in full: what must never reach it."""
    if role == "researcher":
        return {}
    own = role.split(":", 1)[1] if role.startswith("agency:") else None
    forbidden = {}
    for name, region in net.regions.items():
        if name == own:
            continue
        ids = set(region.rows)
        if role == "public":  # no per-group aggregates either
            ids |= region.aggregate_ids
        forbidden[name] = {marker(name), *ids}
    return forbidden


def leaks(text: str, forbidden: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{region}: {s}" for region, found in forbidden.items() for s in found if s in text
    )


# --- the schema, as introspection gives it ---------------------------------------------


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _nested_args(f: GraphQLField) -> str | None:
    """Arguments for a nested field: a page size where it takes one; None if it needs
    something else (then the field is skipped, and the test says so below)."""
    given = []
    for name, arg in f.args.items():
        if name == "first":
            given.append("first: 50")
        elif isinstance(arg.type, GraphQLNonNull) and arg.default_value is None:
            return None
    return f"({', '.join(given)})" if given else ""


def selection(type_: Any, depth: int, path: tuple[str, ...], skipped: list[str]) -> str:
    """Every field of ``type_`` down to MAX_DEPTH, no object type twice on one path."""
    type_ = _unwrap(type_)
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return ""
    assert isinstance(type_, GraphQLObjectType), type_
    parts = ["__typename"]
    for name, f in type_.fields.items():
        inner = _unwrap(f.type)
        args = _nested_args(f)
        if args is None:
            skipped.append(".".join((*path, name)))
            continue
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            parts.append(name + args)
        elif depth < MAX_DEPTH and inner.name not in path:
            parts.append(
                f"{name}{args} {{ {selection(inner, depth + 1, (*path, inner.name), skipped)} }}"
            )
    return " ".join(parts)


FILTERS = {"region", "groupId", "memberId", "id"}


def argument_sets(
    f: GraphQLField, regions: dict[str, Region], national: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """Every combination that names a region or an object of one; other arguments at
    their defaults (``first``: a full page; a required boolean: false)."""
    choices: list[list[tuple[str, Any]]] = []
    for name, arg in f.args.items():
        required = isinstance(arg.type, GraphQLNonNull) and arg.default_value is None
        if name == "region":
            choices.append([("region", None), *(("region", r) for r in regions)])
        elif name == "groupId":
            choices.append(
                [("groupId", None), *(("groupId", r.first["group"]) for r in regions.values())]
            )
        elif name == "memberId":
            choices.append(
                [("memberId", None), *(("memberId", r.first["member"]) for r in regions.values())]
            )
        elif name == "id" and _unwrap(f.type).name.lower() in national:
            choices.append([("id", national[_unwrap(f.type).name.lower()])])
        elif name == "id":
            kind = _unwrap(f.type).name.lower()
            choices.append([("id", r.first[kind]) for r in regions.values()])
        elif name == "meetingId":
            choices.append([("meetingId", r.first["meeting"]) for r in regions.values()])
        elif name in national:
            choices.append([(name, national[name])])
        elif name == "first":
            choices.append([("first", 500)])
        elif required and str(_unwrap(arg.type)) == "Boolean":
            choices.append([(name, False)])
        else:
            assert not required, f"{f}: the test does not know what to give {name}"
    for combo in itertools.product(*choices):
        yield {k: v for k, v in combo if v is not None}


def document(name: str, f: GraphQLField, given: dict[str, Any], skipped: list[str]) -> str:
    args = ", ".join(f"{k}: {json.dumps(v)}" for k, v in given.items())
    inner = selection(f.type, 2, (_unwrap(f.type).name,), skipped)
    return f"{{ {name}{f'({args})' if args else ''}{f' {{ {inner} }}' if inner else ''} }}"


async def introspected(net: Net) -> GraphQLSchema:
    resp = await net.client.post(
        "/graphql",
        json={"query": get_introspection_query()},
        headers=net.auth("researcher"),
    )
    assert resp.status_code == 200, resp.text
    return build_client_schema(resp.json()["data"])


async def test_no_query_field_shows_a_role_another_regions_words_or_rows(net: Net) -> None:
    schema = await introspected(net)
    assert schema.query_type is not None
    skipped: list[str] = []
    calls, refused, seen = 0, 0, dict.fromkeys(ROLES, "")
    problems: list[str] = []
    for name, f in schema.query_type.fields.items():
        for given in argument_sets(f, net.regions, net.national):
            query = document(name, f, given, skipped)
            for role in ROLES:
                resp = await net.client.post(
                    "/graphql",
                    json={"query": query},
                    headers=net.auth(role),
                )
                calls += 1
                body = resp.json()
                errors = body.get("errors") or []
                codes = {(e.get("extensions") or {}).get("code") for e in errors}
                if errors and codes != {"FORBIDDEN"}:
                    problems.append(f"{role} {name}{given}: unexpected errors {errors}")
                refused += bool(errors)
                text = json.dumps(body.get("data"))
                seen[role] += text
                for leak in leaks(text, unseen(net, role)):
                    problems.append(f"{role} reads {leak} through {name}{given}")
    assert not problems, "\n".join(problems[:40])
    assert not skipped, f"fields the test could not select: {sorted(set(skipped))}"
    # the test could see a leak: the words are there for those who may read them
    for name in REGIONS:
        assert marker(name) in seen["researcher"]
        assert marker(name) in seen[f"agency:{name}"]
    assert calls > 400, calls
    assert 0 < refused < calls, (calls, refused)


def readable(data: bytes, fmt: str, folder: Path) -> str:
    """An export as text: CSV and JSON lines as they are; SPSS and Stata files read back
    (pyreadstat) as their values, labels, value labels and notes."""
    if fmt in ("csv", "jsonl"):
        return data.decode("utf-8")
    import pyreadstat

    path = folder / f"export.{fmt}"
    path.write_bytes(data)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    df, meta = reader(str(path), apply_value_formats=True, formats_as_category=False)
    about = (meta.file_label, meta.notes, meta.column_labels, meta.variable_value_labels)
    return str(df.to_csv(index=False)) + json.dumps(about, default=str, ensure_ascii=False)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "sav", "dta"])
async def test_no_export_shows_a_role_another_regions_words_or_rows(
    net: Net, fmt: str, tmp_path: Path
) -> None:
    problems: list[str] = []
    served = dict.fromkeys(ROLES, "")
    for name, role, region in itertools.product(DATASETS, ROLES, (None, *REGIONS)):
        url = f"/exports/{name}.{fmt}" + (f"?region={region}" if region else "")
        resp = await net.client.get(url, headers=net.auth(role))
        if resp.status_code == 403:
            continue
        assert resp.status_code == 200, (role, url, resp.text)
        text = readable(resp.content, fmt, tmp_path)
        served[role] += text
        problems += [
            f"{role} reads {leak} through {url}" for leak in leaks(text, unseen(net, role))
        ]
    assert not problems, "\n".join(problems[:40])
    for name in REGIONS:
        assert marker(name) in served["researcher"]
        assert marker(name) in served[f"agency:{name}"]


def guard_of(role: str) -> Guard:
    if role.startswith("agency:"):
        return Guard(Role.AGENCY, role.split(":", 1)[1])
    return Guard(Role(role))


async def test_no_subscription_shows_a_role_another_regions_rows(net: Net) -> None:
    """Every Subscription field (introspected), with each region filter, for every role:
    the live feed of both regions' events delivers only what the role sees in full."""
    introspection = await introspected(net)
    assert introspection.subscription_type is not None
    schema = build_schema(GatewaySettings.model_construct(**UNLIMITED))  # type: ignore[arg-type]
    problems: list[str] = []
    delivered = 0
    for name, f in introspection.subscription_type.fields.items():
        for given, role in itertools.product(argument_sets(f, net.regions, {}), ROLES):
            skipped: list[str] = []
            doc = "subscription " + document(name, f, given, skipped)
            guard = guard_of(role)
            shown = {given["region"]} if "region" in given else None
            if shown is None:
                full = guard.full_regions()
                shown = set(REGIONS) if full is None else set(full)
            live = Broadcaster()
            context = GatewayContext.create(net.gateway.read_sessions, guard=guard, live=live)
            stream = await schema.subscribe(doc, context_value=context)
            assert not isinstance(stream, ExecutionResult), stream.errors
            first = asyncio.ensure_future(anext(stream))
            # subscribed, or refused at once
            await wait_for(lambda: live.subscribers == 1 or first.done(), timeout=10)  # noqa: B023
            if first.done() and live.subscribers == 0:
                codes = {(e.extensions or {}).get("code") for e in first.result().errors or []}
                assert codes == {"FORBIDDEN"}, (role, given, first.result())
                continue
            # what it must not see first, then what it may: once that has all come, every
            # other event has been passed over already (one queue, in order)
            hidden = [e for r in REGIONS if r not in shown for e in net.regions[r].events]
            allowed = [e for r in REGIONS if r in shown for e in net.regions[r].events]
            live.publish(hidden + allowed)
            got = [await first] + [await anext(stream) for _ in range(len(allowed) - 1)]
            await stream.aclose()
            assert all(r.errors is None for r in got), (role, given, got[0].errors)
            delivered += len(got)
            text = json.dumps([r.data for r in got])
            problems += [
                f"{role} reads {leak} through {doc}" for leak in leaks(text, unseen(net, role))
            ]
            assert {(r.data or {})[name]["region"] for r in got} == shown, (role, given)
    assert not problems, "\n".join(problems[:40])
    assert delivered > 0
