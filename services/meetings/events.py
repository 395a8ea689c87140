"""What the meetings service publishes and consumes (its AsyncAPI document says the same).

It publishes its events through the outbox; it consumes the groups service's events of the
region into its replica (:func:`services.meetings.handlers.apply_groups_events`), through
the one consumer stack (``ServiceRuntime.consume``).
"""

from __future__ import annotations

from services.meetings.handlers import NOT_REPLICATED, REPLICATED
from shared.contracts import (
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    AttendanceCorrected,
    Event,
    InitiativeStarted,
    InitiativeUpdated,
    MeetingCancelled,
    MeetingHeld,
    MeetingRecorded,
    MeetingRescheduled,
    MeetingScheduled,
    MemoPublished,
    RsvpRecorded,
)
from shared.runtime.asyncapi import Consumed

DESCRIPTION = (
    "Meetings of the region's core groups; consumes the groups service's events into a "
    "local replica."
)
PUBLISHED: tuple[type[Event], ...] = (
    MeetingScheduled,
    MeetingHeld,
    AttendanceCorrected,
    MeetingCancelled,
    MeetingRescheduled,
    RsvpRecorded,
    MeetingRecorded,
    MemoPublished,
    ActionItemAgreed,
    ActionItemClosed,
    ActivityRecorded,
    InitiativeStarted,
    InitiativeUpdated,
)
REPLICA_DURABLE = "meetings-groups-ackall"
GROUPS_REPLICA = Consumed(
    source="groups",
    durable=REPLICA_DURABLE,
    replaces="meetings-groups-replica",
    description="Groups service events (groups, memberships: join, leave, pause, rejoin; "
    "persons and their consents) kept as the meetings service's local replica, for host, "
    "attendance and recording-consent checks.",
    handles=frozenset(REPLICATED),
    ignores=NOT_REPLICATED,
)
CONSUMED = (GROUPS_REPLICA,)
