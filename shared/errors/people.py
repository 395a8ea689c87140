"""Refusals of the groups service about people: facilitators, contact persons, consent."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.errors import DomainError
from shared.i18n import N_


class InvalidFacilitatorName(DomainError):
    code = "INVALID_FACILITATOR_NAME"
    default_field = "name"
    message = N_("A facilitator needs a name of 1 to {max} characters; this one has {length}.")


class InvalidFacilitatorRole(DomainError):
    code = "INVALID_FACILITATOR_ROLE"
    default_field = "role"
    message = N_("Facilitator role {role} is unknown; use one of {roles}.")


class FacilitatorAlreadyAssigned(DomainError):
    code = "FACILITATOR_ALREADY_ASSIGNED"
    default_field = "email"
    message = N_(
        "The facilitator with email {email} already facilitates {group}; remove them first "
        "to change their role."
    )


class FacilitatorNotFound(DomainError):
    code = "FACILITATOR_NOT_FOUND"
    default_field = "facilitator_id"
    message = N_(
        "{group} has no facilitator with id {facilitator_id}; the group's facilitators field "
        "lists them."
    )


# -- contact persons and consent -------------------------------------------------------------


class InvalidEmail(DomainError):
    code = "INVALID_EMAIL"
    default_field = "email"
    message = N_("{email} is not an email address; write it as name@example.fi.")


class InvalidPersonName(DomainError):
    code = "INVALID_PERSON_NAME"
    default_field = "name"
    message = N_("A contact needs a name of 1 to {max} characters; this one has {length}.")


class InvalidPhone(DomainError):
    code = "INVALID_PHONE"
    default_field = "phone"
    message = N_(
        "{phone} is not a phone number; write digits, optionally with a leading + and spaces "
        "or hyphens, e.g. +358 40 123 4567."
    )


class InvalidLanguage(DomainError):
    code = "INVALID_LANGUAGE"
    default_field = "language"
    message = N_("Language {language} is not offered; use one of {languages}.")


class ContactAlreadyRegistered(DomainError):
    code = "CONTACT_ALREADY_REGISTERED"
    default_field = "email"
    message = N_(
        "{company} already has the contact {email}; a contact is registered once per member."
    )


class PersonNotFound(DomainError):
    code = "PERSON_NOT_FOUND"
    default_field = "person_id"
    message = N_(
        "There is no person with id {person_id} in this region; check the id "
        "(a member's contacts field lists them)."
    )

    def __init__(self, person_id: UUID) -> None:
        super().__init__(person_id=person_id)


class PersonAlreadyErased(DomainError):
    code = "PERSON_ERASED"
    default_field = "person_id"
    message = N_(
        "The personal data of person {person_id} was erased on {erased_at}; an erased person "
        "cannot be changed or erased again."
    )

    def __init__(self, person_id: UUID, erased_at: datetime) -> None:
        super().__init__(person_id=person_id, erased_at=erased_at)


class InvalidConsentPurpose(DomainError):
    code = "INVALID_CONSENT_PURPOSE"
    default_field = "purpose"
    message = N_("Consent purpose {purpose} is unknown; use one of {purposes}.")


class ConsentAlreadyGiven(DomainError):
    code = "CONSENT_ALREADY_GIVEN"
    default_field = "purpose"
    message = N_(
        "Person {person_id} gave consent for {purpose} on {given_at} and has not withdrawn "
        "it; there is nothing to give again."
    )


class ConsentNotGiven(DomainError):
    code = "CONSENT_NOT_GIVEN"
    default_field = "purpose"
    message = N_(
        "Person {person_id} has not given consent for {purpose} (or withdrew it already); "
        "only a consent in force can be withdrawn."
    )


class ConsentTimeBeforeLastChange(DomainError):
    code = "CONSENT_TIME_BEFORE_LAST_CHANGE"
    default_field = "at"
    message = N_(
        "The consent for {purpose} last changed on {last}; a change on {at} would come before "
        "it. Give a later time or none (now)."
    )
