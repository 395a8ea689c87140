"""Plain-Python rules of core groups and their members; imports no framework.

Its refusals are the shared vocabulary's (:mod:`shared.errors.groups`).
"""

from services.groups.domain.enterprise import Enterprise
from services.groups.domain.importing import ImportedMember, ImportPlan, RowError, plan_import
from services.groups.domain.model import (
    Facilitator,
    Group,
    Member,
    MembershipChange,
)
from services.groups.domain.people import (
    ConsentChange,
    ConsentState,
    Contact,
    Person,
    PersonEvent,
)
from services.groups.domain.rules import business_id_check_digit

__all__ = [
    "ConsentChange",
    "ConsentState",
    "Contact",
    "Enterprise",
    "Facilitator",
    "Group",
    "ImportPlan",
    "ImportedMember",
    "Member",
    "MembershipChange",
    "Person",
    "PersonEvent",
    "RowError",
    "business_id_check_digit",
    "plan_import",
]
