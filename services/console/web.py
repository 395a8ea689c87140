"""How a console page is served: routes per area, sign-in and roles, CSRF, language, the
database session, templates and the audit trail, in one place (README.md, "How to add a
page").

A page is ``async def view(ctx: Ctx) -> Response``, registered on an area's
:class:`Routes`::

    routes = Routes()

    @routes.get("/groups/{group_id}/members")
    async def members(ctx: Ctx) -> Response:
        group_id = ctx.require_group(ctx.path("group_id"))
        ...
        return ctx.render("members/list.html", members=...)

Every route requires a signed-in account unless ``role="public"``; ``role="admin"``
requires an admin. Every unsafe method (POST, PUT, PATCH, DELETE) must carry the CSRF token
(the form field ``csrf_token``, which ``{{ csrf_field() }}`` writes, or the header
``X-CSRF-Token``), else 403, before the page runs.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from hmac import compare_digest
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote, urlsplit
from uuid import UUID

import jinja2
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from services.console import audit
from services.console.accounts import Staff, StaffStore
from services.console.backend import Backend, BackendUnavailable
from services.console.i18n import (
    LANGUAGE_COOKIE,
    _,
    choose_language,
    language_choices,
    ngettext,
)
from services.console.node_link import LinkWatch
from services.console.oidc import OidcClient
from services.console.sessions import SESSION_COOKIE, SessionInfo, SessionPolicy, SessionStore
from services.console.settings import ConsoleSettings
from shared.i18n import current_language, set_language
from shared.i18n.formats import format_date, format_datetime, format_number, format_time

Role = Literal["public", "staff", "admin"]
View = Callable[["Ctx"], Awaitable[Response]]
UNSAFE: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
CSRF_COOKIE: Final = "mgn_csrf"  # before sign-in: double-submit cookie for the sign-in form
NOTICE_COOKIE: Final = "mgn_notice"
_SECTION: Final = re.compile(r"[A-Za-z][\w-]{0,63}")  # an element id a notice may go to
log = logging.getLogger(__name__)
TEMPLATES: Final = Path(__file__).parent / "templates"
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Forbidden(Exception):
    """The signed-in account may not do this (shown as a 403 page)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    """No such thing (shown as a 404 page)."""


@dataclass
class Console:
    """What every page shares: settings, database, backend client, templates."""

    settings: ConsoleSettings
    sessions: async_sessionmaker[AsyncSession]
    backend: Backend
    templates: jinja2.Environment
    oidc: OidcClient
    link: LinkWatch = field(default_factory=LinkWatch)  # the home page's hub link, recent

    @property
    def policy(self) -> SessionPolicy:
        from datetime import timedelta

        return SessionPolicy(
            lifetime=timedelta(hours=self.settings.session_hours),
            idle=timedelta(minutes=self.settings.session_idle_minutes),
        )


def template_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # compiled once per process and not checked again: without this every page asked
        # the file system for each of its templates' times (restart after editing one)
        auto_reload=False,
    )
    env.globals["_"] = _
    env.globals["ngettext"] = ngettext
    env.filters["date"] = lambda v: "" if v is None else format_date(_as_date(v))
    env.filters["datetime"] = lambda v: "" if v is None else format_datetime(_as_datetime(v))
    env.filters["time"] = lambda v: "" if v is None else format_time(_as_datetime(v))
    env.filters["number"] = lambda v: "" if v is None else format_number(Decimal(str(v)))
    return env


def _as_date(value: date | str) -> date:
    if isinstance(value, str):
        return (
            datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value[:10])
        )
    return value


def _as_datetime(value: datetime | time | str) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@dataclass
class Notice:
    """The confirmation of the last action, shown once on the page the action led to: in
    the section the page comes back to (``section``, the redirect's fragment: where the
    browser puts the keyboard and a screen reader goes on reading, so it is heard), else
    at the top of the page. Templates: ``{{ notice.here("memo") }}`` in a section that can
    be the place; base.html shows it at the top when no section took it."""

    text: str = ""
    section: str = ""
    shown: bool = False

    def here(self, section: str) -> Markup:
        if not self.text or self.shown or section != self.section:
            return Markup("")
        self.shown = True
        return Markup('<p class="notice" role="status">{}</p>').format(self.text)

    def rest(self) -> Markup:
        """The notice if no section showed it (base.html, after rendering the page)."""
        return self.here(self.section)

    def __bool__(self) -> bool:
        return bool(self.text)


