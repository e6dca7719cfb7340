"""The abstract's Stage section with the EOD bundle installed: schema from site and histology (or the
discriminator question), the schema's inputs with their codes, SSDIs validated and stored, stage derived on save."""
import re

import pytest
from sqlalchemy import func, select

from abstracts import operations as ops
from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import AuditEntry, Tumor
from registry.reference import install
from staging_tables.staging.reference import installed_algorithm
from tests.abstracting.conftest import PATIENT, TUMOR, csrf_of, form_fields

from .conftest import EOD

BREAST_SAVE = {"eod_primary_tumor": "100", "eod_regional_nodes": "000", "eod_mets": "00",
               "site_specific_items.estrogenReceptorSummary": "1", "site_specific_items.her2OverallSummary": "0"}


@pytest.fixture
def eod(app, store):
    """The official eod_public 3.3 bundle installed through the reference-data mechanism."""
    install("staging-algorithm", EOD, actor=SYSTEM, store=store)
    return installed_algorithm("eod_public-3.3")


def _abstract(site="C504", hist="8500", dx="20240105", **more):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, dict(TUMOR, primary_site=site, histology=hist, date_of_diagnosis=dx,
                                              **more), actor=SYSTEM)
    return f"/patients/{patient.id}/tumors/{tumor.id}", tumor.id


def _open(client, url):
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page, form_fields(page, "abstract-form")


def _audit_rows():
    return db_session.scalar(select(func.count(AuditEntry.id)))


def test_breast_abstract_shows_the_schema_and_its_inputs_with_codes(client, login, eod):
    url, _ = _abstract()
    login("registrar")
    page, fields = _open(client, url)
    assert re.search(r'id="stage-schema-name">Breast</strong>', page)
    assert "breast · Schema ID 00480 · eod_public 3.3" in page
    # inputs used for staging, EOD fields with pickers fed by the schema's own codes
    picker = re.search(r'<input[^>]*id="eod_mets"[^>]*>', page).group(0)
    assert 'data-picker="schema"' in picker and "schema=breast" in picker and "key=eod_mets" in picker
    assert "<dt>050</dt><dd>Paget disease of nipple WITHOUT underlying tumor</dd>" in page
    assert "Grade Clinical [3843]" in page and 'entered in <a href="#grade_clinical">Cancer identification</a>' in page
    # the schema's SSDIs, stored by naaccrId
    assert "site_specific_items.estrogenReceptorSummary" in fields and "site_specific_items.ki67" in fields
    assert "<dt>1</dt><dd>ER positive</dd>" in page
    assert "eod_primary_tumor" not in re.search(r'Other stage items.*?</fieldset>', page, re.S).group(0)
    codes_url = re.search(r'data-picker-url="([^"]+key=eod_mets)"', picker).group(1).replace("&amp;", "&")
    answer = client.get(codes_url + "&q=").get_json()["results"]
    assert [c["code"] for c in answer] == [c for c, _ in eod.valid_codes("breast", "eod_mets")]
    by_term = {c["code"] for c in client.get(codes_url + "&q=bone").get_json()["results"]}
    assert "70" in by_term and "00" not in by_term
    ranges = client.get(codes_url.replace("eod_mets", "ki67") + "&q=0.0").get_json()["results"]
    assert ranges[0] == {"code": "0.0-100.0", "term": "0.0 to 100.0 percent positive: enter percent positive",
                         "range": True}


def test_saving_eod_values_and_ssdis_stores_what_the_engine_derives(client, login, eod):
    url, tumor_id = _abstract()
    login("registrar")
    _, fields = _open(client, url)
    response = client.post(url, data=fields | BREAST_SAVE)
    assert response.status_code == 302, response.get_data(as_text=True)
    tumor = db_session.get(Tumor, tumor_id)
    assert tumor.site_specific_items == {"estrogenReceptorSummary": "1", "her2OverallSummary": "0"}
    own = eod.stage({"site": "C504", "hist": "8500", "behavior": "3", "year_dx": "2024", "grade_clin": "2",
                     "grade_path": "2", "eod_primary_tumor": "100", "eod_regional_nodes": "000",
                     "eod_mets": "00", "er": "1", "her2_summary": "0"})
    assert own.status == "STAGED" and own.outputs["ss2018_derived"] == "1"
    assert (tumor.derived_summary_stage_2018, tumor.derived_summary_grade_2018, tumor.schema_id) == \
        (own.outputs["ss2018_derived"], own.outputs["derived_summary_grade"], own.outputs["naaccr_schema_id"])
    assert tumor.staging_algorithm == "eod_public 3.3" and tumor.staged_at is not None
    page, fields = _open(client, url)
    derived = re.search(r'id="stage-derived".*?</div>', page, re.S).group(0)
    assert re.search(r'id="derived-derived_summary_stage_2018">1 · Localized', derived)
    assert 'id="derived-algorithm">eod_public 3.3<' in derived and "Derived EOD 2018 T" not in derived
    assert fields["site_specific_items.estrogenReceptorSummary"] == "1" and fields["eod_primary_tumor"] == "100"
    # clearing an SSDI removes it; the others stay
    assert client.post(url, data=fields | {"site_specific_items.her2OverallSummary": ""}).status_code == 302
    assert db_session.get(Tumor, tumor_id).site_specific_items == {"estrogenReceptorSummary": "1"}


