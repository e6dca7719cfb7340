"""The screens a registry works in every day, driven in Chromium at 1280x800 the way a person uses them: the work
queue's columns and sorting, the administrator's account actions as they show in the audit log, and the abstract
printout downloaded from the abstract page.
"""
from __future__ import annotations

import subprocess

import pytest

from tests.e2e.served import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serve_instance

PASSWORD = "browser-pass-1"
SCREENS = ARTIFACTS / "screens"
QUEUE_HEADINGS = ["Patient", "Seq", "Site", "Morphology", "Diagnosed", "Stage", "State", "Assigned to", "Updated",
                  "Reviewer's comment"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_instance(tmp_path_factory.mktemp("work"), demo_patients=200,
                              users=[("ws-registrar", "registrar"), ("ws-reviewer", "reviewer"),
                                     ("ws-admin", "admin")], password=PASSWORD)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def signed_in(browser, server: str, username: str, password: str = PASSWORD):
    """A new window signed in as ``username``."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True).new_page()
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    assert "/login" not in page.url, page.inner_text("main")
    return page


def _column(page, index: int) -> list[str]:
    """The text of one column of the queue table (1-based, the tick-box column counted)."""
    return [cell.strip() for cell in page.locator(f"table.queue tbody tr td:nth-child({index})").all_inner_texts()]


def test_the_queue_names_its_columns_and_sorts_by_the_header_clicked(server, browser):
    page = signed_in(browser, server, "ws-reviewer")
    page.goto(server + "/queue/awaiting_review")
    headings = [text.strip() for text in page.locator("table.queue thead th").all_inner_texts()]
    assert headings[0] == "Select" or headings[0] == ""
    assert headings[1:] == QUEUE_HEADINGS
    rows = page.locator("table.queue tbody tr").count()
    assert rows >= 3, f"the demo data left only {rows} abstracts awaiting review"
    first, first_sites = _column(page, 2), _column(page, 4)

    page.click("table.queue thead th a:text-is('Patient')")
    assert "sort=patient" in page.url
    assert page.locator("table.queue thead th[aria-sort=ascending]").inner_text().startswith("Patient")
    ascending = _column(page, 2)
    assert sorted(ascending) == sorted(first)
    assert ascending == sorted(ascending, key=lambda name: [part.strip() for part in name.split(",")])

    page.click("table.queue thead th[aria-sort] a")
    assert page.locator("table.queue thead th[aria-sort=descending]").inner_text().startswith("Patient")
    descending = _column(page, 2)
    assert descending == list(reversed(ascending)) and descending != ascending

    page.click("table.queue thead th a:text-is('Site')")
    assert page.locator("table.queue thead th[aria-sort=ascending]").inner_text().startswith("Site")
    sites = _column(page, 4)
    assert sites == sorted(first_sites)
    page.screenshot(path=str(SCREENS / "reviewer-work-queue-sorted.png"))


def _row(page, username: str):
    return page.locator(f"tr#user-{username}")


def test_each_account_action_of_the_admin_shows_in_the_audit_log(server, browser):
    from playwright.sync_api import expect
    admin = signed_in(browser, server, "ws-admin")
    admin.goto(server + "/admin/users")
    admin.fill("input[name=username]", "ws-clerk")
    admin.fill("input[name=full_name]", "Casey Clerk")
    admin.fill("form.search input[name=password]", "clerk-pass-1")
    admin.select_option("form.search select[name=role]", "registrar")
    admin.click("form.search button:text('Create')")
    expect(admin.locator(".flash")).to_contain_text("Account ws-clerk created.")
    row = _row(admin, "ws-clerk")
    expect(row).to_contain_text("Casey Clerk")
    expect(row).to_contain_text("enabled")

    clerk = signed_in(browser, server, "ws-clerk", "clerk-pass-1")

    row.locator("button:text('Disable')").click()
    expect(admin.locator(".flash")).to_contain_text("ws-clerk is disabled")
    expect(row.locator("td").nth(3)).to_have_text("disabled")
    row.locator("button:text('Enable')").click()
    expect(admin.locator(".flash")).to_contain_text("ws-clerk may sign in again.")
    expect(row.locator("td").nth(3)).to_have_text("enabled")

    row.locator("select").select_option("reviewer")
    row.locator("button:text('Set role')").click()
    expect(admin.locator(".flash")).to_contain_text("ws-clerk is now reviewer.")
    expect(row.locator("select")).to_have_value("reviewer")

    row.locator("input[type=password]").fill("clerk-pass-2")
    row.locator("button:text('Reset password')").click()
    expect(admin.locator(".flash")).to_contain_text("ws-clerk's password is reset")

    row.locator("button:text('End sessions')").click()
    expect(admin.locator(".flash")).to_contain_text("ws-clerk is signed out everywhere.")
    admin.screenshot(path=str(SCREENS / "admin-users-actions.png"))

    clerk.goto(server + "/")
    assert "/login" in clerk.url, "the clerk's session outlived the disable, reset and end-sessions"
    again = signed_in(browser, server, "ws-clerk", "clerk-pass-2")
    assert "ws-clerk (reviewer)" in again.inner_text(".topbar")

    admin.goto(server + "/admin/audit/?user=ws-admin")
    entries = admin.locator("table.audit tbody tr")
    logged = [[cell.strip() for cell in entries.nth(i).locator("td").all_inner_texts()]
              for i in range(entries.count())]
    clerk_record = {row[3] for row in logged if row[2].startswith("create_user")}
    assert len(clerk_record) == 1 and next(iter(clerk_record)).startswith("user")
    #: The account's entries, action names without the part (``set_role:update`` is a set_role).
    actions = {row[2].split(":")[0] for row in logged if row[1] == "ws-admin" and row[3] in clerk_record}
    for action in ("create_user", "disable_user", "enable_user", "set_role", "reset_password", "end_sessions"):
        assert action in actions, f"{action} is not in the audit log: {sorted(actions)}"
    role_change = next(row for row in logged if row[2].startswith("set_role"))
    assert "registrar" in role_change[5] and "reviewer" in role_change[5]
    assert not any("clerk-pass" in cell or "argon2" in cell for row in logged for cell in row), "a password shows"
    admin.screenshot(path=str(SCREENS / "admin-audit-log-accounts.png"))


def test_the_abstract_page_downloads_its_printout_naming_the_patient_and_site(server, browser, tmp_path):
    page = signed_in(browser, server, "ws-registrar")
    page.goto(server + "/queue/in_progress")
    page.locator("table.queue tbody tr td a").first.click()
    page.wait_for_url("**/tumors/**")
    last, first = (page.input_value(field).strip() for field in ("#name_last", "#name_first"))
    site = page.input_value("#primary_site")
    assert last and first and site
    with page.expect_download() as waiting:
        page.click("a:text('Printout (PDF)')")
    download = waiting.value
    pdf = tmp_path / "abstract.pdf"
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert download.suggested_filename.endswith(".pdf")
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
                    .stdout.decode().split())
    assert last in text and first in text
    assert f"Primary site {site}" in text
