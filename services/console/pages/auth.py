"""Signing in and out, and the language switch."""

from __future__ import annotations

import logging

from starlette.responses import RedirectResponse, Response

from services.console.accounts import Staff, StaffStore
from services.console.i18n import LANGUAGE_COOKIE, _
from services.console.oidc import FLOW_COOKIE, FLOW_SECONDS, Flow, Identity, OidcError, username_for
from services.console.sessions import SESSION_COOKIE, SessionStore
from services.console.throttle import SignInThrottle, keys
from services.console.web import CSRF_COOKIE, Ctx, NotFound, Routes, safe_next
from shared.i18n import is_language, set_language

routes = Routes()
log = logging.getLogger(__name__)
YEAR = 365 * 24 * 3600


@routes.form("/signin", role="public")
async def sign_in(ctx: Ctx) -> Response:
    target = safe_next(ctx.query("next", "/"))
    if ctx.request.method == "GET":
        if ctx.user is not None:
            return ctx.redirect(target)
        return ctx.render(
            "auth/signin.html", next=target, username="", error="", oidc=ctx.console.oidc.enabled
        )
    form = await ctx.form()
    username = form.get("username", "").strip()
    password = form.get("password", "")
    target = safe_next(form.get("next", target))
    address = ctx.request.client.host if ctx.request.client else ""
    throttle = SignInThrottle(ctx.db)
    both = keys(username, address)
    locked = await throttle.locked(*both)
    if locked is not None:
        message = _(
            "Too many failed sign-ins. Wait {seconds} s and try again.", seconds=locked.seconds
        )
        response = ctx.render(
            "auth/signin.html",
            status=429,
            next=target,
            username=username,
            error=message,
            oidc=ctx.console.oidc.enabled,
        )
        response.headers["Retry-After"] = str(locked.seconds)
        return response
    staff = await StaffStore(ctx.db).authenticate(username, password) if username else None
    if staff is None:
        await throttle.failed(*both)
        await ctx.audit("session.sign_in_failed", f"staff:{username[:100]}", address=address)
        message = _("The username or password is wrong, or the account is disabled.")
        return ctx.render(
            "auth/signin.html",
            status=401,
            next=target,
            username=username,
            error=message,
            oidc=ctx.console.oidc.enabled,
        )
    await throttle.succeeded(*both)
    cookie, _info = await SessionStore(ctx.db, ctx.console.policy).create(staff.id, address)
    ctx.user = staff
    await ctx.audit("session.sign_in", f"staff:{staff.username}", address=address)
    ctx.set_cookie(SESSION_COOKIE, cookie)
    ctx.set_cookie(CSRF_COOKIE, "", max_age=0)
    return ctx.redirect(target)


@routes.get("/signin/oidc", role="public")
async def sign_in_oidc(ctx: Ctx) -> Response:
    """To the agency's provider (the button on the sign-in page)."""
    if not ctx.console.oidc.enabled:
        raise NotFound()
    try:
        url, flow = await ctx.console.oidc.start(safe_next(ctx.query("next", "/")))
    except OidcError as exc:
        log.warning("OpenID Connect sign-in cannot start: %s", exc)
        return _oidc_refused(ctx, _("The agency's sign-in service is not answering."))
    ctx.set_cookie(FLOW_COOKIE, flow.cookie(), max_age=FLOW_SECONDS)
    return RedirectResponse(url, status_code=303)


@routes.get("/signin/oidc/callback", role="public")
async def sign_in_oidc_done(ctx: Ctx) -> Response:
    """Back from the provider: who it signed in, and their account."""
    oidc = ctx.console.oidc
    if not oidc.enabled:
        raise NotFound()
    flow = Flow.from_cookie(ctx.request.cookies.get(FLOW_COOKIE))
    ctx.set_cookie(FLOW_COOKIE, "", max_age=0)
    try:
        identity = await oidc.finish(dict(ctx.request.query_params), flow)
    except OidcError as exc:
        log.warning("OpenID Connect sign-in refused: %s", exc)
        await ctx.audit("session.sign_in_failed", "oidc", reason=str(exc)[:200])
        return _oidc_refused(ctx, _("The sign-in through the agency's service did not succeed."))
    store = StaffStore(ctx.db)
    staff = await store.by_sign_in(identity.subject, identity.email)
    if staff is None and ctx.console.settings.oidc_create_accounts:
        staff = await _new_account(store, identity)
        await ctx.audit("staff.add", f"staff:{staff.username}", role=staff.role, via="oidc")
    if staff is None or staff.disabled:
        await ctx.audit("session.sign_in_failed", f"oidc:{identity.subject}"[:300])
        return _oidc_refused(
            ctx,
            _("You have no account in this console yet, or it is disabled. Ask an admin."),
        )
    address = ctx.request.client.host if ctx.request.client else ""
    cookie, _info = await SessionStore(ctx.db, ctx.console.policy).create(staff.id, address)
    ctx.user = staff
    await ctx.audit("session.sign_in", f"staff:{staff.username}", address=address, via="oidc")
    ctx.set_cookie(SESSION_COOKIE, cookie)
    return ctx.redirect(flow.next if flow else "/")


async def _new_account(store: StaffStore, identity: Identity) -> Staff:
    base = username_for(identity)
    name = base
    for n in range(2, 100):
        if await store.by_username(name) is None:
            break
        name = f"{base}{n}"
    staff = await store.add(
        name,
        role="facilitator",
        password=None,
        display_name=identity.name or identity.email or name,
        email=identity.email,
    )
    await store.link_subject(staff.id, identity.subject)
    return staff


def _oidc_refused(ctx: Ctx, message: str) -> Response:
    return ctx.render(
        "auth/signin.html", status=401, next="/", username="", error=message, oidc=True
    )


@routes.post("/signout")
async def sign_out(ctx: Ctx) -> Response:
    if ctx.session is not None:
        await SessionStore(ctx.db, ctx.console.policy).revoke(ctx.session.id_hash)
        await ctx.audit("session.sign_out", f"staff:{ctx.staff.username}")
    ctx.set_cookie(SESSION_COOKIE, "", max_age=0)
    return ctx.redirect("/signin", notice=_("You have signed out."))


@routes.post("/language", role="public")
async def language(ctx: Ctx) -> Response:
    """The language chosen in the header: remembered on the account, or (before sign-in)
    in a cookie."""
    form = await ctx.form()
    chosen = form.get("language", "")
    target = safe_next(form.get("next", "/"))
    if not is_language(chosen):
        return ctx.redirect(target)
    if ctx.user is not None:
        await StaffStore(ctx.db).set_language(ctx.user.id, chosen)
    ctx.set_cookie(LANGUAGE_COOKIE, chosen, max_age=YEAR)
    set_language(chosen)
    return ctx.redirect(target)
