"""The one vocabulary of refusals, for every service and page of a regional node.

A :class:`DomainError` is a refusal of a rule that a request can break: a stable ``code``
(``BUSINESS_ID_CHECKSUM_MISMATCH``), the input ``field`` at fault (snake_case, domain terms;
the API shows it camelCase), and ``params`` (the values the message names). Its message is
an English template marked for translation (``N_``), rendered in the reader's language from
the ``errors`` catalogue (shared/i18n/locale), never composed as prose in the domain::

    class NotAMicroEnterprise(DomainError):
        code = "NOT_A_MICRO_ENTERPRISE"
        default_field = "employees"
        message = N_("{company} has {employees} employees; a micro-enterprise has fewer than 10.")

    raise NotAMicroEnterprise(company="Paja Oy", employees=12)

Codes are unique across the project (a second class with a code already taken fails at
import). Parameters are shown in the reader's formats: dates ``7.12.2026``, datetimes in
Europe/Helsinki, numbers with grouping (so pass a year as a string), lists joined by commas.
A parameter may itself be a refusal (or a list of them: the problems of a whole batch), shown
as its message in the same language and given to an API as its code, field and params.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias
from uuid import UUID

from shared.i18n import N_, Language, current_language
from shared.i18n.catalogues import ERRORS
from shared.i18n.formats import format_date, format_datetime, format_number, local

Param: TypeAlias = (
    "str | int | float | Decimal | date | datetime | UUID | DomainError | Sequence[Any] | None"
)


class DomainError(Exception):
    """Base class: a request the domain refuses."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    message: ClassVar[str] = N_("The request was refused.")
    default_field: ClassVar[str | None] = None
    by_code: ClassVar[dict[str, type[DomainError]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            return  # an abstract grouping class, no code of its own
        taken = DomainError.by_code.get(cls.code)
        if taken is not None and taken.__qualname__ != cls.__qualname__:
            raise TypeError(f"error code {cls.code} is used by {taken.__qualname__} already")
        DomainError.by_code[cls.code] = cls

    def __init__(self, *, field: str | None = None, **params: Param) -> None:
        self.field = field if field is not None else self.default_field
        self.params: dict[str, Param] = params
        super().__init__(self.render("en"))

    def render(self, language: Language | None = None) -> str:
        """The message in ``language`` (default: the request's), its values in its formats."""
        lang = language or current_language()
        template = ERRORS.gettext(self.message, lang)
        shown = {name: _shown(value, lang) for name, value in self.params.items()}
        try:
            return template.format_map(shown)
        except (KeyError, IndexError, ValueError):  # a translation naming a wrong placeholder
            return self.message.format_map(shown)

    def json_params(self) -> dict[str, Any]:
        """``params`` for an API's error extensions (ISO dates, datetimes in Europe/Helsinki,
        ids as strings)."""
        return {name: _json(value) for name, value in self.params.items()}


class ConcurrentChange(DomainError):
    """Someone else changed the same thing since it was read; the one code for it."""

    code = "CONCURRENT_CHANGE"
    message = N_(
        "This was changed by someone else at the same time; reload it and make your change again."
    )


def _shown(value: Param, language: Language) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, DomainError):
        return value.render(language)
    if isinstance(value, datetime):
        return format_datetime(value, language)
    if isinstance(value, date):
        return format_date(value, language)
    if isinstance(value, int | float | Decimal):
        return format_number(value, language)
    if isinstance(value, str | UUID):
        return str(value)
    return ", ".join(_shown(item, language) for item in value)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _json(value: Param) -> Any:
    if isinstance(value, DomainError):
        return {
            "code": value.code,
            "field": _camel(value.field) if value.field else None,  # as the API names it
            "message": value.render(),
            "params": value.json_params(),
        }
    if isinstance(value, datetime):  # in Europe/Helsinki with its offset, as the API answers
        return local(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, str | int | float):
        return value
    return [_json(item) for item in value]


__all__ = ["N_", "ConcurrentChange", "DomainError", "Param"]
