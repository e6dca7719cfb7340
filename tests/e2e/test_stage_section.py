"""The Stage section in a real browser with the EOD bundle installed: a 2018+ breast abstract shows the Breast
schema and its inputs, codes are chosen with the pickers fed by the schema, and saving shows the derived stage.

Same set-up as test_browser.py (gunicorn on a throwaway SQLite, Debian's Chromium through Playwright); the
bundle is installed into the served instance with the reference-data command. Screenshots go to
test-artifacts/stage-section/.
"""
from __future__ import annotations

import re
import time

import pytest

from tests.e2e.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serve_instance
from tests.e2e.test_abstracting import _pick
from tests.reference import REFERENCE_DIR

SHOTS = ARTIFACTS / "stage-section"
PASSWORD = "browser-pass-1"
BUNDLE = REFERENCE_DIR / "staging" / "algorithms" / "eod_public-3.3.zip"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    yield from serve_instance(tmp_path_factory.mktemp("served-stage"), demo_patients=0, users=[("reg", "registrar")],
                              password=PASSWORD, references=[("staging-algorithm", BUNDLE)])


def _redrawn(page) -> int:
    return int(page.evaluate("document.getElementById('stage-section').dataset.refreshed || 0"))


def _wait_redrawn(page, before):
    """Wait until the Stage section was redrawn for the last change (polled: the CSP forbids eval)."""
    deadline = time.monotonic() + 10
    while _redrawn(page) <= before:
        assert time.monotonic() < deadline, "the Stage section was not redrawn"
        page.wait_for_timeout(50)


def _new_abstract(page, served: str, last_name: str, date_of_birth: str, first_name: str = "") -> None:
    """Sign in as the registrar, add a woman and open a new abstract for her."""
    page.goto(served + "/login")
    page.fill("#username", "reg")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served + "/")
    page.goto(served + "/patients/new")
    page.fill("#name_last", last_name)
    if first_name:
        page.fill("#name_first", first_name)
    page.fill("#date_of_birth", date_of_birth)
    page.fill("#sex", "2")
    page.click("form.grid-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/patients/\d+$"))
    page.click("text=New abstract (tumor)")


def test_breast_abstract_chooses_the_schema_and_derives_stage_on_save(served):
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
        _new_abstract(page, served, "Stagesample", "1961-07-02", first_name="Erika")
        assert "No SEER staging algorithm" not in page.inner_text("#sec-stage")

        redrawn = _redrawn(page)
        page.fill("#date_of_diagnosis", "2022-04-05")
        page.locator("#date_of_diagnosis").dispatch_event("change")
        _wait_redrawn(page, redrawn)
        redrawn = _redrawn(page)
        _pick(page, "primary_site", "upper-outer", "C504")
        _wait_redrawn(page, redrawn)
        redrawn = _redrawn(page)
        _pick(page, "histology", "8500", "8500/3")
        _wait_redrawn(page, redrawn)
        assert page.inner_text("#stage-schema-name") == "Breast"
        assert "Schema ID 00480" in page.inner_text("#stage-schema")
        assert page.locator("#ssdi-estrogenReceptorSummary").count() == 1

        _pick(page, "eod_primary_tumor", "100", "100")
        assert "Confined to breast tissue" in page.inner_text("#term-eod_primary_tumor")
        _pick(page, "eod_regional_nodes", "000", "000")
        _pick(page, "eod_mets", "no distant", "00")
        _pick(page, "ssdi-estrogenReceptorSummary", "positive", "1")
        assert page.input_value("#ssdi-estrogenReceptorSummary") == "1"
        assert page.inner_text("#term-ssdi-estrogenReceptorSummary") == "ER positive"
        page.locator("#sec-stage").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "01-breast-schema-inputs.png"), full_page=True)

        page.click("#save")
        page.wait_for_url(re.compile(r".*/tumors/\d+$"))
        assert "Saved as in progress" in page.inner_text("main")
        assert page.inner_text("#derived-derived_summary_stage_2018").startswith("1 · Localized")
        assert page.inner_text("#derived-schema_id").startswith("00480")
        assert page.inner_text("#derived-algorithm") == "eod_public 3.3"
        assert page.input_value("#ssdi-estrogenReceptorSummary") == "1"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky section list stays above the Stage section
        top, bottom = page.locator("#sec-stage").bounding_box(), page.locator("#stage-derived").bounding_box()
        page.screenshot(path=str(SHOTS / "02-derived-after-save.png"), full_page=True,
                        clip={"x": top["x"], "y": top["y"], "width": top["width"],
                              "height": bottom["y"] + bottom["height"] - top["y"] + 8})
        page.screenshot(path=str(SHOTS / "03-abstract-after-save.png"), full_page=True)
        browser.close()
    assert blocked == []


