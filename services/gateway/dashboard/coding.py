"""The researchers' coding page: ``/dashboard/coding`` (server-rendered forms, no script).

* ``GET /dashboard/coding``: the codebook, meetings (by meeting day, region, group) with who
  has coded them and whether they are reconciled; a sign-in form when a token is required.
* ``GET /dashboard/coding/meeting/{id}``: the memo, the caller's coding form (codes, each with
  an optional passage copied from the memo, or "nothing found"), the other codings and,
  with two or more coders, the reconciliation form.
* ``POST`` of those forms: the same rules as the GraphQL mutations
  (services/gateway/research/store.py); a refusal is shown in the page's language.

Sign-in: the researcher's token, kept in an HttpOnly, SameSite=Strict cookie for this path
only; every POST must come from this origin (``Origin``). Researchers only. Languages: fi,
sv, en (``?lang=``, else the browser's).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from services.gateway.auth.guard import ANONYMOUS, Guard, Role
from services.gateway.auth.tokens import TokenError, resolve_token
from services.gateway.dashboard.routes import CODING, CSP
from services.gateway.dashboard.texts import _
from services.gateway.orm import meetings, memos
from services.gateway.research import store
from services.gateway.research.coding import CodingInput, MarkInput
from services.gateway.research.scope import Scope, day_start
from services.gateway.research.tables import CONSENSUS, codebooks, coding_marks, codings
from services.gateway.statuses import MeetingStatus
from shared.errors import DomainError
from shared.i18n import LANGUAGES, Language, is_language, negotiate, set_language
from shared.i18n.formats import HELSINKI, format_date

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "mgn_research"
PATH = CODING
PAGE_SIZE = 50
e = html.escape


def _texts() -> dict[str, str]:
    """Every text of the page in the current language (marked here, where Babel finds them:
    it does not read calls inside f-strings)."""
    return {
        "yes": _("yes"),
        "no": _("no"),
        "Codebook": _("Codebook"),
        "From": _("From"),
        "To": _("To"),
        "Region": _("Region"),
        "Show": _("Show"),
        "Meeting day": _("Meeting day"),
        "Group": _("Group"),
        "Coded by": _("Coded by"),
        "Reconciled": _("Reconciled"),
        "Showing the first {count} held meetings of the period.": _(
            "Showing the first {count} held meetings of the period."
        ),
        "Coding meetings": _("Coding meetings"),
        "No such meeting.": _("No such meeting."),
        "Back to the meetings": _("Back to the meetings"),
        "Memo": _("Memo"),
        "No memo.": _("No memo."),
        "Your coding": _("Your coding"),
        "Coding by {coder}": _("Coding by {coder}"),
        "Consensus": _("Consensus"),
        "The consensus can be recorded once two researchers have coded the meeting.": _(
            "The consensus can be recorded once two researchers have coded the meeting."
        ),
        "Coding a meeting": _("Coding a meeting"),
        "Refused: the form came from another site.": _("Refused: the form came from another site."),
        "That token is not valid here.": _("That token is not valid here."),
        "The coding workspace is for researchers. Sign in with your access token.": _(
            "The coding workspace is for researchers. Sign in with your access token."
        ),
        "Access token": _("Access token"),
        "Sign in": _("Sign in"),
        "The coding workspace is for researchers; your token is of role {role}.": _(
            "The coding workspace is for researchers; your token is of role {role}."
        ),
        "Coded, nothing found.": _("Coded, nothing found."),
        "Table 1 example": _("Table 1 example"),
        "Passage (copied from the memo)": _("Passage (copied from the memo)"),
        "Example": _("Example"),
        "Save the consensus": _("Save the consensus"),
        "Save my coding": _("Save my coding"),
        "Coded, nothing found": _("Coded, nothing found"),
        "Note": _("Note"),
        "Signed in: {who}": _("Signed in: {who}"),
    }


def tr(message: str, **values: object) -> str:
    """A text of :func:`_texts` in the current language, its placeholders filled in."""
    text = _texts().get(message, message)
    try:
        return text.format(**values) if values else text
    except (KeyError, IndexError, ValueError):
        return message.format(**values)


class Page:
    def __init__(self, sessions: Sessions, read_sessions: Sessions, require_token: bool) -> None:
        self.sessions = sessions
        self.read = read_sessions
        self.require_token = require_token

    # --- who, and in which language ------------------------------------------------------

    def _language(self, request: Request) -> Language:
        wanted = request.query_params.get("lang")
        lang = wanted if wanted and is_language(wanted) else None
        lang = lang or negotiate(request.headers.get("accept-language"))
        set_language(lang)
        return lang

    async def _guard(self, request: Request) -> Guard | None:
        token = request.cookies.get(COOKIE)
        if token:
            try:
                return await resolve_token(self.read, token)
            except TokenError:
                return None
        return None if self.require_token else ANONYMOUS

    @staticmethod
    def _coder(guard: Guard) -> str:
        return guard.token_id or "demo"

    # --- pages ---------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        lang = self._language(request)
        guard = await self._guard(request)
        if guard is None:
            return self._sign_in(lang)
        if guard.role is not Role.RESEARCHER:
            return self._forbidden(lang, guard)
        q = request.query_params
        try:
            scope = Scope(_day(q.get("from")), _day(q.get("to")), q.get("region") or None, None)
        except ValueError:
            scope = Scope()
        async with self.read() as session:
            books = list(
                await session.execute(
                    select(codebooks).order_by(codebooks.c.key, codebooks.c.version.desc())
                )
            )
            book = q.get("codebook") or (books[0].id if books else "")
            rows = await _meetings(session, book, scope, guard)
        options = "".join(
            f'<option value="{e(b.id)}"{" selected" if b.id == book else ""}>'
            f"{e(getattr(b, 'title_' + lang))} ({e(b.key)} v{b.version})</option>"
            for b in books
        )
        query = urlencode({"codebook": book, "lang": lang})
        items = "".join(
            f'<tr><td><a href="{PATH}/meeting/{e(r["id"])}?{query}">'
            f"{e(format_date(r['day'], lang))}</a></td><td>{e(r['region'])}</td>"
            f"<td>{e(r['group'])}</td><td>{e(', '.join(r['coders']) or '-')}</td>"
            f"<td>{tr('yes') if r['reconciled'] else tr('no')}</td></tr>"
            for r in rows
        )
        body = f"""