def test_the_discriminator_question_is_asked_then_chooses_the_schema(client, login, eod):
    url, tumor_id = _abstract(site="C111", hist="8000", dx="20220310", grade_clinical="9", grade_pathological="9")
    login("registrar")
    page, fields = _open(client, url)
    assert 'id="stage-question-note"' in page and "Nasopharynx [8th: 2018-2024]" in page
    select_ = re.search(r'<select id="schema_discriminator_1".*?</select>', page, re.S).group(0)
    assert '<option value="1">1 · Posterior wall of nasopharynx, NOS</option>' in select_
    assert 'value="2">2 · Adenoid Pharyngeal tonsil' in select_
    assert fields["schema_discriminator_1"] == ""
    redrawn = client.post(f"{url}/stage", data=fields | {"schema_discriminator_1": "1"})
    assert redrawn.status_code == 200
    assert 'id="stage-schema-name">Nasopharynx [8th: 2018-2024]</strong>' in redrawn.get_data(as_text=True)
    # a grade the chosen schema refuses is named by the save itself (derive-on-save), nothing written
    refused = client.post(url, data=fields | {"schema_discriminator_1": "1", "grade_clinical": "2"})
    assert refused.status_code == 422 and db_session.get(Tumor, tumor_id).schema_discriminator_1 is None
    assert "&#39;2&#39; is not a valid code for Grade Clinical [3843] in schema Nasopharynx" in \
        re.search(r'data-field="grade_clinical".*?</div>\s*</div>', refused.get_data(as_text=True), re.S).group(0)
    assert client.post(url, data=fields | {"schema_discriminator_1": "1", "eod_primary_tumor": "100",
                                           "eod_regional_nodes": "000", "eod_mets": "00"}).status_code == 302
    tumor = db_session.get(Tumor, tumor_id)
    own = eod.stage({"site": "C111", "hist": "8000", "behavior": "3", "year_dx": "2022", "discriminator_1": "1",
                     "eod_primary_tumor": "100", "eod_regional_nodes": "000", "eod_mets": "00",
                     "grade_clin": "9", "grade_path": "9"})
    assert own.schema_id == "nasopharynx" and not own.errors
    assert (tumor.schema_discriminator_1, tumor.schema_id, tumor.derived_summary_stage_2018) == \
        ("1", own.outputs["naaccr_schema_id"], own.outputs["ss2018_derived"])


def test_an_invalid_ssdi_is_refused_naming_the_field_and_nothing_is_written(client, login, eod):
    url, tumor_id = _abstract()
    login("registrar")
    _, fields = _open(client, url)
    before = (db_session.get(Tumor, tumor_id).version, _audit_rows())
    response = client.post(url, data=fields | BREAST_SAVE | {"site_specific_items.estrogenReceptorSummary": "5"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    box = re.search(r'data-field="site_specific_items.estrogenReceptorSummary".*?</div>\s*</div>', page, re.S)
    assert "&#39;5&#39; is not a valid code for ER Summary [3827] in schema Breast (eod_public 3.3)" in box.group(0)
    assert "Nothing was saved" in page
    assert form_fields(page, "abstract-form")["site_specific_items.estrogenReceptorSummary"] == "5"
    # an item of another schema, and a code the schema refuses in an EOD field, are named the same way
    other = client.post(url, data=fields | {"site_specific_items.psaLabValue": "5.0", "eod_mets": "55"})
    assert other.status_code == 422
    text = other.get_data(as_text=True)
    assert "site_specific_items.psaLabValue: &#39;5.0&#39; was entered for psaLabValue, which is not an item of " \
           "schema Breast" in text
    assert "&#39;55&#39; is not a valid code for EOD Mets [776] in schema Breast" in text
    db_session.expire_all()
    tumor = db_session.get(Tumor, tumor_id)
    assert (tumor.version, _audit_rows()) == before and tumor.site_specific_items == {}
    # the same message comes back from the check run when a field is left
    token = csrf_of(client.get(url).get_data(as_text=True))
    check = client.post(f"{url}/check", data=fields | {"csrf_token": token,
                                                       "site_specific_items.estrogenReceptorSummary": "5"})
    assert "is not a valid code for ER Summary" in check.get_json()["invalid"][
        "site_specific_items.estrogenReceptorSummary"]


def test_without_an_algorithm_the_section_keeps_plain_fields_and_says_how_to_install(client, login, no_reference_tables):
    url, tumor_id = _abstract()
    login("registrar")
    page, fields = _open(client, url)
    assert "No SEER staging algorithm is installed" in page
    assert "flask --app wsgi reference install staging-algorithm eod_public-3.3.zip" in page
    assert 'data-picker="schema"' not in page and "site_specific_items." not in page
    assert {"eod_primary_tumor", "schema_id", "schema_discriminator_1"} <= set(fields)
    assert client.post(url, data=fields | {"eod_primary_tumor": "100"}).status_code == 302
    tumor = db_session.get(Tumor, tumor_id)
    assert (tumor.eod_primary_tumor, tumor.derived_summary_stage_2018, tumor.staging_algorithm) == ("100", None, None)


def test_before_2018_the_section_says_why_nothing_is_derived(client, login, eod):
    url, _ = _abstract(dx="20160105")
    login("registrar")
    page, _ = _open(client, url)
    assert "Stage is not derived for this abstract: eod_public stages diagnoses from 2018; diagnosis year is 2016" \
        in page
