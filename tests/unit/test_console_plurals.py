"""The console's counts in each language's plural forms (``ngettext``), on the feedback
results page: "1 detractor", "1 arvostelija", not "1 detractors"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import Markup

from services.console.i18n import ngettext
from services.console.pages.names import NAMES
from services.console.web import Notice, template_environment
from shared.i18n import use_language


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "1 detractor", "2 detractors"),
        ("fi", "1 arvostelija", "2 arvostelijaa"),
        ("sv", "1 kritiker", "2 kritiker"),
    ],
)
def test_a_count_takes_the_languages_plural_form(language: str, one: str, two: str) -> None:
    with use_language(language):
        assert ngettext("{count} detractor", "{count} detractors", 1) == one
        assert ngettext("{count} detractor", "{count} detractors", 2) == two
        assert ngettext("{count} detractor", "{count} detractors", 0).startswith("0 ")


def results_page(language: str, promoters: int, passives: int, detractors: int) -> str:
    """The survey page with results (the real template; the base template's globals)."""
    summary = {
        "groupId": "g",
        "closesAt": "2026-12-01T18:00:00+02:00",
        "open": False,
        "invited": 9,
        "responses": 7,
        "k": 3,
        "enoughResponses": True,
        "overallMean": 4.2,
        "usefulnessMean": 4.0,
        "recommend": {
            "mean": 8.1,
            "promoters": promoters,
            "passives": passives,
            "detractors": detractors,
            "nps": 14.3,
        },
    }
    values: dict[str, Any] = {
        "user": None,
        "lang": language,
        "languages": [],
        "csrf_token": "t",
        "csrf_field": lambda: Markup(""),
        "request_path": "/feedback/meetings/m",
        "here": "/feedback/meetings/m",
        "notice": Notice(),
        "region": "oulu",
        "nav": [],
        "summary": summary,
        "comments": {"enoughResponses": False, "takeaways": [], "changes": []},
        "meeting": {"theme": "Hinnoittelu", "startsAt": "2026-12-01T18:00:00+02:00"},
        "failed": [],
        "names": {},
        "tally": {"invitations": 9, "reminders": 2, "waiting": 0},
        **NAMES,
    }
    with use_language(language):
        html = template_environment().get_template("feedback/survey.html").render(**values)
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "(1 promoter, 5 passives, 1 detractor)"),
        ("fi", "(1 suosittelija, 5 passiivista, 1 arvostelija)"),
        ("sv", "(1 förespråkare, 5 passiva, 1 kritiker)"),
    ],
)
def test_the_survey_results_count_one_of_each_in_the_singular(language: str, expected: str) -> None:
    assert expected in results_page(language, 1, 5, 1)


def test_the_survey_results_count_several_in_the_plural() -> None:
    assert "(2 promoters, 1 passive, 3 detractors)" in results_page("en", 2, 1, 3)
    assert "(2 suosittelijaa, 1 passiivinen, 3 arvostelijaa)" in results_page("fi", 2, 1, 3)
