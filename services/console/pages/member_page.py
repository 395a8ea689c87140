"""A member's page: its details and history, likely duplicates, the membership steps
(pause, leave, rejoin), its contact persons and their consents.

Every form posts to its own route and, when the service refuses, the page is shown again
with the message at the field and the values as typed (422).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from starlette.responses import Response

from services.console.backend import BackendError, Problem
from services.console.i18n import _
from services.console.pages.lookup import at_field, read_date, today_shown
from services.console.pages.names import NAMES, purpose_name
from services.console.web import Ctx, NotFound, Routes
from shared.i18n.formats import format_date

routes = Routes()

PERSON = """id name email phone language erased erasedAt
  consents { purpose given givenAt withdrawnAt }"""
MEMBER = f"""query($id: UUID!) {{ member(id: $id) {{ id groupId companyName businessId
  industryCode industry {{ code name }} address employees turnoverEur balanceSheetEur joinedOn
  leftOn leaveReason pausedOn status history {{ kind on reason }} contacts {{ {PERSON} }}
  likelyDuplicates {{ code field message params }} }}
  groups {{ id name }} }}"""  # the member's group's name in the same request
STEPS = {  # step: (mutation, its input type, the date's name in the input)
    "pause": ("pauseMember", "PauseMemberInput", "pausedOn"),
    "leave": ("memberLeaves", "MemberLeavesInput", "leftOn"),
    "rejoin": ("rejoinMember", "RejoinMemberInput", "rejoinedOn"),
}
ON = {"paused_on": "on", "left_on": "on", "rejoined_on": "on"}
CONTACT = """mutation($m: UUID!, $name: String!, $email: String!, $phone: String!,
  $language: Language!) { addContact(memberId: $m, name: $name, email: $email, phone: $phone,
  language: $language) { id } }"""
PERSON_OWNER = "query($id: UUID!) { person(id: $id) { id memberId } }"
CONSENT = {
    "give": "mutation($i: ConsentInput!) { giveConsent(input: $i) { id } }",
    "withdraw": "mutation($i: ConsentInput!) { withdrawConsent(input: $i) { id } }",
}
PURPOSES = ("RESEARCH_USE", "AUDIO_RECORDING", "CONTACT_SHARING")
LANGUAGES = ("FI", "SV", "EN")


class Forms:
    """The page's forms as typed and their problems (form name -> problems)."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, str]] = {}
        self.problems: dict[str, list[Problem]] = {}

    def keep(self, name: str, values: dict[str, str]) -> None:
        self.values[name] = dict(values)

    def add(self, name: str, problem: Problem) -> None:
        self.problems.setdefault(name, []).append(problem)

    def value(self, name: str, key: str, default: str = "") -> str:
        return self.values.get(name, {}).get(key, default)

    def error(self, name: str, key: str) -> Problem | None:
        return next((p for p in self.problems.get(name, []) if p.field == key), None)

    def others(self, name: str, keys: tuple[str, ...]) -> list[Problem]:
        """Problems of the form not at one of its fields (shown above it)."""
        return [p for p in self.problems.get(name, []) if p.field not in keys]


async def load_member(ctx: Ctx, member_id: str) -> dict[str, Any]:
    """The member with its contacts, if the account may see its group (403, 404)."""
    try:
        UUID(member_id)
    except ValueError:
        raise NotFound() from None
    answer = await ctx.backend.groups(MEMBER, id=member_id)
    found = answer["member"]
    if found is None:
        raise NotFound()
    ctx.require_group(found["groupId"])
    groups = {g["id"]: g for g in answer["groups"]}
    return {**found, "group": groups.get(found["groupId"])}


async def _show(ctx: Ctx, member: dict[str, Any], forms: Forms | None = None) -> Response:
    group = member["group"]
    return ctx.render(
        "members/member.html",
        status=422 if forms is not None and forms.problems else 200,
        member=member,
        group=group,
        forms=forms or Forms(),
        today=today_shown(),
        purposes=PURPOSES,
        contact_languages=LANGUAGES,
        can_change=ctx.staff.can_access_group(member["groupId"]),
        **NAMES,
    )


