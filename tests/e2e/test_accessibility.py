"""The main pages of each role in Chromium at 1280x800: no serious or critical axe-core violation, and no page
wider than the window.

axe-core comes from the npm registry, pinned in tests/e2e/package-lock.json; `make test` installs it with
`npm ci`. The pages' Content-Security-Policy forbids injected scripts, so the test's browser context bypasses it
(the pages themselves are served unchanged).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serve_instance

AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
PASSWORD = "browser-pass-1"
#: The pages each role works in every day ({patient} and {abstract} filled from the demo data).
PAGES = {
    "registrar": ["/", "/patients", "/patients?name=smith", "{patient}", "{abstract}", "/queue/in_progress",
                  "/suspense", "/follow-up", "/account", "/naaccr/import"],
    "reviewer": ["/", "/queue/awaiting_review", "{patient}", "{abstract}", "/staging/"],
    "researcher": ["/", "/survival/", "/incidence/", "/research/"],
    "admin": ["/admin/users", "/admin/facility", "/admin/reference/", "/admin/audit/", "/admin/submissions",
              "/admin/annual-report/", "/jobs/"],
}
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not AXE.exists():
        message = f"{AXE} is missing: `make test` installs it (npm ci in tests/e2e)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    yield from serve_instance(tmp_path_factory.mktemp("a11y"), demo_patients=60,
                              users=[(f"a11y-{role}", role) for role in PAGES], password=PASSWORD)


def _sign_in(page, server: str, username: str) -> None:
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert "/login" not in page.url, page.inner_text("main")


def _first_abstract(page, server: str) -> tuple[str, str]:
    page.goto(server + "/queue/in_progress")
    link = page.locator("table tbody tr td a").first.get_attribute("href")
    return link.split("/tumors/")[0], link


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_have_no_serious_accessibility_violation_and_fit_the_window(server, role):
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(exist_ok=True)
    found: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        page = context.new_page()
        _sign_in(page, server, f"a11y-{role}")
        patient, abstract = _first_abstract(page, server) if "{patient}" in PAGES[role] else ("", "")
        for path in PAGES[role]:
            url = server + path.format(patient=patient, abstract=abstract)
            response = page.goto(url)
            assert response is not None and response.status == 200, (role, path, response and response.status)
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
                found.setdefault(path, []).append(
                    f"page {page.evaluate('document.documentElement.scrollWidth')} px wide in a 1280 px window")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            for violation in result["violations"]:
                if violation["impact"] in SERIOUS:
                    targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
                    found.setdefault(path, []).append(f"{violation['impact']} {violation['id']}: "
                                                      f"{violation['help']} ({', '.join(targets)})")
        page.screenshot(path=str(ARTIFACTS / f"a11y-{role}-last.png"), full_page=True)
        browser.close()
    assert not found, "\n".join(f"{path}: {problem}" for path, problems in found.items() for problem in problems)
