"""The casefinding suspense list over the API: cases entered by hand or from an HL7 v2 / FHIR message, listed with
filters and paging, abstracted or closed as not reportable by the same operations as the Suspense page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.db import db_session
from registry.models import CasefindingReport, Patient, SuspenseCase, SuspenseStatus, Tumor
from tests.api_analysis.helpers import audited
from tests.casefinding.test_intake import message
from tests.reference import REFERENCE_DIR

CAPABILITIES = [
    ("suspense list", "GET", "/casefinding/suspense"),
    ("potential case into suspense", "POST", "/casefinding/suspense"),
    ("abstract a suspense case", "POST", "/casefinding/suspense/{case_id}/abstract"),
    ("not reportable", "POST", "/casefinding/suspense/{case_id}/not-reportable"),
]
CASE = {"name_last": "Suspensedemo", "name_first": "Sara", "date_of_birth": "1950-03-14",
        "medical_record_number": "MRN-S1", "primary_site": "C50.4", "date_found": "2025-02-01",
        "source": "pathology", "note": "path report seen on the ward"}


def test_a_case_entered_by_hand_is_stored_as_the_form_stores_it(api):
    registrar = api("registrar")
    response = registrar("POST", "/casefinding/suspense", json=CASE)
    assert response.status_code == 201, response.get_data(as_text=True)
    listed = response.get_json()["cases"][0]
    case = db_session.get(SuspenseCase, listed["id"])
    assert (case.date_of_birth, case.primary_site, case.date_found, case.status) == (
        "19500314", "C504", "20250201", SuspenseStatus.OPEN)
    assert case.created_by_id == registrar.user.id and listed["status"] == "open"
    assert audited("add_suspense_case")[-1].entity_id == str(case.id)
    for body, field in (({**CASE, "source": "rumour"}, "source"), ({"source": "pathology"}, "name_last"),
                        ({**CASE, "primary_site": "D12"}, "primary_site"), ({**CASE, "colour": "red"}, "colour")):
        bad = registrar("POST", "/casefinding/suspense", json=body)
        assert bad.status_code == 422 and field in bad.get_json()["error"]["fields"], (body, bad.json)
    assert len(db_session.scalars(select(SuspenseCase)).all()) == 1


def test_hl7_and_fhir_messages_are_screened_into_suspense(api):
    reviewer = api("reviewer")
    response = reviewer("POST", "/casefinding/suspense", data=message("API7", mrn="MRN-H7"),
                        content_type="x-application/hl7-v2+er7")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    report = db_session.scalars(select(CasefindingReport).where(CasefindingReport.message_id == "API7")).one()
    assert body["taken"][0]["report_id"] == report.id and body["cases"][0]["id"] == report.suspense_case_id
    assert body["cases"][0]["medical_record_number"] == "MRN-H7"
    bundle = (REFERENCE_DIR / "epath/fhir/ccrr/ccrr-primary-cancer-condition-breast.json").read_bytes()
    fhir = reviewer("POST", "/casefinding/suspense", data=bundle, content_type="application/json")
    assert fhir.status_code == 201 and fhir.get_json()["cases"], fhir.get_data(as_text=True)
    assert reviewer("POST", "/casefinding/suspense", data="hello", content_type="text/plain").status_code == 422


def test_list_filters_and_pages_like_the_page(api):
    registrar = api("registrar")
    for name, source, site in (("Alphademo", "pathology", "C504"), ("Betademo", "radiology", "C187"),
                               ("Gammademo", "pathology", "C509")):
        assert registrar("POST", "/casefinding/suspense",
                         json={"name_last": name, "source": source, "primary_site": site}).status_code == 201
    everything = registrar("GET", "/casefinding/suspense").get_json()
    assert [c["name_last"] for c in everything["items"]] == ["Gammademo", "Betademo", "Alphademo"]
    page = registrar("GET", "/casefinding/suspense", query_string={"per_page": 2, "page": 2}).get_json()
    assert page["total"] == 3 and page["pages"] == 2 and [c["name_last"] for c in page["items"]] == ["Alphademo"]
    pathology = registrar("GET", "/casefinding/suspense", query_string={"source": "pathology", "site": "C50"})
    assert [c["name_last"] for c in pathology.get_json()["items"]] == ["Gammademo", "Alphademo"]
    assert registrar("GET", "/casefinding/suspense", query_string={"status": "abstracted"}).get_json()["total"] == 0
    bad = registrar("GET", "/casefinding/suspense", query_string={"status": "lost"})
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]
    unknown = registrar("GET", "/casefinding/suspense", query_string={"name": "x"})
    assert unknown.status_code == 400 and "name" in unknown.get_json()["error"]["fields"]
    assert audited("api_list_suspense")[-1].user_id == registrar.user.id


def test_abstract_and_not_reportable_use_the_pages_operations(api):
    registrar = api("registrar")
    first = registrar("POST", "/casefinding/suspense", json=CASE).get_json()["cases"][0]["id"]
    second = registrar("POST", "/casefinding/suspense", json={**CASE, "name_last": "Otherdemo",
                                                              "medical_record_number": "MRN-S2"}).get_json()
    second = second["cases"][0]["id"]
    response = registrar("POST", f"/casefinding/suspense/{first}/abstract")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    tumor = db_session.get(Tumor, body["tumor"]["id"])
    patient = db_session.get(Patient, tumor.patient_id)
    assert tumor.primary_site == "C504" and patient.medical_record_number == "MRN-S1"
    assert patient.name_last == "Suspensedemo" and tumor.abstracted_by_id == registrar.user.id
    assert response.headers["Location"] == f"/api/v1/tumors/{tumor.id}"
    db_session.expire_all()
    case = db_session.get(SuspenseCase, first)
    assert case.status is SuspenseStatus.ABSTRACTED and case.tumor_id == tumor.id
    assert body["case"]["status"] == "abstracted"
    assert audited("abstract_suspense_case")[-1].entity_id == str(first)
    again = registrar("POST", f"/casefinding/suspense/{first}/abstract")
    assert again.status_code == 409 and "already abstracted" in again.get_json()["error"]["message"]

    blank = registrar("POST", f"/casefinding/suspense/{second}/not-reportable", json={"reason": ""})
    assert blank.status_code == 422 and "reason" in blank.get_json()["error"]["fields"]
    closed = registrar("POST", f"/casefinding/suspense/{second}/not-reportable",
                       json={"reason": "benign on review"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "not_reportable"
    db_session.expire_all()
    case = db_session.get(SuspenseCase, second)
    assert case.status is SuspenseStatus.NOT_REPORTABLE and case.reason == "benign on review"
    assert case.resolved_by_id == registrar.user.id
    assert audited("suspense_not_reportable")[-1].detail == "benign on review"
    assert registrar("POST", f"/casefinding/suspense/{second}/not-reportable",
                     json={"reason": "twice"}).status_code == 409
    assert registrar("POST", "/casefinding/suspense/99999/abstract").status_code == 404


@pytest.mark.parametrize("role", ["researcher"])
def test_researchers_are_refused(api, role):
    from abstracts.casefinding import add_suspense_case
    from registry.audit import SYSTEM
    case = add_suspense_case({"name_last": "Hiddendemo", "source": "pathology"}, actor=SYSTEM)
    call = api(role)
    for _name, method, path in CAPABILITIES:
        response = call(method, path.replace("{case_id}", str(case.id)),
                        **({"json": CASE} if method == "POST" else {}))
        assert response.status_code == 403 and "Hiddendemo" not in response.get_data(as_text=True), path
    db_session.expire_all()
    assert db_session.get(SuspenseCase, case.id).status is SuspenseStatus.OPEN
    assert len(db_session.scalars(select(SuspenseCase)).all()) == 1
