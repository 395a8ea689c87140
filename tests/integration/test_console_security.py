"""The security sweep of the console (issue 9, part 9): every route, enumerated from the
Starlette app, refused without a session (a page: to the sign-in page; the raw API: 401);
every unsafe page refused without its CSRF token (403); a facilitator of group A refused on
every page of group B's members, meetings and feedback (403, nothing changed); every cookie
the console sets carries Secure, HttpOnly and SameSite; every service API route refuses a
caller without the node's credential. (Sign-in, sign-out and the raw API's own refusals are
in test_console.py.)"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from itertools import product

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from services.console.pages import AREAS
from services.console.pages.meeting_page import ACTIONS
from services.feedback.app import build as build_feedback
from services.feedback.settings import FeedbackSettings
from services.groups.app import build as build_groups
from services.groups.settings import GroupsSettings
from services.meetings.app import build as build_meetings
from services.meetings.settings import MeetingsSettings
from shared.runtime.credentials import PUBLIC_PATHS
from tests.fixtures.console import Browser, Node, schedule_meeting
from tests.fixtures.credentials import TEST_CREDENTIALS

pytestmark = [pytest.mark.nats]

# Routes that are not pages of AREAS, and why they are open or how they refuse.
# liveness, the stylesheet, token links, GraphiQL's files (the page itself is for admins)
OPEN = {"/healthz", "/static", "/survey/{token}", "/graphiql-assets"}
API = "/api/{service}/graphql"
MEETING_ACTIONS = ["preview", *ACTIONS]  # /meetings/{meeting_id}/{action}
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def pages() -> dict[str, tuple[str, tuple[str, ...]]]:
    """path -> (role, methods), from the one place pages are registered."""
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for area in AREAS:
        for page in area.pages:
            found[page.path] = (page.role, page.methods)
    return found


def route_paths(routes: list[BaseRoute]) -> set[str]:
    return {r.path for r in routes if isinstance(r, Route | Mount)}


def fill(path: str, values: dict[str, str | list[str]]) -> list[str]:
    """``path`` with each parameter replaced by its value (every one of a list's)."""
    found: list[str] = [path]
    for name in PARAM.findall(path):
        assert name in values, f"{path}: say which value its {{{name}}} takes in this sweep"
        choices = values[name]
        pattern = re.compile("{" + name + r"(?::\w+)?}")
        found = [
            pattern.sub(choice, url)
            for url in found
            for choice in ([choices] if isinstance(choices, str) else choices)
        ]
    return found


async def test_every_console_route_refuses_a_caller_without_a_session(console):
    app = console.app.app
    registered = pages()
    paths = route_paths(app.routes)
    unknown = paths - set(registered) - OPEN - {API}
    assert not unknown, f"classify these routes in this sweep: {unknown}"
    anyone: dict[str, str | list[str]] = dict.fromkeys(
        ("group_id", "member_id", "meeting_id", "person_id"), str(uuid.uuid4())
    )
    anyone["action"] = MEETING_ACTIONS
    anyone |= {"step": "pause", "username": "admin", "token_id": str(uuid.uuid4())}
    visitor = await console()
    for path, (role, methods) in registered.items():
        if role == "public":
            continue
        for url, method in product(fill(path, anyone), methods):
            answer = await visitor.http.request(method, url, data={"x": "1"})
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/signin?next="), (method, path)
    for service in ("groups", "meetings", "feedback"):
        answer = await visitor.http.post(
            f"/api/{service}/graphql", json={"query": "{ __typename }"}
        )
        assert answer.status_code == 401, service
    assert (await visitor.http.get("/static/console.css")).status_code == 200
    forged = await visitor.http.get(f"/calendar/group/{uuid.uuid4()}/{'k' * 43}.ics")
    assert forged.status_code == 404  # a calendar link's key is its credential


async def test_every_unsafe_page_needs_the_sessions_own_csrf_token(console, console_node):
    admin = await console()
    await admin.sign_in("admin")
    other = await console()
    await other.sign_in("admin")
    foreign = (await other.http.get("/")).text  # another session's token is not this one's
    foreign_token = re.search(r'name="csrf_token" value="([^"]+)"', foreign)
    assert foreign_token is not None
    values: dict[str, str | list[str]] = dict.fromkeys(
        ("member_id", "meeting_id", "person_id"), str(uuid.uuid4())
    )
    values["action"] = MEETING_ACTIONS
    values |= {"group_id": console_node.groups[0], "step": "pause", "username": "anna"}
    values |= {"token_id": str(uuid.uuid4())}
    unsafe = [(p, m) for p, (r, ms) in pages().items() for m in ms if m != "GET" and r != "public"]
    assert len(unsafe) >= 10
    for path, method in unsafe:
        for url, fields in product(
            fill(path, values), ({}, {"csrf_token": foreign_token.group(1)}, {"csrf_token": ""})
        ):
            answer = await admin.http.request(method, url, data={**fields, "name": "x"})
            assert answer.status_code == 403, (method, path, fields, answer.status_code)
            assert "did not come from this console" in answer.text, path
    assert (await admin.http.get("/admin/staff/anna")).status_code == 200  # nothing changed


async def group_b_objects(admin: Browser, node: Node) -> dict[str, str | list[str]]:
    """A member of group B with a contact person, and a meeting of group B."""
    group = node.groups[1]
    fields = {"company_name": "Rajapaja Oy", "employees": "2", "turnover_eur": "90000",
              "joined_on": "1.4.2016", "group": group}  # fmt: skip
    added = await admin.post_form("/members/new", f"/members/new?group={group}", **fields)
    assert added.status_code == 303, added.text
    member_url = added.headers["location"]
    member = member_url.rsplit("/", 1)[1]
    contact = {"name": "Raija Raja", "email": "raija@raja.example.fi", "language": "FI"}
    assert (
        await admin.post_form(f"{member_url}/contacts", member_url, **contact)
    ).status_code == 303
    person = re.search(
        r'action="/persons/([^/"]+)/consent"', (await admin.http.get(member_url)).text
    )
    assert person is not None
    meeting = await schedule_meeting(node, group, member, datetime.now(UTC) + timedelta(days=20))
    return {"group_id": group, "member_id": member, "person_id": person.group(1),
            "meeting_id": meeting, "step": "pause", "action": MEETING_ACTIONS}  # fmt: skip


async def test_a_facilitator_of_one_group_is_refused_on_every_page_of_another(
    console, console_node
):
    admin = await console()
    await admin.sign_in("admin")
    values = await group_b_objects(admin, console_node)
    anna = await console()
    await anna.sign_in("anna")
    checked = 0
    for path, (role, methods) in pages().items():
        names = set(PARAM.findall(path))
        if role != "staff" or not names & {"group_id", "member_id", "meeting_id", "person_id"}:
            continue
        for url, method in product(fill(path, values), methods):
            if method == "GET":
                answer = await anna.http.get(url)
            else:
                answer = await anna.post_form(url, "/", name="Vallattu", on="1.1.2020")
            if answer.status_code == 404 and method == "GET":  # e.g. a meeting without a survey:
                assert (await admin.http.get(url)).status_code == 404, path  # none for anyone
            else:
                assert answer.status_code == 403, (method, path, answer.status_code)
            assert "Rajapaja" not in answer.text, path
            assert "Raija" not in answer.text, path
            checked += 1
    assert checked >= 8
    for url in ("/members?q=raja", "/feedback", "/", f"/members?group={values['group_id']}"):
        answer = await anna.http.get(url)
        assert "Rajapaja" not in answer.text, url
    member = await admin.http.get(f"/members/{values['member_id']}")
    assert "Rajapaja Oy" in member.text
    assert "Paused" not in member.text  # anna's refused steps changed nothing


def flags(header: str) -> tuple[str, set[str]]:
    name = header.split("=", 1)[0]
    return name, {part.strip().lower() for part in header.split(";")[1:]}


async def test_every_cookie_the_console_sets_is_secure_httponly_and_samesite(console):
    me = await console()
    seen: dict[str, set[str]] = {}
    responses = [await me.http.get("/signin")]
    responses.append(await me.sign_in("anna"))
    responses.append(await me.post_form("/language", "/", language="sv", next="/"))
    responses.append(await me.post_form("/signout", "/"))
    for response in responses:
        for header in response.headers.get_list("set-cookie"):
            name, attributes = flags(header)
            seen[name] = attributes
    assert {"mgn_session", "mgn_csrf", "mgn_lang"} <= set(seen), seen
    for name, attributes in seen.items():
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes, (name, attributes)


def service_paths() -> dict[str, set[str]]:
    """Every route of the three services, from their apps (built, not started)."""
    built = {
        "groups": build_groups(
            GroupsSettings(region="oulu", database_url="sqlite://"), credentials=TEST_CREDENTIALS
        ).app,
        "meetings": build_meetings(
            MeetingsSettings(region="oulu", database_url="sqlite://"), credentials=TEST_CREDENTIALS
        ).app,
        "feedback": build_feedback(
            FeedbackSettings(region="oulu", database_url="sqlite://"),
            credentials=TEST_CREDENTIALS,
            run_mail_worker=False,
        ).app,
    }
    return {service: route_paths(app.routes) for service, app in built.items()}


async def test_every_service_route_refuses_a_caller_without_the_node_credential(console_node):
    public = set(PUBLIC_PATHS) | {"/survey/{token}"}
    checked = 0
    async with httpx.AsyncClient(timeout=10) as http:
        for service, paths in service_paths().items():
            assert "/graphql" in paths, service
            for path in sorted(paths - public):
                ids: dict[str, str | list[str]] = dict.fromkeys(
                    PARAM.findall(path), str(uuid.uuid4())
                )
                url = console_node.urls[service] + fill(path, ids)[0]
                for method in ("GET", "POST"):
                    answer = await http.request(method, url, json={"query": "{ __typename }"})
                    assert answer.status_code == 401, (service, method, path, answer.status_code)
                    checked += 1
    assert checked >= 8
