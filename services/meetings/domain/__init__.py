"""The meetings domain: plain Python, no I/O (import-linter keeps it so)."""

from services.meetings.domain.consent import (
    AUDIO,
    ConsentState,
    Names,
    Person,
    RecordingProblem,
    recording_problems,
)
from services.meetings.domain.meeting import (
    MEETING_LENGTH,
    MEMO_MAX,
    REASON_MAX,
    THEME_MAX,
    Meeting,
    MeetingStatus,
    overlaps,
)
from services.meetings.domain.membership import (
    KnownGroup,
    Membership,
    local_date,
)
from services.meetings.domain.work import (
    INITIATIVE_STATUSES,
    ActionItem,
    ActionStatus,
    Activity,
    HostSuggestion,
    Initiative,
    InitiativeUpdate,
    suggest_hosts,
)

__all__ = [
    "AUDIO",
    "INITIATIVE_STATUSES",
    "MEETING_LENGTH",
    "MEMO_MAX",
    "REASON_MAX",
    "THEME_MAX",
    "ActionItem",
    "ActionStatus",
    "Activity",
    "ConsentState",
    "HostSuggestion",
    "Initiative",
    "InitiativeUpdate",
    "KnownGroup",
    "Meeting",
    "MeetingStatus",
    "Membership",
    "Names",
    "Person",
    "RecordingProblem",
    "local_date",
    "overlaps",
    "recording_problems",
    "suggest_hosts",
]
