"""REST API: token auth, role rules (PHI vs de-identified views), JSON errors naming fields, paging,
optimistic locking, workflow, follow-up, code look-ups, edit checks and the OpenAPI document."""
import datetime as dt

import pytest
from sqlalchemy import select

from abstracts.tokens import create_token
from registry.db import db_session
from registry.models import ApiToken, AuditEntry, Tumor
from tests.abstracting.conftest import PATIENT, TUMOR


def test_tokens_are_required_and_checked(client, api, make_user):
    assert client.get("/api/v1/patients").status_code == 401
    body = client.get("/api/v1/patients", headers={"Authorization": "Bearer crt_nonsense"}).get_json()
    assert body["error"]["code"] == "unauthorized"
    user = make_user("registrar", "expiring")
    token_row, token = create_token(user, "old", days=1)
    from registry.audit import SYSTEM, operation
    with operation(SYSTEM, "test"):
        db_session.get(ApiToken, token_row.id).expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    assert client.get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_registrar_creates_reads_and_changes_with_versions(api):
    call = api("registrar")
    bad = call("POST", "/patients", json={"name_last": "Birchdemo", "sex": "7", "date_of_birth": "19501399",
                                          "favourite_colour": "blue"})
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert set(fields) == {"sex", "date_of_birth", "favourite_colour"} and "Sex [220]" in fields["sex"]
    created = call("POST", "/patients", json=PATIENT)
    assert created.status_code == 201
    patient = created.get_json()
    assert patient["name_last"] == "Hazeldemo" and patient["version"] == 1
    pid = patient["id"]
    assert call("GET", f"/patients/{pid}").get_json()["social_security_number"] == "999123456"
    no_version = call("PATCH", f"/patients/{pid}", json={"name_middle": "Q"})
    assert no_version.status_code == 422 and "version" in no_version.get_json()["error"]["fields"]
    changed = call("PATCH", f"/patients/{pid}", json={"name_middle": "Q", "version": 1})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    stale = call("PATCH", f"/patients/{pid}", json={"name_middle": "R", "version": 1})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["changed"]["name_middle"] == [None, "Q"]

    tumor_data = dict(TUMOR)
    made = call("POST", f"/patients/{pid}/tumors", json=tumor_data)
    assert made.status_code == 201, made.get_json()
    tumor = made.get_json()
    assert tumor["treatment"]["surgery_of_primary_site"] == "22" and tumor["workflow_state"] == "in_progress"
    bad_rx = call("PATCH", f"/tumors/{tumor['id']}/treatment", json={"chemotherapy": "zz", "version": tumor["version"]})
    assert bad_rx.status_code == 422 and "chemotherapy" in bad_rx.get_json()["error"]["fields"]
    rx = call("PATCH", f"/tumors/{tumor['id']}/treatment", json={"chemotherapy": "03", "version": tumor["version"]})
    assert rx.status_code == 200 and rx.get_json()["chemotherapy"] == "03"
    listed = call("GET", f"/patients/{pid}/tumors").get_json()
    assert listed["total"] == 1 and listed["items"][0]["treatment"]["chemotherapy"] == "03"
    assert db_session.scalar(select(AuditEntry.id).where(AuditEntry.action == "api_view_patient")) is not None


def test_workflow_through_the_api_follows_edits_and_roles(api, patient_with_tumor):
    patient, tumor = patient_with_tumor
    registrar, reviewer = api("registrar"), api("reviewer")
    version = registrar("GET", f"/tumors/{tumor.id}").get_json()["version"]
    broken = registrar("PATCH", f"/tumors/{tumor.id}", json={"date_of_diagnosis": "1940", "version": version})
    version = broken.get_json()["version"]
    refused = registrar("POST", f"/tumors/{tumor.id}/workflow", json={"state": "complete", "version": version})
    assert refused.status_code == 403 and "E001" in refused.get_json()["error"]["message"]
    fixed = registrar("PATCH", f"/tumors/{tumor.id}", json={"date_of_diagnosis": "20240105", "version": version})
    version = fixed.get_json()["version"]
    done = registrar("POST", f"/tumors/{tumor.id}/workflow", json={"state": "complete", "version": version})
    assert done.status_code == 200 and done.get_json()["workflow_state"] == "complete"
    version = done.get_json()["version"]
    assert registrar("POST", f"/tumors/{tumor.id}/workflow",
                     json={"state": "reviewed", "version": version}).status_code == 403
    ok = reviewer("POST", f"/tumors/{tumor.id}/workflow", json={"state": "reviewed", "version": version})
    assert ok.get_json()["workflow_state"] == "reviewed"
    assert reviewer("GET", "/tumors?workflow_state=reviewed").get_json()["total"] == 1
    assert reviewer("GET", "/tumors?workflow_state=lost").get_json()["error"]["fields"]["workflow_state"]


