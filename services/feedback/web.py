"""The survey page: server-rendered HTML at GET/POST /survey/<token>, no JavaScript.

Statuses: 200 the form (or the thank-you after saving), 303 after a successful POST
(back to the page), 404 an unknown link, 410 a closed survey (the link expired
unanswered, or was used: its answer is final), 422 answers to correct.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import tzinfo
from html import escape
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from services.feedback import handlers
from services.feedback.domain import SCORE_FIELDS, TEXT_FIELDS, TEXT_MAX
from services.feedback.handlers import FormState, Node
from services.feedback.texts import LANGUAGES, _, label, language, language_name, local_date
from shared.errors.feedback import InvalidAnswers, SurveyIsClosed, UnknownLink
from shared.i18n import current_language, use_language
from shared.i18n.formats import format_number
from shared.runtime import UnitOfWork

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
background:#fff;color:#1a1a1a;line-height:1.5;font-size:1.05rem}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;color:#0b3d6e}
nav ul{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap}
a{color:#0b3d6e}
a:focus,input:focus,textarea:focus,button:focus{outline:3px solid #c45500;outline-offset:2px}
fieldset{border:1px solid #5a5a5a;border-radius:.4rem;margin:0 0 1.2rem;padding:.6rem .8rem}
legend{font-weight:600;padding:0 .3rem}
.scale{display:flex;flex-wrap:wrap;gap:.4rem}
.scale label{display:inline-flex;align-items:center;gap:.25rem;min-width:2.8rem;
min-height:2.8rem;padding:0 .4rem;border:1px solid #5a5a5a;border-radius:.3rem}
input[type=radio]{width:1.3rem;height:1.3rem}
label.text{display:block;font-weight:600;margin-top:.6rem}
textarea{width:100%;box-sizing:border-box;min-height:6rem;font:inherit;padding:.4rem;
border:1px solid #5a5a5a}
button{font:inherit;font-weight:600;background:#0b3d6e;color:#fff;border:0;
border-radius:.4rem;padding:.7rem 1.4rem;margin-top:1rem;min-height:2.8rem}
.error{color:#a00000;font-weight:600}
.notice{background:#e8f3ea;border-left:4px solid #1b6b2f;padding:.6rem .8rem}
.problems{border:2px solid #a00000;padding:.6rem .8rem}
"""

