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
