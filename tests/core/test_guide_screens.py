"""The registrar's guide shows the current screen of every page the screen tests visit: `make screenshots` copies
them to docs/images/screens/, and a page added to the tests, or a screenshot dropped, must show up here."""
from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.test_accessibility import PAGES

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "registrar-guide.md"
SCREENS = DOCS / "images" / "screens"


def _referenced() -> set[str]:
    return set(re.findall(r"\(images/screens/([\w.-]+\.png)\)", GUIDE.read_text(encoding="utf-8")))


def test_every_page_of_every_role_has_its_screenshot_in_the_guide():
    expected = {f"{role}-{name}.png" for role, pages in PAGES.items() for name in pages}
    stored = {path.name for path in SCREENS.glob("*.png")}
    assert expected - stored == set(), "run `make screenshots`: missing " + ", ".join(sorted(expected - stored))
    assert expected - _referenced() == set(), "the guide does not show " + ", ".join(sorted(expected - _referenced()))


def test_the_guide_shows_only_screenshots_that_exist_and_every_one_that_does():
    stored = {path.name for path in SCREENS.glob("*.png")}
    assert _referenced() - stored == set(), "the guide names screenshots no test takes"
    assert stored - _referenced() == set(), "screenshots the guide does not show: " + ", ".join(
        sorted(stored - _referenced()))
