"""Signing in and out, and the language switch."""

from __future__ import annotations

from starlette.responses import Response

from services.console.accounts import StaffStore
from services.console.i18n import LANGUAGE_COOKIE, _
from services.console.sessions import SESSION_COOKIE, SessionStore
from services.console.throttle import SignInThrottle, keys
from services.console.web import CSRF_COOKIE, Ctx, Routes, safe_next
from shared.i18n import is_language, set_language

routes = Routes()
YEAR = 365 * 24 * 3600


@routes.form("/signin", role="public")
async def sign_in(ctx: Ctx) -> Response:
    target = safe_next(ctx.query("next", "/"))
    if ctx.request.method == "GET":
        if ctx.user is not None:
            return ctx.redirect(target)
        return ctx.render("auth/signin.html", next=target, username="", error="")
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
            "auth/signin.html", status=429, next=target, username=username, error=message
        )
        response.headers["Retry-After"] = str(locked.seconds)
        return response
    staff = await StaffStore(ctx.db).authenticate(username, password) if username else None
    if staff is None:
        await throttle.failed(*both)
        await ctx.audit("session.sign_in_failed", f"staff:{username[:100]}", address=address)
        message = _("The username or password is wrong, or the account is disabled.")
        return ctx.render(
            "auth/signin.html", status=401, next=target, username=username, error=message
        )
    await throttle.succeeded(*both)
    cookie, _info = await SessionStore(ctx.db, ctx.console.policy).create(staff.id, address)
    ctx.user = staff
    await ctx.audit("session.sign_in", f"staff:{staff.username}", address=address)
    ctx.set_cookie(SESSION_COOKIE, cookie)
    ctx.set_cookie(CSRF_COOKIE, "", max_age=0)
    return ctx.redirect(target)


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
