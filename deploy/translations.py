"""``mgn translations``: keep the gettext catalogues (Babel) in step with the code.

- ``extract``: write each domain's template (``<dir>/<domain>.pot``) from the sources;
- ``update``: merge the templates into every language's ``.po`` (new messages untranslated);
- ``add LANG``: start a new language (a ``.po`` per domain, from the templates);
- ``check``: fail, listing them, on messages untranslated, fuzzy, with placeholders that
  differ from the English, or missing from a template (run ``extract``): the tests run it.

A domain names its catalogue directory, the source folders its messages come from and the
marker functions that mark them. See docs/translating.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "mgn"


@dataclass(frozen=True)
class Domain:
    name: str
    directory: Path  # <directory>/<lang>/LC_MESSAGES/<name>.po
    sources: tuple[Path, ...]
    keywords: dict[str, Any]
    method_map: tuple[tuple[str, str], ...] = (("**.py", "python"),)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "errors",
        ROOT / "shared/i18n/locale",
        sources=(ROOT / "shared", ROOT / "services"),
        keywords={"N_": None},
    ),
    Domain(
        "feedback",
        ROOT / "services/feedback/locale",
        sources=(ROOT / "services/feedback",),
        keywords={"_": None},
    ),
    Domain(
        "console",
        ROOT / "services/console/locale",
        sources=(ROOT / "services/console",),
        keywords={"_": None, "ngettext": (1, 2)},
        method_map=(("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")),
        options={"**/templates/**.html": {"silent": "false"}},
    ),
    Domain(
        "research",
        ROOT / "services/gateway/dashboard/locale",
        sources=(ROOT / "services/gateway/dashboard",),
        keywords={"_": None},
    ),
)

_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")))


def extracted(domain: Domain) -> Catalog:
    catalog = Catalog(project=PROJECT, domain=domain.name, fuzzy=False)
    for source in domain.sources:
        for filename, lineno, message, comments, context in extract_from_dir(
            source,
            method_map=list(domain.method_map),
            options_map=domain.options,
            keywords=domain.keywords,
            comment_tags=("Translators:",),
            strip_comment_tags=True,
        ):
            location = (str((source / filename).relative_to(ROOT)), lineno)
            catalog.add(message, None, [location], auto_comments=comments, context=context)
    return catalog


def languages(domain: Domain) -> list[str]:
    return sorted(
        p.parent.parent.name for p in domain.directory.glob(f"*/LC_MESSAGES/{domain.name}.po")
    )


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=True)


def extract(domains: Iterable[Domain]) -> None:
    for domain in domains:
        template = domain.directory / f"{domain.name}.pot"
        catalog = extracted(domain)
        if template.exists() and _contents(_read(template)) == _contents(catalog):
            print(f"{template.relative_to(ROOT)}: {len(catalog)} messages, unchanged")
            continue
        _write(template, catalog)
        print(f"{template.relative_to(ROOT)}: {len(catalog)} messages")


def _contents(catalog: Catalog) -> set[tuple[Any, ...]]:
    return {(m.context, m.id, tuple(m.locations), tuple(m.auto_comments)) for m in catalog if m.id}


def update(domains: Iterable[Domain]) -> None:
    for domain in domains:
        template = _read(domain.directory / f"{domain.name}.pot")
        for lang in languages(domain):
            path = domain.directory / lang / "LC_MESSAGES" / f"{domain.name}.po"
            catalog = _read(path, lang)
            catalog.update(template, no_fuzzy_matching=True)
            _write(path, catalog)
            untranslated = sum(1 for m in catalog if m.id and not all(_strings(m.string)))
            print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {untranslated} to translate")


def add(domains: Iterable[Domain], lang: str) -> None:
    for domain in domains:
        template = _read(domain.directory / f"{domain.name}.pot")
        path = domain.directory / lang / "LC_MESSAGES" / f"{domain.name}.po"
        if path.exists():
            raise SystemExit(f"mgn translations add: {path} exists already; use update")
        catalog = Catalog(locale=lang, domain=domain.name, project=PROJECT, fuzzy=False)
        catalog.update(template)
        _write(path, catalog)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages to translate")


def problems(domains: Iterable[Domain]) -> list[str]:
    found: list[str] = []
    for domain in domains:
        template_path = domain.directory / f"{domain.name}.pot"
        wanted = {(m.context, m.id) for m in extracted(domain) if m.id}
        have = (
            {(m.context, m.id) for m in _read(template_path) if m.id}
            if template_path.exists()
            else set()
        )
        for _context, msgid in sorted(wanted - have, key=str):
            found.append(f"{domain.name}: not in the template (run extract, update): {msgid!r}")
        for lang in languages(domain):
            if lang == "en":
                continue
            catalog = _read(domain.directory / lang / "LC_MESSAGES" / f"{domain.name}.po", lang)
            for context, msgid in sorted(wanted, key=str):
                message = catalog.get(msgid, context=context)
                english = str(msgid[0] if isinstance(msgid, tuple | list) else msgid)
                where = f"{domain.name}/{lang}"
                strings = _strings(None if message is None else message.string)
                if message is None or not all(strings):
                    found.append(f"{where}: untranslated: {english!r}")
                elif message.fuzzy:
                    found.append(f"{where}: fuzzy (check, then clear the flag): {english!r}")
                elif any(placeholders(text) != placeholders(english) for text in strings):
                    found.append(f"{where}: placeholders differ from the English: {english!r}")
    return found


def _strings(string: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if string is None:
        return ("",)
    return tuple(string) if isinstance(string, list | tuple) else (string,)


def add_commands(commands: Any) -> None:
    cmd = commands.add_parser(
        "translations",
        help="keep the gettext catalogues (fi, sv, ...) in step with the code",
        description="extract: templates from the sources; update: merge them into every "
        "language; add LANG: a new language; check: list what is untranslated or stale.",
    )
    sub = cmd.add_subparsers(dest="translations_command", required=True, metavar="ACTION")
    sub.add_parser("extract", help="write every domain's .pot from the sources")
    sub.add_parser("update", help="merge the .pot files into every language's .po")
    new = sub.add_parser("add", help="start a new language, e.g. de")
    new.add_argument("language")
    sub.add_parser("check", help="list untranslated, fuzzy or stale messages; exit 1 if any")


def run(args: argparse.Namespace, domains: Sequence[Domain] = DOMAINS) -> int:
    action = args.translations_command
    if action == "extract":
        extract(domains)
    elif action == "update":
        update(domains)
    elif action == "add":
        if not re.fullmatch(r"[a-z]{2,3}", args.language):
            raise SystemExit(
                f"mgn translations add: {args.language!r} is not a language code like de"
            )
        add(domains, args.language)
    else:
        found = problems(domains)
        for line in found:
            print(line, file=sys.stderr)
        print(f"{len(found)} problem(s) in {len(domains)} domain(s)")
        return 1 if found else 0
    return 0