<form method="get" action="{PATH}">
  <input type="hidden" name="lang" value="{lang}">
  <label>{tr("Codebook")} <select name="codebook">{options}</select></label>
  <label>{tr("From")} <input type="date" name="from" value="{e(q.get("from", ""))}"></label>
  <label>{tr("To")} <input type="date" name="to" value="{e(q.get("to", ""))}"></label>
  <label>{tr("Region")} <input name="region" value="{e(q.get("region", ""))}"></label>
  <button>{tr("Show")}</button>
</form>
<table><thead><tr><th>{tr("Meeting day")}</th><th>{tr("Region")}</th><th>{tr("Group")}</th>
<th>{tr("Coded by")}</th><th>{tr("Reconciled")}</th></tr></thead><tbody>{items}</tbody></table>
<p>{tr("Showing the first {count} held meetings of the period.", count=PAGE_SIZE)}</p>"""
        return _html(lang, tr("Coding meetings"), body, guard)

    async def meeting(self, request: Request, message: str = "", status: int = 200) -> Response:
        lang = self._language(request)
        guard = await self._guard(request)
        if guard is None:
            return self._sign_in(lang)
        if guard.role is not Role.RESEARCHER:
            return self._forbidden(lang, guard)
        meeting_id = request.path_params["meeting_id"]
        book_id = request.query_params.get("codebook", "")
        async with self.read() as session:
            try:
                book = await store.codebook_row(session, book_id)
                codes = await store.code_rows(session, book_id)
            except DomainError as exc:
                return _html(
                    lang, tr("Coding meetings"), f"<p>{e(exc.render(lang))}</p>", guard, 404
                )
            row = (
                await session.execute(
                    select(meetings.c.starts_at, meetings.c.region, memos.c.summary)
                    .select_from(meetings.outerjoin(memos, memos.c.meeting_id == meetings.c.id))
                    .where(meetings.c.id == meeting_id)
                )
            ).first()
            found = await _codings(session, book_id, meeting_id)
        if row is None:
            return _html(
                lang, tr("Coding meetings"), f"<p>{e(tr('No such meeting.'))}</p>", guard, 404
            )
        me = self._coder(guard)
        mine = found.get(me)
        others = {c: v for c, v in found.items() if c not in (me, CONSENSUS)}
        coders = [c for c in found if c != CONSENSUS]
        names = {c.code: getattr(c, f"name_{lang}") for c in codes}
        day = row.starts_at.astimezone(HELSINKI) if row.starts_at.tzinfo else row.starts_at
        memo = row.summary or ""
        back = f"{PATH}?{urlencode({'codebook': book_id, 'lang': lang})}"
        parts = [
            f'<p><a href="{back}">{tr("Back to the meetings")}</a></p>',
            f"<p>{e(format_date(day.date(), lang))}, {e(row.region)} — "
            f"{e(getattr(book, 'title_' + lang))} ({e(book.key)} v{book.version})</p>",
        ]
        if message:
            parts.append(f'<p class="refusal" role="alert">{e(message)}</p>')
        parts.append(
            f"<h2>{tr('Memo')}</h2><blockquote>{e(memo) or e(tr('No memo.'))}</blockquote>"
        )
        action = f"{PATH}/meeting/{e(meeting_id)}?{urlencode({'codebook': book_id, 'lang': lang})}"
        parts.append(f"<h2>{tr('Your coding')}</h2>")
        parts.append(_form(action, "code", codes, names, mine, lang))
        for coder, marks in sorted(others.items()):
            parts.append(
                f"<h3>{e(tr('Coding by {coder}', coder=coder))}</h3>{_listing(marks, names)}"
            )
        if len(coders) >= 2:
            parts.append(f"<h2>{tr('Consensus')}</h2>")
            parts.append(_form(action, "reconcile", codes, names, found.get(CONSENSUS), lang))
        else:
            parts.append(
                "<p>"
                + tr("The consensus can be recorded once two researchers have coded the meeting.")
                + "</p>"
            )
        return _html(lang, tr("Coding a meeting"), "".join(parts), guard, status)

    async def save(self, request: Request) -> Response:
        lang = self._language(request)
        if request.headers.get("origin") not in (None, _origin(request)):
            return _html(
                lang,
                tr("Coding meetings"),
                f"<p>{tr('Refused: the form came from another site.')}</p>",
                None,
                403,
            )
        guard = await self._guard(request)
        if guard is None:
            return self._sign_in(lang)
        if guard.role is not Role.RESEARCHER:
            return self._forbidden(lang, guard)
        form = await request.form()
        book_id = request.query_params.get("codebook", "")
        meeting_id = request.path_params["meeting_id"]
        kind = str(form.get("action", "code"))
        try:
            async with self.read() as session:
                memo = await session.scalar(
                    select(memos.c.summary).where(memos.c.meeting_id == meeting_id)
                )
                codes = [c.code for c in await store.code_rows(session, book_id)]
            marks = []
            for code in codes:
                if form.get(f"code:{code}") != "on":
                    continue
                passage = str(form.get(f"passage:{code}", "")).strip()
                start = end = None
                if passage:
                    at = (memo or "").find(passage)
                    start, end = (at, at + len(passage)) if at >= 0 else (-1, -1)
                marks.append(
                    MarkInput(
                        code,
                        start,
                        end,
                        str(form.get(f"example:{code}", "")),
                        form.get(f"featured:{code}") == "on",
                    )
                )
            coding = CodingInput(
                book_id,
                meeting_id,
                form.get("nothing_found") == "on",
                tuple(marks),
                str(form.get("note", "")),
            )
            async with self.sessions() as session, session.begin():
                if kind == "reconcile":
                    await store.reconcile_coding(session, coding, self._coder(guard))
                else:
                    await store.record_coding(session, coding, self._coder(guard))
        except DomainError as exc:
            return await self.meeting(request, exc.render(lang), 400)
        target = f"{PATH}/meeting/{meeting_id}?{urlencode({'codebook': book_id, 'lang': lang})}"
        return RedirectResponse(target, status_code=303)

    async def sign_in(self, request: Request) -> Response:
        lang = self._language(request)
        if request.headers.get("origin") not in (None, _origin(request)):
            return _html(
                lang,
                tr("Coding meetings"),
                f"<p>{tr('Refused: the form came from another site.')}</p>",
                None,
                403,
            )
        token = str((await request.form()).get("token", "")).strip()
        try:
            guard = await resolve_token(self.read, token)
        except TokenError:
            return self._sign_in(lang, tr("That token is not valid here."), 401)
        if guard.role is not Role.RESEARCHER:
            return self._forbidden(lang, guard)
        response = RedirectResponse(f"{PATH}?lang={lang}", status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path=PATH,
            secure=request.url.scheme == "https",
        )
        return response

    def _sign_in(self, lang: Language, message: str = "", status: int = 401) -> Response:
        note = f'<p class="refusal" role="alert">{e(message)}</p>' if message else ""
        intro = tr("The coding workspace is for researchers. Sign in with your access token.")
        field = '<input name="token" type="password" autocomplete="off" required>'
        body = f"""{note}<p>{intro}</p>
