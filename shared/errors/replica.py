"""Refusals of services that keep a replica of the groups service's members (meetings,
feedback): a member the replica has not received (yet)."""

from __future__ import annotations

from uuid import UUID

from shared.errors import DomainError
from shared.i18n import N_


class UnknownMember(DomainError):
    code = "UNKNOWN_MEMBER"
    default_field = "member_id"
    message = N_(
        "Member {member_id} is not known here yet: check the id in the groups service; a "
        "member added a moment ago arrives within seconds, so try again shortly."
    )

    def __init__(self, member_id: UUID) -> None:
        super().__init__(member_id=member_id)
