"""Reproduce Table 1 and the longitudinal figures of the MGN case study twice: through the
national GraphQL API and from an exported data package (``mgn export --all --out DIR``),
and check that both give the same numbers.

    python docs/worked-example/reproduce.py --api http://127.0.0.1:8000 --package DIR \
        [--token T] [--today YYYY-MM-DD]

Prints each figure as a Markdown table (the API's), then one line per figure: ``same`` or
the cells that differ. Exit status 0 when every figure is the same, 1 otherwise.

The figures (definitions: docs/research-views.md, docs/research-workspace.md):

* Table 1: per Wenger type, its name, distinct groups, meetings and activities over the whole
  period, each meeting counting its counted coder's records (API: ``copActivityTable``;
  package: ``activities``, the counted coder of a meeting being the one who recorded first,
  which in the package is the smallest coder id, as the records of one meeting carry the
  same time; a meeting the researchers reconciled with the ``wenger`` codebook counts its
  consensus instead, the latest codebook version's: its marks of the 11 types in
  ``coding_marks``, none when it found nothing — ``codings``);
* growth intentions by interview year and by join cohort (API: ``growthIntentions``;
  package: ``interviews`` joined to ``members``);
* retention by join cohort: of the members whose n-th anniversary has come by ``--today``,
  those still in the network on it (a pause counts as in) (API: ``retentionByCohort``;
  package: ``members``);
* firm size: member companies in the network at each year's end, their mean and median
  employees and mean turnover (API: ``firmSizeByYear``; package: ``members``).

Needs httpx and pandas (both installed with mgn).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pandas as pd

HELSINKI = ZoneInfo("Europe/Helsinki")
BARRIERS = (
    "financing",
    "finding_employees",
    "time",
    "market_demand",
    "competence",
    "regulation",
    "owner_wellbeing",
    "location",
    "other",
)
INTENTION = ["period", "interviews", "members", "yes", "no", "unsure", "planned_hires_mean"]
INTENTION += [f"barrier_{b}" for b in BARRIERS]

# -- through the API ------------------------------------------------------------------------

QUERY = """
{ codebooks(key: "wenger") { version codes { code name { en } } }
  copActivityTable { activityType activities meetings groups }
  byYear: growthIntentions(by: YEAR) { ...cell }
  byCohort: growthIntentions(by: JOIN_COHORT) { ...cell }
  retentionByCohort { cohort joined survival { years atRisk retained } }
  firmSizeByYear { year firms employeesMean employeesMedian turnoverMeanEur } }
fragment cell on GrowthIntentions { period interviews persons members yes no unsure
  plannedHiresMean barriers { barrier count } }
