"""Typed errors for events that cannot be decoded. None of them should stop a consumer."""

from __future__ import annotations


class EventDecodeError(ValueError):
    """Base class: the message is not an event this consumer can apply.

    ``reason`` is a short machine-readable code (used as the dead-letter header),
    ``str(error)`` the human explanation.
    """

    reason = "undecodable"


class MalformedEvent(EventDecodeError):
    """The body is not JSON, or the envelope misses or breaks a required field."""

    reason = "malformed"


class UnknownEventType(EventDecodeError):
    """The envelope names an event type this code base does not know."""

    reason = "unknown_type"


class UnsupportedSchemaVersion(EventDecodeError):
    """The type is known but not in this version (and no upcaster leads to a known one)."""

    reason = "unsupported_version"


class InvalidPayload(EventDecodeError):
    """The payload does not satisfy the model of its type and version."""

    reason = "invalid_payload"


class SubjectMismatch(EventDecodeError):
    """The subject disagrees with the envelope (region or type): a possible forgery."""

    reason = "subject_mismatch"
