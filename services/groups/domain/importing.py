"""Importing an agency's existing member list from CSV: validate the whole file first.

The file is all or nothing: :func:`plan_import` checks every row against the same rules as
``addMember`` and ``addContact`` (plus: no business ID twice in the file) and returns either
the members (and contacts) to add, or every invalid row with its line number and reason.
A header that cannot be read refuses the whole file with :class:`InvalidCsv`.

Columns (header names, any order; ``company_name``, ``employees`` and ``joined_on``
required, the others optional and may be left empty):
company_name, business_id, industry_code, employees, turnover_eur, balance_sheet_eur,
joined_on (YYYY-MM-DD), contact_name, contact_email, contact_phone, language (fi/sv/en).
A row with a contact needs contact_name and contact_email.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from services.groups.domain.errors import DomainError, InvalidCsv
from services.groups.domain.model import Enterprise, Group, Member
from services.groups.domain.people import Contact, Person
from shared.contracts import MemberJoined, PersonRegistered

REQUIRED = ("company_name", "employees", "joined_on")
OPTIONAL = (
    "business_id",
    "industry_code",
    "turnover_eur",
    "balance_sheet_eur",
    "contact_name",
    "contact_email",
    "contact_phone",
    "language",
)
CONTACT_COLUMNS = ("contact_name", "contact_email", "contact_phone", "language")
MAX_ROWS = 10_000
MAX_CHARS = 5_000_000


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ImportedMember:
    member: Member
    joined: MemberJoined
    person: Person | None = None
    registered: PersonRegistered | None = None


@dataclass(slots=True)
class ImportPlan:
    members: list[ImportedMember] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class _RowInvalid(Exception):
    pass


def _int(row: dict[str, str], column: str, *, required: bool = False) -> int | None:
    raw = row.get(column, "").strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        if required:
            raise _RowInvalid(f"{column} is empty; give a whole number.")
        return None
    try:
        return int(raw)
    except ValueError:
        raise _RowInvalid(f"{column} {raw!r} is not a whole number.") from None


def _date(row: dict[str, str], column: str) -> date:
    raw = row.get(column, "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _RowInvalid(f"{column} {raw!r} is not a date; write YYYY-MM-DD.") from None


def _header(reader: csv.DictReader[str]) -> list[str]:
    names = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not names:
        raise InvalidCsv("The CSV is empty; its first line must name the columns.")
    missing = [c for c in REQUIRED if c not in names]
    unknown = [c for c in names if c not in REQUIRED + OPTIONAL]
    doubled = sorted({c for c in names if names.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
    if doubled:
        problems.append(f"column(s) named twice: {', '.join(doubled)}")
    if problems:
        raise InvalidCsv(
            f"Line 1 (header): {'; '.join(problems)}. Known columns: "
            f"{', '.join(REQUIRED + OPTIONAL)}."
        )
    return names


def plan_import(group: Group, text: str, active_members: Iterable[Member] = ()) -> ImportPlan:
    """Validate every row of ``text``; the plan has members to add or errors, never both."""
    if len(text) > MAX_CHARS:
        raise InvalidCsv(
            f"The CSV has {len(text):,} characters; import at most {MAX_CHARS:,} at a time "
            "(split the file)."
        )
    text = text.removeprefix("\ufeff")  # a BOM written by spreadsheet programs
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="\x00extra")
    reader.fieldnames = _header(reader)
    plan = ImportPlan()
    current = list(active_members)
    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InvalidCsv(f"Line {reader.line_num}: the CSV cannot be read ({exc}).") from exc
        line = reader.line_num
        if not any((value or "").strip() for key, value in row.items() if key != "\x00extra"):
            continue  # blank line
        rows += 1
        if rows > MAX_ROWS:
            raise InvalidCsv(f"The CSV has more than {MAX_ROWS:,} rows; split the file.")
        try:
            imported = _row(group, row, current)
        except _RowInvalid as exc:
            plan.errors.append(RowError(line, str(exc)))
            continue
        except DomainError as exc:
            plan.errors.append(RowError(line, exc.message))
            continue
        current.append(imported.member)
        plan.members.append(imported)
    if plan.errors:
        plan.members = []
    elif not plan.members:
        raise InvalidCsv("The CSV has a header but no rows; there is nothing to import.")
    return plan


def _row(group: Group, row: dict[str, str | list[str]], current: list[Member]) -> ImportedMember:
    if "\x00extra" in row:
        raise _RowInvalid(f"the row has more values than the header has columns ({len(row) - 1}).")
    values = {key: (value or "") for key, value in row.items() if isinstance(value, str)}
    if any(value is None for value in row.values()):
        raise _RowInvalid("the row has fewer values than the header has columns.")
    enterprise = Enterprise(
        company_name=values["company_name"],
        employees=_int(values, "employees", required=True) or 0,
        turnover_eur=_int(values, "turnover_eur"),
        balance_sheet_eur=_int(values, "balance_sheet_eur"),
        business_id=values.get("business_id"),
        industry_code=values.get("industry_code"),
    )
    joined_on = _date(values, "joined_on")
    member, joined = group.admit(enterprise, joined_on=joined_on, active_members=current)
    if not any(values.get(c, "").strip() for c in CONTACT_COLUMNS):
        return ImportedMember(member, joined)
    if not values.get("contact_name", "").strip() or not values.get("contact_email", "").strip():
        raise _RowInvalid("a contact needs both contact_name and contact_email.")
    contact = Contact(
        name=values["contact_name"],
        email=values["contact_email"],
        phone=values.get("contact_phone", ""),
        language=values.get("language", ""),
    )
    person, registered = Person.register(
        member_id=member.id, contact=contact, company=member.enterprise.company_name
    )
    return ImportedMember(member, joined, person, registered)
