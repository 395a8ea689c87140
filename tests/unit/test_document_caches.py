"""Regional services parse and validate each distinct GraphQL document once."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from shared.runtime.asgi import DOCUMENT_CACHE_SIZE, with_document_caches


def _hits(cache: Any) -> int:
    return int(cache(DOCUMENT_CACHE_SIZE).cache_info().hits)


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, text: str) -> str:
        return text


SCHEMA = strawberry.Schema(query=Query)


async def test_the_same_document_is_parsed_and_validated_once():
    cached = with_document_caches(SCHEMA)
    query = "query($t: String!) { echo(text: $t) }"
    parse_hits = _hits(_get_parse_cache)
    validate_hits = _hits(_get_validate_cache)
    first = await cached.execute(query, variable_values={"t": "a"})
    second = await cached.execute(query, variable_values={"t": "b"})
    assert first.data == {"echo": "a"}
    assert second.data == {"echo": "b"}  # variables are not cached, only the document
    assert _hits(_get_parse_cache) > parse_hits
    assert _hits(_get_validate_cache) > validate_hits


async def test_an_invalid_document_is_refused_every_time():
    cached = with_document_caches(SCHEMA)
    for _ in range(2):
        result = await cached.execute("{ nope }")
        assert result.errors
        assert "nope" in result.errors[0].message


def test_the_original_schema_is_left_alone():
    before = SCHEMA.extensions
    cached = with_document_caches(SCHEMA)
    assert isinstance(cached, strawberry.Schema)
    assert SCHEMA.extensions == before
    assert len(cached.extensions) == len(before) + 2
