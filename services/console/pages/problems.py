"""What a page says at a field: a service's refusal or warning, or the console's own note."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    """``balanceSheetEur`` -> ``balance_sheet_eur`` (the API's names to the forms')."""
    return _CAMEL.sub("_", name).lower()


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    code: str
    field: str | None  # the form's field (snake_case); None: about the whole form
    message: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_api(cls, problem: Mapping[str, Any], renamed: Mapping[str, str] = {}) -> Problem:
        """From ``{code field message params}`` (a FieldProblem, or a refusal's extensions
        with its message); ``renamed``: the API's field (snake_case) -> the form's."""
        api_field = problem.get("field")
        name = snake(api_field) if isinstance(api_field, str) and api_field else None
        return cls(
            code=str(problem.get("code", "")),
            field=renamed.get(name, name) if name else None,
            message=str(problem.get("message", "")),
            params=dict(problem.get("params") or {}),
        )

    def at(self, renamed: Mapping[str, str]) -> Problem:
        """The same problem at the form's own name for its field."""
        if self.field is None or self.field not in renamed:
            return self
        return Problem(self.code, renamed[self.field], self.message, self.params)
