"""The console's member form: values kept as typed, Finnish numbers and dates read, what
cannot be read put at its field, "save anyway" bound to the warnings the user saw, and an
edit's changes."""

from __future__ import annotations

from services.console.backend import Problem
from services.console.pages.member_form import MemberForm


def test_numbers_and_dates_are_read_the_finnish_way_and_the_rest_stays_at_its_field():
    form = MemberForm.from_form(
        {
            "company_name": " Paja Oy ",
            "employees": "3",
            "turnover_eur": "2\u00a0000\u00a0000",
            "balance_sheet_eur": "paljon",
            "joined_on": "31.2.2016",
            "address": "",
        }
    )
    read = form.read()
    assert read == {"companyName": "Paja Oy", "employees": 3, "turnoverEur": 2_000_000}
    assert set(form.errors) == {"balance_sheet_eur", "joined_on"}
    assert "paljon" in form.errors["balance_sheet_eur"]
    assert form.values["balance_sheet_eur"] == "paljon"  # kept as typed
    assert MemberForm.from_form({"joined_on": "2016-04-01"}).read() == {"joinedOn": "2016-04-01"}


def test_required_fields_and_one_problem_a_field():
    form = MemberForm.empty()
    form.require("company_name", "employees", "joined_on")
    form.add(Problem("INVALID_COMPANY_NAME", "second", "company_name"))
    assert set(form.errors) == {"company_name", "employees", "joined_on"}
    assert form.errors["company_name"] != "second"


def test_save_anyway_counts_only_for_the_warnings_the_user_saw():
    form = MemberForm.empty()
    assert form.confirmed(None)  # no warnings: nothing to confirm
    seen = Problem("LIKELY_DUPLICATE_NAME", "m", "company_name", {"member_id": "a"})
    form.warnings = [seen]
    key = form.warning_key
    assert not form.confirmed(None)
    assert form.confirmed(key)
    form.warnings = [seen, Problem("LIKELY_DUPLICATE_BUSINESS_ID", "m", "business_id", {})]
    assert not form.confirmed(key)  # another warning appeared since


def test_an_edit_clears_texts_and_refuses_to_remove_a_figure():
    saved = {"turnoverEur": 100, "balanceSheetEur": None}
    form = MemberForm.from_form(
        {
            "company_name": "Paja Oy",
            "business_id": "",
            "industry_code": "62010",
            "employees": "2",
            "turnover_eur": "",
            "address": "Rantakatu 1",
        }
    )
    changes = form.changes(saved, form.read())
    assert changes == {"companyName": "Paja Oy", "businessId": "", "industryCode": "62010",
                       "address": "Rantakatu 1", "employees": 2}  # fmt: skip
    assert set(form.errors) == {"turnover_eur"}
