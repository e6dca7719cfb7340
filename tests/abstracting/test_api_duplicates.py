"""The duplicate check on POST /api/v1/patients (issue 24): the same check as the web's new-patient form; likely
matches are a 409 listing them, and ``?force=true`` adds the patient anyway, recorded in the creation's audit entry."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from registry.db import db_session
from registry.models import AuditEntry, Patient
from tests.abstracting.conftest import PATIENT


def _creation(patient_id: int) -> AuditEntry:
    return db_session.scalars(select(AuditEntry).where(AuditEntry.action == "create_patient:create",
                                                       AuditEntry.entity_id == str(patient_id))).one()


def test_a_likely_duplicate_is_a_409_unless_forced(api, client, make_user):
    call = api("registrar")
    first = call("POST", "/patients", json=PATIENT)
    assert first.status_code == 201
    existing = first.get_json()["id"]
    assert _creation(existing).detail is None

    again = call("POST", "/patients", json=PATIENT | {"medical_record_number": "M9000002"})
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "likely_duplicate" and "force" in error["fields"]
    [candidate] = error["candidates"]
    assert candidate["patient"]["id"] == existing and candidate["patient"]["name_last"] == "Hazeldemo"
    assert "same SSN" in candidate["reasons"] and "same date of birth" in candidate["reasons"]
    assert db_session.scalar(select(func.count(Patient.id))) == 1

    misplaced = call("POST", "/patients", json=PATIENT | {"force": True})
    assert misplaced.status_code == 422 and "?force=true" in misplaced.get_json()["error"]["fields"]["force"]
    not_boolean = call("POST", "/patients?force=maybe", json=PATIENT)
    assert not_boolean.status_code == 422 and not_boolean.get_json()["error"]["fields"] == {"force": "true or false"}

    forced = call("POST", "/patients?force=true", json=PATIENT | {"medical_record_number": "M9000002"})
    assert forced.status_code == 201
    detail = json.loads(_creation(forced.get_json()["id"]).detail)
    assert detail["duplicate_check"]["confirmed_by"] == "force=true"
    assert detail["duplicate_check"]["candidates"][0]["patient_id"] == existing
    assert "same SSN" in detail["duplicate_check"]["candidates"][0]["reasons"]

    other = call("POST", "/patients", json={"name_last": "Quillfeatherdemo", "name_first": "Otto",
                                            "date_of_birth": "19300101", "sex": "1"})
    assert other.status_code == 201 and _creation(other.get_json()["id"]).detail is None


def test_the_force_parameter_and_the_409_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/patients"]["post"]
    force = [p for p in post["parameters"] if p["name"] == "force"]
    assert force and force[0]["in"] == "query" and force[0]["schema"]["type"] == "boolean"
    assert post["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LikelyDuplicates"}
    error = spec["components"]["schemas"]["LikelyDuplicatesError"]["properties"]
    assert error["candidates"]["items"] == {"$ref": "#/components/schemas/LikelyDuplicate"}
