"""What several member, feedback and erasure pages look up or read the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from services.console.backend import Problem, snake
from services.console.web import Ctx
from shared.errors.dates import InvalidDate
from shared.i18n.formats import HELSINKI, FormatError, format_date, parse_date

GROUPS = "groups { id name municipality foundedOn facilitators { name } }"


async def visible_groups(ctx: Ctx) -> list[dict[str, Any]]:
    """The groups the signed-in account may work on (an admin: every one), by name."""
    return (await groups_and(ctx))[0]


async def groups_and(
    ctx: Ctx, params: str = "", fields: str = "", **variables: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The visible groups (:func:`visible_groups`) and more of the groups service in the
    same request (one request per service and page): ``fields`` with the variables
    ``params`` declares (``"$id: UUID!"``, ``"member(id: $id) { id }"``). Gives the groups
    and the whole answer."""
    declared = f"({params})" if params else ""
    found = await ctx.backend.graphql(
        "groups", f"query{declared} {{ {GROUPS} {fields} }}", variables
    )
    groups = [g for g in found["groups"] if ctx.staff.can_access_group(g["id"])]
    return groups, found


def aliased(field: str, ids: Sequence[str]) -> tuple[str, str, dict[str, str]]:
    """One field asked for each id (of a group, a person, ...) in one document, under the
    aliases ``g0``, ``g1``, ...: ``field`` has ``{i}`` where the number goes (``g{i}:
    searchMembers(groupId: $g{i}) {{ total }}``). Gives the variables' declarations, the
    fields and the variables; the answer for ``ids[i]`` is under ``g{i}``."""
    params = ", ".join(f"$g{i}: UUID!" for i in range(len(ids)))
    fields = " ".join(field.format(i=i) for i in range(len(ids)))
    return params, fields, {f"g{i}": g for i, g in enumerate(ids)}


def field_problem(found: Mapping[str, Any], renamed: Mapping[str, str] | None = None) -> Problem:
    """A ``FieldProblem {code field message params}`` of a service, at the form's field."""
    field = snake(str(found.get("field") or ""))
    return Problem(
        code=str(found.get("code") or ""),
        message=str(found.get("message") or ""),
        field=(renamed or {}).get(field, field),
        params=dict(found.get("params") or {}),
    )


def at_field(problem: Problem, renamed: Mapping[str, str]) -> Problem:
    """The same problem at the form's own name for its field."""
    if problem.field not in renamed:
        return problem
    return Problem(problem.code, problem.message, renamed[problem.field], problem.params)


def read_date(text: str, field: str) -> tuple[str | None, Problem | None]:
    """``1.4.2016`` or ``2016-04-01`` as ISO, or the problem to show at ``field``."""
    try:
        return parse_date(text).isoformat(), None
    except FormatError:
        error = InvalidDate(text, field=field)
        return None, Problem(error.code, error.render(), field, error.json_params())


def today_shown() -> str:
    """Today in Helsinki, as the reader writes dates (7.12.2026)."""
    return format_date(datetime.now(HELSINKI).date())
