"""The envelope every event travels in, whatever its type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.contracts.subjects import validate_region


class Envelope(BaseModel):
    """Metadata common to all events plus the type-specific ``payload``.

    ``event_id`` is also the JetStream ``Nats-Msg-Id`` header, so the broker drops
    duplicates inside its window and consumers record it to apply each event once.
    ``sequence`` is per aggregate and increases by one with every event of it.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID
    type: str = Field(min_length=3, max_length=120)
    schema_version: int = Field(ge=1)
    region: str
    aggregate_id: UUID
    sequence: int = Field(ge=1)
    occurred_at: AwareDatetime
    payload: dict[str, Any]

    @field_validator("region")
    @classmethod
    def _region_is_valid(cls, value: str) -> str:
        return validate_region(value)

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def msg_id(self) -> str:
        """The value of the ``Nats-Msg-Id`` header."""
        return str(self.event_id)
