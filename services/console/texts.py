"""STAND-IN until the console core lands: the console's gettext texts."""

from __future__ import annotations


def _(message: str, **values: object) -> str:
    return message.format(**values) if values else message


def ngettext(singular: str, plural: str, count: int, **values: object) -> str:
    return (singular if count == 1 else plural).format(**values)
