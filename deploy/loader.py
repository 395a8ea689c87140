"""Loads a sample-data plan through a region's own service APIs (GraphQL over HTTP, and the
feedback service's survey form with the links from its mails), so it flows as events.

Per group: the groups service first (group, facilitators, members with their pauses and
leaves), then, once the meetings service's replica has the members, three services at
once: contacts and consents (groups), meetings with everything that follows from them
(meetings) and growth-intention interviews (feedback). Recording is marked last, when the
consents have reached the meetings service. Survey answers are given at the end through
the links the feedback service mailed (demo mode: ``.eml`` files in the region's mail
folder).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx

from deploy.sample_data import GroupPlan, MeetingPlan, RegionPlan


class ApiError(RuntimeError):
    """A service refused a request; carries the GraphQL error's message and code."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message if code is None else f"{message} [{code}]")
        self.code = code


@dataclass(frozen=True)
class RegionEndpoints:
    groups_url: str
    meetings_url: str
    feedback_url: str = ""  # without it, no interviews and no survey answers are loaded
    mail_dir: Path | None = None  # where the feedback service writes its mail (.eml)
    headers: Mapping[str, str] = field(default_factory=dict)  # the node credential to send


class GraphQLClient:
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self._client.post(self._url, json={"query": query, "variables": variables})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            error = body["errors"][0]
            raise ApiError(error["message"], (error.get("extensions") or {}).get("code"))
        data: dict[str, Any] = body["data"]
        return data


CREATE_GROUP = """mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }"""
ASSIGN_FACILITATOR = """mutation($input: AssignFacilitatorInput!) {
  assignFacilitator(input: $input) { facilitators { id email } } }"""
ADD_MEMBER = """mutation($input: AddMemberInput!) { addMember(input: $input) { id } }"""
MEMBER_LEAVES = """mutation($input: MemberLeavesInput!) { memberLeaves(input: $input) { id } }"""
PAUSE_MEMBER = """mutation($input: PauseMemberInput!) { pauseMember(input: $input) { id } }"""
REJOIN_MEMBER = """mutation($input: RejoinMemberInput!) { rejoinMember(input: $input) { id } }"""
ADD_CONTACT = """mutation($memberId: UUID!, $name: String!, $email: String!, $language: Language!) {
  addContact(memberId: $memberId, name: $name, email: $email, language: $language) { id } }"""
GIVE_CONSENT = """mutation($input: ConsentInput!) { giveConsent(input: $input) { id } }"""
WITHDRAW_CONSENT = """mutation($input: ConsentInput!) { withdrawConsent(input: $input) { id } }"""
KNOWN_MEMBERS = """query($groupId: UUID!) { knownMembers(groupId: $groupId) { memberId leftOn } }"""
SUGGEST_HOST = """query($groupId: UUID!, $on: Date!) {
  suggestNextHost(groupId: $groupId, on: $on) { memberId lastHostedOn } }"""
SCHEDULE = """mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) { id } }"""
RESCHEDULE = (
    """mutation($input: RescheduleMeetingInput!) { rescheduleMeeting(input: $input) { id } }"""
)
RSVP = """mutation($input: RecordRsvpInput!) { recordRsvp(input: $input) { id } }"""
HELD = """mutation($input: RecordMeetingHeldInput!) { recordMeetingHeld(input: $input) { id } }"""
CANCEL = """mutation($input: CancelMeetingInput!) { cancelMeeting(input: $input) { id } }"""
MEMO = """mutation($input: PublishMemoInput!) { publishMemo(input: $input) { id } }"""
MARK_RECORDED = """mutation($input: MarkRecordedInput!) { markRecorded(input: $input) { id } }"""
AGREE_ACTION = """mutation($input: AgreeActionInput!) { agreeAction(input: $input) { id } }"""
CLOSE_ACTION = """mutation($input: CloseActionInput!) { closeAction(input: $input) { id } }"""
ACTIVITY = """mutation($input: RecordActivityInput!) { recordActivity(input: $input) { id } }"""
START_INITIATIVE = """mutation($input: StartInitiativeInput!) {
  startInitiative(input: $input) { id } }"""
UPDATE_INITIATIVE = """mutation($input: UpdateInitiativeInput!) {
  updateInitiative(input: $input) { id } }"""
PAPER_RESPONSES = """mutation($input: RecordPaperResponsesInput!) {
  recordPaperResponses(input: $input) { responses } }"""
IMPORT_MEMBERS = """mutation($groupId: UUID!, $csv: String!) {
  importMembers(groupId: $groupId, csv: $csv) { imported errors { line reason } } }"""
