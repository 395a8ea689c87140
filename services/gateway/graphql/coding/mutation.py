"""Mutations of the coding workspace (researchers only): codebooks and their versions,
a coder's coding of a meeting, the reconciled consensus, examples chosen for Table 1."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.graphql.coding.access import coder_of, require_researcher
from services.gateway.graphql.coding.query import load_codebook, load_coding
from services.gateway.graphql.coding.types import Codebook, Coding, LocalizedTextInput
from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import mutation
from services.gateway.research import store
from services.gateway.research.codebooks import CodebookInput as BookInput
from services.gateway.research.codebooks import CodeInput as CodeIn
from services.gateway.research.coding import CodingInput as CodingIn
from services.gateway.research.coding import MarkInput as MarkIn


@strawberry.input(description="One code: its key and texts in fi, sv and en.")
class CodeInput:
    code: str
    name: LocalizedTextInput
    definition: LocalizedTextInput
    example: LocalizedTextInput | None = None


@strawberry.input(description="A codebook (or its next version): the whole of it.")
class CodebookInput:
    key: str
    title: LocalizedTextInput
    citation: str = ""
    codes: list[CodeInput]

    def value(self) -> BookInput:
        empty = LocalizedTextInput(fi="", sv="", en="")
        return BookInput(
            key=self.key,
            title=self.title.texts(),
            citation=self.citation,
            codes=tuple(
                CodeIn(
                    code=c.code,
                    name=c.name.texts(),
                    definition=c.definition.texts(),
                    example=(c.example or empty).texts(),
                )
                for c in self.codes
            ),
        )


@strawberry.input(description="A code applied to the meeting, or to a memo passage.")
class MarkInput:
    code: str
    span_start: int | None = strawberry.field(
        default=None, description="Offset into the meeting's memo text (null: the meeting)."
    )
    span_end: int | None = strawberry.field(default=None, description="End offset, exclusive.")
    example: str = strawberry.field(default="", description="Default: the passage's text.")
    featured: bool = strawberry.field(
        default=False, description="Consensus only: an example for Table 1."
    )


@strawberry.input(description="A coding of one meeting: codes, or nothingFound.")
class CodingInput:
    codebook_id: strawberry.ID
    meeting_id: strawberry.ID
    nothing_found: bool = False
    marks: list[MarkInput] = strawberry.field(default_factory=list)
    note: str = ""

    def value(self) -> CodingIn:
        return CodingIn(
            codebook_id=str(self.codebook_id),
            meeting_id=str(self.meeting_id),
            nothing_found=self.nothing_found,
            marks=tuple(
                MarkIn(m.code, m.span_start, m.span_end, m.example, m.featured) for m in self.marks
            ),
            note=self.note,
        )


def _writer(info: Info) -> async_sessionmaker[AsyncSession]:
    return info.context.write_sessions or info.context.sessions


@strawberry.type
class CodingMutation:
    @mutation("A new codebook (version 1).")
    async def create_codebook(self, info: Info, input: CodebookInput) -> Codebook:
        guard = require_researcher(info, "createCodebook")
        async with _writer(info)() as session, session.begin():
            book_id = await store.create_codebook(session, input.value(), coder_of(guard))
        return await load_codebook(info, book_id)

    @mutation("The next version of an existing codebook (how it is edited).")
    async def add_codebook_version(self, info: Info, input: CodebookInput) -> Codebook:
        guard = require_researcher(info, "addCodebookVersion")
        async with _writer(info)() as session, session.begin():
            book_id = await store.add_codebook_version(session, input.value(), coder_of(guard))
        return await load_codebook(info, book_id)

    @mutation("The caller's own coding of a meeting (replaces the caller's earlier one).")
    async def record_coding(self, info: Info, input: CodingInput) -> Coding:
        guard = require_researcher(info, "recordCoding")
        async with _writer(info)() as session, session.begin():
            coding_id = await store.record_coding(session, input.value(), coder_of(guard))
        return await load_coding(info, coding_id)

    @mutation("The consensus coding of a meeting two or more coders have coded.")
    async def reconcile_coding(self, info: Info, input: CodingInput) -> Coding:
        guard = require_researcher(info, "reconcileCoding")
        async with _writer(info)() as session, session.begin():
            coding_id = await store.reconcile_coding(session, input.value(), coder_of(guard))
        return await load_coding(info, coding_id)

    @mutation("Choose (or unchoose) a consensus mark as a Table 1 example.")
    async def feature_example(
        self, info: Info, mark_id: strawberry.ID, featured: bool = True
    ) -> bool:
        require_researcher(info, "featureExample")
        async with _writer(info)() as session, session.begin():
            await store.set_featured(session, str(mark_id), featured)
        return featured
