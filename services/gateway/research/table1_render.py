"""Table 1 as CSV (one row per code, examples in numbered columns), Markdown and LaTeX."""

from __future__ import annotations

import io

from services.gateway.research.table1 import Example, Table1
from shared.csv_out import SafeCsvWriter

FORMATS = ("csv", "md", "tex")


def _where(e: Example) -> str:
    group = e.group_name or e.group_id
    return f"{e.meeting_date.isoformat()}, {e.region}, {group}"


def to_csv(table: Table1) -> str:
    width = max((len(r.examples) for r in table.rows), default=0)
    out = io.StringIO()
    writer = SafeCsvWriter(out)  # cells safe to open in a spreadsheet
    head = ["code", "name", "definition", "groups", "meetings", "activities"]
    for i in range(1, width + 1):
        head += [f"example_{i}", f"example_{i}_date", f"example_{i}_region", f"example_{i}_group"]
    writer.writerow(head)
    for r in table.rows:
        line: list[object] = [r.code, r.name, r.definition, r.groups, r.meetings, r.activities]
        for e in r.examples:
            line += [e.text, e.meeting_date.isoformat(), e.region, e.group_name or e.group_id]
        line += [""] * (len(head) - len(line))
        writer.writerow(line)
    return out.getvalue()


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(table: Table1) -> str:
    lines = [
        f"**{_md(table.title)}** ({table.codebook_key} v{table.version}, {table.coder})",
        "",
        "| Type | Definition | Groups | Meetings | Activities | Examples |",
        "|---|---|--:|--:|--:|---|",
    ]
    for r in table.rows:
        examples = "<br>".join(f"{_md(e.text)} ({_md(_where(e))})" for e in r.examples)
        lines.append(
            f"| {_md(r.name)} | {_md(r.definition)} | {r.groups} | {r.meetings} | "
            f"{r.activities} | {examples} |"
        )
    if table.citation:
        lines += ["", f"Codebook: {_md(table.citation)}"]
    return "\n".join(lines) + "\n"


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _tex(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text.replace("\n", " "))


def to_latex(table: Table1) -> str:
    lines = [
        r"\begin{table}",
        rf"\caption{{{_tex(table.title)} ({_tex(table.codebook_key)} v{table.version})}}",
        r"\begin{tabular}{p{0.16\linewidth}p{0.24\linewidth}rrrp{0.3\linewidth}}",
        r"\hline",
        r"Type & Definition & Groups & Meetings & Activities & Examples \\",
        r"\hline",
    ]
    for r in table.rows:
        examples = r" \newline ".join(f"{_tex(e.text)} ({_tex(_where(e))})" for e in r.examples)
        lines.append(
            f"{_tex(r.name)} & {_tex(r.definition)} & {r.groups} & {r.meetings} & "
            f"{r.activities} & {examples} \\\\"
        )
    lines += [r"\hline", r"\end{tabular}"]
    if table.citation:
        lines.append(rf"\par\small Codebook: {_tex(table.citation)}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def render(table: Table1, fmt: str) -> str:
    return {"csv": to_csv, "md": to_markdown, "tex": to_latex}[fmt](table)
