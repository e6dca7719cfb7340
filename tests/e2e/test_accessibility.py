"""Every page of the main flows, as each role, in Chromium at 1280x800: no serious or critical axe-core violation,
no page wider than the window, and a screenshot of each in test-artifacts/screens/<role>-<page>.png (what
`make screenshots` copies to docs/images/screens/ for the registrar's guide).

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
SCREENS = ARTIFACTS / "screens"
PASSWORD = "browser-pass-1"
#: The pages of the PHI roles' daily work ({patient}, {abstract} and {last_name} filled from the demo data).
DAILY = {"home": "/", "work-queue": "/queue/in_progress", "patient-search": "/patients?name={last_name}",
         "patient": "{patient}", "abstract": "{abstract}", "casefinding": "/suspense",
         "casefinding-reports": "/casefinding/reports", "follow-up": "/follow-up",
         "follow-up-contact": "{patient}/follow-up", "staging": "/staging/", "account": "/account", "jobs": "/jobs/"}
#: Each role's pages by name (the name goes into the screenshot's file name).
PAGES: dict[str, dict[str, str]] = {
    "registrar": {**DAILY, "assigned-to-me": "/queue/assigned_to_me", "returned": "/queue/returned",
                  "edit-errors": "/queue/edit_errors", "new-patient": "/patients/new",
                  "casefinding-import": "/casefinding/import", "naaccr-import": "/naaccr/import"},
    "reviewer": {**DAILY, "work-queue": "/queue/awaiting_review"},
    "researcher": {"home": "/", "survival": "/survival/", "rates": "/incidence/", "research": "/research/",
                   "account": "/account", "jobs": "/jobs/", "api-docs": "/api/v1/docs"},
    "admin": {**DAILY, "survival": "/survival/", "rates": "/incidence/", "research": "/research/",
              "research-releases": "/research/admin", "submissions": "/admin/submissions",
              "naaccr-import": "/naaccr/import", "reports": "/admin/annual-report/", "users": "/admin/users",
              "facility": "/admin/facility", "reference": "/admin/reference/", "audit-log": "/admin/audit/"},
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


def _first_abstract(page, server: str) -> dict[str, str]:
    """The patient page, abstract page and last name of the first abstract in progress."""
    page.goto(server + "/queue/in_progress")
    link = page.locator("table tbody tr td a").first
    href = link.get_attribute("href")
    return {"patient": href.split("/tumors/")[0], "abstract": href, "last_name": link.inner_text().split(",")[0]}


def problems_of(page) -> list[str]:
    """What is wrong with the page shown: wider than the window, or a serious or critical axe violation."""
    problems = []
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
        problems.append(f"page {page.evaluate('document.documentElement.scrollWidth')} px wide in a "
                        f"{page.evaluate('window.innerWidth')} px window")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    for violation in result["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
            problems.append(f"{violation['impact']} {violation['id']}: {violation['help']} ({', '.join(targets)})")
    return problems


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_of_a_role_fits_the_window_has_no_serious_violation_and_is_captured(server, role):
    from playwright.sync_api import sync_playwright
    SCREENS.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        page = context.new_page()
        _sign_in(page, server, f"a11y-{role}")
        needs = any("{" in path for path in PAGES[role].values())
        demo = _first_abstract(page, server) if needs else {}
        for name, path in PAGES[role].items():
            url = server + path.format(**demo)
            response = page.goto(url)
            assert response is not None and response.status == 200, (role, name, path, response and response.status)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SCREENS / f"{role}-{name}.png"))
            problems = problems_of(page)
            if problems:
                found[f"{name} ({path})"] = problems
        browser.close()
    assert not found, "\n".join(f"{where}: {problem}" for where, problems in found.items() for problem in problems)
