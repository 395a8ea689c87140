"""``exports``: the downloadable datasets, their data dictionary and URLs (GraphQL-linked)."""

from __future__ import annotations

import strawberry

from services.gateway.exports.registry import DATASETS
from services.gateway.exports.routes import describe
from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved


@strawberry.type(description="One column of an export: its name, type and meaning.")
class ExportColumn:
    name: str
    type: str = strawberry.field(
        description="string | id | integer | number | boolean | date | timestamp"
    )
    meaning: str


@strawberry.type(
    description="A dataset downloadable as CSV, JSON lines, SPSS or Stata, with its dictionary."
)
class ExportDataset:
    name: str
    description: str
    allowed: bool = strawberry.field(description="Whether the caller's token may download it.")
    csv_url: str = strawberry.field(description="Path of the CSV download (same token).")
    jsonl_url: str = strawberry.field(description="Path of the JSON-lines download.")
    sav_url: str = strawberry.field(description="Path of the SPSS file (value labels).")
    dta_url: str = strawberry.field(description="Path of the Stata file (value labels).")
    columns: list[ExportColumn]


@strawberry.type
class ExportsQuery:
    @resolved(
        "Datasets to download (pseudonymous raw tables, k-anonymous survey aggregates, "
        "the research views with their fields' numbers): GET the URL with the same "
        "Authorization header; add ?region=R for one region."
    )
    def exports(self, info: Info) -> list[ExportDataset]:
        found = []
        for ds in DATASETS.values():
            d = describe(ds, info.context.guard)
            found.append(
                ExportDataset(
                    name=ds.name,
                    description=ds.description,
                    allowed=d["allowed"],
                    csv_url=d["urls"]["csv"],
                    jsonl_url=d["urls"]["jsonl"],
                    sav_url=d["urls"]["sav"],
                    dta_url=d["urls"]["dta"],
                    columns=[
                        ExportColumn(name=c.name, type=c.type, meaning=c.meaning)
                        for c in ds.columns
                    ],
                )
            )
        return found
