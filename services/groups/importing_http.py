"""``POST /import/members?group=<id>``: the CSV member import for scripts and ``curl``.

    curl --data-binary @members.csv -H 'Content-Type: text/csv' \\
         'http://127.0.0.1:8101/import/members?group=<group id>'

The body is the CSV (UTF-8, optionally with a BOM). Answers, all JSON:

* 200 ``{"imported": n, "errors": [], "dryRun": false, "rows": [...]}``: every row was
  valid, all were added (``rows``: line, companyName, businessId, joinedOn, contactName ...);
* with ``&dry_run=1`` the file is only checked: 200 ``{"imported": 0, "dryRun": true,
  "rows": [...]}`` lists the rows that would be added, 422 the invalid ones; nothing is saved;
* 422 ``{"imported": 0, "errors": [{"line": 3, "reason": "...", "code": ..., "field":
  <column>, "params": {...}}, ...]}``: nothing was added;
* 400 / 404 / 409 / 413 ``{"code": ..., "message": ..., "field": ..., "params": {...}}``: the
  file or the request as a whole was refused (bad header, not UTF-8, unknown group, too
  large, ...).

Messages are in the language of ``Accept-Language`` (fi, sv; English without one).

Same handler, same rules and same events as the GraphQL mutation ``importMembers``.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.groups import handlers
from services.groups.commands import ImportMembers
from services.groups.domain.importing import MAX_CHARS
from shared.errors import DomainError
from shared.errors.csv_import import (
    CsvBodyTooLarge,
    CsvNotUtf8,
    InvalidGroupId,
)
from shared.i18n import SOURCE_LANGUAGE, negotiate, set_language
from shared.runtime import UnitOfWork

MAX_BYTES = MAX_CHARS * 4  # UTF-8: at most four bytes a character
IMPORT_PATH = "/import/members"
# the edge's body limit for the import (and the mutation): past what the refusal below
# (CSV_BODY_TOO_LARGE, in the reader's language) needs to see, never unbounded
IMPORT_BODY_BYTES = MAX_BYTES + 64 * 1024
_STATUS = {"GROUP_NOT_FOUND": 404, "CONCURRENT_CHANGE": 409, "ALREADY_A_MEMBER": 409}


def _refusal(status: int, error: DomainError) -> JSONResponse:
    body = {
        "code": error.code,
        "message": error.render(),
        "field": error.field,
        "params": error.json_params(),
    }
    return JSONResponse(body, status_code=status)


def import_route(region: str, unit_of_work: Callable[[], UnitOfWork]) -> Route:
    async def import_members(request: Request) -> JSONResponse:
        set_language(negotiate(request.headers.get("accept-language"), default=SOURCE_LANGUAGE))
        raw_group = request.query_params.get("group", "")
        try:
            group_id = UUID(raw_group)
        except ValueError:
            return _refusal(400, InvalidGroupId(value=raw_group[:60]))
        body = await request.body()
        if len(body) > MAX_BYTES:
            return _refusal(413, CsvBodyTooLarge(max=MAX_BYTES))
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _refusal(400, CsvNotUtf8())
        dry_run = request.query_params.get("dry_run", "").lower() in {"1", "true", "yes"}
        try:
            result = await handlers.import_members(
                ImportMembers(group_id, text, dry_run=dry_run), unit_of_work(), region=region
            )
        except DomainError as exc:
            return _refusal(_STATUS.get(exc.code, 400), exc)
        errors = [
            {
                "line": e.line,
                "reason": e.reason,
                "code": e.error.code,
                "field": e.error.field,
                "params": e.error.json_params(),
            }
            for e in result.errors
        ]
        rows = [
            {
                "line": row.line,
                "companyName": row.member.enterprise.company_name,
                "businessId": row.member.enterprise.business_id,
                "industryCode": row.member.enterprise.industry_code,
                "employees": row.member.enterprise.employees,
                "joinedOn": row.member.joined_on.isoformat(),
                "contactName": row.person.name if row.person else None,
                "contactEmail": row.person.email if row.person else None,
            }
            for row in result.rows
        ]
        answer = {"imported": result.imported, "errors": errors, "dryRun": dry_run, "rows": rows}
        return JSONResponse(answer, status_code=422 if errors else 200)

    return Route(IMPORT_PATH, import_members, methods=["POST"])
