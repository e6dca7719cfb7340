"""A registrar's day in a real browser: misspelled search, duplicate warning, a breast abstract with the
pickers, an edit error beside its field, complete, review, and two tabs saving the same abstract.

Same set-up as test_browser.py (gunicorn on a throwaway SQLite with demo data, Debian's Chromium
through Playwright). Screenshots of every step go to test-artifacts/abstracting/.
"""
from __future__ import annotations

import re
import time

import pytest

from tests.completion import required_values
from tests.e2e.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serve_instance

SHOTS = ARTIFACTS / "abstracting"
USERS = (("reg", "registrar"), ("rev", "reviewer"))
PASSWORD = "browser-pass-1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    yield from serve_instance(tmp_path_factory.mktemp("served-abstracting"), demo_patients=300, users=USERS,
                              password=PASSWORD)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sign_in(page, server, username):
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")


def _shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _pick(page, field, typed, wanted_code):
    """Type into a picker and choose the suggestion with ``wanted_code`` by keyboard."""
    page.fill(f"#{field}", typed)
    option = page.locator(f"#picker-{field} li[data-code='{wanted_code}']")
    option.wait_for(state="visible")
    codes = page.locator(f"#picker-{field} li").evaluate_all("items => items.map(li => li.dataset.code)")
    for _ in range(codes.index(wanted_code)):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")


def _type(page, field, value):
    page.fill(f"#{field}", value)
    page.locator(f"#{field}").dispatch_event("change")


def _fill_required(page, year: int, dates: dict[str, str]):
    """Type every item completing a ``year`` abstract requires that the form still leaves blank (sample values
    from tests.completion; ``dates`` replaces the sample dates so they fit this abstract)."""
    patient, tumor = required_values(year)
    items = patient.pop("extra_items", {}) | tumor.pop("extra_items", {})
    treatment = tumor.pop("treatment")
    wanted = patient | tumor | treatment | {f"item-{item_id}": value for item_id, value in items.items()}
    for dom_id, value in (wanted | dates).items():
        if page.input_value(f"#{dom_id}") == "":
            _type(page, dom_id, value)


def _checked(page) -> int:
    return int(page.evaluate("document.getElementById('abstract-form').dataset.checked || 0"))


def _wait_checked(page, before):
    """Wait until the edit check that the last change started has answered (polled: the CSP forbids eval)."""
    deadline = time.monotonic() + 10
    while _checked(page) <= before:
        assert time.monotonic() < deadline, "the edit check did not answer"
        page.wait_for_timeout(50)


