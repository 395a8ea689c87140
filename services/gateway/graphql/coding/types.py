"""GraphQL types of the coding workspace, one ``from_*`` each; no ORM row is exposed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from services.gateway.graphql.values import as_utc
from services.gateway.research.agreement import Agreement, Figures
from services.gateway.research.codebooks import Texts


@strawberry.type(name="LocalizedText", description="A text in Finnish, Swedish and English.")
class LocalizedText:
    fi: str
    sv: str
    en: str

    @classmethod
    def of(cls, row: Any, prefix: str) -> LocalizedText:
        return cls(
            fi=getattr(row, f"{prefix}_fi"),
            sv=getattr(row, f"{prefix}_sv"),
            en=getattr(row, f"{prefix}_en"),
        )


@strawberry.input(name="LocalizedTextInput", description="A text in fi, sv and en.")
class LocalizedTextInput:
    fi: str
    sv: str
    en: str

    def texts(self) -> Texts:
        return Texts(self.fi, self.sv, self.en)


@strawberry.type(description="One code of a codebook version.")
class Code:
    code: str = strawberry.field(description="Stable key, e.g. reusing_assets.")
    position: int
    name: LocalizedText
    definition: LocalizedText
    example: LocalizedText

    @classmethod
    def from_row(cls, row: Any) -> Code:
        return cls(
            code=row.code,
            position=row.position,
            name=LocalizedText.of(row, "name"),
            definition=LocalizedText.of(row, "definition"),
            example=LocalizedText.of(row, "example"),
        )


@strawberry.type(description="One version of a codebook; a new version is how it is edited.")
class Codebook:
    id: strawberry.ID
    key: str
    version: int
    title: LocalizedText
    citation: str
    created_by: str = strawberry.field(description="The researcher's pseudonym (or 'mgn').")
    created_at: datetime
    codes: list[Code]

    @classmethod
    def from_rows(cls, row: Any, codes: list[Any]) -> Codebook:
        return cls(
            id=strawberry.ID(row.id),
            key=row.key,
            version=row.version,
            title=LocalizedText.of(row, "title"),
            citation=row.citation,
            created_by=row.created_by,
            created_at=as_utc(row.created_at),
            codes=[Code.from_row(c) for c in codes],
        )


@strawberry.type(description="A code applied in a coding: to the meeting, or to a memo passage.")
class CodingMark:
    id: strawberry.ID
    code: str
    span_start: int | None = strawberry.field(description="Offset into the memo; null: meeting.")
    span_end: int | None = strawberry.field(description="End offset (exclusive).")
    memo_version: int | None = strawberry.field(description="The memo version the span is in.")
    quote: str = strawberry.field(description="The memo passage, as it read when coded.")
    example: str
    featured: bool = strawberry.field(description="Chosen as an example for Table 1.")

    @classmethod
    def from_row(cls, row: Any) -> CodingMark:
        return cls(
            id=strawberry.ID(row.id),
            code=row.code,
            span_start=row.span_start,
            span_end=row.span_end,
            memo_version=row.memo_version,
            quote=row.quote,
            example=row.example,
            featured=bool(row.featured),
        )


@strawberry.type(description="One coder's (or the consensus) coding of one meeting.")
class Coding:
    id: strawberry.ID
    codebook_id: strawberry.ID
    meeting_id: strawberry.ID
    coder_id: str = strawberry.field(description="A researcher's pseudonym, or 'consensus'.")
    region: str
    group_id: strawberry.ID
    nothing_found: bool = strawberry.field(description="Coded, and nothing found.")
    note: str
    reconciled_by: str | None
    coded_at: datetime
    marks: list[CodingMark]

    @classmethod
    def from_rows(cls, row: Any, marks: list[Any]) -> Coding:
        return cls(
            id=strawberry.ID(row.id),
            codebook_id=strawberry.ID(row.codebook_id),
            meeting_id=strawberry.ID(row.meeting_id),
            coder_id=row.coder_id,
            region=row.region,
            group_id=strawberry.ID(row.group_id),
            nothing_found=bool(row.nothing_found),
            note=row.note,
            reconciled_by=row.reconciled_by,
            coded_at=as_utc(row.coded_at),
            marks=[CodingMark.from_row(m) for m in marks],
        )


@strawberry.type(description="A meeting's place in the coding workflow.")
class CodingProgress:
    meeting_id: strawberry.ID
    starts_at: datetime
    region: str
    group_id: strawberry.ID
    coders: list[str] = strawberry.field(description="Who has coded it (pseudonyms).")
    reconciled: bool = strawberry.field(description="It has a consensus coding.")


@strawberry.type(description="Agreement on one code (or pooled over all codes: code null).")
class AgreementFigures:
    code: str | None
    units: int = strawberry.field(
        description="Meetings (pooled: meeting-code pairs) coded by two or more of the coders."
    )
    both: int = strawberry.field(description="Two coders: units where both applied the code.")
    first_only: int
    second_only: int
    neither: int = strawberry.field(description="Two coders: neither applied it (incl. none).")
    kappa: float | None = strawberry.field(description="Cohen's kappa (two coders; statsmodels).")
    kappa_low: float | None = strawberry.field(description="Its 95 % confidence interval, low.")
    kappa_high: float | None = strawberry.field(description="Its 95 % confidence interval, high.")
    alpha: float | None = strawberry.field(
        description="Krippendorff's alpha, nominal (krippendorff); null when undefined."
    )

    @classmethod
    def of(cls, f: Figures) -> AgreementFigures:
        return cls(
            code=f.code,
            units=f.units,
            both=f.both,
            first_only=f.first_only,
            second_only=f.second_only,
            neither=f.neither,
            kappa=None if f.kappa is None else f.kappa.value,
            kappa_low=None if f.kappa is None else f.kappa.low,
            kappa_high=None if f.kappa is None else f.kappa.high,
            alpha=f.alpha,
        )


@strawberry.type(description="Agreement of coders on one codebook version, per code and pooled.")
class CodebookAgreement:
    codebook_id: strawberry.ID
    coders: list[str] = strawberry.field(description="The coders compared (first, second, ...).")
    meetings: int = strawberry.field(description="Meetings coded by two or more of them.")
    pooled: AgreementFigures
    per_code: list[AgreementFigures]

    @classmethod
    def of(cls, codebook_id: str, a: Agreement) -> CodebookAgreement:
        return cls(
            codebook_id=strawberry.ID(codebook_id),
            coders=list(a.coders),
            meetings=a.meetings,
            pooled=AgreementFigures.of(a.pooled),
            per_code=[AgreementFigures.of(f) for f in a.per_code],
        )
