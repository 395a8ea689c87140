"""The one place that builds and parses NATS subjects.

Subjects are ``mgn.<region>.<service>.<aggregate>.<event>``, e.g.
``mgn.oulu.meetings.meeting.held``. They never carry ids (low cardinality keeps
JetStream's subject filtering fast); the ids travel in the envelope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

PREFIX = "mgn"
_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Region ids become NATS subject tokens, JetStream domain names and stream names.
_REGION = re.compile(r"^[a-z][a-z0-9]{1,31}$")
RESERVED_REGIONS = frozenset({"hub", "national", "deadletter", "all", "mgn"})


class SubjectError(ValueError):
    """A subject or one of its tokens does not follow the naming rule."""


def validate_region(region: str) -> str:
    """Return ``region`` if it is a valid region id, else raise :class:`SubjectError`."""
    if not _REGION.fullmatch(region) or region in RESERVED_REGIONS:
        raise SubjectError(
            f"invalid region id {region!r}: use 2-32 lowercase letters and digits, "
            f"starting with a letter, not one of {sorted(RESERVED_REGIONS)}"
        )
    return region


def _validate_token(kind: str, token: str) -> str:
    if not _TOKEN.fullmatch(token):
        raise SubjectError(
            f"invalid {kind} {token!r}: use lowercase letters, digits and '_', "
            "starting with a letter"
        )
    return token


@dataclass(frozen=True, slots=True)
class Subject:
    region: str
    service: str
    aggregate: str
    event: str

    def __str__(self) -> str:
        return ".".join((PREFIX, self.region, self.service, self.aggregate, self.event))


# Subjects are few (regions x event types) and every event is built into or parsed from
# one: both are cached (errors are not cached; they are raised every time).
@lru_cache(maxsize=4096)
def build_subject(region: str, service: str, aggregate: str, event: str) -> str:
    """Build ``mgn.<region>.<service>.<aggregate>.<event>``, validating every token."""
    validate_region(region)
    for kind, token in (("service", service), ("aggregate", aggregate), ("event", event)):
        _validate_token(kind, token)
    return str(Subject(region, service, aggregate, event))


@lru_cache(maxsize=4096)
def parse_subject(subject: str) -> Subject:
    """Parse a subject built by :func:`build_subject`; raise :class:`SubjectError` otherwise."""
    parts = subject.split(".")
    if len(parts) != 5 or parts[0] != PREFIX:
        raise SubjectError(
            f"invalid subject {subject!r}: expected mgn.<region>.<service>.<aggregate>.<event>"
        )
    _, region, service, aggregate, event = parts
    build_subject(region, service, aggregate, event)
    return Subject(region, service, aggregate, event)


def region_filter(region: str) -> str:
    """The wildcard subject covering everything a region publishes: ``mgn.<region>.>``."""
    return f"{PREFIX}.{validate_region(region)}.>"


def service_filter(region: str, service: str) -> str:
    """Everything one service of a region publishes: ``mgn.<region>.<service>.>``."""
    return f"{PREFIX}.{validate_region(region)}.{_validate_token('service', service)}.>"


def all_regions_filter(service: str | None = None) -> str:
    """Wildcard over every region, optionally narrowed to one service."""
    if service is None:
        return f"{PREFIX}.*.>"
    return f"{PREFIX}.*.{_validate_token('service', service)}.>"