def test_a_registrars_day(served, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    _sign_in(page, served, "reg")
    assert "Abstracts in progress" in page.inner_text("main")
    _shot(page, "01-work-queue")

    page.goto(served + "/patients?page=2")
    name = page.locator("table tbody tr td:nth-child(2)").first.inner_text()
    last, first = (part.strip() for part in name.split(","))
    first = first.split(" ")[0]
    birth = page.locator("table tbody tr td:nth-child(3)").first.inner_text()
    misspelled = last[0] + last[2] + last[1] + last[3:]
    page.fill("input[name=name]", f"{misspelled}, {first}")
    page.click("form.search button")
    assert name in page.locator("table tbody tr").first.inner_text()
    _shot(page, "02-search-misspelled")

    page.goto(served + "/patients/new")
    page.fill("#name_last", misspelled)
    page.fill("#name_first", first)
    page.fill("#date_of_birth", birth)
    page.fill("#sex", "2")
    page.click("form.grid-form button[type=submit]")
    assert "Possible duplicates" in page.inner_text("main")
    assert name in page.inner_text(".duplicates")
    _shot(page, "03-duplicate-warning")
    page.fill("#name_last", "Quincesample")
    page.click("form.grid-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/patients/\d+$"))
    assert "Quincesample" in page.inner_text("h1")

    page.click("text=New abstract (tumor)")
    _pick(page, "primary_site", "upper-outer", "C504")
    assert page.inner_text("#term-primary_site") == "Upper-outer quadrant of breast"
    _pick(page, "histology", "lobular carcinoma", "8520/3")
    assert page.input_value("#histology") == "8520" and page.input_value("#behavior") == "3"
    _pick(page, "laterality", "1", "1")
    for field, value in (("sequence_number_hospital", "00"), ("class_of_case", "14"),
                         ("diagnostic_confirmation", "1"), ("type_of_reporting_source", "1"),
                         ("summary_stage_2018", "1"), ("date_of_first_contact", "2025-03-20")):
        _type(page, field, value)
    page.click("#save")
    page.wait_for_url(re.compile(r".*/tumors/\d+$"))
    abstract_url = page.url
    checked = _checked(page)
    _type(page, "date_of_diagnosis", "1901-05")
    page.locator("#date_of_diagnosis").press("Tab")
    _wait_checked(page, checked)
    beside = page.locator(".edit-msgs[data-for='date_of_diagnosis']")
    assert "E001" in beside.inner_text()
    page.locator("#sec-diagnosis").scroll_into_view_if_needed()
    _shot(page, "04-edit-error-beside-field")
    checked = _checked(page)
    _type(page, "date_of_diagnosis", "2025-03-14")
    _wait_checked(page, checked)
    assert beside.inner_text() == ""
    _fill_required(page, 2025, {"date_of_initial_treatment": "2025-04-01", "date_of_last_contact": "2025-05-02"})
    page.click("#save")
    page.wait_for_url(abstract_url)
    assert "Saved as in progress" in page.inner_text("main")
    page.click("#complete")
    page.wait_for_url(abstract_url)
    assert "Abstract completed" in page.inner_text("main")
    assert page.inner_text("#workflow-state") == "complete"
    _shot(page, "05-completed")
    page.click(".signout button")

    _sign_in(page, served, "rev")
    page.click("#queue-awaiting_review")
    page.goto(abstract_url)
    page.click("#mark-reviewed")
    assert page.inner_text("#workflow-state") == "reviewed"
    _shot(page, "06-reviewed")
    page.close()
    assert blocked == []


def test_two_tabs_saving_the_same_abstract(served, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    first = context.new_page()
    _sign_in(first, served, "reg")
    first.goto(served + "/queue/in_progress")
    first.locator("table tbody tr td a").first.click()
    url = first.url
    second = context.new_page()
    second.goto(url)
    first.fill("#remarks", "Saved in the first tab.")
    first.click("#save")
    assert "Saved as in progress" in first.inner_text("main")
    second.fill("#remarks", "Typed in the second tab.")
    second.click("#save")
    conflict = second.locator("#conflict")
    assert "Someone else saved this abstract" in conflict.inner_text()
    assert "Saved in the first tab." in conflict.inner_text()
    assert second.input_value("#remarks") == "Typed in the second tab."
    _shot(second, "07-conflict")
    first.reload()
    assert first.input_value("#remarks") == "Saved in the first tab."
    context.close()


def test_the_full_abstract_stays_keyboard_fast(served, browser):
    """Closed groups keep their fields out of the tab order until opened from the keyboard; text items count."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    _sign_in(page, served, "reg")
    page.goto(served + "/queue/in_progress")
    page.locator("table tbody tr td a").first.click()
    overrides = page.locator("details.item-group", has_text="Edit overrides")
    assert overrides.get_attribute("open") is None
    first = overrides.locator("input").first
    assert not first.is_visible()
    overrides.locator("summary").focus()
    page.keyboard.press("Enter")
    assert overrides.get_attribute("open") is not None and first.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == first.get_attribute("id")
    page.fill("#item-textDxProcPath", "Core biopsy.")
    assert page.inner_text("#count-item-textDxProcPath") == "12 / 4000 characters"
    marital = page.locator("#item-maritalStatusAtDx")
    assert marital.get_attribute("data-picker") == "naaccr:maritalStatusAtDx" and not marital.is_visible()
    page.locator("details.item-group", has=marital).locator("summary").click()
    _pick(page, "item-maritalStatusAtDx", "married", "2")
    assert page.inner_text("#term-item-maritalStatusAtDx") == "Married (includes common law)"
    _shot(page, "08-full-abstract-groups")
    page.close()