ERASE_PERSON = """mutation($personId: UUID!) { erasePerson(personId: $personId) { id erased } }"""
INTERVIEW = """mutation($input: RecordInterviewInput!) { recordInterview(input: $input) { id } }"""

Progress = Callable[[str, int], None]
_LINK = re.compile(r"https?://\S+/survey/[A-Za-z0-9_\-]+")


@dataclass
class _Run:
    """One region's load: clients, the ids the services gave, writes done."""

    plan: RegionPlan
    groups: GraphQLClient
    meetings: GraphQLClient
    feedback: GraphQLClient | None
    progress: Progress
    report: Callable[[str], None] = lambda line: None
    done: int = 0
    ids: dict[str, str] = field(default_factory=dict)  # plan key -> service id

    def count(self, n: int = 1) -> None:
        self.done += n
        self.progress(self.plan.region, self.done)  # the caller throttles its output


async def load_region(
    plan: RegionPlan,
    endpoints: RegionEndpoints,
    progress: Progress = lambda region, done: None,
    *,
    replica_timeout: float = 60.0,
    mail_timeout: float = 90.0,
    report: Callable[[str], None] = lambda line: None,
) -> int:
    """Send every write of ``plan``; return the number of writes. Raises :class:`ApiError`.

    ``report`` gets a line for each thing a newcomer should notice (the CSV import refused
    then fixed, the erasure)."""
    async with httpx.AsyncClient(timeout=30, headers=dict(endpoints.headers)) as http:
        run = _Run(
            plan,
            GraphQLClient(http, endpoints.groups_url),
            GraphQLClient(http, endpoints.meetings_url),
            GraphQLClient(http, endpoints.feedback_url) if endpoints.feedback_url else None,
            progress,
            report,
        )
        for group in plan.groups:
            await _load_group(run, group)
            await _wait_for_replica(run.meetings, group, run.ids, replica_timeout)
            await asyncio.gather(_load_contacts(run, group), _load_meetings(run, group))
            await _load_interviews(run, group, replica_timeout)
            await _mark_recorded(run, group, replica_timeout)
            await _record_paper_responses(run, group, replica_timeout)
            await _import_csv(run, group)
            await _erase(run, group)
        if run.feedback is not None and endpoints.mail_dir is not None:
            await _answer_surveys(run, http, endpoints.mail_dir, mail_timeout)
        progress(plan.region, run.done)
        return run.done


# -- groups service ------------------------------------------------------------------------


async def _load_group(run: _Run, group: GroupPlan) -> None:
    groups, ids = run.groups, run.ids
    created = await groups(
        CREATE_GROUP,
        input={
            "name": group.name,
            "municipality": group.municipality,
            "foundedOn": group.founded_on.isoformat(),
        },
    )
    ids[group.key] = created["createGroup"]["id"]
    run.count()
    for facilitator in group.facilitators:
        assigned = await groups(
            ASSIGN_FACILITATOR,
            input={
                "groupId": ids[group.key],
                "name": facilitator.name,
                "email": facilitator.email,
                "role": facilitator.role.upper(),
                "assignedOn": facilitator.assigned_on.isoformat(),
            },
        )
        (ids[facilitator.key],) = [
            f["id"]
            for f in assigned["assignFacilitator"]["facilitators"]
            if f["email"] == facilitator.email
        ]
        run.count()
    for member in group.members:
        added = await groups(
            ADD_MEMBER,
            input={
                "groupId": ids[group.key],
                "companyName": member.company_name,
                "businessId": member.business_id,
                "industryCode": member.industry_code,
                "employees": member.employees,
                "turnoverEur": member.turnover_eur,
                "balanceSheetEur": member.balance_sheet_eur,
                "joinedOn": member.joined_on.isoformat(),
            },
        )
        ids[member.key] = added["addMember"]["id"]
        run.count()
    # Pauses before leaves: once the replica has every leave, it has the pauses too.
    for member in group.members:
        if member.paused_on:
            await groups(
                PAUSE_MEMBER,
                input={
                    "memberId": ids[member.key],
                    "pausedOn": member.paused_on.isoformat(),
                    "reason": "A busy season; back in a few months",
                },
            )
            run.count()
        if member.rejoined_on:
            await groups(
                REJOIN_MEMBER,
                input={"memberId": ids[member.key], "rejoinedOn": member.rejoined_on.isoformat()},
            )
            run.count()
    for member in group.members:
        if member.left_on:
            await groups(
                MEMBER_LEAVES,
                input={
                    "memberId": ids[member.key],
                    "leftOn": member.left_on.isoformat(),
                    "reason": "Moved on",
                },
            )
            run.count()