"""


def ask(api: str, token: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{api.rstrip('/')}/graphql", json={"query": QUERY}, headers=headers, timeout=120
    )
    body = response.json()
    if body.get("errors"):
        raise SystemExit(f"the API refused: {body['errors'][0]['message']}")
    data: dict[str, Any] = body["data"]
    return data


def _intentions(cells: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for c in cells:
        named = {b["barrier"]: b["count"] for b in c["barriers"]}
        rows.append(
            {
                "period": c["period"],
                "interviews": c["interviews"],
                "members": c["members"],
                "yes": c["yes"],
                "no": c["no"],
                "unsure": c["unsure"],
                "planned_hires_mean": c["plannedHiresMean"],
                **{f"barrier_{b}": named.get(b, 0) for b in BARRIERS},
                "persons": c["persons"],  # only the API has the person keys
            }
        )
    return pd.DataFrame(rows, columns=[*INTENTION, "persons"])


def api_figures(data: dict[str, Any]) -> dict[str, pd.DataFrame]:
    names = {c["code"]: c["name"]["en"] for book in data["codebooks"][-1:] for c in book["codes"]}
    table1 = pd.DataFrame(
        [
            {
                "code": c["activityType"].lower(),
                "name": names.get(c["activityType"].lower(), ""),
                "groups": c["groups"],
                "meetings": c["meetings"],
                "activities": c["activities"],
            }
            for c in data["copActivityTable"]
        ],
        columns=["code", "name", "groups", "meetings", "activities"],
    )
    survival = pd.DataFrame(
        [
            {"cohort": c["cohort"], "joined": c["joined"], "years": s["years"],
             "at_risk": s["atRisk"], "retained": s["retained"]}
            for c in data["retentionByCohort"]
            for s in c["survival"]
        ],
        columns=["cohort", "joined", "years", "at_risk", "retained"],
    )  # fmt: skip
    firms = pd.DataFrame(
        [
            {"year": f["year"], "firms": f["firms"], "employees_mean": f["employeesMean"],
             "employees_median": f["employeesMedian"], "turnover_mean_eur": f["turnoverMeanEur"]}
            for f in data["firmSizeByYear"]
        ],
        columns=["year", "firms", "employees_mean", "employees_median", "turnover_mean_eur"],
    )  # fmt: skip
    return {
        "Table 1": table1,
        "Growth intentions by interview year": _intentions(data["byYear"]),
        "Growth intentions by join cohort": _intentions(data["byCohort"]),
        "Retention by join cohort": survival,
        "Firm size by year": firms,
    }


# -- from the package -----------------------------------------------------------------------


def read(package: Path, name: str) -> pd.DataFrame:
    """One CSV resource of the package, found by name in its datapackage.json."""
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        if resource["name"] == name:
            return pd.read_csv(package / resource["path"], dtype=str, keep_default_na=False)
    raise SystemExit(f"{package} has no dataset {name!r} (was it exported by a researcher?)")


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


TRUE = {"true", "True", "1"}


def _consensus(package: Path, types: set[str]) -> tuple[set[str], pd.DataFrame]:
    """The meetings reconciled with the ``wenger`` codebook and their counted marks (the
    latest version's consensus; marks of the 11 types only), as activity rows."""
    codings = read(package, "codings")
    marks = read(package, "coding_marks")
    agreed = codings[(codings["codebook"] == "wenger") & codings["consensus"].isin(TRUE)].copy()
    agreed["v"] = agreed["codebook_version"].astype(int)
    latest = agreed[agreed["v"] == agreed.groupby("meeting_id")["v"].transform("max")]
    counted = marks[marks["coding_id"].isin(set(latest["coding_id"])) & marks["code"].isin(types)]
    rows = counted.rename(columns={"code": "activity_type"})
    return set(latest["meeting_id"]), rows[["id", "meeting_id", "group_id", "activity_type"]]


def _table1(package: Path, names: dict[str, str]) -> pd.DataFrame:
    acts = read(package, "activities")
    # a meeting reconciled in the workspace counts its consensus
    reconciled, agreed = _consensus(package, set(names))
    acts = acts[~acts["meeting_id"].isin(reconciled)]
    # every other meeting counts its counted coder's records only: the smallest coder id
    counted = acts.groupby("meeting_id")["coder_id"].transform("min")
    acts = acts[acts["coder_id"] == counted]
    acts = pd.concat([acts[["id", "meeting_id", "group_id", "activity_type"]], agreed])
    cells = acts.groupby("activity_type").agg(
        groups=("group_id", "nunique"),
        meetings=("meeting_id", "nunique"),
        activities=("id", "size"),
    )
    out = cells.reset_index().rename(columns={"activity_type": "code"})
    out.insert(1, "name", out["code"].map(names).fillna(""))
    return out


def _intentions_from(interviews: pd.DataFrame, key: str) -> pd.DataFrame:
    rows = []
    for period, cell in interviews.groupby(key):
        listed = cell["barriers"].map(lambda text: set(filter(None, text.split(","))))
        rows.append(
            {
                "period": int(period),
                "interviews": len(cell),
                "members": cell["member_id"].nunique(),
                "yes": int((cell["intends_to_grow"] == "yes").sum()),
                "no": int((cell["intends_to_grow"] == "no").sum()),
                "unsure": int((cell["intends_to_grow"] == "unsure").sum()),
                "planned_hires_mean": cell["planned_hires"].astype(int).mean(),
                **{f"barrier_{b}": int(listed.map(lambda s, b=b: b in s).sum()) for b in BARRIERS},
            }
        )
    return pd.DataFrame(rows, columns=INTENTION)


def package_figures(package: Path, today: date, names: dict[str, str]) -> dict[str, pd.DataFrame]:
    members = read(package, "members")
    members = members[members["joined_on"] != ""].copy()
    members["joined"] = members["joined_on"].map(_day)
    # a member is out from the day it left; a paused one is still in
    members["gone"] = [
        _day(left) if status == "LEFT" else None
        for left, status in zip(members["left_on"], members["status"], strict=True)
    ]
    interviews = read(package, "interviews")
    interviews["year"] = interviews["interviewed_on"].str[:4].astype(int)
    cohort_of = dict(zip(members["id"], members["joined"].map(lambda d: d.year), strict=True))
    interviews["cohort"] = interviews["member_id"].map(cohort_of)

    survival = []
    for cohort, people in members.groupby(members["joined"].map(lambda d: d.year)):
        pairs = list(zip(people["joined"], people["gone"], strict=True))
        for n in range(1, today.year - int(cohort) + 1):
            due = [(j, g) for j, g in pairs if _anniversary(j, n) <= today]
            if not due:
                break
            kept = sum(1 for j, g in due if g is None or g > _anniversary(j, n))
            survival.append({"cohort": int(cohort), "joined": len(pairs), "years": n,
                             "at_risk": len(due), "retained": kept})  # fmt: skip

    firms = []
    for year in range(min(members["joined"]).year, today.year + 1):
        end = min(date(year, 12, 31), today)
        inside = members[
            [j <= end and not (g is not None and g <= end)
             for j, g in zip(members["joined"], members["gone"], strict=True)]
        ]  # fmt: skip
        staff = inside["employees"][inside["employees"] != ""].astype(int)
        turnover = inside["turnover_eur"][inside["turnover_eur"] != ""].astype(int)
        firms.append(
            {"year": year, "firms": len(inside),
             "employees_mean": staff.mean() if len(staff) else None,
             "employees_median": float(staff.median()) if len(staff) else None,
             "turnover_mean_eur": turnover.mean() if len(turnover) else None}
        )  # fmt: skip
    return {
        "Table 1": _table1(package, names),
        "Growth intentions by interview year": _intentions_from(interviews, "year"),
        "Growth intentions by join cohort": _intentions_from(
            interviews[interviews["cohort"].notna()], "cohort"
        ),
        "Retention by join cohort": pd.DataFrame(
            survival, columns=["cohort", "joined", "years", "at_risk", "retained"]
        ),
        "Firm size by year": pd.DataFrame(
            firms,
            columns=["year", "firms", "employees_mean", "employees_median", "turnover_mean_eur"],
        ),
    }


# -- comparing and printing -----------------------------------------------------------------


def differences(api: pd.DataFrame, package: pd.DataFrame) -> list[str]:
    """The cells where the two differ (numbers to 1e-9), over the package's columns."""
    columns = list(package.columns)
    a = api[columns].reset_index(drop=True)
    b = package.reset_index(drop=True)
    if len(a) != len(b):
        return [f"{len(a)} rows through the API, {len(b)} from the package"]
    found = []
    for i in range(len(a)):
        for col in columns:
            x, y = a.at[i, col], b.at[i, col]
            if pd.isna(x) and pd.isna(y):
                continue
            if isinstance(x, str) or isinstance(y, str):
                same = str(x) == str(y)
            else:
                same = not (pd.isna(x) or pd.isna(y)) and abs(float(x) - float(y)) <= 1e-9
            if not same:
                found.append(f"row {i} {col}: API {x!r}, package {y!r}")
    return found


def markdown(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.2f}"
        return str(value)

    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--api", required=True, help="the gateway's address, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument(
        "--package", required=True, type=Path, help="a directory of `mgn export --all`"
    )
    parser.add_argument("--token", default=os.environ.get("MGN_TOKEN"), help="a researcher's token")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=datetime.now(HELSINKI).date(),
        help="the day the gateway counts to (default: today, Helsinki)",
    )
    args = parser.parse_args(argv)
    if not (args.package / "datapackage.json").is_file():
        parser.error(f"{args.package} is not a data package: no datapackage.json in it")

    data = ask(args.api, args.token)
    names = {c["code"]: c["name"]["en"] for book in data["codebooks"][-1:] for c in book["codes"]}
    through_api = api_figures(data)
    from_package = package_figures(args.package, args.today, names)
    snapshot = json.loads((args.package / "datapackage.json").read_text())["mgn:snapshot"]
    print(f"# The package's snapshot: {json.dumps(snapshot)}\n")
    verdicts = []
    for title, frame in through_api.items():
        print(f"## {title}\n\n{markdown(frame)}\n")
        found = differences(frame, from_package[title])
        verdicts.append((title, found))
    failed = False
    for title, found in verdicts:
        if found:
            failed = True
            print(f"{title}: DIFFERENT ({len(found)} cells)")
            for line in found[:20]:
                print(f"  {line}")
        else:
            rows = len(through_api[title])
            print(f"{title}: same through the API and from the package ({rows} rows)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
