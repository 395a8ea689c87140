"""The words a page shows for the services' values (statuses, purposes, ...), translated."""

from __future__ import annotations

from typing import Any

from services.console.i18n import _
from shared.i18n import LANGUAGE_NAMES


def status_name(status: str) -> str:
    names = {"ACTIVE": _("Active"), "PAUSED": _("Paused"), "LEFT": _("Left")}
    return names.get(status.upper(), status)


def step_name(kind: str) -> str:
    names = {
        "JOINED": _("Joined"),
        "PAUSED": _("Paused"),
        "LEFT": _("Left"),
        "REJOINED": _("Rejoined"),
    }
    return names.get(kind.upper(), kind)


def purpose_name(purpose: str) -> str:
    names = {
        "RESEARCH_USE": _("use of the data in research"),
        "AUDIO_RECORDING": _("audio recording of the meetings"),
        "CONTACT_SHARING": _("sharing contact details with the group"),
    }
    return names.get(purpose.upper(), purpose)


def language_name(code: str) -> str:
    """The language's own name (suomi, svenska, English)."""
    return LANGUAGE_NAMES.get(code.lower(), code)


def mail_kind(kind: str) -> str:
    names = {"invitation": _("Invitation"), "reminder": _("Reminder")}
    return names.get(kind.lower(), kind)


def intention_name(value: str) -> str:
    names = {"YES": _("Yes"), "NO": _("No"), "UNSURE": _("Not sure")}
    return names.get(value.upper(), value)


def barrier_name(value: str) -> str:
    names = {
        "FINANCING": _("Financing"),
        "FINDING_EMPLOYEES": _("Finding employees"),
        "TIME": _("The owner's time"),
        "MARKET_DEMAND": _("Market demand"),
        "COMPETENCE": _("Skills and know-how"),
        "REGULATION": _("Regulation"),
        "OWNER_WELLBEING": _("The owner's wellbeing"),
        "LOCATION": _("Location"),
        "OTHER": _("Other"),
    }
    return names.get(value.upper(), value)


NAMES: dict[str, Any] = {  # passed to the templates that show these values
    "status_name": status_name,
    "step_name": step_name,
    "purpose_name": purpose_name,
    "language_name": language_name,
    "mail_kind": mail_kind,
    "intention_name": intention_name,
    "barrier_name": barrier_name,
}
