"""The abstract form: sections, pickers' look-up, partial dates, edits beside fields, save, workflow, conflict."""
import html
import re

from sqlalchemy import select

from abstracts.forms import to_naaccr_date
from registry.db import db_session
from registry.models import AbstractEditStatus, Patient, Tumor, WorkflowState
from tests.abstracting.conftest import csrf_of, form_fields


def _open(client, patient, tumor=None):
    url = f"/patients/{patient.id}/tumors/{tumor.id}" if tumor else f"/patients/{patient.id}/abstracts/new"
    page = client.get(url)
    assert page.status_code == 200
    return url, page.get_data(as_text=True)


def test_partial_dates_typed_the_way_registrars_do():
    assert to_naaccr_date("2023-01-05") == "20230105"
    assert to_naaccr_date("2023-1") == "202301"
    assert to_naaccr_date("2023-01-99") == "202301"
    assert to_naaccr_date("2023-99-99") == "2023"
    assert to_naaccr_date("01/05/2023") == "20230105"
    assert to_naaccr_date("99/99/2023") == "2023"
    assert to_naaccr_date("202301") == "202301"
    assert to_naaccr_date("Jan 2023") == "Jan 2023"


def test_form_has_every_section_and_pickers_for_coded_fields(client, login, patient_with_tumor):
    login("registrar")
    patient, tumor = patient_with_tumor
    _, page = _open(client, patient, tumor)
    for section in ("Patient demographics", "Cancer identification", "Stage and prognostic factors",
                    "First-course treatment", "Recurrence, follow-up and death", "Text documentation",
                    "Administrative and hospital-specific"):
        assert f"<legend>{section}</legend>" in page
    assert re.search(r'data-picker="topography"[^>]*name="primary_site"', page)
    assert re.search(r'data-picker="morphology"[^>]*name="histology"', page)
    assert 'data-picker="summary_stage_2018"' in page and 'data-picker="chemotherapy"' in page
    assert "Breast, NOS" not in page and "Upper-outer quadrant of breast" in page
    assert "Invasive carcinoma of no special type" in page
    assert 'value="2024-01-05"' in page
    assert 'name="tumor_version" type="hidden" value="' in page


def test_new_abstract_saves_partial_dates_and_shows_edit_errors_beside_fields(client, login, patient_with_tumor):
    login("registrar")
    patient, _ = patient_with_tumor
    url, page = _open(client, patient)
    data = form_fields(page, "abstract-form")
    data.update(primary_site="C509", laterality="1", histology="8520", behavior="3", date_of_diagnosis="1950-06",
                sequence_number_hospital="02", class_of_case="14", diagnostic_confirmation="1",
                date_of_first_contact="2024-99-99", remarks="Lobular, left breast.")
    response = client.post(url, data=data)
    assert response.status_code == 302
    tumor = db_session.scalars(select(Tumor).where(Tumor.primary_site == "C509")).one()
    assert (tumor.date_of_diagnosis, tumor.date_of_first_contact) == ("195006", "2024")
    assert tumor.extra_items == {"textRemarks": "Lobular, left breast."}
    assert tumor.workflow_state is WorkflowState.IN_PROGRESS
    status = db_session.get(AbstractEditStatus, tumor.id)
    assert status.errors >= 1 and any(f["edit_id"] == "E001" for f in status.failures)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    beside = re.search(r'<div class="edit-msgs" data-for="date_of_diagnosis">(.*?)</div>', page, re.S).group(1)
    assert "E001" in beside and "msg error" in beside
    assert "Saved as in progress." in page


def test_invalid_codes_are_named_beside_their_field_and_nothing_is_saved(client, login, patient_with_tumor):
    login("registrar")
    patient, tumor = patient_with_tumor
    url, page = _open(client, patient, tumor)
    data = form_fields(page, "abstract-form") | {"laterality": "7", "primary_site": "C5X9", "chemotherapy": "zz"}
    response = client.post(url, data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    for field, message in (("laterality", "not a valid code for Laterality"), ("primary_site", "Primary Site [400]"),
                           ("chemotherapy", "RX Summ--Chemo")):
        beside = re.search(rf'<div class="edit-msgs" data-for="{field}">(.*?)</div>', text, re.S).group(1)
        assert message in beside, field
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).laterality == "1"


