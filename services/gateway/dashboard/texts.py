"""Texts of the researchers' coding page, from the ``research`` gettext catalogue
(services/gateway/dashboard/locale; ``mgn translations extract|update|check``)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from shared.i18n.catalogues import Catalogue

RESEARCH: Final = Catalogue("research", Path(__file__).parent / "locale")


def _(message: str, **values: object) -> str:
    """``message`` in the current language, its ``{placeholders}`` filled in."""
    text = RESEARCH.gettext(message)
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a translation naming a wrong placeholder
        return message.format(**values)
