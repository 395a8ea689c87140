"""Every text of the dashboard page (``/dashboard``), from the ``research`` gettext catalogue.

The server writes them into the page (its headings, the filter form, the notice without
JavaScript) and hands the same dictionary to dashboard.js as a JSON data block, so the script
draws its charts and tables in the page's language without a catalogue of its own. Keys are
the script's names; values are marked here, where Babel finds them (``mgn translations
extract``). The names of Wenger's types come from ``shared.activity_types`` (their one
definition), keyed by the GraphQL enum name.
"""

from __future__ import annotations

from typing import Final

from services.gateway.dashboard.texts import _
from shared.activity_types import ACTIVITY_TYPE_TEXTS
from shared.i18n import current_language

# Intl locales of the page's languages (numbers and dates as Babel's <lang>_FI would write them)
LOCALES: Final = {"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}


def page_texts() -> dict[str, str]:
    """The page's texts in the current language (see :func:`shared.i18n.set_language`)."""
    lang = current_language()
    texts = {
        "locale": LOCALES.get(lang, "en-GB"),
        "title": _("MGN national dashboard"),
        "intro": _("The MicroENTRE Growth Network's national read model at a glance."),
        "language": _("Language"),
        "refresh": _("Refresh"),
        "token": _("Access token"),
        "useToken": _("Use token"),
        "graphql": _("GraphQL API"),
        "exports": _("Data exports"),
        "footer": _("Data: the gateway's national GraphQL API."),
        "filters": _("Filters"),
        "from": _("From"),
        "to": _("To"),
        "region": _("Region"),
        "group": _("Group"),
        "allRegions": _("All regions"),
        "allGroups": _("All groups"),
        "show": _("Show"),
        "clear": _("Clear the filters"),
        "periodReversed": _("The first day ({from}) is after the last day ({to})."),
        "badDay": _("{field} must be a day written as YYYY-MM-DD, not {value}."),
        "viewer": _("Signed in as {role}; sees {sees}."),
        "viewerRegion": _("Signed in as {role} of region {region}; sees {sees}."),
        "roleResearcher": _("researcher"),
        "roleAgency": _("agency"),
        "rolePublic": _("public"),
        "seesAll": _("every region in full (pseudonymous)"),
        "seesOwn": _("its own region in full, other regions as aggregates"),
        "seesNational": _("national aggregates only"),
        "showing": _("Showing: {scope}, {period}."),
        "scopeNation": _("the whole nation"),
        "scopeRegion": _("region {region}"),
        "scopeGroup": _("group {group} of region {region}"),
        "periodAll": _("all days"),
        "periodBetween": _("days {from} to {to}"),
        "periodFrom": _("days from {from}"),
        "periodTo": _("days until {to}"),
        "noscript": _(
            "This dashboard draws its charts with JavaScript, which is off in this browser. "
            "The tables below are the same figures as plain text; every view is also a "
            "download at /exports."
        ),
        "noscriptToken": _(
            "This dashboard draws its charts with JavaScript, which is off in this browser. "
            "This gateway requires an access token: fetch the figures from /exports or the "
            "GraphQL API with your token."
        ),
        "loading": _("Loading…"),
        "noData": _("No data for these filters."),
        "error": _("Could not load: {msg}"),
        "pageNote": _("The first {shown} of {total} rows."),
        "showData": _("Show the data as a table"),
        # panels
        "regions": _("Regions"),
        "meetings": _("Meetings per month"),
        "activities": _("CoP activities by Wenger type"),
        "feedback": _("Feedback by meeting month"),
        "retention": _("Retention of members per year"),
        "initiatives": _("Joint initiatives by status"),
        "hosts": _("Host rotation per group"),
        "health": _("Group health"),
        "groupMonths": _("Meetings per group and month"),
        "agreement": _("Coding agreement between researchers"),
        "intentions": _("Growth intentions"),
        "cohorts": _("Retention by join cohort"),
        "firmSize": _("Firm size over time"),
        # columns
        "lastEvent": _("Last event"),
        "link": _("Link"),
        "linkActive": _("active"),
        "linkDown": _("offline"),
        "behind": _("Events behind"),
        "applied": _("Events applied"),
        "groups": _("Groups"),
        "members": _("Members"),
        "meetingsCol": _("Meetings"),
        "month": _("Month"),
        "year": _("Year"),
        "type": _("Type"),
        "held": _("Held"),
        "cancelled": _("Cancelled"),
        "groupsMeeting": _("Groups that met"),
        "attendees": _("Attendees"),
        "expected": _("Expected"),
        "attendanceRate": _("Attendance rate"),
        "activitiesCol": _("Activities"),
        "example": _("Example"),
        "surveys": _("Surveys"),
        "withheld": _("Withheld (under 3 responses)"),
        "invited": _("Invited"),
        "responses": _("Responses"),
        "responseRate": _("Response rate"),
        "overall": _("Overall score"),
        "usefulness": _("Usefulness"),
        "recommendScore": _("Recommend score"),
        "membersStart": _("Members at start"),
        "joined": _("Joined"),
        "left": _("Left"),
        "retained": _("Retained"),
        "membersEnd": _("Members at end"),
        "retentionRate": _("Retention rate"),
        "status": _("Status"),
        "initiativesCol": _("Initiatives"),
        "joinings": _("Joinings"),
        "hosted": _("Meetings hosted"),
        "distinctHosts": _("Distinct hosts"),
        "hostShare": _("Host share"),
        "repeatHostings": _("Repeat hostings"),
        "meanDays": _("Mean days between"),
        "minDays": _("Shortest gap (days)"),
        "active": _("Active"),
        "ever": _("In the period"),
        "churn": _("Churn rate"),
        "lastMeeting": _("Last meeting"),
        "longestStreak": _("Longest streak"),
        "meanStreak": _("Mean current streak"),
        "hostedShare": _("Hosted share"),
        "feedbackRecent": _("Feedback, last 3"),
        "feedbackPrevious": _("Feedback, 3 before"),
        "feedbackTrend": _("Feedback trend"),
        "coderA": _("Coder A"),
        "coderB": _("Coder B"),
        "kappa": _("Cohen's kappa"),
        "both": _("Both"),
        "aOnly": _("A only"),
        "bOnly": _("B only"),
        "neither": _("Neither"),
        "perType": _("Agreement per type"),
        "interviews": _("Interviews"),
        "persons": _("Persons"),
        "yes": _("Intends to grow"),
        "no": _("Does not"),
        "unsure": _("Unsure"),
        "hires": _("Planned hires (mean)"),
        "barriers": _("Barriers named"),
        "byYear": _("By interview year"),
        "byCohort": _("By join cohort"),
        "cohort": _("Join cohort"),
        "afterYears": _("After {n} years"),
        "firms": _("Firms"),
        "employeesMean": _("Employees (mean)"),
        "employeesMedian": _("Employees (median)"),
        "turnoverMean": _("Turnover, EUR (mean)"),
        # chart descriptions (aria-label of each chart)
        "regionsSummary": _("{n} regions ({shown} shown); newest event {newest}."),
        "meetingsChart": _(
            "Bar chart of meetings per month: {n} months from {from} to {to}, {total} meetings "
            "in all; the busiest month {max} with {maxCount}."
        ),
        "activitiesChart": _(
            "Bar chart of {total} CoP activities by Wenger type; most often {top} ({topCount})."
        ),
        "feedbackChart": _(
            "Line chart of mean feedback scores (1–5) by the month of the meetings: {n} months "
            "from {from} to {to}; latest overall {last}."
        ),
        "feedbackNote": _(
            "Surveys are dated by their meeting's day. Means of surveys closed with at least 3 "
            "responses, weighted by responses."
        ),
        "retentionChart": _(
            "Bar chart of the share of members retained per year (%): {n} years from {from} "
            "to {to}."
        ),
        "initiativesChart": _("Bar chart of {total} joint initiatives by status."),
        "intentionsChart": _(
            "Bar chart of interviews per year in which the entrepreneur intends to grow: "
            "{n} years, {total} in all."
        ),
        "firmSizeChart": _(
            "Bar chart of member firms in the network at the end of each year: {n} years "
            "from {from} to {to}."
        ),
        # initiative statuses
        "ACTIVE": _("Active"),
        "PAUSED": _("Paused"),
        "COMPLETED": _("Completed"),
        "ABANDONED": _("Abandoned"),
    }
    for code, text in ACTIVITY_TYPE_TEXTS.items():
        texts[code.upper()] = text.name.get(lang)
    return texts