CURRENT = ' aria-current="true"'
INVALID = ' aria-invalid="true"'
UowFactory = Callable[[], UnitOfWork]


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    """The page in the current language, with links to the others."""
    lang = current_language()
    nav_label = _("Language")
    nav_items = "".join(
        f'<li><a href="?{urlencode({"lang": code})}" lang="{code}" hreflang="{code}"'
        f"{CURRENT if code == lang else ''}>{escape(language_name(code))}</a></li>"
        for code in LANGUAGES
    )
    html = (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f'<nav aria-label="{escape(nav_label)}"><ul>{nav_items}</ul></nav>\n'
        f"<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )
    return HTMLResponse(html, status_code=status)


def _scale(name: str, selected: int | None, error: str | None) -> str:
    low, high = SCORE_FIELDS[name]
    described = f' aria-describedby="{name}-error"' if error else ""
    options = "".join(
        f'<label for="{name}-{v}"><input type="radio" id="{name}-{v}" name="{name}" '
        f'value="{v}"{" checked" if selected == v else ""}{" required" if v == low else ""}>'
        f"{v}</label>"
        for v in range(low, high + 1)
    )
    problem = f'<p class="error" id="{name}-error">{escape(error)}</p>' if error else ""
    return (
        f'<fieldset id="{name}"{described}{INVALID if error else ""}>'
        f"<legend>{escape(label(name))}</legend>{problem}"
        f'<div class="scale">{options}</div></fieldset>'
    )


def _textarea(name: str, value: str, error: str | None) -> str:
    problem = f'<p class="error" id="{name}-error">{escape(error)}</p>' if error else ""
    described = f' aria-describedby="{name}-error"' if error else ""
    optional = _("(optional)")
    return (
        f'<label class="text" for="{name}">{escape(label(name))} '
        f"<span>{escape(optional)}</span></label>{problem}"
        f'<textarea id="{name}" name="{name}" maxlength="{TEXT_MAX}" rows="5"{described}>'
        f"{escape(value)}</textarea>"
    )


def _error_text(field: str, problem: str) -> str:
    question = label(field)
    if problem == "required":
        return _("Choose an option for: {field}", field=question)
    if problem == "too_long":
        return _(
            "The answer is too long (at most {max} characters): {field}",
            field=question,
            max=format_number(TEXT_MAX),
        )
    return _("Choose one of the given options for: {field}", field=question)


def render_form(
    state: FormState,
    tz: tzinfo,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    saved: bool = False,
) -> HTMLResponse:
    """The form in the current language."""
    errors = dict(errors or {})
    dates = {
        "date": local_date(state.survey.held_at, tz),
        "closes": local_date(state.survey.closes_at, tz),
    }
    current: dict[str, str] = {}
    if state.response is not None:
        a = state.response.answers
        current = {
            "overall": str(a.overall),
            "usefulness": str(a.usefulness),
            "recommend": str(a.recommend),
            "takeaway": a.takeaway,
            "change": a.change,
        }
    if values is not None:
        current = {k: str(v) for k, v in values.items()}
    messages = {f: _error_text(f, p) for f, p in errors.items()}
    parts: list[str] = []
    if saved:
        notice = _(
            "Thank you! Your answer has been saved. You can edit it until {closes}.", **dates
        )
        parts.append(f'<p class="notice" role="status">{escape(notice)}</p>')
    elif state.response is not None and not errors:
        editing = _("You have already answered; you can edit your answer below.")
        parts.append(f'<p class="notice">{escape(editing)}</p>')
    else:
        intro = _(
            "Thank you for attending your group's meeting on {date}. Answering takes a "
            "couple of minutes. You can edit your answer until {closes}.",
            **dates,
        )
        parts.append(f"<p>{escape(intro)}</p>")
    if messages:
        items = "".join(f'<li><a href="#{f}">{escape(m)}</a></li>' for f, m in messages.items())
        check = _("Please check the following:")
        parts.append(
            f'<div class="problems" role="alert"><p class="error">{escape(check)}</p>'
            f"<ul>{items}</ul></div>"
        )

    def selected(name: str) -> int | None:
        raw = current.get(name, "")
        return int(raw) if raw.isdigit() else None

    fields = "".join(_scale(name, selected(name), messages.get(name)) for name in SCORE_FIELDS)
    fields += "".join(
        _textarea(name, current.get(name, ""), messages.get(name)) for name in TEXT_FIELDS
    )
    button = _("Save changes") if state.response is not None else _("Send answer")
    action = "?" + urlencode({"lang": current_language()})
    parts.append(
        f'<form method="post" action="{action}" novalidate>{fields}'
        f'<button type="submit">{escape(button)}</button></form>'
    )
    title = _("Feedback on the meeting")
    return _page(title, "\n".join(parts), status=422 if errors else 200)


def _unknown() -> HTMLResponse:
    body = _(
        "Check that you copied the whole link from the email. If the problem persists, "
        "contact your group's facilitator."
    )
    return _page(_("This link is not recognised"), f"<p>{escape(body)}</p>", status=404)


def _closed(error: SurveyIsClosed, tz: tzinfo) -> HTMLResponse:
    """A closed survey: the link is *used* (its answer was saved) or *expired* (unanswered)."""
    closes = local_date(error.closed_at, tz)
    if error.answered:
        title = _("Your answer has been saved")
        body = _(
            "The survey closed on {closes}. Your answer is included in the results and can "
            "no longer be edited. Thank you for answering!",
            closes=closes,
        )
    else:
        title = _("This link has expired: the survey has closed")
        body = _(
            "The survey closed on {closes}, so answers can no longer be sent or edited. "
            "Thank you for your interest!",
            closes=closes,
        )
    return _page(title, f"<p>{escape(body)}</p>", status=410)


def survey_routes(uows: UowFactory, node: Node) -> list[Route]:
    async def survey(request: Request) -> Response:
        token = str(request.path_params["token"])
        requested = request.query_params.get("lang")
        try:
            state = await handlers.open_form(token, uows(), node)
        except UnknownLink:
            with use_language(language(requested)):
                return _unknown()
        except SurveyIsClosed as closed:
            with use_language(language(requested, closed.language)):
                return _closed(closed, node.tz)
        with use_language(language(requested, state.language)):
            if request.method == "GET":
                saved = request.query_params.get("saved") == "1"
                return render_form(state, node.tz, saved=saved)
            form = await request.form()
            values = {k: v for k, v in form.items() if isinstance(v, str)}
            try:
                await handlers.submit_response(token, values, uows(), node)
            except InvalidAnswers as invalid:
                return render_form(state, node.tz, values=values, errors=invalid.errors)
            except SurveyIsClosed as closed:
                return _closed(closed, node.tz)
            except UnknownLink:
                return _unknown()
            query = urlencode({"lang": current_language(), "saved": "1"})
            return RedirectResponse(f"{request.url.path}?{query}", status_code=303)

    return [Route("/survey/{token}", survey, methods=["GET", "POST"])]