<form method="post" action="{PATH}/sign-in?lang={lang}">
  <label>{tr("Access token")} {field}</label>
  <button>{tr("Sign in")}</button>
</form>"""
        return _html(lang, tr("Coding meetings"), body, None, status)

    def _forbidden(self, lang: Language, guard: Guard) -> Response:
        text = tr(
            "The coding workspace is for researchers; your token is of role {role}.",
            role=guard.role.value,
        )
        body = f"<p>{e(text)}</p>"
        return _html(lang, tr("Coding meetings"), body, guard, 403)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


async def _meetings(
    session: AsyncSession, book: str, scope: Scope, guard: Guard
) -> list[dict[str, Any]]:
    from services.gateway.orm import groups

    m = meetings.c
    rows = list(
        await session.execute(
            select(m.id, m.starts_at, m.region, groups.c.name)
            .select_from(meetings.outerjoin(groups, groups.c.id == m.group_id))
            .where(m.status == MeetingStatus.HELD, *scope.meeting_terms(guard))
            .order_by(m.starts_at.desc(), m.id)
            .limit(PAGE_SIZE)
        )
    )
    coded: dict[str, list[str]] = {}
    if book and rows:
        for meeting, coder in await session.execute(
            select(codings.c.meeting_id, codings.c.coder_id).where(
                codings.c.codebook_id == book, codings.c.meeting_id.in_([r.id for r in rows])
            )
        ):
            coded.setdefault(meeting, []).append(coder)
    return [
        {
            "id": r.id,
            "day": (r.starts_at if r.starts_at.tzinfo else r.starts_at.replace(tzinfo=HELSINKI))
            .astimezone(HELSINKI)
            .date(),
            "region": r.region,
            "group": r.name or "",
            "coders": sorted(c for c in coded.get(r.id, []) if c != CONSENSUS),
            "reconciled": CONSENSUS in coded.get(r.id, []),
        }
        for r in rows
    ]


async def _codings(session: AsyncSession, book: str, meeting: str) -> dict[str, dict[str, Any]]:
    """coder -> {nothing_found, note, marks: {code: mark row}}."""
    c, k = codings.c, coding_marks.c
    found: dict[str, dict[str, Any]] = {}
    for row in await session.execute(
        select(c.coder_id, c.nothing_found, c.note).where(
            c.codebook_id == book, c.meeting_id == meeting
        )
    ):
        found[row.coder_id] = {"nothing_found": row.nothing_found, "note": row.note, "marks": {}}
    for mark in await session.execute(
        select(c.coder_id, k.code, k.quote, k.example, k.featured)
        .select_from(codings.join(coding_marks, k.coding_id == c.id))
        .where(c.codebook_id == book, c.meeting_id == meeting)
    ):
        found[mark.coder_id]["marks"][mark.code] = mark
    return found


def _listing(coding: dict[str, Any], names: dict[str, str]) -> str:
    if coding["nothing_found"]:
        return f"<p>{tr('Coded, nothing found.')}</p>"
    items = "".join(
        f"<li>{e(names.get(code, code))}{': ' + e(m.example) if m.example else ''}</li>"
        for code, m in coding["marks"].items()
    )
    return f"<ul>{items}</ul>"


def _form(
    action: str,
    kind: str,
    codes: list[Any],
    names: dict[str, str],
    current: dict[str, Any] | None,
    lang: str,
) -> str:
    marks = (current or {}).get("marks", {})
    rows = []
    for code in codes:
        m = marks.get(code.code)
        checked = " checked" if m is not None else ""
        quote, example = ("", "") if m is None else (m.quote, m.example)
        featured = ""
        if kind == "reconcile":
            on = " checked" if m is not None and m.featured else ""
            box = f'<input type="checkbox" name="featured:{e(code.code)}"{on}>'
            featured = f"<label>{box} {tr('Table 1 example')}</label>"
        rows.append(
            f'<fieldset><legend><label><input type="checkbox" name="code:{e(code.code)}"{checked}> '
            f"{e(names[code.code])}</label></legend>"
            f'<p class="definition">{e(getattr(code, "definition_" + lang))}</p>'
            f"<label>{tr('Passage (copied from the memo)')} "
            f'<input name="passage:{e(code.code)}" value="{e(quote)}"></label>'
            f"<label>{tr('Example')} "
            f'<input name="example:{e(code.code)}" value="{e(example)}"></label>'
            f"{featured}</fieldset>"
        )
    nothing = " checked" if current is not None and current["nothing_found"] else ""
    note = e(current["note"]) if current is not None else ""
    label = tr("Save the consensus") if kind == "reconcile" else tr("Save my coding")
    return (
        f'<form method="post" action="{action}"><input type="hidden" name="action" value="{kind}">'
        f"{''.join(rows)}"
        f'<label><input type="checkbox" name="nothing_found"{nothing}> '
        f"{tr('Coded, nothing found')}</label>"
        f'<label>{tr("Note")} <textarea name="note">{note}</textarea></label>'
        f"<button>{label}</button></form>"
    )


def _html(lang: str, title: str, body: str, guard: Guard | None, status: int = 200) -> HTMLResponse:
    links = " · ".join(f'<a href="?lang={code}" lang="{code}">{code}</a>' for code in LANGUAGES)
    who = "" if guard is None else f"<p>{e(tr('Signed in: {who}', who=guard.describe()))}</p>"
    page = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{e(title)}</title>
<link rel="stylesheet" href="/dashboard/static/dashboard.css"></head>
<body><header><h1>{e(title)}</h1><nav>{links}</nav>{who}</header><main>{body}</main></body></html>"""
    return HTMLResponse(
        page, status, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"}
    )


def coding_routes(
    sessions: Sessions, read_sessions: Sessions, require_token: bool
) -> list[BaseRoute]:
    page = Page(sessions, read_sessions, require_token)
    return [
        Route(PATH, page.index, methods=["GET", "HEAD"]),
        Route(f"{PATH}/sign-in", page.sign_in, methods=["POST"]),
        Route(f"{PATH}/meeting/{{meeting_id}}", page.meeting, methods=["GET", "HEAD"]),
        Route(f"{PATH}/meeting/{{meeting_id}}", page.save, methods=["POST"]),
    ]


__all__ = ["COOKIE", "PATH", "coding_routes", "day_start"]