def test_researchers_get_the_deidentified_view_and_cannot_write(api, patient_with_tumor):
    patient, tumor = patient_with_tumor
    researcher = api("researcher")
    listed = researcher("GET", "/patients").get_json()
    item = listed["items"][0]
    assert listed["total"] == 1
    for identifier in ("name_last", "social_security_number", "medical_record_number", "date_of_birth",
                       "patient_id_number", "addr_at_dx_postal_code"):
        assert identifier not in item
    assert item["date_of_last_contact"] == "2025" and item["sex"] == "2"
    one = researcher("GET", f"/tumors/{tumor.id}").get_json()
    assert one["date_of_diagnosis"] == "2024" and one["treatment"]["date_of_surgery"] == "2024"
    assert one["primary_site"] == "C504"
    assert researcher("GET", "/patients?name=Hazeldemo").status_code == 403
    assert researcher("POST", "/patients", json={"name_last": "X"}).status_code == 403
    assert researcher("PATCH", f"/tumors/{tumor.id}", json={"version": 1}).status_code == 403
    follow = researcher("GET", f"/patients/{patient.id}/follow-ups").get_json()
    assert follow["total"] == 0


def test_search_follow_up_codes_paging_and_edit_checks(api, patient_with_tumor):
    patient, tumor = patient_with_tumor
    call = api("registrar")
    found = call("GET", "/patients?name=Hazledemo").get_json()
    assert [p["id"] for p in found["items"]] == [patient.id]
    added = call("POST", f"/patients/{patient.id}/follow-ups",
                 json={"date_of_contact": "202602", "vital_status": "1", "cancer_status": {str(tumor.id): "1"}})
    assert added.status_code == 201
    assert call("POST", f"/patients/{patient.id}/follow-ups", json={"vital_status": "1"}).get_json()[
        "error"]["fields"]["date_of_contact"]
    assert call("GET", f"/patients/{patient.id}").get_json()["date_of_last_contact"] == "202602"
    codes = call("GET", "/codes/topography?q=breast&per_page=3").get_json()
    assert codes["per_page"] == 3 and len(codes["items"]) == 3 and codes["total"] == 8
    every = call("GET", "/codes/topography?q=breast&per_page=8").get_json()["items"]
    assert call("GET", "/codes/topography?q=breast&per_page=3&page=3").get_json()["items"] == every[6:]
    assert call("GET", "/codes/unknown").status_code == 404
    assert call("GET", "/codes/topography?per_page=500").get_json()["error"]["fields"]["per_page"]
    assert call("GET", "/codes").get_json()["total"] > 20
    check = call("POST", "/edits/check", json={"patient": {"date_of_birth": "19600101", "sex": "1"},
                                               "tumor": {"date_of_diagnosis": "19500101", "primary_site": "C530",
                                                         "treatment": {"chemotherapy": "00"}}})
    result = check.get_json()
    assert {"E001", "E050"} <= {f["edit_id"] for f in result["failures"]} and result["errors"] >= 2
    invalid = call("POST", "/edits/check", json={"patient": {"sex": "8"}, "tumor": {}}).get_json()
    assert "patient.sex" in invalid["invalid"]
    assert db_session.scalar(select(Tumor.id).where(Tumor.primary_site == "C530")) is None


def test_openapi_document_comes_from_the_schemas_and_has_a_page(client, login):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.0.3"
    assert {"/patients", "/patients/{patient_id}", "/tumors/{tumor_id}/treatment", "/codes/{system}",
            "/edits/check", "/patients/{patient_id}/follow-ups"} <= set(spec["paths"])
    patient = spec["components"]["schemas"]["Patient"]["properties"]
    assert patient["sex"]["x-naaccr-number"] == 220 and patient["sex"]["x-code-list"] == "sex"
    tumor = spec["components"]["schemas"]["Tumor"]["properties"]
    assert tumor["derived_summary_stage_2018"]["readOnly"] is True
    assert any(p["name"] == "per_page" for p in spec["paths"]["/patients"]["get"]["parameters"])
    login("researcher")
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/patients/{patient_id}" in page and "Summary Stage 2018 [764]" in page


def test_a_morphology_notation_through_the_api_and_operations(api, patient_with_tumor):
    """Issue 20.8: histology 8500/3 is read as histology 8500, behavior 3; a disagreeing behavior is named."""
    from abstracts import operations as ops
    from registry.audit import SYSTEM
    from registry.errors import InvalidInput
    _, tumor = patient_with_tumor
    call = api("registrar")
    changed = call("PATCH", f"/tumors/{tumor.id}", json={"histology": "8520/2", "version": tumor.version})
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["histology"], body["behavior"]) == ("8520", "2")
    refused = call("PATCH", f"/tumors/{tumor.id}", json={"histology": "8500/3", "behavior": "2",
                                                         "version": body["version"]})
    assert refused.status_code == 422
    assert "gives Behavior Code ICD-O-3 [523] 3" in refused.get_json()["error"]["fields"]["histology"]
    saved = ops.update_tumor(tumor.id, {"histology": "M-8500/3"}, actor=SYSTEM)
    assert saved.morphology == "8500/3"
    with pytest.raises(InvalidInput) as exc:
        ops.update_tumor(tumor.id, {"histology": "8500/3", "behavior": "2"}, actor=SYSTEM)
    assert set(exc.value.errors) == {"histology"}
