"""A member's page: its details and history, likely duplicates, the membership steps
(pause, leave, rejoin), its contact persons and their consents.

Every form posts to its own route and, when the service refuses, the page is shown again
with the message at the field and the values as typed (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.console.pages import area
from services.console.pages.names import purpose_name
from services.console.pages.problems import Problem
from services.console.texts import _
from shared.errors.dates import InvalidDate
from shared.i18n.formats import FormatError, parse_date

PERSON = """id name email phone language erased erasedAt
  consents { purpose given givenAt withdrawnAt }"""
MEMBER = f"""query($id: UUID!) {{ member(id: $id) {{ id groupId companyName businessId
  industryCode industry {{ code name }} employees turnoverEur balanceSheetEur joinedOn leftOn
  leaveReason pausedOn status history {{ kind on reason }} contacts {{ {PERSON} }}
  likelyDuplicates {{ code field message params }} }} }}"""
GROUP_NAME = "query($id: UUID!) { group(id: $id) { id name } }"
STEPS = {
    # step: (mutation, its input type, the date field in the form and the input)
    "pause": ("pauseMember", "PauseMemberInput", "pausedOn"),
    "leave": ("memberLeaves", "MemberLeavesInput", "leftOn"),
    "rejoin": ("rejoinMember", "RejoinMemberInput", "rejoinedOn"),
}
CONTACT = """mutation($m: UUID!, $name: String!, $email: String!, $phone: String!,
  $language: Language!) { addContact(memberId: $m, name: $name, email: $email, phone: $phone,
  language: $language) { id name } }"""
PERSON_OWNER = "query($id: UUID!) { person(id: $id) { id memberId name } }"
CONSENT = {
    "give": "mutation($i: ConsentInput!) { giveConsent(input: $i) { id } }",
    "withdraw": "mutation($i: ConsentInput!) { withdrawConsent(input: $i) { id } }",
}
PURPOSES = ("RESEARCH_USE", "AUDIO_RECORDING", "CONTACT_SHARING")
LANGUAGES = ("FI", "SV", "EN")


class Forms:
    """The page's forms as typed, with their problems (form name -> field -> Problem)."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, str]] = {}
        self.problems: dict[str, list[Problem]] = {}

    def keep(self, name: str, values: Mapping[str, Any]) -> None:
        self.values[name] = {k: str(v) for k, v in values.items()}

    def add(self, name: str, problem: Problem) -> None:
        self.problems.setdefault(name, []).append(problem)

    def value(self, name: str, key: str, default: str = "") -> str:
        return self.values.get(name, {}).get(key, default)

    def error(self, name: str, key: str) -> Problem | None:
        return next((p for p in self.problems.get(name, []) if p.field == key), None)

    def errors(self, name: str) -> list[Problem]:
        return self.problems.get(name, [])


async def _load(request: Request, member_id: UUID, *, changing: bool) -> dict[str, Any] | None:
    found = (await area.gql(request, "groups", MEMBER, id=str(member_id)))["member"]
    if found is None:
        return None
    await area.require_group(request, UUID(found["groupId"]), changing=changing)
    return dict(found)


async def _show(
    request: Request, member: dict[str, Any], forms: Forms | None = None, status: int = 200
) -> Response:
    group = (await area.gql(request, "groups", GROUP_NAME, id=member["groupId"]))["group"]
    return area.render(
        request,
        "members/member.html",
        status=status,
        member=member,
        group=group,
        forms=forms or Forms(),
        today=area.today_shown(),
        purposes=PURPOSES,
        languages=LANGUAGES,
        can_change=await area.can_change_group(request, UUID(member["groupId"])),
    )


async def member_page(request: Request) -> Response:
    member = await _load(request, area.path_uuid(request, "member_id"), changing=False)
    if member is None:
        return area.not_found(request)
    return await _show(request, member)


def _date(forms: Forms, form: str, raw: str, field: str) -> str | None:
    try:
        return parse_date(raw).isoformat()
    except FormatError:
        error = InvalidDate(raw, field=field)
        forms.add(form, Problem(error.code, field, error.render()))
        return None


