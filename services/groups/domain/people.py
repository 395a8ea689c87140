"""A member's contact entrepreneur (aggregate ``Person``) and their consents.

Name, email and phone stay in the region: the events carry the person's id only. Consent is
recorded per purpose; every give and withdraw is kept in ``consent_history`` with its time,
the state of a purpose is its latest entry.

Erasure on request blanks name, email and phone for good (the row stays so that the person's
id, member and consent history remain as pseudonymous facts: who agreed to what and when is
the evidence that earlier recordings and research use were lawful). Consents still in force
are withdrawn at the moment of erasure. An erased person cannot be changed any more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, get_args
from uuid import UUID, uuid4

from services.groups.domain.rules import check_email
from shared.contracts import ConsentGiven, ConsentWithdrawn, PersonErased, PersonRegistered
from shared.contracts.groups import ConsentPurpose, Language
from shared.errors.people import (
    ConsentAlreadyGiven,
    ConsentNotGiven,
    ConsentTimeBeforeLastChange,
    ContactAlreadyRegistered,
    InvalidConsentPurpose,
    InvalidLanguage,
    InvalidPersonName,
    InvalidPhone,
    PersonAlreadyErased,
)

PERSON_NAME_MAX = 200
PURPOSES: tuple[str, ...] = get_args(ConsentPurpose)
LANGUAGES: tuple[str, ...] = get_args(Language)
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,28}[0-9]")

ConsentAction = Literal["given", "withdrawn"]
PersonEvent = PersonRegistered | ConsentGiven | ConsentWithdrawn | PersonErased


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact's personal data, validated and normalised by :meth:`validated`."""

    name: str
    email: str
    phone: str = ""
    language: str = "fi"

    def validated(self) -> Contact:
        name = self.name.strip()
        if not name or len(name) > PERSON_NAME_MAX:
            raise InvalidPersonName(max=PERSON_NAME_MAX, length=len(name))
        email = check_email(self.email)
        phone = self.phone.strip()
        if phone and not _PHONE.fullmatch(phone):
            raise InvalidPhone(phone=phone[:40])
        language = self.language.strip().lower() or "fi"
        if language not in LANGUAGES:
            raise InvalidLanguage(language=self.language[:20], languages=LANGUAGES)
        return Contact(name, email, phone, language)


@dataclass(frozen=True, slots=True)
class ConsentChange:
    purpose: ConsentPurpose
    action: ConsentAction
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsentState:
    purpose: ConsentPurpose
    given: bool
    given_at: datetime | None
    withdrawn_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime | None) -> datetime:
    if at is None:
        return _now()
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _purpose(purpose: str) -> ConsentPurpose:
    if purpose not in PURPOSES:
        raise InvalidConsentPurpose(purpose=purpose[:40], purposes=PURPOSES)
    return purpose  # type: ignore[return-value]  # checked against PURPOSES


@dataclass(slots=True)
class Person:
    """A contact entrepreneur of one member (aggregate)."""

    id: UUID
    member_id: UUID
    name: str
    email: str
    phone: str
    language: Language
    version: int = 0
    erased_at: datetime | None = None
    consent_history: list[ConsentChange] = field(default_factory=list)

    @classmethod
    def register(
        cls,
        *,
        member_id: UUID,
        contact: Contact,
        company: str = "",
        existing: Iterable[Person] = (),
        person_id: UUID | None = None,
    ) -> tuple[Person, PersonRegistered]:
        """Register ``contact`` for a member; ``existing`` are the member's other contacts."""
        valid = contact.validated()
        for other in existing:
            if other.erased_at is None and other.email.lower() == valid.email.lower():
                raise ContactAlreadyRegistered(
                    email=valid.email, company=company, person_id=other.id
                )
        person = cls(
            person_id or uuid4(),
            member_id,
            valid.name,
            valid.email,
            valid.phone,
            valid.language,  # type: ignore[arg-type]  # checked against LANGUAGES
            version=1,
        )
        event = PersonRegistered(person_id=person.id, member_id=member_id, language=person.language)
        return person, event

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    def consents(self) -> list[ConsentState]:
        """The state of every purpose, in the order of ``PURPOSES``."""
        states = []
        for purpose in PURPOSES:
            given_at = withdrawn_at = None
            for change in self.consent_history:
                if change.purpose != purpose:
                    continue
                if change.action == "given":
                    given_at, withdrawn_at = change.at, None
                else:
                    withdrawn_at = change.at
            given = given_at is not None and withdrawn_at is None
            states.append(ConsentState(purpose, given, given_at, withdrawn_at))  # type: ignore[arg-type]
        return states

    def has_consent(self, purpose: str) -> bool:
        return any(s.given for s in self.consents() if s.purpose == purpose)

    def _check_not_erased(self) -> None:
        if self.erased_at is not None:
            raise PersonAlreadyErased(self.id, self.erased_at)

    def _last_change(self, purpose: str) -> ConsentChange | None:
        changes = [c for c in self.consent_history if c.purpose == purpose]
        return changes[-1] if changes else None

    def _check_time(self, purpose: str, at: datetime) -> None:
        last = self._last_change(purpose)
        if last is not None and at < last.at:
            raise ConsentTimeBeforeLastChange(purpose=purpose, at=at, last=last.at)

    def give_consent(self, purpose: str, *, at: datetime | None = None) -> ConsentGiven:
        self._check_not_erased()
        checked, when = _purpose(purpose), _aware(at)
        last = self._last_change(checked)
        if last is not None and last.action == "given":
            raise ConsentAlreadyGiven(person_id=self.id, purpose=checked, given_at=last.at)
        self._check_time(checked, when)
        self.consent_history.append(ConsentChange(checked, "given", when))
        self.version += 1
        return ConsentGiven(
            person_id=self.id, member_id=self.member_id, purpose=checked, given_at=when
        )

    def withdraw_consent(self, purpose: str, *, at: datetime | None = None) -> ConsentWithdrawn:
        self._check_not_erased()
        checked, when = _purpose(purpose), _aware(at)
        last = self._last_change(checked)
        if last is None or last.action != "given":
            raise ConsentNotGiven(person_id=self.id, purpose=checked)
        self._check_time(checked, when)
        return self._withdraw(checked, when)

    def _withdraw(self, purpose: ConsentPurpose, at: datetime) -> ConsentWithdrawn:
        self.consent_history.append(ConsentChange(purpose, "withdrawn", at))
        self.version += 1
        return ConsentWithdrawn(
            person_id=self.id, member_id=self.member_id, purpose=purpose, withdrawn_at=at
        )

    def erase(self, *, at: datetime | None = None) -> list[PersonEvent]:
        """Blank the personal data; withdraw the consents in force first (their events come
        before ``PersonErased``). Each event raises the version by one."""
        self._check_not_erased()
        when = _aware(at)
        events: list[PersonEvent] = []
        for state in self.consents():
            if state.given:
                last = self._last_change(state.purpose)
                withdrawn_at = max(when, last.at) if last is not None else when
                events.append(self._withdraw(state.purpose, withdrawn_at))
        self.name = self.email = self.phone = ""
        self.erased_at = when
        self.version += 1
        events.append(PersonErased(person_id=self.id, member_id=self.member_id, erased_at=when))
        return events
