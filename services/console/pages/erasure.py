"""Erasure on request (admin): find the person, see what erasure removes and what stays
(pseudonymised), confirm, done, with the audit entry.

Erasure is the groups service's ``erasePerson``: name, e-mail and phone are blanked for good
and the consents in force withdrawn; the ``PersonErased`` event then makes the feedback
service drop the person's survey links and mails and blank their free-text answers, and
the national read model honour it. It cannot be undone, so it is confirmed by typing
nothing clever: one explicit checkbox and a button naming the person.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.console.pages import area
from services.console.texts import _

SEARCH = """query($text: String!) { searchMembers(text: $text, first: 50) { total members {
  id groupId companyName contacts { id name email phone erased } } } }"""
PERSON = """query($id: UUID!) { person(id: $id) { id memberId name email phone language erased
  erasedAt consents { purpose given givenAt } } }"""
MEMBER = "query($id: UUID!) { member(id: $id) { id groupId companyName } }"
ERASE = "mutation($p: UUID!) { erasePerson(personId: $p) { id erased erasedAt } }"


async def search(request: Request) -> Response:
    area.require_admin(request)
    text = request.query_params.get("q", "").strip()[:200]
    found: list[dict[str, Any]] = []
    if text:
        page = (await area.gql(request, "groups", SEARCH, text=text))["searchMembers"]
        words = [area.fold(w) for w in text.split()]
        for member in page["members"]:
            people = [p for p in member["contacts"] if not p["erased"]]
            shown = [p for p in people if _matches_folded(p, words)] or people
            found += [{**p, "company": member["companyName"]} for p in shown]
    return area.render(request, "erasure/search.html", q=text, found=found)


def _matches_folded(person: dict[str, Any], words: list[str]) -> bool:
    text = area.fold(f"{person.get('name') or ''} {person.get('email') or ''}")
    return all(word in text for word in words)


async def _person(request: Request) -> tuple[dict[str, Any], dict[str, Any]] | None:
    person_id = area.path_uuid(request, "person_id")
    person = (await area.gql(request, "groups", PERSON, id=str(person_id)))["person"]
    if person is None:
        return None
    member = (await area.gql(request, "groups", MEMBER, id=person["memberId"]))["member"]
    return dict(person), dict(member or {})


async def review(request: Request) -> Response:
    area.require_admin(request)
    found = await _person(request)
    if found is None:
        return area.not_found(request)
    person, member = found
    return area.render(request, "erasure/review.html", person=person, member=member, problem=None)


async def erase(request: Request) -> Response:
    area.require_admin(request)
    found = await _person(request)
    if found is None:
        return area.not_found(request)
    person, member = found
    data = await request.form()
    if data.get("confirm") != "yes":
        problem = _("Tick the box to confirm that the person asked for erasure.")
        return area.render(
            request,
            "erasure/review.html",
            status=422,
            person=person,
            member=member,
            problem=problem,
        )
    try:
        erased = (await area.gql(request, "groups", ERASE, p=person["id"]))["erasePerson"]
    except area.Refused as refused:
        return area.render(
            request,
            "erasure/review.html",
            status=422,
            person=person,
            member=member,
            problem=refused.problems[0].message,
        )
    # the audit names the person by id and company only: the name is what was erased
    await area.audit(request, "person.erase", person["id"], member.get("companyName", ""))
    return area.render(
        request, "erasure/done.html", person=erased, member=member, at=erased["erasedAt"]
    )


ROUTES = [
    Route("/erasure", search, methods=["GET"]),
    Route("/erasure/{person_id}", review, methods=["GET"]),
    Route("/erasure/{person_id}", erase, methods=["POST"]),
]
