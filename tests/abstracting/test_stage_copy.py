"""The Stage section's read-only copies of fields entered elsewhere (Grade Clinical [3843], entered in the
Diagnosis section) show what that field holds, never another value (issue 22); their code lists are no tab stops."""
import re

import pytest

from registry.audit import SYSTEM
from registry.reference import install
from tests.abstracting.conftest import csrf_of, form_fields
from tests.abstracting.test_catalogue_form import EOD, _abstract

COPY = re.compile(r'data-field="grade_clinical" data-key="[^"]+">.*?<span class="stage-value" '
                  r'data-mirrors="grade_clinical">([^<]*)</span>\s*<span class="term"><span class="stage-term">'
                  r'([^<]*)</span>', re.S)


@pytest.fixture
def eod(app, tmp_path):
    """The official EOD bundle: a 2025 breast abstract's Stage section lists Grade Clinical, entered elsewhere."""
    app.config["INSTANCE_DIR"] = str(tmp_path)
    install("staging-algorithm", EOD, actor=SYSTEM, store=tmp_path / "reference")


def _copy(page: str) -> tuple[str, str]:
    found = COPY.search(page)
    assert found is not None, "no read-only Grade Clinical in the Stage section"
    return found.group(1), found.group(2)


def test_the_copy_shows_the_stored_grade_and_its_code_lists_are_no_tab_stops(client, login, eod):
    _, _, url = _abstract(grade_clinical="2")
    login("registrar")
    page = client.get(url).get_data(as_text=True)
    value, term = _copy(page)
    assert value == "2" and term.startswith("G2")
    summaries = re.findall(r'<details class="stage-codes"><summary([^>]*)>', page)
    assert summaries and all('tabindex="-1"' in attrs for attrs in summaries)
    assert 'accesskey="1"' not in page and 'aria-keyshortcuts="Alt+2"' in page


@pytest.mark.parametrize("typed, shown", [("3", "3"), ("", "(blank)"), ("Z", "Z")])
def test_the_redrawn_section_shows_what_the_diagnosis_field_holds(client, login, eod, typed, shown):
    """Also a value the field refuses (Z is no grade): the copy repeats the field, the field's message says why."""
    patient, tumor, url = _abstract(grade_clinical="2")
    login("registrar")
    page = client.get(url).get_data(as_text=True)
    posted = form_fields(page, "abstract-form") | {"grade_clinical": typed, "csrf_token": csrf_of(page)}
    answer = client.post(f"/patients/{patient.id}/tumors/{tumor.id}/stage", data=posted)
    assert answer.status_code == 200
    assert _copy(answer.get_data(as_text=True))[0] == shown


def test_a_refused_save_shows_the_typed_grade_in_the_copy(client, login, eod):
    patient, tumor, url = _abstract(grade_clinical="2")
    login("registrar")
    page = client.get(url).get_data(as_text=True)
    posted = form_fields(page, "abstract-form") | {"grade_clinical": "3", "date_of_diagnosis": "2025-13-45",
                                                   "csrf_token": csrf_of(page)}
    answer = client.post(url, data=posted)
    html = answer.get_data(as_text=True)
    assert answer.status_code in (200, 400, 422) and "2025-13-45" in html
    assert _copy(html)[0] == "3"
