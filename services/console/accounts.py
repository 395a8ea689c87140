"""Staff accounts: roles, passwords (argon2id, argon2-cffi), group assignments.

Roles: ``admin`` (staff, API tokens, the audit trail, every group) and ``facilitator``
(the groups assigned to them). Usernames are stored in lower case. A disabled account
cannot sign in and its sessions end at once.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal
from uuid import UUID, uuid4

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.i18n import _
from services.console.orm import SessionRow, StaffGroupRow, StaffRow

Role = Literal["admin", "facilitator"]
ROLES: Final[tuple[Role, ...]] = ("admin", "facilitator")
MIN_PASSWORD: Final = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,119}$")
_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters
# verified when the username is unknown, so a wrong name takes as long as a wrong password
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about an account that cannot be done; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Staff:
    id: UUID
    username: str
    display_name: str
    email: str
    role: Role
    language: str
    disabled: bool
    groups: frozenset[UUID] = field(default_factory=frozenset)
    has_password: bool = True

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_access_group(self, group_id: UUID | str) -> bool:
        """Admins reach every group; a facilitator only the groups assigned to them."""
        if self.is_admin:
            return True
        try:
            wanted = group_id if isinstance(group_id, UUID) else UUID(str(group_id))
        except ValueError:
            return False
        return wanted in self.groups


def normalise_username(username: str) -> str:
    return unicodedata.normalize("NFKC", username).strip().lower()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            _("The password is too short: at least {count} characters.", count=MIN_PASSWORD),
            "password",
        )


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _staff(row: StaffRow, groups: frozenset[UUID]) -> Staff:
    return Staff(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        role="admin" if row.role == "admin" else "facilitator",
        language=row.language,
        disabled=row.disabled_at is not None,
        groups=groups,
        has_password=bool(row.password_hash),
    )


class StaffStore:
    """Accounts in the console's database, through one session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _groups(self, staff_id: UUID) -> frozenset[UUID]:
        rows = await self.session.scalars(
            select(StaffGroupRow.group_id).where(StaffGroupRow.staff_id == staff_id)
        )
        return frozenset(rows)

    async def _row(self, username: str) -> StaffRow | None:
        return await self.session.scalar(
            select(StaffRow).where(StaffRow.username == normalise_username(username))
        )

    async def get(self, staff_id: UUID) -> Staff | None:
        row = await self.session.get(StaffRow, staff_id)
        return None if row is None else await self.of_row(row)

    async def of_row(self, row: StaffRow) -> Staff:
        """The account of a row already read (with its groups)."""
        return _staff(row, await self._groups(row.id))

    async def by_username(self, username: str) -> Staff | None:
        row = await self._row(username)
        return None if row is None else _staff(row, await self._groups(row.id))

    async def by_sign_in(self, subject: str, email: str) -> Staff | None:
        """The account of an OpenID Connect sign-in: by subject, else the one account with
        this email and no subject yet (then linked to the subject)."""
        row = await self.session.scalar(select(StaffRow).where(StaffRow.oidc_subject == subject))
        if row is None and email:
            found = list(
                await self.session.scalars(
                    select(StaffRow).where(
                        func.lower(StaffRow.email) == email.lower(),
                        StaffRow.oidc_subject.is_(None),
                    )
                )
            )
            if len(found) == 1:
                row = found[0]
                row.oidc_subject = subject
                await self.session.flush()
        return None if row is None else _staff(row, await self._groups(row.id))

    async def link_subject(self, staff_id: UUID, subject: str) -> None:
        await self.session.execute(
            update(StaffRow).where(StaffRow.id == staff_id).values(oidc_subject=subject)
        )

    async def all(self) -> list[Staff]:
        rows = list(await self.session.scalars(select(StaffRow).order_by(StaffRow.username)))
        links = await self.session.scalars(select(StaffGroupRow))
        groups: dict[UUID, set[UUID]] = {}
        for link in links:
            groups.setdefault(link.staff_id, set()).add(link.group_id)
        return [_staff(r, frozenset(groups.get(r.id, ()))) for r in rows]

    async def add(
        self,
        username: str,
        *,
        role: str,
        password: str | None,
        display_name: str = "",
        email: str = "",
        language: str = "",
        groups: tuple[UUID, ...] = (),
    ) -> Staff:
        name = normalise_username(username)
        if not _USERNAME.match(name):
            raise AccountError(
                _("A username has 2-120 letters a-z, digits and . _ @ - (no spaces)."), "username"
            )
        if role not in ROLES:
            raise AccountError(_("Choose the role: admin or facilitator."), "role")
        if await self._row(name) is not None:
            raise AccountError(_("The username {name} is taken.", name=name), "username")
        if password is not None:
            check_password_rules(password)
        row = StaffRow(
            id=uuid4(),
            username=name,
            display_name=display_name.strip() or name,
            email=email.strip(),
            role=role,
            password_hash=hash_password(password) if password else "",
            language=language,
            created_at=datetime.now(UTC),
        )
        self.session.add(row)
        await self.session.flush()
        await self.set_groups(row.id, groups)
        return _staff(row, frozenset(groups))

    async def set_groups(self, staff_id: UUID, groups: tuple[UUID, ...] | frozenset[UUID]) -> None:
        await self.session.execute(delete(StaffGroupRow).where(StaffGroupRow.staff_id == staff_id))
        for group_id in dict.fromkeys(groups):
            self.session.add(StaffGroupRow(staff_id=staff_id, group_id=group_id))
        await self.session.flush()

    async def update(
        self, staff_id: UUID, *, display_name: str, email: str, role: str, language: str
    ) -> None:
        if role not in ROLES:
            raise AccountError(_("Choose the role: admin or facilitator."), "role")
        row = await self.session.get(StaffRow, staff_id)
        if row is None:
            raise AccountError(_("There is no such account."), "username")
        row.display_name = display_name.strip()[:200] or row.username
        row.email = email.strip()[:254]
        row.role = role
        row.language = language
        await self.session.flush()

    async def set_password(self, staff_id: UUID, password: str) -> None:
        check_password_rules(password)
        await self.session.execute(
            update(StaffRow)
            .where(StaffRow.id == staff_id)
            .values(password_hash=hash_password(password))
        )

    async def set_language(self, staff_id: UUID, language: str) -> None:
        await self.session.execute(
            update(StaffRow).where(StaffRow.id == staff_id).values(language=language)
        )

    async def disable(self, username: str) -> Staff:
        """Disable the account and end its sessions."""
        row = await self._row(username)
        if row is None:
            raise AccountError(
                _("There is no account {name}.", name=normalise_username(username)), "username"
            )
        now = datetime.now(UTC)
        if row.disabled_at is None:
            row.disabled_at = now
        await self.session.execute(
            update(SessionRow)
            .where(SessionRow.staff_id == row.id, SessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self.session.flush()
        return _staff(row, await self._groups(row.id))

    async def enable(self, username: str) -> Staff:
        row = await self._row(username)
        if row is None:
            raise AccountError(
                _("There is no account {name}.", name=normalise_username(username)), "username"
            )
        row.disabled_at = None
        await self.session.flush()
        return _staff(row, await self._groups(row.id))

    async def authenticate(self, username: str, password: str) -> Staff | None:
        """The account if the password is right and the account enabled; else None (taking
        as long for an unknown name as for a wrong password)."""
        row = await self._row(username)
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled_at is not None:
            return None
        if _HASHER.check_needs_rehash(stored):
            row.password_hash = hash_password(password)
        return _staff(row, await self._groups(row.id))
