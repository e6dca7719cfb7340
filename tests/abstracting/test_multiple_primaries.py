"""A new abstract for a patient with other tumors: the multiple-primary rules' verdicts on the form and in the
API, the registrar's decision (open the existing abstract, or create anyway with a reason) in the audit trail."""
import html
import json

import pytest
from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry, Tumor
from tests.abstracting.conftest import PATIENT, TUMOR, form_fields

LEFT_BREAST = {"primary_site": "C504", "laterality": "2", "histology": "8500", "behavior": "3",
               "date_of_diagnosis": "2024-06-01", "class_of_case": "14", "diagnostic_confirmation": "1"}
SAME_BREAST = LEFT_BREAST | {"laterality": "1"}


def _new_abstract(client, patient, **values):
    url = f"/patients/{patient.id}/abstracts/new"
    data = form_fields(client.get(url).get_data(as_text=True), "abstract-form")
    data.update(values)
    return url, data


def _tumors(patient_id):
    db_session.expire_all()
    return list(db_session.scalars(select(Tumor).where(Tumor.patient_id == patient_id).order_by(Tumor.id)))


def _decisions(action):
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_right_and_left_breast_same_year_are_created_and_the_step_is_shown(client, login, patient_with_tumor):
    login("registrar")
    patient, first = patient_with_tumor
    url, data = _new_abstract(client, patient, **LEFT_BREAST)
    response = client.post(url, data=data)
    assert response.status_code == 302
    second = _tumors(patient.id)[-1]
    assert second.laterality == "2"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="multiple-primaries"' in page and "multiple primaries" in page
    assert "Solid Tumor 2018+ Breast M7" in page and "right and left breast" in page
    other = client.get(f"/patients/{patient.id}/tumors/{first.id}").get_data(as_text=True)
    assert "Solid Tumor 2018+ Breast M7" in other and f'data-tumor="{second.id}"' in other


def test_same_primary_is_not_created_silently(client, login, patient_with_tumor):
    login("registrar")
    patient, first = patient_with_tumor
    url, data = _new_abstract(client, patient, **SAME_BREAST)
    shown = client.post(url, data=data)
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert "single primary" in page and "Solid Tumor 2018+ Breast M18" in page
    assert f"/patients/{patient.id}/tumors/{first.id}/same-primary" in page
    assert len(_tumors(patient.id)) == 1

    no_reason = client.post(url, data=data | {"mp_decision": "create", "mp_override_reason": "  "})
    assert no_reason.status_code == 422
    assert "Reason for creating a new primary: required" in no_reason.get_data(as_text=True)
    assert len(_tumors(patient.id)) == 1 and _decisions("multiple_primaries:create_anyway") == []


def test_create_anyway_records_the_override_and_its_reason(client, login, patient_with_tumor):
    login("registrar")
    patient, first = patient_with_tumor
    url, data = _new_abstract(client, patient, **SAME_BREAST)
    response = client.post(url, data=data | {"mp_decision": "create",
                                             "mp_override_reason": "Pathology shows a separate lobular primary"})
    assert response.status_code == 302
    tumors = _tumors(patient.id)
    assert len(tumors) == 2
    [entry] = _decisions("multiple_primaries:create_anyway")
    assert entry.entity_id == str(tumors[1].id) and entry.username.startswith("registrar")
    detail = json.loads(entry.detail)
    assert detail["override_reason"] == "Pathology shows a separate lobular primary"
    assert [(v["tumor_id"], v["result"], v["step"]) for v in detail["verdicts"]] == [
        (first.id, "SINGLE_PRIMARY", "Solid Tumor 2018+ Breast M18")]


