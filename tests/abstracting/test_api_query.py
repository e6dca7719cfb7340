"""Query parameters of the API (issue 24): each endpoint declares the ones it takes, and they are documented;
any other is a 400 naming it, never silently ignored (``?name_last=`` used to list every patient)."""
from __future__ import annotations

from typing import Any

from registry.db import db_session
from registry.models import Job, JobStatus


def test_an_unknown_query_parameter_is_refused_and_named(api, client, make_user, patient_with_tumor):
    call = api("registrar")
    refused = call("GET", "/patients?name_last=Hazeldemo")
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "unknown_parameter" and "'name_last'" in error["message"]
    assert "name, date_of_birth" in error["fields"]["name_last"]
    assert call("GET", "/codes/topography?query=breast").get_json()["error"]["fields"]["query"]
    assert call("GET", "/patients?page=1&page=2").get_json()["error"] == {
        "code": "repeated_parameter", "message": "query parameter 'page' refused",
        "fields": {"page": "given more than once"}}
    too_long = call("GET", "/patients?name=" + "x" * 81)
    assert too_long.status_code == 422 and too_long.get_json()["error"]["fields"] == {"name": "at most 80 characters"}
    assert call("GET", "/patients?page=0").get_json()["error"]["fields"] == {"page": "must be a whole number from 1"}


def test_every_api_endpoint_refuses_parameters_it_does_not_take(api, app, client, make_user, patient_with_tumor):
    """Walks the URL map, so a new endpoint is covered without a line here."""
    patient, tumor = patient_with_tumor
    call = api("admin")
    admin = call.user
    job = Job(kind="naaccr-export", params={}, user_id=admin.id, status=JobStatus.QUEUED)
    db_session.add(job)
    db_session.commit()
    ids = {"patient_id": patient.id, "tumor_id": tumor.id, "job_id": job.id, "system": "sex", "case_id": 1,
           "agreement_id": 1, "submission_id": 1, "user_id": admin.id,
           "release_id": 1}  # refused before the record is looked up
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.split(".")[0] != "api":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = rule.build({name: ids[name] for name in rule.arguments})[1].removeprefix("/api/v1")
            answer = call(method, f"{path}?zz_unknown=1")
            assert answer.status_code == 400, (method, path, answer.status_code)
            assert "zz_unknown" in answer.get_json()["error"]["fields"], (method, path)
            checked.append((method, path))
    assert ("GET", f"/jobs/{job.id}") in checked and ("POST", "/patients") in checked and len(checked) >= 20


def test_search_by_name_birth_date_and_mrn(api, client, make_user, patient_with_tumor):
    patient, _ = patient_with_tumor
    call = api("registrar")
    for query in ("name=Hazledemo, Ingrid", "date_of_birth=1958-04-12", "medical_record_number=m9000001",
                  "name=Hazeldemo&date_of_birth=19580412&per_page=5"):
        found = call("GET", f"/patients?{query}")
        assert [p["id"] for p in found.get_json()["items"]] == [patient.id], query
    assert call("GET", "/patients?date_of_birth=1958-04-13").get_json()["total"] == 0
    researcher = api("researcher")
    assert researcher("GET", "/patients?date_of_birth=1958-04-12").status_code == 403


def test_the_accepted_parameters_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    def query(path: str, method: str = "get") -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in spec["paths"][path][method]["parameters"] if p["in"] == "query"}

    assert set(query("/patients")) == {"page", "per_page", "name", "date_of_birth", "medical_record_number",
                                       "patient_id_number", "ssn_last4"}
    assert set(query("/codes/{system}")) == {"q", "page", "per_page"}
    assert "synonym" in query("/codes/{system}")["q"]["description"]
    assert query("/tumors")["workflow_state"]["schema"]["enum"] == ["in_progress", "complete", "reviewed"]
    assert query("/patients")["per_page"]["schema"]["maximum"] == 200
    assert query("/tumors/{tumor_id}") == {}
    assert "400" in spec["paths"]["/patients"]["get"]["responses"]
