"""The replica of people's consents, as the groups service's events describe them.

Consent events may arrive out of order or twice: per person and purpose the latest
statement by its own timestamp wins (a withdrawal at the same instant wins over a
consent). An erased person is forgotten for good: later-arriving events about it change
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from shared.errors.meetings import MemberWithoutConsent, MemberWithoutPerson

AUDIO = "audio_recording"


@dataclass(frozen=True, slots=True)
class ConsentState:
    given: bool
    at: datetime

    def apply(self, *, given: bool, at: datetime) -> ConsentState:
        if at > self.at or (at == self.at and not given and self.given):
            return ConsentState(given, at)
        return self


@dataclass(frozen=True, slots=True)
class Person:
    person_id: UUID
    member_id: UUID
    registered: bool
    erased: bool


@dataclass(frozen=True, slots=True)
class Names:
    """What the groups service says people are called: company names by member id,
    person names by person id (personal data: used for a message, never stored)."""

    members: Mapping[UUID, str] = field(default_factory=dict)
    persons: Mapping[UUID, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordingProblem:
    """Why an attending member blocks a recording: ``persons`` registered persons (0: none
    at all), ``person_ids`` those without audio consent."""

    persons: int = 0
    person_ids: tuple[UUID, ...] = ()

    def refusal(self, member_id: UUID, names: Names | None = None) -> MemberWithoutConsent:
        """The member's part of the refusal, with the names ``names`` knows."""
        known = names or Names()
        company = known.members.get(member_id, "")
        if not self.persons:
            return MemberWithoutPerson(member_id, company_name=company)
        return MemberWithoutConsent(
            member_id,
            company_name=company,
            persons=self.persons,
            person_ids=self.person_ids,
            person_names=[known.persons.get(p) or str(p) for p in self.person_ids],
        )


def recording_problems(
    attendee_ids: Sequence[UUID],
    persons: Sequence[Person],
    audio: Mapping[UUID, bool],
) -> dict[UUID, RecordingProblem]:
    """Attendees who do not consent to recording, with why. A member consents when it has
    at least one registered person and every registered person's audio consent holds."""
    by_member: dict[UUID, list[Person]] = {}
    for person in persons:
        if person.registered and not person.erased:
            by_member.setdefault(person.member_id, []).append(person)
    problems: dict[UUID, RecordingProblem] = {}
    for member_id in attendee_ids:
        people = by_member.get(member_id, [])
        if not people:
            problems[member_id] = RecordingProblem()
            continue
        without = tuple(p.person_id for p in people if not audio.get(p.person_id, False))
        if without:
            problems[member_id] = RecordingProblem(len(people), without)
    return problems
