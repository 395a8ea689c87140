"""Rules of the feedback domain, the translations and the settings: no I/O."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from services.feedback.domain import (
    TEXT_MAX,
    Answers,
    Interview,
    Response,
    Scores,
    Survey,
    hash_token,
    new_token,
    parse_answers,
    summarize,
)
from services.feedback.mail import retry_delay
from services.feedback.settings import FeedbackSettings
from services.feedback.texts import _, label, language, language_name
from shared.contracts import K_ANONYMITY, InterviewRecorded
from shared.contracts.feedback import GROWTH_BARRIERS
from shared.errors.feedback import InvalidAnswers, InvalidInterview, SurveyIsClosed
from shared.i18n import use_language

HELD = datetime(2024, 5, 14, 15, 0, tzinfo=UTC)


def open_survey(now: datetime = HELD + timedelta(hours=3), invited: int = 4) -> Survey:
    survey, _ = Survey.open(
        survey_id=uuid4(),
        meeting_id=uuid4(),
        group_id=uuid4(),
        held_at=HELD,
        now=now,
        survey_days=14,
        reminder_days_before=3,
        invited=invited,
    )
    return survey


def test_tokens_are_unguessable_and_only_hashes_are_kept():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    token = next(iter(tokens))
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert set(token) <= set(string.ascii_letters + string.digits + "-_")
    digest = hash_token(token)
    assert len(digest) == 64
    assert token not in digest
    assert hash_token(token) == digest != hash_token(token + "x")


def test_survey_opens_for_the_period_and_reminds_before_closing():
    survey, event = Survey.open(
        survey_id=uuid4(),
        meeting_id=uuid4(),
        group_id=uuid4(),
        held_at=HELD,
        now=HELD,
        survey_days=14,
        reminder_days_before=3,
        invited=5,
    )
    assert survey.closes_at == HELD + timedelta(days=14)
    assert survey.reminder_at == HELD + timedelta(days=11)
    assert (event.invited, event.closes_at, survey.version) == (5, survey.closes_at, 1)


def test_editing_window_ends_when_the_survey_closes():
    survey = open_survey()
    answers = Answers(4, 5, 9)
    first, event = Response.submit(
        response_id=uuid4(), survey=survey, invitation_id=uuid4(), answers=answers, now=HELD
    )
    assert (first.version, event.overall, event.recommend) == (1, 4, 9)
    edited, again = Response.submit(
        response_id=uuid4(),
        survey=survey,
        invitation_id=first.invitation_id,
        answers=Answers(2, 3, 6, "more", "less"),
        now=survey.closes_at - timedelta(seconds=1),
        previous=first,
    )
    assert (edited.id, edited.version, again.response_id, again.overall) == (
        first.id,
        2,
        first.id,
        2,
    )
    assert "more" not in again.model_dump_json()  # free text never travels
    with pytest.raises(SurveyIsClosed) as closed:
        Response.submit(
            response_id=uuid4(),
            survey=survey,
            invitation_id=first.invitation_id,
            answers=answers,
            now=survey.closes_at,
            previous=edited,
        )
    assert closed.value.code == "SURVEY_CLOSED"


def test_closing_counts_responses_and_bumps_the_version():
    survey = open_survey()
    assert survey.is_due_to_close(survey.closes_at)
    closed, event = survey.close(now=survey.closes_at + timedelta(hours=5), responses=3)
    assert closed.closed_at == survey.closes_at
    assert (closed.version, event.invited, event.responses) == (2, 4, 3)
    assert not closed.is_open(HELD)
    assert not closed.is_due_to_close(closed.closes_at)


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        ({}, {"overall": "required", "usefulness": "required", "recommend": "required"}),
        (
            {"overall": "6", "usefulness": "0", "recommend": "11"},
            {"overall": "out_of_range", "usefulness": "out_of_range", "recommend": "out_of_range"},
        ),
        (
            {"overall": "x", "usefulness": "3", "recommend": "-1"},
            {"overall": "out_of_range", "recommend": "out_of_range"},
        ),
        (
            {"overall": "3", "usefulness": "3", "recommend": "0", "change": "x" * (TEXT_MAX + 1)},
            {"change": "too_long"},
        ),
    ],
)
def test_invalid_answers_name_every_field(form, errors):
    with pytest.raises(InvalidAnswers) as invalid:
        parse_answers(form)
    assert invalid.value.errors == errors


def test_valid_answers_are_trimmed():
    answers = parse_answers(
        {
            "overall": " 5",
            "usefulness": "1",
            "recommend": "10",
            "takeaway": " a\r\nb ",
            "change": "",
        }
    )
    assert answers == Answers(5, 1, 10, "a\nb", "")


def test_summary_hides_everything_but_counts_below_k():
    assert K_ANONYMITY == 3
    few = summarize([Scores(5, 5, 10), Scores(1, 1, 0)], invited=6)
    assert (few.responses, few.invited, few.enough) == (2, 6, False)
    assert (few.overall_mean, few.usefulness_mean, few.recommend) == (None, None, None)
    enough = summarize([Scores(5, 4, 10), Scores(4, 4, 9), Scores(3, 2, 5)], invited=6)
    assert enough.enough
    assert (enough.overall_mean, enough.usefulness_mean) == (4.0, 3.33)
    assert enough.recommend is not None
    r = enough.recommend
    assert (r.promoters, r.passives, r.detractors, r.nps, r.mean) == (2, 0, 1, 33.3, 8.0)


def test_interview_rules():
    now = datetime(2024, 6, 1, 12, tzinfo=UTC)

    person = uuid4()

    def record(**changes: Any) -> tuple[Interview, InterviewRecorded]:
        values = {
            "interview_id": uuid4(),
            "member_id": uuid4(),
            "person_id": person,
            "person_key": "ab" * 16,
            "interviewed_on": date(2024, 5, 30),
            "intends_to_grow": "yes",
            "planned_hires": 2,
            "barriers": ["time", "financing", "time"],
            "barrier_other": "",
            "now": now,
            **changes,
        }
        return Interview.record(**values)

    interview, event = record()
    assert (interview.person_id, event.person_key) == (person, "ab" * 16)
    assert "person_id" not in event.model_dump()  # the region's id never leaves it
    assert interview.barriers == ("financing", "time")  # GROWTH_BARRIERS order, deduplicated
    assert (event.intends_to_grow, event.planned_hires, event.barriers) == (
        "yes",
        2,
        ("financing", "time"),
    )
    with_other, _ = record(barriers=[], barrier_other="Landlord will not extend the lease")
    assert with_other.barriers == ("other",)
    for bad, field in (
        ({"intends_to_grow": "maybe"}, "intends_to_grow"),
        ({"planned_hires": -1}, "planned_hires"),
        ({"barriers": ["taxes"]}, "barriers"),
        ({"barriers": ["other"]}, "barrier_other"),
        ({"interviewed_on": date(2024, 6, 5)}, "interviewed_on"),
    ):
        with pytest.raises(InvalidInterview) as refused:
            record(**bad)
        assert refused.value.field == field
        assert refused.value.code == "INVALID_INTERVIEW"


def test_the_texts_come_from_the_feedback_catalogue_in_each_language():
    with use_language("sv"):
        assert _("Send answer") == "Skicka svaret"
        assert label("change") == "Vad skulle du ändra?"
        assert _("Hello {name},", name="Stina") == "Hej Stina,"
    with use_language("fi"):
        assert _("Hello {name},", name="Aino") == "Hei Aino,"
    with use_language("en"):
        assert _("Send answer") == "Send answer"
    assert [language_name(lang) for lang in ("fi", "sv", "en")] == ["Suomi", "Svenska", "English"]
    assert language("de") == "fi"
    assert language(None, "en") == "en"
    assert language("sv", "en") == "sv"


def test_growth_barriers_of_the_api_follow_the_contract():
    from services.feedback.api import GrowthBarrier

    assert tuple(b.value for b in GrowthBarrier) == GROWTH_BARRIERS


def test_mail_retry_backs_off_and_is_capped():
    assert [retry_delay(n, 30.0) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert retry_delay(50, 30.0) == 6 * 3600.0


def test_settings_defaults(monkeypatch):
    for name in ("REGION", "DATABASE_URL", "PORT", "MAIL_DIR", "SMTP_HOST", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(f"MGN_FEEDBACK_{name}", raising=False)
    settings = FeedbackSettings()
    assert settings.database_url == "sqlite+aiosqlite:///var/oulu/feedback.db"
    assert (settings.port, settings.survey_days, settings.reminder_days_before) == (8103, 14, 3)
    assert settings.mail_dir == "var/oulu/mail"  # demo mode: no SMTP host given
    assert settings.public_base_url == "http://127.0.0.1:8103"


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("MGN_FEEDBACK_REGION", "kainuu")
    monkeypatch.setenv("MGN_FEEDBACK_SMTP_HOST", "mail.example.fi")
    monkeypatch.setenv("MGN_FEEDBACK_GROUPS_URL", "http://127.0.0.1:8101/graphql")
    monkeypatch.setenv("MGN_FEEDBACK_PUBLIC_BASE_URL", "https://palaute.example.fi/")
    settings = FeedbackSettings()
    assert settings.region == "kainuu"
    assert (settings.smtp_host, settings.mail_dir) == ("mail.example.fi", "")
    assert settings.groups_url == "http://127.0.0.1:8101/graphql"
    assert settings.public_base_url == "https://palaute.example.fi"


@pytest.mark.parametrize(
    "bad",
    [{"region": "Oulu!"}, {"survey_days": 3, "reminder_days_before": 3}, {"timezone": "Mars/X"}],
)
def test_settings_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        FeedbackSettings(**bad)
