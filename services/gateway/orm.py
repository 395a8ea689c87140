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
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    text,
)

from shared.messaging.tables import messaging_tables
from shared.storage.types import UtcDateTime

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
    Column("announced_at", UtcDateTime(), nullable=True),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_event_at", UtcDateTime(), nullable=False),
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
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("timing_version", Integer, nullable=True),
    Column("recorded", Boolean, nullable=False, server_default=text("false")),
    # facet "held"
    Column("held_at", UtcDateTime(), nullable=True),
    Column("attendance_count", Integer, nullable=True),
    Column("held_version", Integer, nullable=True),
    # facet "cancelled"
    Column("cancelled_at", UtcDateTime(), nullable=True),
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
    Column("published_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_memos_published_at_id", memos.c.published_at, memos.c.meeting_id)
Index("ix_memos_region_published_at", memos.c.region, memos.c.published_at)
Index("ix_memos_group_published_at", memos.c.group_id, memos.c.published_at, memos.c.meeting_id)

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
    Column("meeting_starts_at", UtcDateTime(), nullable=False),
    # the earliest envelope time of its events: decides a meeting's first coder
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_activities_starts_at_id", activities.c.meeting_starts_at, activities.c.id)
Index("ix_activities_region_starts_at", activities.c.region, activities.c.meeting_starts_at)
Index("ix_activities_meeting_id", activities.c.meeting_id)
Index(
    "ix_activities_group_starts_at",
    activities.c.group_id,
    activities.c.meeting_starts_at,
    activities.c.id,
)

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
# initiatives started in a period (initiativeStatuses): an index range
Index("ix_initiatives_started_on", initiatives.c.started_on, initiatives.c.status)

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
    Column("opened_at", UtcDateTime(), nullable=True),
    Column("closes_at", UtcDateTime(), nullable=True),
    Column("opened_version", Integer, nullable=True),
    # facet "closed"
    Column("closed_at", UtcDateTime(), nullable=True),
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
# a region's page of panel interviews by (day, id)
Index(
    "ix_interviews_region_on_id", interviews.c.region, interviews.c.interviewed_on, interviews.c.id
)
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
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

# --- research views: facts kept by services.gateway.views -------------------------------

view_state = Table(
    "view_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("needs_rebuild", Boolean, nullable=False),
    Column("rebuilt_at", UtcDateTime(), nullable=True),
)

# Facts: one row per meeting, survey, or (meeting, coder, type) of CoP activities, at the
# meeting's day in Europe/Helsinki (``day``, its ``month`` 'YYYY-MM', ``day_number`` =
# date.toordinal() for day arithmetic in SQL). Kept by services/gateway/views/facts.py from
# each batch's changes (the units it touched), in the batch's transaction; the views are
# queries over them (services/gateway/views/queries.py) with exact-day filters.