async def _load_contacts(run: _Run, group: GroupPlan) -> None:
    for member in group.members:
        for contact in member.contacts:
            added = await run.groups(
                ADD_CONTACT,
                memberId=run.ids[member.key],
                name=contact.name,
                email=contact.email,
                language=contact.language.upper(),
            )
            person_id = added["addContact"]["id"]
            run.ids[contact.key] = person_id
            run.count()
            for purpose, at in contact.consents:
                await run.groups(
                    GIVE_CONSENT,
                    input={"personId": person_id, "purpose": purpose.upper(), "at": at.isoformat()},
                )
                run.count()
            for purpose, at in contact.withdrawals:
                await run.groups(
                    WITHDRAW_CONSENT,
                    input={"personId": person_id, "purpose": purpose.upper(), "at": at.isoformat()},
                )
                run.count()


async def _wait_for_replica(
    meetings: GraphQLClient, group: GroupPlan, ids: dict[str, str], timeout: float
) -> None:
    """The meetings service learns members from events; wait until it has them all."""
    want_left = sum(1 for m in group.members if m.left_on)
    deadline = time.monotonic() + timeout
    while True:
        known = (await meetings(KNOWN_MEMBERS, groupId=ids[group.key]))["knownMembers"]
        left = sum(1 for m in known if m["leftOn"])
        if len(known) == len(group.members) and left == want_left:
            return
        if time.monotonic() > deadline:
            raise ApiError(
                f"meetings service knows {len(known)}/{len(group.members)} members of "
                f"{group.name} after {timeout:g}s: are the region's NATS and relay running?"
            )
        await asyncio.sleep(0.1)


async def _import_csv(run: _Run, group: GroupPlan) -> None:
    """The agency's spreadsheet: refused with its bad rows named, then fixed and imported."""
    plan = group.csv_import
    if plan is None:
        return
    group_id = run.ids[group.key]
    refused = (await run.groups(IMPORT_MEMBERS, groupId=group_id, csv=plan.refused_csv))[
        "importMembers"
    ]
    lines = tuple(e["line"] for e in refused["errors"])
    if refused["imported"] != 0 or lines != plan.bad_lines:
        raise ApiError(f"the bad CSV of {group.name} was not refused as planned: {refused}")
    reasons = " ".join(f"[line {e['line']}] {e['reason']}" for e in refused["errors"])
    run.report(f"{run.plan.region}: CSV import into {group.name} refused, nothing added: {reasons}")
    fixed = (await run.groups(IMPORT_MEMBERS, groupId=group_id, csv=plan.fixed_csv))[
        "importMembers"
    ]
    if fixed["imported"] != plan.rows or fixed["errors"]:
        raise ApiError(f"the fixed CSV of {group.name} did not import: {fixed}")
    run.count(2 * plan.rows)
    run.report(f"{run.plan.region}: fixed CSV imported into {group.name}: {plan.rows} members")


async def _erase(run: _Run, group: GroupPlan) -> None:
    if not group.erase_contact:
        return
    person_id = run.ids[group.erase_contact]
    erased = (await run.groups(ERASE_PERSON, personId=person_id))["erasePerson"]
    if not erased["erased"]:
        raise ApiError(f"person {person_id} was not erased: {erased}")
    run.count()
    run.report(f"{run.plan.region}: person {person_id} erased on request (erasure event sent)")


# -- meetings service ----------------------------------------------------------------------


async def _check_host(run: _Run, group: GroupPlan, meeting: MeetingPlan) -> None:
    """The planned host must be ``suggestNextHost``'s first choice, or tied with it (same
    last hosting and joining day: the service then orders by id, the plan by key)."""
    joined = {run.ids[m.key]: m.joined_on for m in group.members}
    want = run.ids[meeting.host_key]
    for _ in range(40):  # the replica may still be applying a pause or a rejoining
        suggestions = (
            await run.meetings(SUGGEST_HOST, groupId=run.ids[group.key], on=meeting.day.isoformat())
        )["suggestNextHost"]
        if suggestions:
            first = suggestions[0]
            tied = {
                s["memberId"]
                for s in suggestions
                if s["lastHostedOn"] == first["lastHostedOn"]
                and joined.get(s["memberId"]) == joined.get(first["memberId"])
            }
            if want in tied:
                return
        await asyncio.sleep(0.25)
    raise ApiError(
        f"{group.name} {meeting.day}: the plan's host {meeting.host_key} is not what "
        f"suggestNextHost proposes ({suggestions[:3]}); plan and service rules differ"
    )