def test_opening_the_existing_abstract_instead_is_recorded(client, login, patient_with_tumor):
    login("registrar")
    patient, first = patient_with_tumor
    url, data = _new_abstract(client, patient, **SAME_BREAST)
    response = client.post(f"/patients/{patient.id}/tumors/{first.id}/same-primary", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{patient.id}/tumors/{first.id}")
    assert len(_tumors(patient.id)) == 1
    [entry] = _decisions("multiple_primaries:open_existing")
    assert entry.entity_id == str(first.id) and entry.patient_id == patient.id
    assert json.loads(entry.detail)["verdict"]["result"] == "SINGLE_PRIMARY"
    shown = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert f"same primary as the tumor {first.described}." in shown  # issue 20.12: not by database id


def test_reviewer_cannot_record_the_decision(client, login, patient_with_tumor):
    login("reviewer")
    patient, first = patient_with_tumor
    _, data = _new_abstract(client, patient, **SAME_BREAST)
    assert client.post(f"/patients/{patient.id}/tumors/{first.id}/same-primary", data=data).status_code == 403
    assert _decisions("multiple_primaries:open_existing") == []


def test_a_question_is_shown_and_the_answer_rechecks(client, login, patient_with_tumor):
    login("registrar")
    patient, _ = patient_with_tumor
    url, data = _new_abstract(client, patient, **(LEFT_BREAST | {"laterality": "9"}))
    asked = client.post(url, data=data)
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Is there a tumor in each breast?" in page and 'name="mp_answer.tumors_in_both_breasts"' in page
    assert len(_tumors(patient.id)) == 1

    bad = client.post(url, data=data | {"mp_answer.tumors_in_both_breasts": "perhaps", "mp_decision": "recheck"})
    assert bad.status_code == 422 and "answer.tumors_in_both_breasts must be true or false" in \
        bad.get_data(as_text=True)

    answered = client.post(url, data=data | {"mp_answer.tumors_in_both_breasts": "yes", "mp_decision": "recheck"})
    assert answered.status_code == 302
    [entry] = _decisions("multiple_primaries:create_new_primary")
    detail = json.loads(entry.detail)
    assert detail["answers"] == {"tumors_in_both_breasts": True}
    assert detail["verdicts"][0]["result"] == "MULTIPLE_PRIMARIES"
    assert detail["verdicts"][0]["step"] == "Solid Tumor 2018+ Breast M7"


# --- the API -------------------------------------------------------------------------------------

@pytest.fixture
def registrar_api(client, make_user):
    from abstracts.tokens import create_token
    _, token = create_token(make_user("registrar", "api-mp"), "tests")

    def call(method, path, **kwargs):
        return client.open(f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    return call


def _api_patient(call):
    patient = call("POST", "/patients", json=PATIENT).get_json()
    first = call("POST", f"/patients/{patient['id']}/tumors", json=TUMOR)
    assert first.status_code == 201 and first.get_json()["multiple_primaries"] == []
    return patient["id"], first.get_json()["id"]


def test_api_breast_right_and_left_gives_multiple_primaries_with_its_step(registrar_api):
    pid, first_id = _api_patient(registrar_api)
    made = registrar_api("POST", f"/patients/{pid}/tumors",
                         json=TUMOR | {"laterality": "2", "date_of_diagnosis": "20240601"})
    assert made.status_code == 201, made.get_json()
    [verdict] = made.get_json()["multiple_primaries"]
    assert (verdict["tumor_id"], verdict["primary_site"], verdict["result"]) == (first_id, "C504", "MULTIPLE_PRIMARIES")
    assert verdict["rule_set"] == "Solid Tumor 2018+ Breast" and verdict["step"] == "Solid Tumor 2018+ Breast M7"
    assert "right and left breast" in verdict["reason"] and verdict["sequence_number_hospital"] == "01"
    other = registrar_api("GET", f"/tumors/{first_id}").get_json()["multiple_primaries"]
    assert [(v["tumor_id"], v["result"]) for v in other] == [(made.get_json()["id"], "MULTIPLE_PRIMARIES")]


def test_api_refuses_a_same_primary_without_a_reason_then_records_the_override(registrar_api):
    pid, first_id = _api_patient(registrar_api)
    same = TUMOR | {"date_of_diagnosis": "20240601"}
    refused = registrar_api("POST", f"/patients/{pid}/tumors", json=same)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "same_primary" and "multiple_primaries.override_reason" in error["fields"]
    assert error["multiple_primaries"][0]["result"] == "SINGLE_PRIMARY"
    assert len(_tumors(pid)) == 1

    bad = registrar_api("POST", f"/patients/{pid}/tumors", json=same | {"multiple_primaries": {"answers": "yes"}})
    assert bad.status_code == 422 and "multiple_primaries.answers" in bad.get_json()["error"]["fields"]

    made = registrar_api("POST", f"/patients/{pid}/tumors",
                         json=same | {"multiple_primaries": {"override_reason": "Separate pathology report"}})
    assert made.status_code == 201
    [entry] = _decisions("multiple_primaries:create_anyway")
    assert entry.entity_id == str(made.get_json()["id"]) and entry.username == "api-mp"
    assert json.loads(entry.detail)["override_reason"] == "Separate pathology report"


def test_api_deidentified_view_keeps_only_the_year_of_the_other_tumor(registrar_api, client, make_user):
    from abstracts.tokens import create_token
    pid, first_id = _api_patient(registrar_api)
    second = registrar_api("POST", f"/patients/{pid}/tumors",
                           json=TUMOR | {"laterality": "2", "date_of_diagnosis": "20240601"}).get_json()
    _, token = create_token(make_user("researcher", "api-research"), "tests")
    seen = client.get(f"/api/v1/tumors/{second['id']}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [v["date_of_diagnosis"] for v in seen["multiple_primaries"]] == ["2024"]