fact_meetings = Table(
    "fact_meetings",
    metadata,
    Column("meeting_id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("day", Date, nullable=False),
    Column("month", String(7), nullable=False),
    Column("day_number", Integer, nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # PLANNED | HELD | CANCELLED
    Column("held", Integer, nullable=False),  # 1 if HELD
    Column("cancelled", Integer, nullable=False),  # 1 if CANCELLED
    Column("host_member_id", ID, nullable=True),  # held meetings only
    Column("attendees", Integer, nullable=False),  # held meetings only, else 0
    Column("expected", Integer, nullable=False),  # members on the day, held meetings only
)
Index("ix_fact_meetings_day", fact_meetings.c.day, fact_meetings.c.group_id)
Index("ix_fact_meetings_region_day", fact_meetings.c.region, fact_meetings.c.day)
Index("ix_fact_meetings_group_day", fact_meetings.c.group_id, fact_meetings.c.day)

fact_surveys = Table(
    "fact_surveys",
    metadata,
    Column("survey_id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("meeting_id", ID, nullable=False),
    Column("day", Date, nullable=False),  # its meeting's (the survey's own until known)
    Column("month", String(7), nullable=False),
    Column("closed", Integer, nullable=False),  # 1 once closed
    Column("counted", Integer, nullable=False),  # 1: closed with >= K_ANONYMITY responses
    # the rest: counted surveys only (0 otherwise), so nothing below the threshold is kept
    Column("invited", Integer, nullable=False),
    Column("responses", Integer, nullable=False),
    Column("overall_sum", Integer, nullable=False),
    Column("usefulness_sum", Integer, nullable=False),
    Column("recommend_sum", Integer, nullable=False),
    Column("promoters", Integer, nullable=False),  # recommend 9-10
    Column("detractors", Integer, nullable=False),  # recommend 0-6
)
Index("ix_fact_surveys_day", fact_surveys.c.day)
Index("ix_fact_surveys_region_day", fact_surveys.c.region, fact_surveys.c.day)
Index("ix_fact_surveys_group_day", fact_surveys.c.group_id, fact_surveys.c.day)
Index("ix_fact_surveys_meeting", fact_surveys.c.meeting_id)

fact_cop = Table(
    "fact_cop",
    metadata,
    Column("meeting_id", ID, primary_key=True),
    # a coder's records ('' for records without a coder); a consensus coding can be one more
    Column("coder", String(40), primary_key=True),
    Column("activity_type", String(40), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("day", Date, nullable=False),
    Column("activities", Integer, nullable=False),
    Column("example", String(2000), nullable=False),  # of its first-recorded activity
    # 1: the coder whose records the views count for this meeting (the first to record)
    Column("counted", Integer, nullable=False),
)
Index("ix_fact_cop_type_day", fact_cop.c.activity_type, fact_cop.c.day)
Index("ix_fact_cop_region_day", fact_cop.c.region, fact_cop.c.day)
Index("ix_fact_cop_group_day", fact_cop.c.group_id, fact_cop.c.day)
Index("ix_fact_cop_day", fact_cop.c.day, fact_cop.c.counted)  # a period's partial months

fact_coding = Table(
    "fact_coding",
    metadata,
    Column("meeting_id", ID, primary_key=True),
    Column("coder_a", ID, primary_key=True),  # coder_a < coder_b, both recorded the meeting
    Column("coder_b", ID, primary_key=True),
    Column("activity_type", String(40), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("day", Date, nullable=False),
    Column("both", Integer, nullable=False),  # 1 in exactly one of the four cells
    Column("a_only", Integer, nullable=False),
    Column("b_only", Integer, nullable=False),
    Column("neither", Integer, nullable=False),
)
# a page of coder pairs sums its own rows in this order, period filtered in the index
Index(
    "ix_fact_coding_pair_cells",
    *(fact_coding.c[name] for name in ("coder_a", "coder_b", "activity_type", "day")),
    *(fact_coding.c[name] for name in ("both", "a_only", "b_only", "neither")),
)
Index("ix_fact_coding_region_day", fact_coding.c.region, fact_coding.c.day)
Index("ix_fact_coding_group_day", fact_coding.c.group_id, fact_coding.c.day)

# The unit facts summed per scope ('' the nation, 'r:<region>', 'g:<group>') and Helsinki
# month, kept with them (services/gateway/views/rollups.py): a national or regional view
# reads whole months here and only a period's partial first and last months from the units.
fact_months = Table(
    "fact_months",
    metadata,
    Column("scope", String(40), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("region", String(32), nullable=False),  # the scope's region ('' for the nation)
    Column("held", Integer, nullable=False),
    Column("cancelled", Integer, nullable=False),
    Column("attendees", Integer, nullable=False),
    Column("expected", Integer, nullable=False),
    Column("groups_meeting", Integer, nullable=False),  # groups that held a meeting
    Column("closed", Integer, nullable=False),  # surveys closed, and of those counted:
    Column("counted", Integer, nullable=False),
    Column("invited", Integer, nullable=False),
    Column("responses", Integer, nullable=False),
    Column("overall_sum", Integer, nullable=False),
    Column("usefulness_sum", Integer, nullable=False),
    Column("recommend_sum", Integer, nullable=False),
    Column("promoters", Integer, nullable=False),
    Column("detractors", Integer, nullable=False),
    Column("activities", Integer, nullable=False),  # the meetings' counted coders'
)
# a region's group rows (groupMonths with a region filter), in the order a page reads them
Index("ix_fact_months_region_scope", fact_months.c.region, fact_months.c.scope, fact_months.c.month)

# The counted coders' CoP facts per scope, type and month, with ``since``: for a group's
# row its previous month with that type ('' for its first); a region's and the nation's sum
# their groups' rows of the same key. Distinct groups over the whole months m1..m2 are then
# a sum: the rows with since < m1 (a group's first month of the type in the period).
fact_cop_months = Table(
    "fact_cop_months",
    metadata,
    Column("scope", String(40), primary_key=True),
    Column("activity_type", String(40), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("since", String(7), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("activities", Integer, nullable=False),
    Column("meetings", Integer, nullable=False),
    Column("groups", Integer, nullable=False),
)

FACT_TABLES = (fact_meetings, fact_surveys, fact_cop, fact_coding, fact_months, fact_cop_months)

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

# How far into NATIONAL the read model is: the highest stream sequence applied and when
# (services/gateway/snapshot.py); exports name it as the snapshot they reflect.
stream_position = Table(
    "stream_position",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("applied_at", UtcDateTime(), nullable=False),
)

# The researchers' workspace (codebooks, codings, panel) lives in its own module on the same
# metadata; imported last, as it imports ``metadata`` and ``ID`` from here.
from services.gateway.research import tables as _research_tables  # noqa: E402, F401