async def _load_meetings(run: _Run, group: GroupPlan) -> None:
    meetings, ids = run.meetings, run.ids
    open_actions: list[tuple[str, Any]] = []  # (action id, ActionPlan) to close later

    async def close_due(until: Any) -> None:
        for item in [a for a in open_actions if until is None or a[1].closed_on <= until]:
            action_id, action = item
            await meetings(
                CLOSE_ACTION,
                input={
                    "actionId": action_id,
                    "closedOn": action.closed_on.isoformat(),
                    "outcome": action.outcome,
                },
            )
            open_actions.remove(item)
            run.count()

    for index, meeting in enumerate(group.meetings):
        await close_due(meeting.day)
        await _check_host(run, group, meeting)
        first = meeting.scheduled_at or meeting.starts_at
        created = await meetings(
            SCHEDULE,
            input={
                "groupId": ids[group.key],
                "hostMemberId": ids[meeting.host_key],
                "theme": meeting.theme,
                "startsAt": first.isoformat(),
            },
        )
        meeting_id = created["scheduleMeeting"]["id"]
        ids[f"{group.key}-meeting{index}"] = meeting_id
        run.count()
        if meeting.scheduled_at:
            await meetings(
                RESCHEDULE,
                input={"meetingId": meeting_id, "startsAt": meeting.starts_at.isoformat()},
            )
            run.count()
        for member_key, coming in meeting.rsvps:
            await meetings(
                RSVP, input={"meetingId": meeting_id, "memberId": ids[member_key], "coming": coming}
            )
            run.count()
        if meeting.status == "cancelled":
            await meetings(
                CANCEL, input={"meetingId": meeting_id, "reason": meeting.cancelled_reason}
            )
            run.count()
        if meeting.status != "held":
            continue
        await meetings(
            HELD,
            input={
                "meetingId": meeting_id,
                "attendeeMemberIds": [ids[k] for k in meeting.attendee_keys],
            },
        )
        run.count()
        if meeting.memo:
            await meetings(
                MEMO,
                input={
                    "meetingId": meeting_id,
                    "summary": meeting.memo,
                    "facilitatorId": ids.get(meeting.memo_by or ""),
                },
            )
            run.count()
        for action in meeting.actions:
            agreed = await meetings(
                AGREE_ACTION,
                input={
                    "meetingId": meeting_id,
                    "ownerMemberId": ids[action.owner_key],
                    "description": action.description,
                    "dueOn": action.due_on.isoformat(),
                },
            )
            run.count()
            if action.closed_on:
                open_actions.append((agreed["agreeAction"]["id"], action))
        for activity in meeting.activities:
            await meetings(
                ACTIVITY,
                input={
                    "meetingId": meeting_id,
                    "type": activity.type.upper(),
                    "example": activity.example,
                    "memberIds": [ids[k] for k in activity.member_keys],
                    "coderId": ids.get(activity.coder_key or ""),
                },
            )
            run.count()
        for initiative in group.initiatives:
            if initiative.meeting_index == index:
                await _load_initiative(run, meeting_id, initiative)
    await close_due(None)


async def _load_initiative(run: _Run, meeting_id: str, initiative: Any) -> None:
    started = await run.meetings(
        START_INITIATIVE,
        input={
            "meetingId": meeting_id,
            "title": initiative.title,
            "memberIds": [run.ids[k] for k in initiative.member_keys],
            "startedOn": initiative.started_on.isoformat(),
        },
    )
    run.count()
    initiative_id = started["startInitiative"]["id"]
    for status, outcome, on in initiative.updates:
        await run.meetings(
            UPDATE_INITIATIVE,
            input={
                "initiativeId": initiative_id,
                "status": status.upper(),
                "outcome": outcome,
                "updatedOn": on.isoformat(),
            },
        )
        run.count()


async def _mark_recorded(run: _Run, group: GroupPlan, timeout: float) -> None:
    """Recorded meetings (the plan chose only ones every attendee consented to); the
    consents reach the meetings service as events, so a refusal is retried for a while."""
    for index, meeting in enumerate(group.meetings):
        if not meeting.recorded:
            continue
        meeting_id = run.ids[f"{group.key}-meeting{index}"]

        async def mark(meeting_id: str = meeting_id) -> dict[str, Any]:
            return await run.meetings(MARK_RECORDED, input={"meetingId": meeting_id})

        await _retrying(mark, codes={"RECORDING_CONSENT_MISSING"}, timeout=timeout)
        run.count()