@routes.get("/members/{member_id}")
async def member_page(ctx: Ctx) -> Response:
    return await _show(ctx, await load_member(ctx, ctx.path("member_id")))


@routes.post("/members/{member_id}/membership/{step}")
async def membership_step(ctx: Ctx) -> Response:
    step = ctx.path("step")
    if step not in STEPS:
        raise NotFound()
    member = await load_member(ctx, ctx.path("member_id"))
    data = await ctx.form()
    forms = Forms()
    forms.keep(step, data)
    mutation, input_type, date_name = STEPS[step]
    on, problem = read_date(data.get("on", "").strip(), "on")
    if problem is not None:
        forms.add(step, problem)
        return await _show(ctx, member, forms)
    given: dict[str, Any] = {"memberId": member["id"], date_name: on}
    reason = data.get("reason", "").strip()
    if step != "rejoin" and reason:
        given["reason"] = reason
    query = f"mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ id status }} }}"
    try:
        await ctx.backend.groups(query, i=given)
    except BackendError as refused:
        for found in refused.problems:
            forms.add(step, at_field(found, ON))
        return await _show(ctx, member, forms)
    await ctx.audit(f"member.{step}", f"member:{member['id']}", on=on, group=member["groupId"])
    said = {"company": member["companyName"], "date": format_date(date.fromisoformat(str(on)))}
    notices = {
        "pause": _("{company} is paused from {date}.", **said),
        "leave": _("{company} left the group on {date}.", **said),
        "rejoin": _("{company} is active again from {date}.", **said),
    }
    return ctx.redirect(f"/members/{member['id']}", notice=notices[step])


@routes.post("/members/{member_id}/contacts")
async def add_contact(ctx: Ctx) -> Response:
    member = await load_member(ctx, ctx.path("member_id"))
    data = await ctx.form()
    forms = Forms()
    forms.keep("contact", data)
    values = {k: data.get(k, "").strip() for k in ("name", "email", "phone", "language")}
    if values["language"] not in LANGUAGES:
        values["language"] = "FI"
    for key, message in (
        ("name", _("Give the person's name.")),
        ("email", _("Give the person's e-mail address: the surveys are sent to it.")),
    ):
        if not values[key]:
            forms.add("contact", Problem("REQUIRED", message, key))
    if forms.problems:
        return await _show(ctx, member, forms)
    try:
        await ctx.backend.groups(CONTACT, m=member["id"], **values)
    except BackendError as refused:
        for found in refused.problems:
            forms.add("contact", found)
        return await _show(ctx, member, forms)
    await ctx.audit("person.add", f"member:{member['id']}", group=member["groupId"])
    notice = _("{name} was added as a contact person.", name=values["name"])
    return ctx.redirect(f"/members/{member['id']}#contacts", notice=notice)


@routes.post("/persons/{person_id}/consent")
async def change_consent(ctx: Ctx) -> Response:
    try:
        person_id = str(UUID(ctx.path("person_id")))
    except ValueError:
        raise NotFound() from None
    person = (await ctx.backend.groups(PERSON_OWNER, id=person_id))["person"]
    if person is None:
        raise NotFound()
    member = await load_member(ctx, person["memberId"])
    data = await ctx.form()
    action, purpose = data.get("action", ""), data.get("purpose", "")
    if action not in CONSENT or purpose not in PURPOSES:
        raise NotFound()
    try:
        await ctx.backend.groups(CONSENT[action], i={"personId": person_id, "purpose": purpose})
    except BackendError as refused:
        forms = Forms()
        for found in refused.problems:
            forms.add(f"consent-{person_id}", found)
        return await _show(ctx, member, forms)
    await ctx.audit(
        f"consent.{action}", f"person:{person_id}", purpose=purpose.lower(), group=member["groupId"]
    )
    notice = (
        _("Consent recorded: {purpose}.", purpose=purpose_name(purpose))
        if action == "give"
        else _("Consent withdrawn: {purpose}.", purpose=purpose_name(purpose))
    )
    return ctx.redirect(f"/members/{member['id']}#contacts", notice=notice)
