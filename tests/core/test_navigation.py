"""The top bar offers each role exactly the pages it may open, grouped by task."""
import re

import pytest

from registry.navigation import ACCOUNT_MENU, NAVIGATION, Link, Menu
from tests.security.access_rules import RULES

ROLES = ("registrar", "reviewer", "researcher", "admin")


def _links():
    for entry in NAVIGATION:
        yield from (entry,) if isinstance(entry, Link) else entry.links
    yield from ACCOUNT_MENU


def test_every_link_is_offered_to_exactly_the_roles_the_page_lets_in(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for link in _links():
        assert link.endpoint in endpoints, link
        assert link.roles == RULES[link.endpoint].roles, f"{link.label}: offered to {sorted(link.roles)}, " \
                                                          f"the page lets in {sorted(RULES[link.endpoint].roles)}"


def test_menus_group_by_task_and_the_daily_work_is_one_click():
    assert [e.label for e in NAVIGATION if isinstance(e, Link)] == ["Work", "Patients", "Casefinding", "Follow-up"]
    assert [e.label for e in NAVIGATION if isinstance(e, Menu)] == ["Analysis", "Submissions", "Reports",
                                                                    "Administration"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_bar_with_the_current_page_marked(client, login, role):
    login(role)
    page = client.get("/jobs/").get_data(as_text=True)
    bar = page[page.index('<header class="topbar">'):page.index("</header>")]
    hrefs = re.findall(r'href="([^"]+)"', bar)
    offered = {link.endpoint for link in _links() if role in link.roles}
    assert len(hrefs) == len(offered) + 1  # and the brand
    assert ("Administration" in bar) == (role == "admin")
    assert ("Analysis" in bar) == (role in ("researcher", "admin"))
    assert ('href="/patients"' in bar) == (role != "researcher")
    assert re.search(r'<a href="/jobs/?" aria-current="page">My jobs</a>', bar)
    assert f"{role}1 ({role})" in bar and "Sign out" in bar
