"""The console's admin pages against the real services: staff accounts, API tokens and the
audit trail."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.console import CREATE_GROUP

pytestmark = [pytest.mark.nats]

SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


async def test_only_admins_open_the_admin_pages(console):
    anna = await console()
    await anna.sign_in("anna")
    for path in ("/admin", "/admin/staff", "/admin/tokens", "/admin/audit"):
        assert (await anna.http.get(path)).status_code == 403, path
    refused = await anna.post_form("/admin/staff", "/", username="mallory", role="admin")
    assert refused.status_code == 403
    admin = await console()
    await admin.sign_in("admin")
    assert "Audit trail" in (await admin.http.get("/admin")).text


async def test_an_admin_adds_a_facilitator_who_signs_in_with_the_generated_password(
    console, console_node
):
    admin = await console()
    await admin.sign_in("admin")
    bad = await admin.post_form(
        "/admin/staff", "/admin/staff", username="no spaces allowed", role="facilitator"
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    assert 'value="no spaces allowed"' in bad.text  # nothing typed is lost
    page = await admin.http.get("/admin/staff")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    added = await admin.http.post(
        "/admin/staff",
        data={"csrf_token": token, "username": "ville", "display_name": "Ville V",
              "role": "facilitator", "groups": [console_node.groups[1]]},
    )  # fmt: skip
    assert added.status_code == 200, added.text
    password = SECRET.search(added.text).group(1)  # type: ignore[union-attr]

    ville = await console()
    assert (await ville.sign_in("ville", password)).status_code == 303
    home = await ville.http.get("/")
    assert "Ryhmä B" in home.text
    assert "Ryhmä A" not in home.text

    reset = await admin.post_form("/admin/staff/ville/password", "/admin/staff/ville")
    assert SECRET.search(reset.text).group(1) != password  # type: ignore[union-attr]
    disabled = await admin.post_form("/admin/staff/ville/disable", "/admin/staff/ville")
    assert disabled.status_code == 303
    assert (await ville.http.get("/")).status_code == 303  # the session ended
    own = await admin.post_form("/admin/staff/admin/disable", "/admin/staff/admin")
    assert own.status_code == 303
    assert (await admin.http.get("/admin")).status_code == 200  # still an admin, signed in

    trail = await admin.http.get("/admin/audit", params={"actor": "admin"})
    actions = re.findall(r"<td>(staff\.[a-z_]+)</td>", trail.text)
    assert actions == ["staff.disable", "staff.reset_password", "staff.add"]


async def test_api_tokens_are_shown_once_work_and_are_revoked(console):
    admin = await console()
    await admin.sign_in("admin")
    issued = await admin.post_form("/admin/tokens", "/admin/tokens", name="CRM import")
    value = SECRET.search(issued.text).group(1)  # type: ignore[union-attr]
    listing = await admin.http.get("/admin/tokens")
    assert "CRM import" in listing.text
    assert value not in listing.text  # shown once
    script = await console()
    bearer = {"Authorization": f"Bearer {value}"}
    made = await script.http.post(
        "/api/groups/graphql", json={"query": CREATE_GROUP, "variables": {"n": "Ryhmä T"}},
        headers=bearer,
    )  # fmt: skip
    assert made.status_code == 200
    token_id = re.search(r'action="/admin/tokens/([0-9a-f-]+)/revoke"', listing.text).group(1)  # type: ignore[union-attr]
    revoked = await admin.post_form(f"/admin/tokens/{token_id}/revoke", "/admin/tokens")
    assert revoked.status_code == 303
    again = await script.http.post(
        "/api/groups/graphql", json={"query": "{ groups { id } }"}, headers=bearer
    )
    assert again.status_code == 401
    trail = await admin.http.get("/admin/audit")
    assert "token:CRM import" in trail.text
    assert "api.groups.mutation" in trail.text
    assert "token.revoke" in trail.text
