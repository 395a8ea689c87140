"""The national read model: what the gateway projects from NATIONAL and GraphQL reads.

No foreign keys: events of different aggregates arrive in any order (a meeting may be
held before its group is seen), so references are plain ids.

Order tolerance: members and meetings are built from several events ("facets": a
meeting's schedule, its holding, its cancellation). Each facet keeps the sequence of
the event that last set it (``*_version``), so an older event only fills a facet no
newer event has set, and ``version`` (the highest sequence applied) decides which
event's state (``status`` / ``active``) is current. Timestamps are stored in UTC.

Histories (``membership_changes``, ``initiative_updates``) keep one row per aggregate and
sequence, so a re-sent event adds nothing. Nothing here is keyed by a person: personal
data, consents and erasures stay in the regions (their events only count for freshness).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    text,
)

from shared.messaging.tables import messaging_tables

metadata = MetaData()
TABLES = messaging_tables(metadata)

ID = String(36)  # UUIDs as text: the same on SQLite and PostgreSQL, cheap in cursors

regions = Table(
    "regions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("display_name", String(200), nullable=True),  # until the node announces itself
    Column("agency", String(200), nullable=True),
    Column("software_version", String(40), nullable=True),
    Column("announced_at", DateTime(timezone=True), nullable=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_event_at", DateTime(timezone=True), nullable=False),
    Column("events_applied", BigInteger, nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("municipality", String(120), nullable=False),
    Column("founded_on", Date, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_groups_region_name_id", groups.c.region, groups.c.name, groups.c.id)

members = Table(
    "members",
    metadata,
    Column("id", ID, primary_key=True),  # pseudonymous: no names exist nationally
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("active", Boolean, nullable=False),  # status == ACTIVE
    # ACTIVE | PAUSED | LEFT: from the newest of joined / paused / rejoined / left
    Column("status", String(8), nullable=False, server_default=text("'ACTIVE'")),
    # facet "joined" (MemberJoined); NULL while only a later event has been seen
    Column("joined_on", Date, nullable=True),
    Column("employees", Integer, nullable=True),
    Column("turnover_eur", BigInteger, nullable=True),
    Column("balance_sheet_eur", BigInteger, nullable=True),
    Column("industry_code", String(10), nullable=True),
    Column("joined_version", Integer, nullable=True),
    # facet "left" (MemberLeft)
    Column("left_on", Date, nullable=True),
    Column("left_reason", String(500), nullable=True),
    Column("left_version", Integer, nullable=True),
    # facets "paused" (MemberPaused) and "rejoined" (MemberRejoined)
    Column("paused_on", Date, nullable=True),
    Column("pause_reason", String(500), nullable=True),
    Column("paused_version", Integer, nullable=True),
    Column("rejoined_on", Date, nullable=True),
    Column("rejoined_version", Integer, nullable=True),
    Column("version", Integer, nullable=False),
)
Index("ix_members_region_group_id", members.c.region, members.c.group_id, members.c.id)
Index("ix_members_group_id", members.c.group_id, members.c.id)

meetings = Table(
    "meetings",
    metadata,
    Column("id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("status", String(16), nullable=False),  # PLANNED | HELD | CANCELLED
    # the sequence of the newest scheduled/held/cancelled event (others leave status alone)
    Column("status_version", Integer, nullable=True),
    # facet "schedule" (MeetingScheduled): the host
    Column("host_member_id", ID, nullable=True),
    Column("schedule_version", Integer, nullable=True),
    # facet "timing" (MeetingScheduled, MeetingRescheduled): until one arrives, starts_at
    # holds held_at / the cancellation time / the time of the first event seen
    Column("theme", String(300), nullable=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("timing_version", Integer, nullable=True),
    Column("recorded", Boolean, nullable=False, server_default=text("false")),
    # facet "held"
    Column("held_at", DateTime(timezone=True), nullable=True),
    Column("attendance_count", Integer, nullable=True),
    Column("held_version", Integer, nullable=True),
    # facet "cancelled"
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("cancel_reason", String(500), nullable=True),
    Column("cancel_version", Integer, nullable=True),
    Column("version", Integer, nullable=False),
)
Index("ix_meetings_starts_at_id", meetings.c.starts_at, meetings.c.id)
Index("ix_meetings_region_starts_at_id", meetings.c.region, meetings.c.starts_at, meetings.c.id)
Index("ix_meetings_group_starts_at_id", meetings.c.group_id, meetings.c.starts_at, meetings.c.id)
Index("ix_meetings_region_status", meetings.c.region, meetings.c.status)

attendance = Table(
    "attendance",
    metadata,
    Column("meeting_id", ID, primary_key=True),
    Column("member_id", ID, primary_key=True),
)

# --- groups: facilitators and the history of membership -------------------------------

facilitators = Table(
    "facilitators",
    metadata,
    Column("group_id", ID, primary_key=True),
    Column("facilitator_id", ID, primary_key=True),  # pseudonymous
    Column("region", String(32), nullable=False),
    Column("role", String(20), nullable=True),  # agency_agent | researcher; NULL: removal only
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),  # the group's sequence of the newest event
)

membership_changes = Table(
    "membership_changes",
    metadata,
    Column("member_id", ID, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("change", String(8), nullable=False),  # JOINED | PAUSED | REJOINED | LEFT
    Column("changed_on", Date, nullable=False),
    Column("reason", String(500), nullable=True),
)

# --- meetings: RSVPs, memos, action items ---------------------------------------------

rsvps = Table(
    "rsvps",
    metadata,
    Column("meeting_id", ID, primary_key=True),
    Column("member_id", ID, primary_key=True),
    Column("coming", Boolean, nullable=False),
    Column("version", Integer, nullable=False),  # the meeting's sequence
)

memos = Table(
    "memos",
    metadata,
    Column("meeting_id", ID, primary_key=True),  # the newest memo of each meeting
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("summary", String(20_000), nullable=False),
    Column("facilitator_id", ID, nullable=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_memos_published_at_id", memos.c.published_at, memos.c.meeting_id)
Index("ix_memos_region_published_at", memos.c.region, memos.c.published_at)

action_items = Table(
    "action_items",
    metadata,
    Column("id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    # facet "agreed"; NULL while only the closing has arrived
    Column("meeting_id", ID, nullable=True),
    Column("owner_member_id", ID, nullable=True),
    Column("description", String(1000), nullable=True),
    Column("due_on", Date, nullable=True),
    Column("agreed_version", Integer, nullable=True),
    # facet "closed"
    Column("closed_on", Date, nullable=True),
    Column("outcome", String(1000), nullable=True),
    Column("closed_version", Integer, nullable=True),
)
Index("ix_action_items_meeting_id", action_items.c.meeting_id, action_items.c.id)

# --- research: CoP activities and initiatives -------------------------------------------

activities = Table(
    "activities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("meeting_id", ID, nullable=False),
    Column("activity_type", String(40), nullable=False),
    Column("example", String(2000), nullable=False),
    Column("coder_id", ID, nullable=True),
    # the meeting's starts_at, kept in step with it; the activity's own time until then
    Column("meeting_starts_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_activities_starts_at_id", activities.c.meeting_starts_at, activities.c.id)
Index("ix_activities_region_starts_at", activities.c.region, activities.c.meeting_starts_at)
Index("ix_activities_meeting_id", activities.c.meeting_id)

activity_members = Table(
    "activity_members",
    metadata,
    Column("activity_id", ID, primary_key=True),
    Column("member_id", ID, primary_key=True),
)

initiatives = Table(
    "initiatives",
    metadata,
    Column("id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("status", String(12), nullable=False),  # ACTIVE | PAUSED | COMPLETED | ABANDONED
    # facet "started"; NULL while only updates have arrived
    Column("title", String(300), nullable=True),
    Column("origin_meeting_id", ID, nullable=True),
    Column("started_on", Date, nullable=True),
    Column("started_version", Integer, nullable=True),
    # facet "updated": the newest update
    Column("outcome", String(2000), nullable=True),
    Column("updated_on", Date, nullable=True),
    Column("updated_version", Integer, nullable=True),
    Column("version", Integer, nullable=False),  # newest event: status and members
)
Index("ix_initiatives_region_group_id", initiatives.c.region, initiatives.c.group_id)

initiative_members = Table(
    "initiative_members",
    metadata,
    Column("initiative_id", ID, primary_key=True),
    Column("member_id", ID, primary_key=True),
)

initiative_updates = Table(
    "initiative_updates",
    metadata,
    Column("initiative_id", ID, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(12), nullable=False),
    Column("outcome", String(2000), nullable=False),
    Column("member_count", Integer, nullable=False),
    Column("changed_on", Date, nullable=False),
)

# --- feedback: surveys, responses (scores only), interviews ----------------------------

surveys = Table(
    "surveys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("meeting_id", ID, nullable=False),
    Column("invited", Integer, nullable=False),
    Column("invited_version", Integer, nullable=False),
    # facet "opened"
    Column("opened_at", DateTime(timezone=True), nullable=True),
    Column("closes_at", DateTime(timezone=True), nullable=True),
    Column("opened_version", Integer, nullable=True),
    # facet "closed"
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_version", Integer, nullable=True),
)
Index("ix_surveys_region_group_id", surveys.c.region, surveys.c.group_id, surveys.c.id)

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", ID, primary_key=True),
    Column("survey_id", ID, nullable=False),
    Column("region", String(32), nullable=False),
    Column("overall", Integer, nullable=False),
    Column("usefulness", Integer, nullable=False),
    Column("recommend", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_survey_responses_survey_id", survey_responses.c.survey_id)
Index("ix_survey_responses_region", survey_responses.c.region)

interviews = Table(
    "interviews",
    metadata,
    Column("id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("member_id", ID, nullable=False),
    Column("interviewed_on", Date, nullable=False),
    Column("intends_to_grow", String(8), nullable=False),
    Column("planned_hires", Integer, nullable=False),
    Column("barriers", String(300), nullable=False),  # comma-separated GrowthBarrier values
    Column("version", Integer, nullable=False),
)
Index("ix_interviews_on_id", interviews.c.interviewed_on, interviews.c.id)
Index("ix_interviews_member_id", interviews.c.member_id)

processed_events = TABLES.processed

# --- access: the national API's tokens (services/gateway/auth) -------------------------

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", String(16), primary_key=True),  # public handle: list, revoke, logs
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex, never the token
    Column("role", String(16), nullable=False),  # researcher | agency | public
    Column("region", String(32), nullable=True),  # an agency's own region
    Column("label", String(200), nullable=False, server_default=text("''")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# --- research views: summaries kept by services.gateway.views ---------------------------
# Recomputed for every region a batch touches, in the batch's transaction (see
# services/gateway/views/refresh.py); months are 'YYYY-MM' (UTC), years integers.

view_state = Table(
    "view_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("needs_rebuild", Boolean, nullable=False),
    Column("rebuilt_at", DateTime(timezone=True), nullable=True),
)

view_cop_cells = Table(
    "view_cop_cells",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("activity_type", String(40), primary_key=True),
    Column("activities", Integer, nullable=False),
    Column("meetings", Integer, nullable=False),
    Column("groups", Integer, nullable=False),
    Column("example", String(2000), nullable=False),  # of its earliest activity
)
Index(
    "ix_view_cop_cells_type_year",
    view_cop_cells.c.activity_type,
    view_cop_cells.c.year,
    view_cop_cells.c.region,
)

view_group_months = Table(
    "view_group_months",
    metadata,
    Column("group_id", ID, primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("meetings_held", Integer, nullable=False),
    Column("meetings_cancelled", Integer, nullable=False),
    Column("attendees", Integer, nullable=False),
    Column("expected", Integer, nullable=False),  # members on the days of held meetings
)
Index("ix_view_group_months_region_group", view_group_months.c.region, view_group_months.c.group_id)

view_region_months = Table(
    "view_region_months",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("groups_meeting", Integer, nullable=False),
    Column("meetings_held", Integer, nullable=False),
    Column("meetings_cancelled", Integer, nullable=False),
    Column("attendees", Integer, nullable=False),
    Column("expected", Integer, nullable=False),
)
Index("ix_view_region_months_month", view_region_months.c.month)

view_retention = Table(
    "view_retention",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("members_start", Integer, nullable=False),
    Column("joined", Integer, nullable=False),
    Column("left", Integer, nullable=False),
    Column("retained", Integer, nullable=False),  # members at the start still in at the end
    Column("members_end", Integer, nullable=False),
)

view_host_rotation = Table(
    "view_host_rotation",
    metadata,
    Column("group_id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("members", Integer, nullable=False),
    Column("meetings_hosted", Integer, nullable=False),
    Column("distinct_hosts", Integer, nullable=False),
    Column("repeat_hostings", Integer, nullable=False),  # gaps between a member's hostings
    Column("mean_days_between", Float, nullable=True),
    Column("min_days_between", Integer, nullable=True),
)
Index(
    "ix_view_host_rotation_region_group", view_host_rotation.c.region, view_host_rotation.c.group_id
)

view_feedback_months = Table(
    "view_feedback_months",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),  # the month surveys closed
    Column("surveys", Integer, nullable=False),  # counted: closed with >= K responses
    Column("surveys_withheld", Integer, nullable=False),  # closed with fewer
    Column("invited", Integer, nullable=False),
    Column("responses", Integer, nullable=False),
    Column("overall_sum", Integer, nullable=False),
    Column("usefulness_sum", Integer, nullable=False),
    Column("recommend_sum", Integer, nullable=False),
    Column("promoters", Integer, nullable=False),  # recommend 9-10
    Column("detractors", Integer, nullable=False),  # recommend 0-6
)
Index("ix_view_feedback_months_month", view_feedback_months.c.month)

view_initiative_status = Table(
    "view_initiative_status",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("status", String(12), primary_key=True),
    Column("initiatives", Integer, nullable=False),
    Column("members", Integer, nullable=False),  # distinct members who joined them
    Column("joinings", Integer, nullable=False),  # (initiative, member) pairs
)

view_group_health = Table(
    "view_group_health",
    metadata,
    Column("group_id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("members_active", Integer, nullable=False),
    Column("members_ever", Integer, nullable=False),
    Column("members_left", Integer, nullable=False),
    Column("meetings_held", Integer, nullable=False),
    Column("last_meeting_at", DateTime(timezone=True), nullable=True),
    Column("attendees", Integer, nullable=False),
    Column("expected", Integer, nullable=False),
    Column("longest_streak", Integer, nullable=False),
    Column("mean_current_streak", Float, nullable=True),
    Column("active_hosted", Integer, nullable=False),  # active members who have hosted
    Column("feedback_recent", Float, nullable=True),  # mean overall, last 3 counted surveys
    Column("feedback_previous", Float, nullable=True),  # the 3 before those
)
Index("ix_view_group_health_region_group", view_group_health.c.region, view_group_health.c.group_id)

view_coding = Table(
    "view_coding",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("coder_a", ID, primary_key=True),  # coder_a < coder_b
    Column("coder_b", ID, primary_key=True),
    Column("activity_type", String(40), primary_key=True),
    Column("both", Integer, nullable=False),  # meetings where both saw the type
    Column("a_only", Integer, nullable=False),
    Column("b_only", Integer, nullable=False),
    Column("neither", Integer, nullable=False),
)

view_region_summary = Table(
    "view_region_summary",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("groups", Integer, nullable=False),
    Column("members_active", Integer, nullable=False),
    Column("meetings_held", Integer, nullable=False),
    Column("last_meeting_at", DateTime(timezone=True), nullable=True),
    Column("attendees", Integer, nullable=False),
    Column("expected", Integer, nullable=False),
    Column("activities", Integer, nullable=False),
    Column("initiatives", Integer, nullable=False),
    Column("responses", Integer, nullable=False),  # in counted surveys
)

VIEW_TABLES = (
    view_cop_cells,
    view_group_months,
    view_region_months,
    view_retention,
    view_host_rotation,
    view_feedback_months,
    view_initiative_status,
    view_group_health,
    view_coding,
    view_region_summary,
)

# Which gateway process projects NATIONAL into this read model (services/gateway/lease.py):
# one row per lease, its holder and when the lease ends unless renewed (epoch seconds).
projection_leases = Table(
    "projection_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("acquired_at", Float, nullable=False),
)

# The researchers' workspace (codebooks, codings, panel) lives in its own module on the same
# metadata; imported last, as it imports ``metadata`` and ``ID`` from here.
from services.gateway.research import tables as _research_tables  # noqa: E402, F401
