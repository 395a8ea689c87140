"""Codings as values and their rules (pure Python): one coder's reading of one meeting.

A coding either applies codes (marks) or says "coded, nothing found"; a mark covers the
meeting as a whole or a passage of its memo (``span_start``..``span_end``, offsets into the
memo text the nation holds, end exclusive). The reconciled coding of a meeting (the
consensus) has the same shape and is made by a researcher once two or more coders have
coded the meeting with the same codebook version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.errors.research import (
    BadSpan,
    EmptyCoding,
    NoMemo,
    NothingFoundWithCodes,
    TooFewCoders,
    UnknownCode,
)

MIN_CODERS = 2  # coders a meeting needs before it can be reconciled
EXAMPLE_LIMIT = 2000


@dataclass(frozen=True)
class MarkInput:
    code: str
    span_start: int | None = None
    span_end: int | None = None
    example: str = ""  # the researcher's own wording; default: the quoted passage
    featured: bool = False  # consensus only: an example for Table 1


@dataclass(frozen=True)
class CodingInput:
    codebook_id: str
    meeting_id: str
    nothing_found: bool = False
    marks: tuple[MarkInput, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Mark:
    """A mark checked against the codebook and the memo, with the passage it quotes."""

    code: str
    span_start: int | None
    span_end: int | None
    quote: str
    example: str
    featured: bool


def checked_marks(
    coding: CodingInput, codebook: str, codes: set[str], memo: str | None, *, consensus: bool
) -> list[Mark]:
    """The marks of ``coding`` against the codebook's ``codes`` and the meeting's ``memo``
    (``None``: none has arrived), or the first rule broken as a refusal."""
    if coding.nothing_found and coding.marks:
        raise NothingFoundWithCodes()
    if not coding.nothing_found and not coding.marks:
        raise EmptyCoding()
    marks = []
    for mark in coding.marks:
        if mark.code not in codes:
            raise UnknownCode(codebook=codebook, code=mark.code)
        quote = ""
        if mark.span_start is not None or mark.span_end is not None:
            if memo is None:
                raise NoMemo(meeting_id=coding.meeting_id)
            start, end = mark.span_start, mark.span_end
            if start is None or end is None or not 0 <= start < end <= len(memo):
                raise BadSpan(start=_shown(start), end=_shown(end), length=len(memo))
            quote = memo[start:end]
        example = (mark.example.strip() or quote.strip())[:EXAMPLE_LIMIT]
        marks.append(
            Mark(
                code=mark.code,
                span_start=mark.span_start,
                span_end=mark.span_end,
                quote=quote,
                example=example,
                featured=mark.featured and consensus,
            )
        )
    return marks


def shown_example(marks: Sequence[Any]) -> str:
    """The example a coding's marks of one code give for its meeting: a chosen (featured)
    one's, else the first with text (by mark id); ``marks`` have ``featured, example, id``."""
    return str(min(marks, key=lambda m: (not m.featured, m.example == "", m.id)).example)


def require_coders(meeting_id: str, coders: int) -> None:
    if coders < MIN_CODERS:
        raise TooFewCoders(meeting_id=meeting_id, coders=coders, needed=MIN_CODERS)


def _shown(value: int | None) -> str:
    return "?" if value is None else str(value)