async def membership_step(request: Request) -> Response:
    member_id = area.path_uuid(request, "member_id")
    step = request.path_params["step"]
    if step not in STEPS:
        return area.not_found(request)
    member = await _load(request, member_id, changing=True)
    if member is None:
        return area.not_found(request)
    data = await request.form()
    forms = Forms()
    forms.keep(step, data)
    mutation, input_type, date_field = STEPS[step]
    on = _date(forms, step, str(data.get("on", "")).strip(), "on")
    if on is None:
        return await _show(request, member, forms, 422)
    given: dict[str, Any] = {"memberId": str(member_id), date_field: on}
    reason = str(data.get("reason", "")).strip()
    if step != "rejoin" and reason:
        given["reason"] = reason
    query = f"mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ id status }} }}"
    try:
        await area.gql(request, "groups", query, i=given)
    except area.Refused as refused:
        for problem in refused.problems:
            forms.add(step, problem.at({"paused_on": "on", "left_on": "on", "rejoined_on": "on"}))
        return await _show(request, member, forms, 422)
    await area.audit(request, f"member.{step}", str(member_id), f"{member['companyName']} {on}")
    notices = {
        "pause": _(
            "{company} is paused from {date}.",
            company=member["companyName"],
            date=area.date_shown(on),
        ),
        "leave": _(
            "{company} left the group on {date}.",
            company=member["companyName"],
            date=area.date_shown(on),
        ),
        "rejoin": _(
            "{company} is active again from {date}.",
            company=member["companyName"],
            date=area.date_shown(on),
        ),
    }
    return area.redirect(request, f"/members/{member_id}", notices[step])


async def add_contact(request: Request) -> Response:
    member_id = area.path_uuid(request, "member_id")
    member = await _load(request, member_id, changing=True)
    if member is None:
        return area.not_found(request)
    data = await request.form()
    forms = Forms()
    forms.keep("contact", data)
    values = {k: str(data.get(k, "")).strip() for k in ("name", "email", "phone", "language")}
    if values["language"] not in LANGUAGES:
        values["language"] = "FI"
    for key, message in (
        ("name", _("Give the person's name.")),
        ("email", _("Give the person's e-mail address: the surveys are sent to it.")),
    ):
        if not values[key]:
            forms.add("contact", Problem("REQUIRED", key, message))
    if forms.errors("contact"):
        return await _show(request, member, forms, 422)
    try:
        await area.gql(request, "groups", CONTACT, m=str(member_id), **values)
    except area.Refused as refused:
        for problem in refused.problems:
            forms.add("contact", problem)
        return await _show(request, member, forms, 422)
    await area.audit(request, "person.add", str(member_id), member["companyName"])
    notice = _("{name} was added as a contact person.", name=values["name"])
    return area.redirect(request, f"/members/{member_id}#contacts", notice)


async def change_consent(request: Request) -> Response:
    person_id = area.path_uuid(request, "person_id")
    person = (await area.gql(request, "groups", PERSON_OWNER, id=str(person_id)))["person"]
    if person is None:
        return area.not_found(request)
    member = await _load(request, UUID(person["memberId"]), changing=True)
    if member is None:
        return area.not_found(request)
    data = await request.form()
    action, purpose = str(data.get("action", "")), str(data.get("purpose", ""))
    if action not in CONSENT or purpose not in PURPOSES:
        return area.bad_request(request)
    try:
        await area.gql(
            request, "groups", CONSENT[action], i={"personId": str(person_id), "purpose": purpose}
        )
    except area.Refused as refused:
        forms = Forms()
        for problem in refused.problems:
            forms.add(f"consent-{person_id}", problem)
        return await _show(request, member, forms, 422)
    await area.audit(request, f"consent.{action}", str(person_id), purpose.lower())
    notice = (
        _("Consent recorded: {purpose}.", purpose=purpose_name(purpose))
        if action == "give"
        else _("Consent withdrawn: {purpose}.", purpose=purpose_name(purpose))
    )
    return area.redirect(request, f"/members/{member['id']}#contacts", notice)


ROUTES = [
    Route("/members/{member_id}", member_page, methods=["GET"]),
    Route("/members/{member_id}/membership/{step}", membership_step, methods=["POST"]),
    Route("/members/{member_id}/contacts", add_contact, methods=["POST"]),
    Route("/persons/{person_id}/consent", change_consent, methods=["POST"]),
]