def test_check_endpoint_runs_edits_on_the_form_without_saving(client, login, patient_with_tumor):
    login("registrar")
    patient, tumor = patient_with_tumor
    url, page = _open(client, patient, tumor)
    data = form_fields(page, "abstract-form") | {"date_of_diagnosis": "1940", "sex": "9", "histology": "99x"}
    result = client.post(url + "/check", data=data).get_json()
    assert "E001" in {f["edit_id"] for f in result["failures"]}
    assert "date_of_diagnosis" in next(f for f in result["failures"] if f["edit_id"] == "E001")["fields"]
    assert "histology" in result["invalid"]
    db_session.expire_all()
    stored = db_session.get(Tumor, tumor.id)
    assert (stored.date_of_diagnosis, stored.version) == ("20240105", tumor.version)
    missing_token = client.post(url + "/check", data={k: v for k, v in data.items() if k != "csrf_token"})
    assert missing_token.status_code == 400


def test_complete_only_without_error_edits_then_reviewer_marks_reviewed(app, client, login, patient_with_tumor):
    patient, tumor = patient_with_tumor
    login("registrar")
    url, page = _open(client, patient, tumor)
    data = form_fields(page, "abstract-form") | {"date_of_diagnosis": "1950"}
    assert client.post(url, data=data).status_code == 302
    url, page = _open(client, patient, tumor)
    workflow = {"csrf_token": csrf_of(page), "tumor_version": form_fields(page, "abstract-form")["tumor_version"],
                "action": "complete"}
    refused = client.post(url + "/workflow", data=workflow, follow_redirects=True).get_data(as_text=True)
    assert "cannot be completed while" in refused and "E001" in refused
    data = form_fields(refused, "abstract-form") | {"date_of_diagnosis": "2024-01-05"}
    assert client.post(url, data=data).status_code == 302
    url, page = _open(client, patient, tumor)
    workflow["tumor_version"] = form_fields(page, "abstract-form")["tumor_version"]
    done = client.post(url + "/workflow", data=workflow, follow_redirects=True).get_data(as_text=True)
    assert "Abstract completed" in done
    assert 'id="save"' not in done

    client.post("/logout", data={"csrf_token": csrf_of(done)})
    login("reviewer")
    url, page = _open(client, patient, tumor)
    version = form_fields(page, "abstract-form")["tumor_version"]
    no_comment = client.post(url + "/workflow", data={"csrf_token": csrf_of(page), "tumor_version": version,
                                                      "action": "return"}, follow_redirects=True)
    assert "needs a comment" in no_comment.get_data(as_text=True)
    long_comment = client.post(url + "/workflow", data={"csrf_token": csrf_of(page), "tumor_version": version,
                                                        "action": "return", "comment": "x" * 2001})
    assert long_comment.status_code == 400
    assert "Comment: Field cannot be longer than 2000 characters. Nothing was saved." in \
        long_comment.get_data(as_text=True)
    unknown = client.post(url + "/workflow", data={"csrf_token": csrf_of(page), "action": "approve"})
    assert unknown.status_code == 400 and "action: &#39;approve&#39; is not one of" in unknown.get_data(as_text=True)
    reviewed = client.post(url + "/workflow", data={"csrf_token": csrf_of(page), "tumor_version": version,
                                                    "action": "reviewed"}, follow_redirects=True)
    assert "Abstract marked reviewed" in reviewed.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).workflow_state is WorkflowState.REVIEWED


def test_reviewer_returns_an_abstract_with_a_comment(client, login, patient_with_tumor, make_user):
    from abstracts.operations import set_workflow_state
    patient, tumor = patient_with_tumor
    set_workflow_state(tumor.id, "complete", actor=make_user("registrar", "someone"))
    login("reviewer")
    url, page = _open(client, patient, tumor)
    version = form_fields(page, "abstract-form")["tumor_version"]
    client.post(url + "/workflow", data={"csrf_token": csrf_of(page), "tumor_version": version,
                                         "action": "return", "comment": "Grade is missing"})
    page = client.get(url).get_data(as_text=True)
    assert "Reviewer&#39;s comment: Grade is missing" in page or "Reviewer's comment: Grade is missing" in page
    assert "Grade is missing" in client.get("/queue/returned").get_data(as_text=True)