async def _retrying(
    call: Callable[[], Awaitable[dict[str, Any]]], *, codes: set[str], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await call()
        except ApiError as exc:
            if exc.code not in codes or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


# -- feedback service ----------------------------------------------------------------------


async def _record_paper_responses(run: _Run, group: GroupPlan, timeout: float) -> None:
    """Historical answers of closed surveys; a survey opens when the feedback service has
    applied the meeting's MeetingHeld, so SURVEY_NOT_FOUND is retried for a while."""
    feedback = run.feedback
    if feedback is None:
        return
    for index, meeting in enumerate(group.meetings):
        if not meeting.paper_responses:
            continue
        payload = {
            "meetingId": run.ids[f"{group.key}-meeting{index}"],
            "responses": [
                {
                    "memberId": run.ids[r.member_key],
                    "overall": r.overall,
                    "usefulness": r.usefulness,
                    "recommend": r.recommend,
                    "takeaway": r.takeaway,
                    "change": r.change,
                }
                for r in meeting.paper_responses
            ],
        }

        async def record(payload: dict[str, Any] = payload) -> dict[str, Any]:
            return await feedback(PAPER_RESPONSES, input=payload)

        await _retrying(record, codes={"SURVEY_NOT_FOUND"}, timeout=timeout)
        run.count(len(meeting.paper_responses))


async def _load_interviews(run: _Run, group: GroupPlan, timeout: float) -> None:
    """Interviews per entrepreneur; the feedback service learns members and persons from
    the groups service's events, so an unknown one is retried for a while."""
    feedback = run.feedback
    if feedback is None:
        return
    for member in group.members:
        for interview in member.interviews:
            payload = {
                "memberId": run.ids[member.key],
                "personId": run.ids[interview.person_key],
                "interviewedOn": interview.interviewed_on.isoformat(),
                "intendsToGrow": interview.intends_to_grow.upper(),
                "plannedHires": interview.planned_hires,
                "barriers": [b.upper() for b in interview.barriers],
            }

            async def record(payload: dict[str, Any] = payload) -> dict[str, Any]:
                return await feedback(INTERVIEW, input=payload)

            await _retrying(record, codes={"UNKNOWN_MEMBER", "UNKNOWN_PERSON"}, timeout=timeout)
            run.count()


def survey_links(mail_dir: Path) -> dict[str, str]:
    """The newest survey link mailed to each address, from the ``.eml`` files."""
    links: dict[str, tuple[float, str]] = {}
    for path in mail_dir.glob("*.eml"):
        try:
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            address = message["To"].addresses[0].addr_spec.lower()
        except (OSError, ValueError, IndexError, AttributeError, KeyError):
            continue
        found = _LINK.search(str(text))
        mtime = path.stat().st_mtime
        if found and (address not in links or links[address][0] < mtime):
            links[address] = (mtime, found.group(0))
    return {address: link for address, (_, link) in links.items()}


async def _answer_surveys(
    run: _Run, http: httpx.AsyncClient, mail_dir: Path, timeout: float
) -> None:
    """Answer the recent meetings' surveys as the plan says, through the survey form,
    following the links the feedback service mailed to the attendees' entrepreneurs."""
    wanted: dict[str, Any] = {}  # address -> ResponsePlan
    for group in run.plan.groups:
        for meeting in group.meetings:
            for response in meeting.responses:
                contact = group.member(response.member_key).contacts[0]
                wanted[contact.email.lower()] = response
    deadline = time.monotonic() + timeout
    while wanted:
        links = await asyncio.to_thread(survey_links, mail_dir)
        for address in [a for a in wanted if a in links]:
            response = wanted.pop(address)
            answer = await http.post(
                links[address],
                data={
                    "overall": str(response.overall),
                    "usefulness": str(response.usefulness),
                    "recommend": str(response.recommend),
                    "takeaway": response.takeaway,
                    "change": response.change,
                },
            )
            if answer.status_code not in (200, 303):
                raise ApiError(f"survey form {links[address]} answered HTTP {answer.status_code}")
            run.count()
        if not wanted:
            return
        if time.monotonic() > deadline:
            raise ApiError(
                f"{run.plan.region}: no survey mail for {len(wanted)} attendees in {mail_dir} "
                f"after {timeout:g}s: is the feedback service sending mail?"
            )
        await asyncio.sleep(0.5)