@dataclass
class Ctx:
    """One request to a page: who asks, in which language, the database session and the
    backend; what the page answers goes through :meth:`render` / :meth:`redirect`."""

    request: Request
    console: Console
    db: AsyncSession
    user: Staff | None
    session: SessionInfo | None
    csrf_token: str
    _form: FormData | None = None
    _cookies: list[tuple[str, str, int | None]] = field(default_factory=list)
    notice: Notice = field(default_factory=Notice)

    # -- the request ----------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        return self.console.backend

    @property
    def staff(self) -> Staff:
        """The signed-in account (every route but ``role="public"`` has one)."""
        if self.user is None:
            raise Forbidden()
        return self.user

    @property
    def language(self) -> str:
        return current_language()

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    async def form(self) -> dict[str, str]:
        """The submitted form's text fields (files: ``await ctx.files()``)."""
        data = await self._form_data()
        return {k: v for k, v in data.items() if isinstance(v, str)}

    async def form_lists(self) -> dict[str, list[str]]:
        """Fields that may repeat (checkboxes): every value of each."""
        data = await self._form_data()
        found: dict[str, list[str]] = {}
        for key, value in data.multi_items():
            if isinstance(value, str):
                found.setdefault(key, []).append(value)
        return found

    async def files(self) -> dict[str, tuple[str, bytes]]:
        """Uploaded files: field -> (file name, content)."""
        data = await self._form_data()
        found: dict[str, tuple[str, bytes]] = {}
        for key, value in data.multi_items():
            if not isinstance(value, str):
                found[key] = (value.filename or "", await value.read())
        return found

    async def _form_data(self) -> FormData:
        if self._form is None:
            self._form = await self.request.form(max_files=5, max_part_size=5 * 1024 * 1024)
        return self._form

    # -- rights ---------------------------------------------------------------------------

    def require_admin(self) -> Staff:
        if not self.staff.is_admin:
            raise Forbidden(_("Only an admin may do this."))
        return self.staff

    def require_group(self, group_id: str | UUID) -> UUID:
        """The group's id if the account may work on it (admin, or assigned facilitator);
        otherwise 403 (also for an id that is no UUID: 404)."""
        try:
            wanted = group_id if isinstance(group_id, UUID) else UUID(str(group_id))
        except ValueError:
            raise NotFound() from None
        if not self.staff.can_access_group(wanted):
            raise Forbidden(_("You are not a facilitator of this group."))
        return wanted

    # -- answers --------------------------------------------------------------------------

    def render(self, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        shared = self.template_globals()
        taken = sorted(shared.keys() & values.keys())
        if taken:
            raise TypeError(f"{template}: {', '.join(taken)} are the base template's; rename")
        html = self.console.templates.get_template(template).render(**shared, **values)
        return HTMLResponse(html, status_code=status)

    def template_globals(self) -> dict[str, Any]:
        token = self.csrf_token
        return {
            "user": self.user,
            "lang": current_language(),
            "languages": language_choices(),
            "csrf_token": token,
            "csrf_field": lambda: Markup(
                f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">'
            ),
            "request_path": self.request.url.path,
            "here": _local_target(self.request),
            "notice": self.notice,
            "region": self.console.settings.region,
            "nav": _navigation(self.user, self.request.url.path),
        }

    def redirect(self, url: str, *, notice: str = "") -> RedirectResponse:
        """303 to a page of the console (a confirmation shown there once if ``notice``)."""
        if notice:  # "<section>#<text>": the section the page comes back to (the fragment)
            section = urlsplit(url).fragment
            self.set_cookie(NOTICE_COOKIE, quote(f"{section}#{notice[:300]}"), max_age=60)
        return RedirectResponse(safe_next(url), status_code=303)

    def set_cookie(self, name: str, value: str, *, max_age: int | None = None) -> None:
        self._cookies.append((name, value, max_age))

    async def audit(self, action: str, target: str = "", **details: Any) -> None:
        """Record a change in the audit trail (saved with the page's transaction)."""
        await audit.record(self.db, actor=self.actor, action=action, target=target, details=details)

    @property
    def actor(self) -> str:
        return self.user.username if self.user is not None else "anonymous"


def _navigation(user: Staff | None, path: str) -> list[tuple[str, str, bool]]:
    if user is None:
        return []
    items = [
        ("/", _("Home")),
        ("/members", _("Members")),
        ("/meetings", _("Meetings")),
        ("/feedback", _("Feedback")),
    ]
    if user.is_admin:
        items.append(("/admin", _("Admin")))
    return [
        (href, label, path == href or (href != "/" and path.startswith(href + "/")))
        for href, label in items
    ]


def safe_next(url: str) -> str:
    """A local path to go to (never another site: ``//evil``, ``https://...``)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


def _local_target(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


# -- routes ----------------------------------------------------------------------------


@dataclass
class _Page:
    path: str
    view: View
    methods: tuple[str, ...]
    role: Role


class Routes:
    """The pages of one area (``services/console/pages/<area>.py``)."""

    def __init__(self) -> None:
        self.pages: list[_Page] = []

    def page(
        self, path: str, *, methods: tuple[str, ...] = ("GET",), role: Role = "staff"
    ) -> Callable[[View], View]:
        def register(view: View) -> View:
            self.pages.append(_Page(path, view, methods, role))
            return view

        return register

    def get(self, path: str, *, role: Role = "staff") -> Callable[[View], View]:
        return self.page(path, methods=("GET",), role=role)

    def post(self, path: str, *, role: Role = "staff") -> Callable[[View], View]:
        return self.page(path, methods=("POST",), role=role)

    def form(self, path: str, *, role: Role = "staff") -> Callable[[View], View]:
        """GET shows the form, POST handles it (the view looks at ``ctx.request.method``)."""
        return self.page(path, methods=("GET", "POST"), role=role)

    def starlette_routes(self, console: Console) -> list[Route]:
        return [
            Route(p.path, _serve(console, p), methods=list(p.methods), name=p.view.__name__)
            for p in self.pages
        ]


def _serve(console: Console, page: _Page) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        ctx: Ctx | None = None
        try:
            async with console.sessions() as db:
                ctx = await _context(console, request, db)
                # ended before the page asks the services: SQLite has one writer at a time
                # (a write turn, BEGIN IMMEDIATE), so a transaction kept open while a page
                # waited for a service made every other page of the console wait for it;
                # the page's own writes (audit) begin a transaction of their own
                await db.commit()
                response = await _answer(ctx, page)
                await db.commit()
        except ClientDisconnect:
            # The browser went away before its form had arrived (e.g. the member form's
            # check superseded by the next keystroke): nothing to answer, nothing saved.
            log.info("console page %s %s: the client left mid-request", request.method,
                     request.url.path)  # fmt: skip
            return Response(status_code=400)
        except Exception:
            # A fault of the console itself: logged with the request, answered with a
            # page (the transaction is rolled back when the session closes; no trace shown).
            log.exception("console page %s %s failed", request.method, request.url.path)
            return _server_error(ctx)
        return _finish(ctx, response)

    return endpoint


def _server_error(ctx: Ctx | None) -> Response:
    """The 500 page, in the request's language (plain if even the template fails)."""
    title = _("Something went wrong")
    message = _(
        "The console could not show this page, and what you sent was not saved. "
        "Try again in a moment; if it persists, tell the node's operator."
    )
    if ctx is not None:
        try:
            return _finish(ctx, error_page(ctx, 500, title, message))
        except Exception:
            log.exception("console error page failed")
    html = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
    response = HTMLResponse(f"{html}<p>{escape(message)}</p>", status_code=500)
    response.headers.update(SECURITY_HEADERS)
    return response


async def _context(console: Console, request: Request, db: AsyncSession) -> Ctx:
    signed = await SessionStore(db, console.policy).find(request.cookies.get(SESSION_COOKIE))
    found, user = None, None
    if signed is not None:
        found, row = signed
        user = await StaffStore(db).of_row(row)
    if user is not None and user.disabled:
        user, found = None, None
    set_language(
        choose_language(
            user.language if user else None,
            request.cookies.get(LANGUAGE_COOKIE),
            request.headers.get("accept-language"),
        )
    )
    csrf = found.csrf_token if found is not None else request.cookies.get(CSRF_COOKIE, "")
    ctx = Ctx(request, console, db, user, found, csrf)
    if found is None and not csrf:
        ctx.csrf_token = secrets.token_urlsafe(32)
        ctx.set_cookie(CSRF_COOKIE, ctx.csrf_token)
    notice = request.cookies.get(NOTICE_COOKIE)
    if notice:
        from urllib.parse import unquote

        section, sep, text = unquote(notice).partition("#")
        if not sep or not _SECTION.fullmatch(section):
            section, text = "", text if sep else section
        ctx.notice = Notice(text[:300], section)
        ctx.set_cookie(NOTICE_COOKIE, "", max_age=0)
    return ctx


async def _answer(ctx: Ctx, page: _Page) -> Response:
    request = ctx.request
    if page.role != "public" and ctx.user is None:
        return RedirectResponse(
            "/signin?next=" + quote(_local_target(request), safe=""), status_code=303
        )
    try:
        if page.role == "admin":
            ctx.require_admin()
        if request.method in UNSAFE and not await _csrf_ok(ctx):
            return error_page(
                ctx,
                403,
                _("This form has expired or did not come from this console"),
                _("Go back, reload the page and send the form again."),
            )
        return await page.view(ctx)
    except Forbidden as exc:
        return error_page(
            ctx, 403, _("Not allowed"), exc.message or _("Your account may not open this page.")
        )
    except NotFound:
        return error_page(ctx, 404, _("Not found"), _("There is no such page or item."))
    except BackendUnavailable as exc:
        await ctx.db.rollback()
        return error_page(
            ctx,
            503,
            _("A service of the node is not answering"),
            _(
                "The {service} service could not be reached, so nothing was changed. "
                "Try again in a moment; if it persists, tell the node's operator.",
                service=exc.service,
            ),
        )


async def _csrf_ok(ctx: Ctx) -> bool:
    expected = ctx.csrf_token
    sent = ctx.request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = ctx.request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await ctx.form()).get(CSRF_FIELD)
    return bool(expected) and sent is not None and compare_digest(sent.encode(), expected.encode())


def error_page(ctx: Ctx, status: int, title: str, message: str) -> HTMLResponse:
    return ctx.render("errors/error.html", status=status, title=title, message=message)


def _finish(ctx: Ctx, response: Response) -> Response:
    secure = bool(ctx.console.settings.cookie_secure)
    for name, value, max_age in ctx._cookies:
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax"
        )
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    return response