def test_second_save_from_a_stale_form_is_refused_showing_what_changed(client, login, patient_with_tumor):
    login("registrar")
    patient, tumor = patient_with_tumor
    url, page = _open(client, patient, tumor)
    first_tab = form_fields(page, "abstract-form")
    second_tab = dict(first_tab)
    assert client.post(url, data=first_tab | {"grade_clinical": "3"}).status_code == 302
    response = client.post(url, data=second_tab | {"laterality": "2"})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Someone else saved this abstract while you were editing" in text
    row = re.search(r"<tr><td>Grade Clinical \[3843\]</td>(.*?)</tr>", text, re.S).group(1)
    assert "<td>2</td>" in row and "<strong>3</strong>" in row
    db_session.expire_all()
    stored = db_session.get(Tumor, tumor.id)
    assert (stored.grade_clinical, stored.laterality) == ("3", "1")
    resubmitted = form_fields(text, "abstract-form")
    assert resubmitted["laterality"] == "2"
    assert client.post(url, data=resubmitted).status_code == 302
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).laterality == "2"


def test_saving_a_completed_abstract_is_refused_until_reopened(client, login, patient_with_tumor, make_user):
    from abstracts.operations import set_workflow_state
    patient, tumor = patient_with_tumor
    login("registrar")
    url, page = _open(client, patient, tumor)
    data = form_fields(page, "abstract-form")
    set_workflow_state(tumor.id, "complete", actor=make_user("registrar", "other"))
    response = client.post(url, data=data | {"laterality": "2"})
    assert response.status_code == 409 and "reopen it before changing it" in response.get_data(as_text=True)


def test_researchers_cannot_open_abstracts(client, login, patient_with_tumor):
    login("researcher")
    patient, tumor = patient_with_tumor
    assert client.get(f"/patients/{patient.id}/tumors/{tumor.id}").status_code == 403
    assert client.get(f"/patients/{patient.id}/abstracts/new").status_code == 403
    assert client.get("/codes/sex.json?q=1").status_code == 200


def test_code_lookup_endpoint_for_pickers(client, login):
    login("registrar")
    found = client.get("/codes/topography.json?q=C50.4").get_json()
    assert found["results"][0] == {"code": "C504", "term": "Upper-outer quadrant of breast"}
    lobular = client.get("/codes/morphology.json?q=lobular").get_json()["results"]
    assert {"code": "8520/3", "term": "Lobular carcinoma, NOS (C50._)"} in lobular
    assert client.get("/codes/nothing.json").status_code == 404
    assert db_session.scalar(select(Patient.id)) is None


def test_morphology_typed_as_8500_3_fills_histology_and_behavior(client, login, patient_with_tumor):
    """Issue 20.8: the registrar's usual notation is accepted on save; the stage section sees the histology."""
    login("registrar")
    patient, tumor = patient_with_tumor
    url, page = _open(client, patient, tumor)
    assert re.search(r'name="histology"[^>]*>', page) and 'data-notation="' in page
    for typed in ("8520/2", "M-8500/3"):
        data = form_fields(page, "abstract-form") | {"histology": typed, "behavior": ""}
        response = client.post(url, data=data)
        assert response.status_code == 302, response.get_data(as_text=True)
        db_session.expire_all()
        saved = db_session.get(Tumor, tumor.id)
        assert saved.morphology == typed.removeprefix("M-")
        url, page = _open(client, patient, saved)


def test_a_notation_that_contradicts_behavior_is_named_on_histology(client, login, patient_with_tumor):
    login("registrar")
    patient, tumor = patient_with_tumor
    url, page = _open(client, patient, tumor)
    data = form_fields(page, "abstract-form") | {"histology": "8500/3", "behavior": "2"}
    response = client.post(url, data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    beside = re.search(r'<div class="edit-msgs" data-for="histology">(.*?)</div>', text, re.S).group(1)
    assert "gives Behavior Code ICD-O-3 [523] 3" in beside and "longer than" not in beside
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).morphology == "8500/3"


