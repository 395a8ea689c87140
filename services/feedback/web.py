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
from services.feedback.domain import (
    SCORE_FIELDS,
    TEXT_MAX,
    InvalidAnswers,
    SurveyIsClosed,
    UnknownLink,
)
from services.feedback.handlers import FormState, Node
from services.feedback.i18n import LANGUAGE_NAMES, LANGUAGES, language, t
from services.feedback.mail import local_date
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


def _lang_of(request: Request, fallback: str) -> str:
    return language(request.query_params.get("lang"), fallback)


def _page(lang: str, title: str, body: str, *, status: int = 200) -> HTMLResponse:
    nav_items = "".join(
        f'<li><a href="?{urlencode({"lang": code})}" lang="{code}" hreflang="{code}"'
        f"{CURRENT if code == lang else ''}>{LANGUAGE_NAMES[code]}</a></li>"
        for code in LANGUAGES
    )
    html = (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f'<nav aria-label="{escape(t("language_nav", lang))}"><ul>{nav_items}</ul></nav>\n'
        f"<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )
    return HTMLResponse(html, status_code=status)


def _scale(name: str, lang: str, selected: int | None, error: str | None) -> str:
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
        f"<legend>{escape(t(name, lang))}</legend>{problem}"
        f'<div class="scale">{options}</div></fieldset>'
    )


def _textarea(name: str, lang: str, value: str, error: str | None) -> str:
    problem = f'<p class="error" id="{name}-error">{escape(error)}</p>' if error else ""
    described = f' aria-describedby="{name}-error"' if error else ""
    return (
        f'<label class="text" for="{name}">{escape(t(name, lang))} '
        f"<span>{escape(t('optional', lang))}</span></label>{problem}"
        f'<textarea id="{name}" name="{name}" maxlength="{TEXT_MAX}" rows="5"{described}>'
        f"{escape(value)}</textarea>"
    )


def _error_text(field: str, problem: str, lang: str) -> str:
    return t(f"error_{problem}", lang, field=t(field, lang), max=TEXT_MAX)


def render_form(
    state: FormState,
    lang: str,
    tz: tzinfo,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    saved: bool = False,
) -> HTMLResponse:
    errors = dict(errors or {})
    dates = {
        "date": local_date(state.survey.held_at, tz, lang),
        "closes": local_date(state.survey.closes_at, tz, lang),
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
    messages = {f: _error_text(f, p, lang) for f, p in errors.items()}
    parts: list[str] = []
    if saved:
        parts.append(f'<p class="notice" role="status">{escape(t("saved", lang, **dates))}</p>')
    elif state.response is not None and not errors:
        parts.append(f'<p class="notice">{escape(t("editing", lang))}</p>')
    else:
        parts.append(f"<p>{escape(t('intro', lang, **dates))}</p>")
    if messages:
        items = "".join(f'<li><a href="#{f}">{escape(m)}</a></li>' for f, m in messages.items())
        parts.append(
            f'<div class="problems" role="alert"><p class="error">'
            f"{escape(t('errors_title', lang))}</p><ul>{items}</ul></div>"
        )

    def selected(name: str) -> int | None:
        raw = current.get(name, "")
        return int(raw) if raw.isdigit() else None

    fields = "".join(
        _scale(name, lang, selected(name), messages.get(name)) for name in SCORE_FIELDS
    ) + "".join(
        _textarea(name, lang, current.get(name, ""), messages.get(name))
        for name in ("takeaway", "change")
    )
    button = t("update" if state.response is not None else "submit", lang)
    action = "?" + urlencode({"lang": lang})
    parts.append(
        f'<form method="post" action="{action}" novalidate>{fields}'
        f'<button type="submit">{escape(button)}</button></form>'
    )
    return _page(lang, t("title", lang), "\n".join(parts), status=422 if errors else 200)


def _unknown(lang: str) -> HTMLResponse:
    body = f"<p>{escape(t('unknown_body', lang))}</p>"
    return _page(lang, t("unknown_title", lang), body, status=404)


def _closed(error: SurveyIsClosed, lang: str, tz: tzinfo) -> HTMLResponse:
    """A closed survey: the link is *used* (its answer was saved) or *expired* (unanswered)."""
    closes = local_date(error.closed_at, tz, lang)
    kind = "used" if error.answered else "expired"
    return _page(
        lang,
        t(f"{kind}_title", lang),
        f"<p>{escape(t(f'{kind}_body', lang, closes=closes))}</p>",
        status=410,
    )


def survey_routes(uows: UowFactory, node: Node) -> list[Route]:
    async def survey(request: Request) -> Response:
        token = str(request.path_params["token"])
        requested = request.query_params.get("lang")
        try:
            state = await handlers.open_form(token, uows(), node)
        except UnknownLink:
            return _unknown(language(requested))
        except SurveyIsClosed as closed:
            return _closed(closed, language(requested, closed.language), node.tz)
        lang = _lang_of(request, state.language)
        if request.method == "GET":
            return render_form(state, lang, node.tz, saved=request.query_params.get("saved") == "1")
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            await handlers.submit_response(token, values, uows(), node)
        except InvalidAnswers as invalid:
            return render_form(state, lang, node.tz, values=values, errors=invalid.errors)
        except SurveyIsClosed as closed:
            return _closed(closed, lang, node.tz)
        except UnknownLink:
            return _unknown(lang)
        target = f"{request.url.path}?{urlencode({'lang': lang, 'saved': '1'})}"
        return RedirectResponse(target, status_code=303)

    return [Route("/survey/{token}", survey, methods=["GET", "POST"])]