def test_morphology_notation_typed_into_histology_is_split_when_the_picker_is_left(served):
    """Issue 20.8: 8500/3 typed and left with Esc (or 8520-2 with Tab) fills histology and behavior, so the Stage
    section finds the schema; text histology cannot hold goes back to the value before, never stays."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        _new_abstract(page, served, "Notationsample", "1960-02-03")
        redrawn = _redrawn(page)
        page.fill("#date_of_diagnosis", "2022-04-05")
        page.locator("#date_of_diagnosis").dispatch_event("change")
        _wait_redrawn(page, redrawn)
        redrawn = _redrawn(page)
        _pick(page, "primary_site", "upper-outer", "C504")
        _wait_redrawn(page, redrawn)

        redrawn = _redrawn(page)
        page.click("#histology")
        page.keyboard.type("8500/3")
        page.locator("#picker-histology li").first.wait_for(state="visible")
        page.keyboard.press("Escape")
        assert (page.input_value("#histology"), page.input_value("#behavior")) == ("8500", "3")
        _wait_redrawn(page, redrawn)
        assert page.inner_text("#stage-schema-name") == "Breast"

        page.fill("#behavior", "")
        page.click("#histology")
        page.fill("#histology", "")
        page.keyboard.type("8520-2")
        page.keyboard.press("Tab")
        assert (page.input_value("#histology"), page.input_value("#behavior")) == ("8520", "2")

        page.click("#histology")
        page.fill("#histology", "")
        page.keyboard.type("lobular")
        page.keyboard.press("Escape")
        assert page.input_value("#histology") == "8520"
        assert "'lobular' is not a code" in page.inner_text("#term-histology")

        page.click("#primary_site")  # search words site cannot hold go back too; a dotted code stays
        page.fill("#primary_site", "")
        page.keyboard.type("upper outer")
        page.keyboard.press("Escape")
        assert page.input_value("#primary_site") == "C504"
        page.fill("#primary_site", "")
        page.keyboard.type("C50.4")
        page.keyboard.press("Escape")
        assert page.input_value("#primary_site") == "C50.4"
        browser.close()


_TAB_STOPS = """form => Array.from(form.querySelectorAll('input, select, textarea, button, summary, a[href]'))
  .filter(el => el.tabIndex >= 0 && !el.disabled && el.type !== 'hidden' && el.getClientRects().length > 0)
  .map(el => el.matches('input, select, textarea') ? 'field'
             : el.matches('details.stage-codes > summary') ? 'codes' : el.tagName.toLowerCase())"""


def test_keyboard_sections_tab_stops_code_lists_and_the_grade_copy(served):
    """Issue 22: Alt+number moves to a section (event.code, so headless Chromium too); no 'Valid codes'
    disclosure is a tab stop, F2 on the coded field opens it instead; the Stage section's read-only Grade
    Clinical follows the Diagnosis field as it is typed."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        _new_abstract(page, served, "Keyboardsample", "1958-03-09")
        redrawn = _redrawn(page)
        page.fill("#date_of_diagnosis", "2022-04-05")
        page.locator("#date_of_diagnosis").dispatch_event("change")
        _wait_redrawn(page, redrawn)
        redrawn = _redrawn(page)
        _pick(page, "primary_site", "upper-outer", "C504")
        _wait_redrawn(page, redrawn)
        redrawn = _redrawn(page)
        _pick(page, "histology", "8500", "8500/3")
        _wait_redrawn(page, redrawn)
        assert page.inner_text("#stage-schema-name") == "Breast"

        stops = page.locator("#abstract-form").evaluate(_TAB_STOPS)
        assert page.locator("details.stage-codes").count() > 3
        assert "codes" not in stops
        fields = stops.count("field")
        groups = page.locator("details.item-group > summary").count()
        assert fields > 50 and len(stops) <= fields + groups + 10, (fields, groups, len(stops))
        page.focus("#eod_mets")  # Tab from a coded field goes to the next field, not to its code list
        page.keyboard.press("Escape")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('details.stage-codes') === null")

        page.focus("#eod_mets")
        codes = page.locator("[data-field='eod_mets'] details.stage-codes")
        assert codes.get_attribute("open") is None
        page.keyboard.press("F2")
        assert codes.get_attribute("open") is not None and codes.locator("dt").first.is_visible()
        page.focus("#grade_clinical")  # a Diagnosis picker without a list beside it: F2 shows all its codes
        page.keyboard.press("F2")
        page.locator("#picker-grade_clinical li").first.wait_for(state="visible")

        second = page.locator(".section-nav a").nth(1).get_attribute("href")
        page.focus("#date_of_diagnosis")
        page.keyboard.press("Alt+2")
        assert page.evaluate(f"document.querySelector('{second}').contains(document.activeElement)"), second
        assert page.evaluate("document.activeElement.matches('input, select, textarea, summary, button')")
        first = page.locator(".section-nav a").nth(0).get_attribute("href")
        page.keyboard.press("Alt+1")
        assert page.evaluate(f"document.querySelector('{first}').contains(document.activeElement)"), first

        copy = page.locator("[data-mirrors='grade_clinical']")
        page.fill("#grade_clinical", "3")
        page.keyboard.press("Escape")
        assert copy.inner_text() == "3"
        assert page.locator("[data-field='grade_clinical'][data-key] .stage-term").inner_text().startswith("G3")
        page.fill("#grade_clinical", "")
        assert copy.inner_text() == "(blank)"
        browser.close()