def test_a_refused_save_counts_the_refused_fields_in_the_edit_summary(client, login, patient_with_tumor):
    """Issue 20.9: after a refused save the summary does not read '0 errors' while fields carry errors."""
    login("registrar")
    patient, tumor = patient_with_tumor
    url, page = _open(client, patient, tumor)
    data = form_fields(page, "abstract-form") | {"laterality": "7", "primary_site": "C5X9"}
    response = client.post(url, data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    counts = re.search(r'id="edit-counts">(\d+) errors?, (\d+) warnings?<', text)
    assert counts and int(counts.group(1)) >= 2
    summary = html.unescape(re.search(r'<ul id="edit-list">(.*?)</ul>', text, re.S).group(1))
    assert 'href="#laterality"' in summary and "Laterality [410]" in summary
    assert 'href="#primary_site"' in summary and "'C5X9' was typed" in summary


def test_the_form_inputs_render_as_wtforms_renders_them(app):
    """The abstract form's own attribute writer gives WTForms' text, byte for byte."""
    from markupsafe import Markup
    from wtforms.widgets import TextInput, html_params as wtforms_params

    from abstracts.forms import AbstractForm, html_params
    odd = {"class_": "picker", "data_picker": 'a"b<c>&', "checked": True, "hidden": False, "title": Markup('x "y"'),
           "maxlength": 5, "for_": "f", "aria_label": "it's"}
    assert html_params(**odd) == wtforms_params(**odd)
    with app.test_request_context():
        form = AbstractForm(data={"primary_site": 'C50"9', "remarks": "a & b", "date_of_diagnosis": "2024-01-05"})
        for name, field in form._fields.items():
            if field.widget.__class__.__name__ == "FastTextInput":
                kwargs = {"id": name, "class": "picker" if (field.render_kw or {}).get("data-picker") else ""}
                assert field(**kwargs) == TextInput()(field, **{**(field.render_kw or {}), **kwargs}), name


def test_an_item_row_is_written_as_the_item_row_macro_wrote_it():
    """Rows of items kept by naaccrId are written in Python (an abstract has some 450): the markup the macro gave,
    escaping included, for an entered date not used in the year with an error, and a derived coded item."""
    from abstracts.forms import ItemField, item_row
    from registry.catalogue import shipped_catalogue
    cat = shipped_catalogue()
    date, coded = cat.get("edpMdeLinkDate"), cat.get("maritalStatusAtDx")
    entered = ItemField(date, "item", "extra_items.edpMdeLinkDate", "item-edpMdeLinkDate", "2024-01-05", "", None,
                        False, 'bad "date" <x>')
    assert item_row(entered, 2024, "hint") == (
        f'<div class="field not-applicable" data-field="extra_items.edpMdeLinkDate" data-item="{date.naaccr_num}">\n'
        f'  <label for="item-edpMdeLinkDate">{date.label}</label>\n'
        '  \n    <input id="item-edpMdeLinkDate" name="extra_items.edpMdeLinkDate" value="2024-01-05" '
        'autocomplete="off" maxlength="10" data-date="1" placeholder="YYYY-MM-DD" title="hint">\n  \n'
        '  <span class="term" id="term-item-edpMdeLinkDate"></span>\n'
        '  <span class="not-applicable-note">not used for 2024 diagnoses</span>\n'
        '  <div class="edit-msgs" data-for="edpMdeLinkDate"><span class="msg invalid" role="alert">'
        'bad &#34;date&#34; &lt;x&gt;</span></div>\n</div>')
    derived = ItemField(coded, "derived", "extra_items.maritalStatusAtDx", "item-maritalStatusAtDx", "", "T & m",
                        "naaccr:x", True)
    assert item_row(derived, 2024, "hint") == (
        f'<div class="field" data-field="extra_items.maritalStatusAtDx" data-item="{coded.naaccr_num}">\n'
        f'  <label for="item-maritalStatusAtDx">{coded.label}</label>\n'
        '  \n    <output id="item-maritalStatusAtDx" class="derived">(blank)</output>\n  \n'
        '  <span class="term" id="term-item-maritalStatusAtDx">derived by the registry · T &amp; m</span>\n'
        '  \n  <div class="edit-msgs" data-for="maritalStatusAtDx"></div>\n</div>')
