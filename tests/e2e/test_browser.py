"""The served application in a real browser: sign in, patient list, search, patient page.

Runs gunicorn the way `make run` does, on a throwaway SQLite database with demo data, and
drives Debian's Chromium through Playwright. Screenshots go to test-artifacts/ for a person
to look at.
"""
from __future__ import annotations


import pytest

from tests.e2e.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serve_instance

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_instance(tmp_path_factory.mktemp("served"), demo_patients=150, users=[("reg", "registrar"), ("boss", "admin")],
                              password="browser-pass-1")


def test_sign_in_search_and_open_a_patient(server):
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.goto(server + "/patients")
        assert "/login" in page.url
        page.fill("#username", "reg")
        page.fill("#password", "wrong-password-1")
        page.click("button[type=submit]")
        assert "Wrong username or password" in page.inner_text("main")
        page.fill("#username", "reg")
        page.fill("#password", "browser-pass-1")
        page.click("button[type=submit]")
        assert page.url.endswith("/patients")
        assert "150 patients · page 1 of 3" in page.inner_text("main")
        assert page.locator("table tbody tr").count() == 50
        page.click("a[rel=next]")
        assert "page 2 of 3" in page.inner_text("main")
        first_name = page.locator("table tbody tr td:nth-child(2)").first.inner_text()
        page.fill("input[name=name]", first_name.split(",")[0])
        page.click("form.search button")
        assert first_name in page.inner_text("table")
        page.screenshot(path=str(ARTIFACTS / "patient-list.png"), full_page=True)
        page.locator("table tbody tr td a").first.click()
        assert "Tumors" in page.inner_text("main") and "Follow-up" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "patient-page.png"), full_page=True)
        background = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
        assert background == "rgb(20, 50, 79)", "the stylesheet did not load"
        browser.close()
    assert blocked == []


@pytest.mark.parametrize("width", [1280, 1440])
def test_the_admin_bar_fits_one_line_and_its_menus_open(server, width):
    """Every menu an administrator has, on one line at 1280 px, no page wider than the window."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(server + "/login")
        page.fill("#username", "boss")
        page.fill("#password", "browser-pass-1")
        page.click("button[type=submit]")
        page.wait_for_load_state("load")  # the stylesheet, before measuring the bar
        tops = page.evaluate("""Array.from(document.querySelectorAll('.topbar > *, .topbar nav > *'))
                                .map(e => Math.round(e.getBoundingClientRect().top))""")
        assert max(tops) - min(tops) <= 12, f"the bar wraps: tops {tops}"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.click("details.menu >> summary:text('Administration')")
        page.click("text=Users")
        assert page.url.endswith("/admin/users")
        assert page.locator("details.menu.current > summary").inner_text() == "Administration"
        page.click("details.menu >> summary:text('Analysis')")
        assert page.is_visible("text=Incidence")
        page.keyboard.press("Escape")
        assert not page.is_visible("text=Incidence")
        page.screenshot(path=str(ARTIFACTS / f"top-bar-admin-{width}.png"))
        browser.close()
