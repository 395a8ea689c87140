"""The researchers' coding page (/dashboard/coding) through the gateway's own HTTP app:
sign-in by token into an HttpOnly cookie, researchers only, coding a meeting with a memo
passage, "nothing found", reconciliation, refusals in the page's language, foreign forms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from services.gateway.app import build
from services.gateway.auth import create_token
from services.gateway.dashboard.coding import COOKIE, PATH
from services.gateway.research.tables import CONSENSUS, coding_marks, codings
from services.gateway.settings import GatewaySettings
from tests.unit.coding_desk import MEMO, Desk, open_desk


@dataclass
class Site:
    desk: Desk
    client: httpx.AsyncClient
    tokens: dict[str, str]
    token_ids: dict[str, str]

    def page(self, meeting: int = 0, lang: str = "en") -> str:
        return (
            f"{PATH}/meeting/{self.desk.meetings[meeting]}?codebook={self.desk.wenger}&lang={lang}"
        )

    async def sign_in(self, who: str) -> httpx.Response:
        self.client.cookies.clear()
        return await self.client.post(f"{PATH}/sign-in", data={"token": self.tokens[who]})


@pytest.fixture
async def site(database_url: str) -> AsyncIterator[Site]:
    desk = await open_desk(database_url, ("oulu", "Alfa", 2), migrated=True)
    gateway = build(GatewaySettings(database_url=database_url, require_token=True))  # type: ignore[call-arg]
    tokens, ids = {}, {}
    for who, role, region in (
        ("anna", "researcher", None),
        ("bo", "researcher", None),
        ("agency", "agency", "oulu"),
    ):
        issued = await create_token(gateway.sessions, role, region)
        tokens[who], ids[who] = issued.token, issued.info.id
    transport = httpx.ASGITransport(app=gateway.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Site(desk, client, tokens, ids)
    finally:
        await gateway.engine.dispose()
        await gateway.read_engine.dispose()
        await desk.engine.dispose()


async def test_sign_in_is_for_researchers_and_sets_a_strict_cookie(site: Site) -> None:
    anonymous = await site.client.get(PATH, headers={"accept-language": "fi"})
    assert anonymous.status_code == 401
    assert "Kirjaudu käyttöoikeustunnuksellasi" in anonymous.text
    assert "default-src 'none'" in anonymous.headers["content-security-policy"]
    agency = await site.sign_in("agency")
    assert agency.status_code == 403
    assert COOKIE not in site.client.cookies
    wrong = await site.client.post(
        f"{PATH}/sign-in", data={"token": "mgn_0123456789ab_" + "x" * 30}
    )
    assert wrong.status_code == 401
    signed = await site.sign_in("anna")
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert f"Path={PATH}" in cookie
    listing = await site.client.get(f"{PATH}?lang=sv")
    assert listing.status_code == 200
    assert "Kodning av möten" in listing.text
    assert site.page(0, "sv").split("&")[0].split("?")[0] in listing.text


async def test_code_a_passage_then_reconcile(site: Site) -> None:
    await site.sign_in("anna")
    form = await site.client.get(site.page())
    assert form.status_code == 200
    assert MEMO in form.text
    assert "Reusing assets" in form.text
    passage = "share a booth at the fair"
    saved = await site.client.post(
        site.page(),
        data={"action": "code", "code:reusing_assets": "on", "passage:reusing_assets": passage},
    )
    assert saved.status_code == 303
    async with site.desk.sessions() as session:
        mark = (
            await session.execute(
                select(coding_marks)
                .join(codings, codings.c.id == coding_marks.c.coding_id)
                .where(codings.c.coder_id == site.token_ids["anna"])
            )
        ).one()
    assert (mark.span_start, mark.span_end, mark.quote) == (
        MEMO.index(passage),
        MEMO.index(passage) + len(passage),
        passage,
    )
    # a passage that is not in the memo: refused in the page's language, nothing saved
    bad = await site.client.post(
        site.page(lang="fi"),
        data={"action": "code", "code:visits": "on", "passage:visits": "not in the memo"},
    )
    assert bad.status_code == 400
    assert "ei ole muistion sisällä" in bad.text
    # one coder cannot reconcile; a second coder makes the consensus form appear
    assert "Save the consensus" not in (await site.client.get(site.page())).text
    await site.sign_in("bo")
    await site.client.post(site.page(), data={"action": "code", "nothing_found": "on"})
    page = await site.client.get(site.page())
    assert "Save the consensus" in page.text
    done = await site.client.post(
        site.page(),
        data={
            "action": "reconcile",
            "code:reusing_assets": "on",
            "featured:reusing_assets": "on",
            "example:reusing_assets": "Shared a booth",
        },
    )
    assert done.status_code == 303
    async with site.desk.sessions() as session:
        consensus = (
            await session.execute(select(codings).where(codings.c.coder_id == CONSENSUS))
        ).one()
        marks = (
            await session.execute(
                select(coding_marks).where(coding_marks.c.coding_id == consensus.id)
            )
        ).all()
    assert consensus.reconciled_by == site.token_ids["bo"]
    assert [(m.code, m.example, m.featured) for m in marks] == [
        ("reusing_assets", "Shared a booth", True)
    ]


async def test_forms_from_another_site_are_refused(site: Site) -> None:
    await site.sign_in("anna")
    foreign = await site.client.post(
        site.page(),
        data={"action": "code", "nothing_found": "on"},
        headers={"origin": "http://evil.example"},
    )
    assert foreign.status_code == 403
    async with site.desk.sessions() as session:
        assert (await session.execute(select(codings))).all() == []
