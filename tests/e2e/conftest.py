"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import CHROMIUM, unavailable


@pytest.fixture
def playwright() -> Any:
    """Playwright's ``async_playwright``, once the system's chromium is known to be there."""
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    return async_playwright
