"""The regional console against the region's real services (processes, over HTTP): sign-in,
sessions, CSRF, throttling, group access, the API proxy; and the services' APIs refusing
callers without a node credential."""

from __future__ import annotations

import re

import httpx
import pytest

from services.console.accounts import StaffStore
from services.console.audit import entries
from services.console.tokens import issue
from shared.runtime.credentials import CALLERS
from tests.fixtures.console import CREATE_GROUP, PASSWORD
from tests.fixtures.credentials import TEST_CREDENTIALS

pytestmark = [pytest.mark.nats]


async def test_sign_in_sets_a_secure_session_cookie_and_shows_only_my_groups(console, console_node):
    me = await console()
    assert (await me.http.get("/")).headers["location"].startswith("/signin?next=")
    signed = await me.sign_in("anna")
    assert signed.status_code == 303, signed.text
    cookie = next(h for h in signed.headers.get_list("set-cookie") if "mgn_session=" in h)
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
    home = await me.http.get("/")
    assert home.status_code == 200
    assert "Ryhmä A" in home.text
    assert "Ryhmä B" not in home.text
    assert 'lang="en"' in home.text


async def test_a_facilitator_cannot_read_another_group_nor_the_raw_api(console, console_node):
    anna = await console()
    await anna.sign_in("anna")
    assert (await anna.http.get(f"/groups/{console_node.groups[0]}")).status_code == 200
    other = await anna.http.get(f"/groups/{console_node.groups[1]}")
    assert other.status_code == 403
    assert "Ryhmä B" not in other.text
    api = await anna.http.post("/api/groups/graphql", json={"query": "{ groups { name } }"})
    assert api.status_code == 403

    admin = await console()
    await admin.sign_in("admin")
    assert (await admin.http.get(f"/groups/{console_node.groups[1]}")).status_code == 200
    answer = await admin.http.post("/api/groups/graphql", json={"query": "{ groups { name } }"})
    assert answer.status_code == 200
    assert {"Ryhmä A", "Ryhmä B"} <= {g["name"] for g in answer.json()["data"]["groups"]}
    as_form = await admin.http.post("/api/groups/graphql", data={"query": "{ groups { id } }"})
    assert as_form.status_code == 415  # a cross-site form cannot use an admin's session


async def test_a_wrong_password_is_refused_and_repeated_failures_are_slowed_down(console):
    me = await console(("198.51.100.1", 1234))
    for _ in range(3):
        wrong = await me.sign_in("anna", "not the password")
        assert wrong.status_code == 401
        assert "username or password is wrong" in wrong.text
        assert "mgn_session=" not in wrong.headers.get("set-cookie", "")
    locked = await me.sign_in("anna")  # the right password, but the account is locked now
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    other_address = await console(("198.51.100.2", 1234))
    assert (await other_address.sign_in("anna")).status_code == 429  # per account
    same_address = await console(("198.51.100.1", 1234))
    assert (await same_address.sign_in("admin")).status_code == 429  # per address
    elsewhere = await console(("198.51.100.3", 1234))
    assert (await elsewhere.sign_in("admin")).status_code == 303


async def test_a_form_without_its_csrf_token_is_refused_and_sign_out_kills_the_session(console):
    me = await console()
    await me.sign_in("anna")
    forged = await me.http.post("/signout", data={})
    assert forged.status_code == 403
    wrong = await me.http.post("/signout", data={"csrf_token": "x" * 43})
    assert wrong.status_code == 403
    assert (await me.http.get("/")).status_code == 200  # still signed in
    session = me.http.cookies["mgn_session"]
    out = await me.post_form("/signout")
    assert out.status_code == 303
    assert (await me.http.get("/")).status_code == 303  # to the sign-in page
    replay = await console()
    replay.http.cookies.set("mgn_session", session, domain="console.test")
    assert (await replay.http.get("/")).headers["location"].startswith("/signin")
    no_token = await (await console()).http.post(
        "/signin", data={"username": "anna", "password": PASSWORD}
    )
    assert no_token.status_code == 403  # the sign-in form has a token too


