"""Multiple choices are checkbox lists (no Ctrl-click), the chosen ones kept checked."""
import re

import pytest

PAGES = {"/survival/?site=39&stage=localized&sex=2": {"site": "39", "stage": "localized", "sex": "2"},
         "/incidence/?site=39": {"site": "39"},
         "/research/": {}}


@pytest.mark.parametrize("path", list(PAGES))
def test_multiple_choices_are_checkbox_lists(client, login, path):
    login("admin")
    page = client.get(path).get_data(as_text=True)
    assert not re.search(r"<select[^>]*\bmultiple\b", page)
    lists = re.findall(r'<fieldset class="checklist[a-z ]*" data-name="([a-z_]+)">', page)
    assert lists and ("site" in lists or "site_groups" in lists)
    for name, value in PAGES[path].items():
        assert re.search(rf'<input type="checkbox" name="{name}" value="{value}" checked>', page), (name, value)
    assert 'class="checklist-filter"' in page  # the site list is long enough to narrow


def test_research_variables_open_one_section_at_a_time(client, login):
    """Several hundred variables under the abstract's section headings, only the first group open."""
    from reports.research.variables import dictionary
    login("researcher")
    page = client.get("/research/").get_data(as_text=True)
    groups = re.findall(r'<details class="variable-group"( open)?>\s*<summary>([^<]+)<span class="muted">\((\d+)', page)
    assert len(groups) >= 5
    assert [opened for opened, _, _ in groups].count(" open") == 1 and groups[0][0] == " open"
    assert sum(int(n) for _, _, n in groups) == len(dictionary())
    assert "Stage and prognostic factors" in [title.strip() for _, title, _ in groups]
