"""Roles and the :class:`Guard`: what one caller may see of each region.

Three roles (issue 5, "who may see what"):

* ``researcher`` (national researcher): every region in full, pseudonymous detail (the read
  model holds no personal data: ids are pseudonyms);
* ``agency`` (a regional agency, bound to one region): its own region in full detail, every
  other region only as aggregates (counts, rates, k-anonymous figures);
* ``public``: national aggregates only (totals over all regions, no per-region breakdown).

The API other modules use is two calls: ``guard.level(region)`` says how much of ``region``
the caller sees (``region=None``: the nation as a whole), ``guard.allows(needed, region)``
whether that is at least ``needed``. :class:`Level` is ordered::

    NONE < NATIONAL < REGIONAL < FULL

A research view that shows per-region counts needs ``REGIONAL`` for each region it shows;
one that shows national totals needs ``NATIONAL``; anything that lists rows (groups,
members, meetings, activities with their example texts, ...) needs ``FULL`` for the row's
region. ``guard.require(...)`` raises :class:`AccessDenied` with a message naming the role,
the region and what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Role(StrEnum):
    RESEARCHER = "researcher"
    AGENCY = "agency"
    PUBLIC = "public"


class Level(IntEnum):
    """How much of a region (or of the nation) a caller sees; higher sees more."""

    NONE = 0
    NATIONAL = 1  # totals over every region
    REGIONAL = 2  # per-region aggregates
    FULL = 3  # rows, by pseudonymous id


class AccessDenied(Exception):
    """The caller's role does not reach what it asked for (HTTP 403, GraphQL FORBIDDEN)."""


@dataclass(frozen=True)
class Guard:
    """The caller of one request: a role, an agency's region, the token's public id."""

    role: Role
    region: str | None = None  # set for (and only for) an agency
    token_id: str | None = None  # None: no token was sent (MGN_GATEWAY_REQUIRE_TOKEN off)

    def __post_init__(self) -> None:
        if (self.role is Role.AGENCY) != (self.region is not None):
            raise ValueError("an agency token needs its region; other roles take none")

    def level(self, region: str | None = None) -> Level:
        """What the caller sees of ``region``; ``None`` asks about the nation as a whole."""
        if self.role is Role.RESEARCHER:
            return Level.FULL
        if self.role is Role.AGENCY:
            return Level.FULL if region is not None and region == self.region else Level.REGIONAL
        return Level.NATIONAL

    def allows(self, needed: Level, region: str | None = None) -> bool:
        return self.level(region) >= needed

    def require(self, needed: Level, region: str | None, what: str) -> None:
        """Raise :class:`AccessDenied` unless the caller sees ``region`` at ``needed``."""
        if not self.allows(needed, region):
            raise AccessDenied(self.refusal(needed, region, what))

    def reads_texts(self, region: str | None) -> bool:
        """Whether an answer about ``region`` may carry the regions' own words (the CoP
        table's example texts): only for callers who see that region in full (its own
        agency, researchers). ``None``, the nation, mixes every region's words: only for
        callers who see every region in full (researchers); never the public or an agency."""
        if region is None:
            return self.full_regions() is None
        return self.allows(Level.FULL, region)

    def full_regions(self) -> frozenset[str] | None:
        """Regions whose rows the caller sees: ``None`` for all, else exactly these."""
        return self.regions_at(Level.FULL)

    def regions_at(self, needed: Level) -> frozenset[str] | None:
        """Regions the caller sees at ``needed`` or more: ``None`` for every region."""
        if self.role is Role.RESEARCHER or needed <= Level.NATIONAL:
            return None
        if self.role is Role.AGENCY:
            assert self.region is not None
            return None if needed <= Level.REGIONAL else frozenset({self.region})
        return frozenset()

    def describe(self) -> str:
        who = f"role {self.role.value}"
        if self.region is not None:
            who += f" (region {self.region})"
        return who

    def refusal(self, needed: Level, region: str | None, what: str) -> str:
        where = f"region {region}" if region is not None else "the nation"
        reach = {
            Role.AGENCY: f"sees its own region {self.region} in full and other regions "
            "only as aggregates",
            Role.PUBLIC: "sees national aggregates only",
            Role.RESEARCHER: "sees everything",
        }[self.role]
        return (
            f"forbidden: {what} of {where} needs {needed.name.lower()} access; a token of "
            f"{self.describe()} {reach}."
        )


ANONYMOUS = Guard(Role.RESEARCHER)  # no token, with MGN_GATEWAY_REQUIRE_TOKEN off (the demo)