async def test_a_disabled_account_loses_its_session(console):
    me = await console()
    await me.sign_in("anna")
    async with console.app.console.sessions() as db:
        await StaffStore(db).disable("anna")
        await db.commit()
    assert (await me.http.get("/")).status_code == 303
    assert (await (await console()).sign_in("anna")).status_code == 401


async def test_the_language_is_chosen_in_the_header_and_remembered(console):
    me = await console()
    await me.sign_in("anna")
    chosen = await me.post_form("/language", language="sv", next="/")
    assert chosen.status_code == 303
    me.http.cookies.delete("mgn_lang")  # remembered on the account, not only in the cookie
    page = await me.http.get("/", headers={"Accept-Language": "fi"})
    assert 'lang="sv"' in page.text
    assert "Mina grupper" in page.text


async def test_api_tokens_reach_the_services_and_their_changes_are_audited(console):
    app = console.app
    async with app.console.sessions() as db:
        admin = await StaffStore(db).by_username("admin")
        assert admin is not None
        value, _ = await issue(db, "import script", admin.id)
        await db.commit()
    script = await console()
    bearer = {"Authorization": f"Bearer {value}"}
    created = await script.http.post(
        "/api/groups/graphql",
        json={"query": CREATE_GROUP, "variables": {"n": "Skriptiryhmä"}},
        headers=bearer,
    )
    assert created.status_code == 200, created.text
    assert created.json()["data"]["createGroup"]["id"]
    wrong = await script.http.post(
        "/api/groups/graphql",
        json={"query": "{ groups { id } }"},
        headers={"Authorization": "Bearer mgn_not-a-token"},
    )
    assert wrong.status_code == 401
    nobody = await script.http.post("/api/meetings/graphql", json={"query": "{ __typename }"})
    assert nobody.status_code == 401
    async with app.console.sessions() as db:
        trail, _total = await entries(db, actor="token:import script")
    assert [(e.action, e.target) for e in trail] == [("api.groups.mutation", "createGroup")]


async def test_each_service_api_refuses_callers_without_a_node_credential(console_node):
    async with httpx.AsyncClient(timeout=10) as http:
        for service, url in console_node.urls.items():
            query = {"query": "{ __typename }"}
            missing = await http.post(f"{url}/graphql", json=query)
            assert missing.status_code == 401, service
            assert "No credential" in missing.json()["errors"][0]["message"]
            forged = await http.post(
                f"{url}/graphql", json=query, headers={"Authorization": "Bearer " + "x" * 40}
            )
            assert forged.status_code == 401
            assert "not valid" in forged.json()["errors"][0]["message"]
            for caller in CALLERS:
                ok = await http.post(
                    f"{url}/graphql", json=query, headers=TEST_CREDENTIALS.headers(caller)
                )
                assert ok.status_code == 200, (service, caller)
            assert (await http.get(f"{url}/healthz")).status_code == 200
        survey = await http.get(f"{console_node.urls['feedback']}/survey/unknown-token")
        assert survey.status_code == 404  # public: the token in the link is the credential


async def test_survey_forms_are_served_through_the_console_without_sign_in(console):
    visitor = await console()
    page = await visitor.http.get("/survey/no-such-token?lang=fi")
    assert page.status_code == 404
    assert "<form" not in page.text
    assert 'lang="fi"' in page.text


async def test_graphiql_is_served_to_admins_from_the_project_s_own_files(console):
    html = {"Accept": "text/html"}
    admin = await console()
    await admin.sign_in("admin")
    page = await admin.http.get("/api/meetings/graphql", headers=html)
    assert page.status_code == 200
    assert 'data-endpoint="/api/meetings/graphql"' in page.text
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts
    assert all(s.startswith("/graphiql-assets/") for s in scripts)
    for src in scripts:
        asset = await admin.http.get(src)
        assert asset.status_code == 200, src
        assert len(asset.content) > 100
    anna = await console()
    await anna.sign_in("anna")
    assert (await anna.http.get("/api/meetings/graphql", headers=html)).status_code == 403
    nobody = await console()
    assert (await nobody.http.get("/api/meetings/graphql", headers=html)).status_code == 303
