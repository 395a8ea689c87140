"""The member form: what was typed, read into the groups service's input, and what to say
at each field.

The form keeps every value exactly as typed (nothing lost on a bad form). Reading it only
does what the service cannot: numbers written the Finnish way (``250 000``) and dates
(``1.4.2016`` or ``2016-04-01``). Every rule about the values themselves (business ID,
micro-enterprise size, TOL 2008 code, join date) is the groups service's, asked with
``validateMember`` before saving and shown at the field it names. A likely duplicate is a
warning: the form is shown again with it, and "save anyway" saves only while the warnings
are the same ones the user saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.console.backend import Problem
from services.console.i18n import _
from services.console.pages.lookup import read_date

FIELDS = (
    "company_name",
    "business_id",
    "industry_code",
    "employees",
    "turnover_eur",
    "balance_sheet_eur",
    "joined_on",
    "address",
)
NUMBERS = ("employees", "turnover_eur", "balance_sheet_eur")
API_NAMES = {
    "company_name": "companyName",
    "business_id": "businessId",
    "industry_code": "industryCode",
    "employees": "employees",
    "turnover_eur": "turnoverEur",
    "balance_sheet_eur": "balanceSheetEur",
    "joined_on": "joinedOn",
    "address": "address",
}  # the form's names -> the API's
_SPACES = str.maketrans("", "", " \u00a0\u202f")


@dataclass(slots=True)
class MemberForm:
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @classmethod
    def empty(cls, **values: str) -> MemberForm:
        return cls({name: values.get(name, "") for name in FIELDS})

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> MemberForm:
        return cls({name: str(form.get(name, "") or "").strip() for name in FIELDS})

    @classmethod
    def from_member(cls, member: Mapping[str, Any], shown: Mapping[str, str]) -> MemberForm:
        """A saved member (``shown``: its date and figures as the reader writes them)."""
        values = {}
        for name, api in API_NAMES.items():
            value = member.get(api)
            values[name] = shown.get(name, "" if value is None else str(value))
        return cls(values)

    @property
    def errors(self) -> dict[str, str]:
        """``{field: message}`` for the form macros (``""``: not about one field)."""
        return {p.field: p.message for p in self.problems}

    @property
    def warning_key(self) -> str:
        """Which warnings the user saw: "save anyway" counts only for the same ones."""
        return ",".join(sorted(f"{w.code}:{w.params.get('member_id', '')}" for w in self.warnings))

    def confirmed(self, key: object) -> bool:
        """No warnings, or the same ones the user chose to save anyway."""
        return not self.warnings or key == self.warning_key

    def warning(self, name: str) -> Problem | None:
        return next((w for w in self.warnings if w.field == name), None)

    def add(self, problem: Problem) -> None:
        """One problem a field (the first said)."""
        if not problem.field or problem.field not in self.errors:
            self.problems.append(problem)

    def read(self) -> dict[str, Any]:
        """The values as the API takes them (its names); what cannot be read becomes a
        problem at its field and is left out, so the service still checks the rest."""
        read: dict[str, Any] = {}
        for name in ("company_name", "business_id", "industry_code", "address"):
            if self.values[name]:
                read[API_NAMES[name]] = self.values[name]
        for name in NUMBERS:
            raw = self.values[name].translate(_SPACES)
            if not raw:
                continue
            try:
                read[API_NAMES[name]] = int(raw)
            except ValueError:
                message = _(
                    "{value} is not a whole number: write digits only, e.g. 250 000.",
                    value=self.values[name],
                )
                self.add(Problem("NOT_A_NUMBER", message, name))
        if self.values["joined_on"]:
            day, problem = read_date(self.values["joined_on"], "joined_on")
            if problem is not None:
                self.add(problem)
            else:
                read["joinedOn"] = day
        return read

    def changes(self, saved: Mapping[str, Any], read: Mapping[str, Any]) -> dict[str, Any]:
        """What ``updateMember`` gets for an edited form: every text field (empty clears the
        business ID, industry code or address), the figures given. A figure once given can
        be corrected but not removed: emptying it is a problem at its field."""
        changes = {
            API_NAMES[n]: self.values[n] for n in ("business_id", "industry_code", "address")
        }
        changes["companyName"] = self.values["company_name"]
        for name in NUMBERS:
            api = API_NAMES[name]
            if api in read:
                changes[api] = read[api]
            elif not self.values[name] and saved.get(api) is not None:
                message = _("Give the figure: it can be corrected, not removed.")
                self.add(Problem("REQUIRED", message, name))
        return changes

    def require(self, *names: str) -> None:
        """Required fields left empty become problems at their field."""
        messages = {
            "company_name": _("Give the company's name."),
            "employees": _("Give the number of employees (0 if the owner works alone)."),
            "joined_on": _("Give the date the company joined the group."),
        }
        for name in names:
            if not self.values[name]:
                self.add(Problem("REQUIRED", messages[name], name))
