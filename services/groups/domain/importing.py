"""Importing an agency's existing member list from CSV: validate the whole file first.

The file is all or nothing: :func:`plan_import` checks every row against the same rules as
``addMember`` and ``addContact`` (plus: no business ID twice in the file) and returns either
the members (and contacts) to add, or every invalid row with its line number and reason.
A header that cannot be read refuses the whole file with :class:`InvalidCsv`.

Columns (header names, any order; ``company_name``, ``employees`` and ``joined_on``
required, the others optional and may be left empty):
company_name, business_id, industry_code, employees, turnover_eur, balance_sheet_eur,
joined_on (2026-12-01 or 1.12.2026), contact_name, contact_email, contact_phone, language
(fi/sv/en). A row with a contact needs contact_name and contact_email.

Every row error is a refusal of the shared vocabulary (code, field = the column, params), so
it reads in the reader's language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from services.groups.domain.enterprise import Enterprise
from services.groups.domain.model import Group, Member
from services.groups.domain.people import Contact, Person
from shared.contracts import MemberJoined, PersonRegistered
from shared.errors import DomainError
from shared.errors.csv_import import (
    CsvContactIncomplete,
    CsvDoubledColumns,
    CsvEmpty,
    CsvMissingColumns,
    CsvNoRows,
    CsvNotANumber,
    CsvNumberRequired,
    CsvTooFewValues,
    CsvTooLarge,
    CsvTooManyRows,
    CsvTooManyValues,
    CsvUnknownColumns,
    CsvUnreadable,
)
from shared.errors.dates import InvalidDate
from shared.i18n.formats import FormatError, parse_date

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
    error: DomainError

    @property
    def reason(self) -> str:
        """The error in the reader's language."""
        return self.error.render()


@dataclass(frozen=True, slots=True)
class ImportedMember:
    line: int  # in the file; the header is line 1
    member: Member
    joined: MemberJoined
    person: Person | None = None
    registered: PersonRegistered | None = None


@dataclass(slots=True)
class ImportPlan:
    members: list[ImportedMember] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _int(row: dict[str, str], column: str, *, required: bool = False) -> int | None:
    raw = row.get(column, "").strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        if required:
            raise CsvNumberRequired(field=column, column=column)
        return None
    try:
        return int(raw)
    except ValueError:
        raise CsvNotANumber(field=column, column=column, value=raw[:40]) from None


def _date(row: dict[str, str], column: str) -> date:
    raw = row.get(column, "").strip()
    try:
        return parse_date(raw)
    except FormatError:
        raise InvalidDate(raw[:40], field=column) from None


def _header(reader: csv.DictReader[str]) -> list[str]:
    names = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not names:
        raise CsvEmpty()
    known = REQUIRED + OPTIONAL
    unknown = [c for c in names if c not in known]
    if unknown:  # first: a misspelt column is also a missing one
        raise CsvUnknownColumns(columns=unknown, known=known)
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise CsvMissingColumns(columns=missing, known=known)
    doubled = sorted({c for c in names if names.count(c) > 1})
    if doubled:
        raise CsvDoubledColumns(columns=doubled)
    return names


def plan_import(
    group: Group, text: str, active_members: Iterable[Member] = (), *, today: date
) -> ImportPlan:
    """Validate every row of ``text``; the plan has members to add or errors, never both."""
    if len(text) > MAX_CHARS:
        raise CsvTooLarge(chars=len(text), max=MAX_CHARS)
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
            raise CsvUnreadable(line=reader.line_num, problem=str(exc)) from exc
        line = reader.line_num
        if not any((value or "").strip() for key, value in row.items() if key != "\x00extra"):
            continue  # blank line
        rows += 1
        if rows > MAX_ROWS:
            raise CsvTooManyRows(max=MAX_ROWS)
        try:
            imported = _row(line, group, row, current, today)
        except DomainError as exc:
            plan.errors.append(RowError(line, exc))
            continue
        current.append(imported.member)
        plan.members.append(imported)
    if plan.errors:
        plan.members = []
    elif not plan.members:
        raise CsvNoRows()
    return plan


def _row(
    line: int, group: Group, row: dict[str, str | list[str]], current: list[Member], today: date
) -> ImportedMember:
    if "\x00extra" in row:
        raise CsvTooManyValues(columns=len(row) - 1)
    values = {key: (value or "") for key, value in row.items() if isinstance(value, str)}
    if any(value is None for value in row.values()):
        raise CsvTooFewValues(columns=len(row))
    enterprise = Enterprise(
        company_name=values["company_name"],
        employees=_int(values, "employees", required=True) or 0,
        turnover_eur=_int(values, "turnover_eur"),
        balance_sheet_eur=_int(values, "balance_sheet_eur"),
        business_id=values.get("business_id"),
        industry_code=values.get("industry_code"),
    )
    joined_on = _date(values, "joined_on")
    member, joined = group.admit(
        enterprise, joined_on=joined_on, today=today, active_members=current
    )
    if not any(values.get(c, "").strip() for c in CONTACT_COLUMNS):
        return ImportedMember(line, member, joined)
    if not values.get("contact_name", "").strip() or not values.get("contact_email", "").strip():
        raise CsvContactIncomplete()
    contact = Contact(
        name=values["contact_name"],
        email=values["contact_email"],
        phone=values.get("contact_phone", ""),
        language=values.get("language", ""),
    )
    person, registered = Person.register(
        member_id=member.id, contact=contact, company=member.enterprise.company_name
    )
    return ImportedMember(line, member, joined, person, registered)
