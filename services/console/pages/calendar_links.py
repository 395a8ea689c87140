"""Members' iCal links: a group's or a member's meetings as a calendar feed that a calendar
program subscribes to without signing in.

The link carries a key (an HMAC of what it shows, made with the console's node credential),
so only a link the console handed out opens a feed, and no feed can be guessed from another
one. The console fetches the feed from the meetings service with its credential. A new
node credential (``mgn region up`` on a new node) makes new links.
"""

from __future__ import annotations

import hmac
from hashlib import sha256
from typing import Final, Literal
from uuid import UUID

import httpx
from starlette.responses import Response

from services.console.web import Console, Ctx, NotFound, Routes

Kind = Literal["group", "member"]
KINDS: Final = ("group", "member")
routes = Routes()


def _key(console: Console, kind: str, item: UUID) -> str:
    secret = console.backend.auth_headers().get("Authorization", "").encode()
    return hmac.new(b"calendar-link\0" + secret, f"{kind}:{item}".encode(), sha256).hexdigest()[:32]


def calendar_url(ctx: Ctx, kind: Kind, item: UUID | str) -> str:
    """The feed's address under the console's public URL, for a page to show."""
    item = UUID(str(item))
    base = ctx.console.settings.public_url.rstrip("/")
    return f"{base}/calendar/{kind}/{item}/{_key(ctx.console, kind, item)}.ics"


@routes.get("/calendar/{kind}/{item}/{key}.ics", role="public")
async def feed(ctx: Ctx) -> Response:
    kind = ctx.path("kind")
    try:
        item = UUID(ctx.path("item"))
    except ValueError:
        raise NotFound() from None
    if kind not in KINDS or not hmac.compare_digest(ctx.path("key"), _key(ctx.console, kind, item)):
        raise NotFound()
    url = f"{ctx.console.settings.service_url('meetings')}/calendar/{kind}/{item}.ics"
    try:
        answer = await ctx.backend.client("meetings").send(
            "GET", url, retry=True, headers=ctx.backend.auth_headers()
        )
    except httpx.HTTPError:
        return Response("The meetings service is not answering.", status_code=503)
    if answer.status_code == 404:
        raise NotFound()
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type", "text/calendar"),
    )
