"""Admin pages: staff (add, edit, assign groups, disable/enable, reset password), API
tokens (issue, shown once; list; revoke) and the audit trail (paged, by user)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.responses import Response

from services.console import audit, tokens
from services.console.accounts import ROLES, AccountError, Staff, StaffStore, generate_password
from services.console.i18n import _
from services.console.web import Ctx, NotFound, Routes
from shared.i18n import LANGUAGE_NAMES, LANGUAGES

routes = Routes()
PAGE = 50
GROUPS = "{ groups { id name municipality } }"


async def _groups(ctx: Ctx) -> list[dict[str, Any]]:
    data = await ctx.backend.groups(GROUPS)
    return list(data["groups"])


def _chosen_groups(values: list[str], known: list[dict[str, Any]]) -> tuple[UUID, ...]:
    ids = {g["id"] for g in known}
    return tuple(UUID(v) for v in values if v in ids)


def _choices() -> dict[str, Any]:
    return {
        "roles": [(r, _("Admin") if r == "admin" else _("Facilitator")) for r in ROLES],
        "language_options": [
            ("", _("As the browser asks")),
            *((c, LANGUAGE_NAMES[c]) for c in LANGUAGES),
        ],
    }


@routes.get("/admin", role="admin")
async def overview(ctx: Ctx) -> Response:
    return ctx.render("admin/index.html")


@routes.form("/admin/staff", role="admin")
async def staff(ctx: Ctx) -> Response:
    groups = await _groups(ctx)
    values: dict[str, str] = {"role": "facilitator"}
    errors: dict[str, str] = {}
    chosen: list[str] = []
    if ctx.request.method == "POST":
        values = await ctx.form()
        chosen = (await ctx.form_lists()).get("groups", [])
        password = values.get("password", "")
        generated = "" if password else generate_password()  # shown once
        try:
            added = await StaffStore(ctx.db).add(
                values.get("username", ""),
                role=values.get("role", ""),
                password=password or generated,
                display_name=values.get("display_name", ""),
                email=values.get("email", ""),
                language=values.get("language", ""),
                groups=_chosen_groups(chosen, groups),
            )
        except AccountError as refused:
            errors = {refused.field: str(refused)}
        else:
            await ctx.audit(
                "staff.add",
                f"staff:{added.username}",
                role=added.role,
                groups=sorted(str(g) for g in added.groups),
            )
            if generated:
                return ctx.render("admin/password.html", account=added, password=generated)
            return ctx.redirect(
                "/admin/staff", notice=_("Account {name} added.", name=added.username)
            )
    accounts = await StaffStore(ctx.db).all()
    names = {g["id"]: g["name"] for g in groups}
    return ctx.render(
        "admin/staff.html",
        status=422 if errors else 200,
        accounts=accounts,
        group_names=names,
        groups=groups,
        chosen=chosen,
        values=values,
        errors=errors,
        **_choices(),
    )


async def _account(ctx: Ctx) -> Staff:
    found = await StaffStore(ctx.db).by_username(ctx.path("username"))
    if found is None:
        raise NotFound()
    return found


@routes.form("/admin/staff/{username}", role="admin")
async def edit_staff(ctx: Ctx) -> Response:
    account = await _account(ctx)
    groups = await _groups(ctx)
    values = {
        "display_name": account.display_name,
        "email": account.email,
        "role": account.role,
        "language": account.language,
    }
    chosen = [str(g) for g in account.groups]
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        values = await ctx.form()
        chosen = (await ctx.form_lists()).get("groups", [])
        if account.id == ctx.staff.id and values.get("role") != "admin":
            errors = {"role": _("You cannot take the admin role from yourself.")}
        else:
            store = StaffStore(ctx.db)
            try:
                await store.update(
                    account.id,
                    display_name=values.get("display_name", ""),
                    email=values.get("email", ""),
                    role=values.get("role", ""),
                    language=values.get("language", ""),
                )
            except AccountError as refused:
                errors = {refused.field: str(refused)}
            else:
                assigned = _chosen_groups(chosen, groups)
                await store.set_groups(account.id, assigned)
                await ctx.audit(
                    "staff.edit",
                    f"staff:{account.username}",
                    role=values.get("role", ""),
                    groups=sorted(str(g) for g in assigned),
                )
                return ctx.redirect(
                    "/admin/staff", notice=_("Account {name} saved.", name=account.username)
                )
    return ctx.render(
        "admin/edit_staff.html",
        status=422 if errors else 200,
        account=account,
        groups=groups,
        chosen=chosen,
        values=values,
        errors=errors,
        **_choices(),
    )


@routes.post("/admin/staff/{username}/disable", role="admin")
async def disable(ctx: Ctx) -> Response:
    account = await _account(ctx)
    if account.id == ctx.staff.id:
        return ctx.redirect(
            f"/admin/staff/{account.username}", notice=_("You cannot disable your own account.")
        )
    await StaffStore(ctx.db).disable(account.username)
    await ctx.audit("staff.disable", f"staff:{account.username}")
    return ctx.redirect(
        "/admin/staff",
        notice=_("Account {name} disabled; its sessions ended.", name=account.username),
    )


@routes.post("/admin/staff/{username}/enable", role="admin")
async def enable(ctx: Ctx) -> Response:
    account = await _account(ctx)
    await StaffStore(ctx.db).enable(account.username)
    await ctx.audit("staff.enable", f"staff:{account.username}")
    return ctx.redirect("/admin/staff", notice=_("Account {name} enabled.", name=account.username))


@routes.post("/admin/staff/{username}/password", role="admin")
async def reset_password(ctx: Ctx) -> Response:
    account = await _account(ctx)
    password = generate_password()
    await StaffStore(ctx.db).set_password(account.id, password)
    await ctx.audit("staff.reset_password", f"staff:{account.username}")
    return ctx.render("admin/password.html", account=account, password=password)


@routes.form("/admin/tokens", role="admin")
async def api_tokens(ctx: Ctx) -> Response:
    issued = ""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if ctx.request.method == "POST":
        values = await ctx.form()
        name = values.get("name", "").strip()
        if not name:
            errors = {"name": _("Give the token a name that says what uses it.")}
        else:
            issued, info = await tokens.issue(ctx.db, name, ctx.staff.id)
            await ctx.audit("token.issue", f"token:{info.id}", name=info.name)
            values = {}
    return ctx.render(
        "admin/tokens.html",
        status=422 if errors else 200,
        tokens=await tokens.listing(ctx.db),
        issued=issued,
        values=values,
        errors=errors,
    )


@routes.post("/admin/tokens/{token_id}/revoke", role="admin")
async def revoke_token(ctx: Ctx) -> Response:
    try:
        token_id = UUID(ctx.path("token_id"))
    except ValueError:
        raise NotFound() from None
    if await tokens.revoke(ctx.db, token_id):
        await ctx.audit("token.revoke", f"token:{token_id}")
    return ctx.redirect("/admin/tokens", notice=_("The token is revoked."))


@routes.get("/admin/audit", role="admin")
async def audit_trail(ctx: Ctx) -> Response:
    actor = ctx.query("actor").strip()
    try:
        page = max(1, int(ctx.query("page", "1")))
    except ValueError:
        page = 1
    found, total = await audit.entries(ctx.db, actor=actor, offset=(page - 1) * PAGE, limit=PAGE)
    pages = max(1, -(-total // PAGE))
    return ctx.render(
        "admin/audit.html", entries=found, total=total, page=page, pages=pages, actor=actor
    )
