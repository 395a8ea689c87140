"""The workspace's tables, in the gateway's one ``MetaData`` (services/gateway/orm.py imports
this module at its end, so migrations and ``create_schema`` see them).

* ``codebooks``: one row per version of a codebook (``key`` + ``version``, both immutable
  once written: a change is a new version); ``citation`` says how to cite it.
* ``codebook_codes``: its codes, ordered, with name, definition and example in fi/sv/en.
* ``codings``: one coder's coding of one meeting with one codebook version. ``coder_id`` is
  the researcher's pseudonym (the id of the token it used) or :data:`CONSENSUS` for the
  reconciled coding; ``nothing_found`` is a record of its own ("coded, found nothing").
* ``coding_marks``: the codes a coding applied: the whole meeting (no span) or a passage of
  the meeting's memo (``span_start``/``span_end``: offsets into the memo text the nation
  held at ``memo_version``; ``quote`` keeps that text). ``featured``: the researcher chose
  it as an example for Table 1 (consensus marks only).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from services.gateway.orm import ID, metadata
from shared.storage.types import UtcDateTime

CONSENSUS = "consensus"  # codings.coder_id of the reconciled coding of a meeting
TEXT_LENGTH = 4000  # a definition or example, per language

codebooks = Table(
    "codebooks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("key", String(60), nullable=False),  # e.g. wenger, growth_barriers
    Column("version", Integer, nullable=False),
    Column("title_fi", String(300), nullable=False),
    Column("title_sv", String(300), nullable=False),
    Column("title_en", String(300), nullable=False),
    Column("citation", String(2000), nullable=False, server_default=text("''")),
    Column("created_by", String(40), nullable=False),  # a researcher's pseudonym
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("key", "version", name="uq_codebooks_key_version"),
)

codebook_codes = Table(
    "codebook_codes",
    metadata,
    Column("codebook_id", ID, primary_key=True),
    Column("code", String(60), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name_fi", String(200), nullable=False),
    Column("name_sv", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("definition_fi", String(TEXT_LENGTH), nullable=False),
    Column("definition_sv", String(TEXT_LENGTH), nullable=False),
    Column("definition_en", String(TEXT_LENGTH), nullable=False),
    Column("example_fi", String(TEXT_LENGTH), nullable=False),
    Column("example_sv", String(TEXT_LENGTH), nullable=False),
    Column("example_en", String(TEXT_LENGTH), nullable=False),
)

codings = Table(
    "codings",
    metadata,
    Column("id", ID, primary_key=True),
    Column("codebook_id", ID, nullable=False),
    Column("meeting_id", ID, nullable=False),
    Column("coder_id", String(40), nullable=False),  # a researcher's pseudonym | 'consensus'
    Column("region", String(32), nullable=False),  # the meeting's
    Column("group_id", ID, nullable=False),
    Column("nothing_found", Boolean, nullable=False),
    Column("note", String(2000), nullable=False, server_default=text("''")),
    Column("reconciled_by", String(40), nullable=True),  # consensus: who reconciled it
    Column("coded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("codebook_id", "meeting_id", "coder_id", name="uq_codings_unit_coder"),
)
Index("ix_codings_codebook_coder", codings.c.codebook_id, codings.c.coder_id, codings.c.meeting_id)
Index("ix_codings_meeting", codings.c.meeting_id)
Index(
    "ix_codings_codebook_region",
    codings.c.codebook_id,
    codings.c.region,
    codings.c.group_id,
    codings.c.coder_id,
)

coding_marks = Table(
    "coding_marks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("coding_id", ID, nullable=False),
    Column("code", String(60), nullable=False),
    Column("span_start", Integer, nullable=True),  # None: the meeting as a whole
    Column("span_end", Integer, nullable=True),
    Column("memo_version", Integer, nullable=True),
    Column("quote", String(20_000), nullable=False, server_default=text("''")),
    Column("example", String(2000), nullable=False, server_default=text("''")),
    Column("featured", Boolean, nullable=False, server_default=text("false")),
)
Index("ix_coding_marks_coding", coding_marks.c.coding_id, coding_marks.c.code)


# --- the workspace's facts (services/gateway/research/counts.py) -----------------------
# Kept from the codings by services.gateway.views.facts.apply (a coding saved, a meeting
# moved), so that Table 1 and agreement are index-range queries, not scans of every coding:
# unit rows per meeting (fact_marks, fact_coded) and sums over them per scope ('' the
# nation, 'r:<region>', 'g:<group>'): all-time per code (fact_mark_totals) and per day
# (fact_agree_days, fact_agree_coders), each kept by adding what a meeting's units changed.

fact_marks = Table(  # one coder's (or the consensus's) marks of one code in one meeting
    "fact_marks",
    metadata,
    Column("codebook_id", ID, primary_key=True),
    Column("coder", String(40), primary_key=True),
    Column("meeting_id", ID, primary_key=True),
    Column("code", String(60), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("day", Date, nullable=False),  # the meeting's, in Europe/Helsinki
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("marks", Integer, nullable=False),
    Column("featured", Integer, nullable=False),  # 1: a mark of it was chosen for Table 1
    Column("example", String(2000), nullable=False),  # the chosen one's, else the first's
)
Index(
    "ix_fact_marks_day",
    fact_marks.c.codebook_id,
    fact_marks.c.coder,
    fact_marks.c.day,
    fact_marks.c.code,
    fact_marks.c.group_id,
    fact_marks.c.marks,
)
Index(
    "ix_fact_marks_region_day",
    fact_marks.c.codebook_id,
    fact_marks.c.coder,
    fact_marks.c.region,
    fact_marks.c.day,
)
Index(
    "ix_fact_marks_group_day",
    fact_marks.c.codebook_id,
    fact_marks.c.coder,
    fact_marks.c.group_id,
    fact_marks.c.day,
)
Index(  # examples: the chosen ones, then the most recent, per code
    "ix_fact_marks_examples",
    fact_marks.c.codebook_id,
    fact_marks.c.coder,
    fact_marks.c.code,
    fact_marks.c.featured,
    fact_marks.c.starts_at,
    fact_marks.c.meeting_id,
)
Index(
    "ix_fact_marks_region_examples",
    fact_marks.c.codebook_id,
    fact_marks.c.coder,
    fact_marks.c.region,
    fact_marks.c.code,
    fact_marks.c.featured,
    fact_marks.c.starts_at,
    fact_marks.c.meeting_id,
)
Index("ix_fact_marks_meeting", fact_marks.c.meeting_id)

fact_coded = Table(  # a coder's coding of a meeting (not the consensus), nothing found too
    "fact_coded",
    metadata,
    Column("codebook_id", ID, primary_key=True),
    Column("meeting_id", ID, primary_key=True),
    Column("coder", String(40), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("day", Date, nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
)
Index("ix_fact_coded_meeting", fact_coded.c.meeting_id)

fact_mark_totals = Table(  # per codebook, coder, code and scope, over all time
    "fact_mark_totals",
    metadata,
    Column("codebook_id", ID, primary_key=True),
    Column("coder", String(40), primary_key=True),
    Column("scope", String(40), primary_key=True),  # before code: a scope's rows together
    Column("code", String(60), primary_key=True),
    Column("meetings", Integer, nullable=False),
    Column("marks", Integer, nullable=False),
    Column("groups", Integer, nullable=False),  # distinct groups (a group's own row: 1)
)

fact_agree_days = Table(  # per codebook, scope, day, code: units by (coders m, appliers k)
    "fact_agree_days",
    metadata,
    Column("codebook_id", ID, primary_key=True),
    Column("scope", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("code", String(60), primary_key=True),  # '': the units themselves (k = 0)
    Column("m", Integer, primary_key=True),
    Column("k", Integer, primary_key=True),
    Column("units", Integer, nullable=False),
    Column("first", Integer, nullable=False),  # two coders: the first (by id) applied it
    Column("second", Integer, nullable=False),
)

fact_agree_coders = Table(  # per codebook, scope, day, coder: the meetings coded
    "fact_agree_coders",
    metadata,
    Column("codebook_id", ID, primary_key=True),
    Column("scope", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("coder", String(40), primary_key=True),
    Column("units", Integer, nullable=False),
)

WORKSPACE_FACTS = (fact_marks, fact_coded, fact_mark_totals, fact_agree_days, fact_agree_coders)


# --- the longitudinal panel (services/gateway/research/panel.py) -----------------------
# An interview's person, nationally: ``person_key`` = HMAC-SHA256 of the region's person id
# with that region's secret (stable within the region, unlinkable across regions and to the
# person id without the secret, which never leaves this table). Interviews themselves stay
# in ``interviews`` (orm.py); a person's erasure deletes their keys here.

panel_secrets = Table(
    "panel_secrets",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("secret", String(64), nullable=False),  # hex of 32 random bytes
    Column("created_at", UtcDateTime(), nullable=False),
)

panel_persons = Table(
    "panel_persons",
    metadata,
    Column("interview_id", ID, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("person_key", String(64), nullable=False),
)
Index("ix_panel_persons_key", panel_persons.c.region, panel_persons.c.person_key)
