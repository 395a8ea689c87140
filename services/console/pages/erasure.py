"""Erasure on request (admin): find the person, see what erasure removes and what stays
(pseudonymised), confirm, done, with the audit entry.

Erasure is the groups service's ``erasePerson``: name, e-mail and phone are blanked for good
and the consents in force withdrawn; its ``PersonErased`` event makes the feedback service
drop the person's survey links and mails and blank their free texts, and the national read
model honour it. It cannot be undone: one explicit confirmation, and a button that names the
person. The audit entry names the person by id only (the name is what was erased).
"""

from __future__ import annotations

import unicodedata
from typing import Any
from uuid import UUID

from starlette.responses import Response

from services.console.backend import BackendError
from services.console.i18n import _
from services.console.pages.names import purpose_name
from services.console.web import Ctx, NotFound, Routes

routes = Routes()

SEARCH = """query($text: String!) { searchMembers(text: $text, first: 50) { members {
  id companyName contacts { id name email erased } } } }"""
PERSON = """query($id: UUID!) { person(id: $id) { id memberId name email phone erased erasedAt
  consents { purpose given } } }"""
MEMBER = "query($id: UUID!) { member(id: $id) { id groupId companyName } }"
ERASE = "mutation($p: UUID!) { erasePerson(personId: $p) { id erased erasedAt } }"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@routes.get("/admin/erasure", role="admin")
async def search(ctx: Ctx) -> Response:
    text = ctx.query("q").strip()[:200]
    found: list[dict[str, Any]] = []
    if text:
        members = (await ctx.backend.groups(SEARCH, text=text))["searchMembers"]["members"]
        words = _fold(text).split()
        for member in members:
            people = [p for p in member["contacts"] if not p["erased"]]
            named = [
                p for p in people if all(w in _fold(f"{p['name']} {p['email']}") for w in words)
            ]  # the contact the words name; else the company matched: all its contacts
            found += [{**p, "company": member["companyName"]} for p in named or people]
    return ctx.render("erasure/search.html", q=text, found=found)


async def _person(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        person_id = str(UUID(ctx.path("person_id")))
    except ValueError:
        raise NotFound() from None
    person = (await ctx.backend.groups(PERSON, id=person_id))["person"]
    if person is None:
        raise NotFound()
    member = (await ctx.backend.groups(MEMBER, id=person["memberId"]))["member"] or {}
    return dict(person), dict(member)


def _review(
    ctx: Ctx, person: dict[str, Any], member: dict[str, Any], problem: str = ""
) -> Response:
    in_force = [purpose_name(c["purpose"]) for c in person["consents"] if c["given"]]
    return ctx.render(
        "erasure/review.html",
        status=422 if problem else 200,
        person=person,
        member=member,
        in_force=in_force,
        problem=problem,
    )


@routes.form("/admin/erasure/{person_id}", role="admin")
async def erase(ctx: Ctx) -> Response:
    person, member = await _person(ctx)
    if ctx.request.method == "GET" or person["erased"]:
        return _review(ctx, person, member)
    if (await ctx.form()).get("confirm") != "yes":
        return _review(
            ctx, person, member, _("Tick the box to confirm that the person asked for erasure.")
        )
    try:
        erased = (await ctx.backend.groups(ERASE, p=person["id"]))["erasePerson"]
    except BackendError as refused:
        return _review(ctx, person, member, refused.problems[0].message)
    await ctx.audit("person.erase", f"person:{person['id']}", member=member.get("id", ""))
    return ctx.render("erasure/done.html", member=member, at=erased["erasedAt"])
