"""Staging over the API (issue 24): a CSV file staged as ``staging run`` does (a job), one abstract derived now,
every abstract re-derived (a job) — with the Staging pages' roles."""
from __future__ import annotations

import csv
import io

from abstracts.operations import create_patient, create_tumor
from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import JobStatus, Tumor
from tests.api_capabilities.conftest import audited, refused, started
from tests.staging_product.conftest import EOD
from tests.staging_product.test_derive import CASES

CAPABILITIES = [
    ("stage a CSV file", "POST", "/staging/runs"),
    ("derive one abstract's stage", "POST", "/tumors/{tumor_id}/staging"),
    ("re-derive every abstract", "POST", "/staging/rederive"),
]
HEADER = "case,site,hist,year_dx,behavior,eod_primary_tumor,eod_regional_nodes,eod_mets,grade_clin,grade_path\n"
ROWS = ("a,C504,8500,2022,3,100,000,00,1,2\n"      # breast, L/NONE/NONE -> 1
        "c,C999,8500,2022,3,100,000,00,,\n")       # no such site


def _run(call, content: str, algorithm: str = "eod_public", name: str = "cases.csv"):
    return call("POST", "/staging/runs", data={"algorithm": algorithm, "file": (io.BytesIO(content.encode()), name)},
                content_type="multipart/form-data")


def test_a_csv_file_is_staged_by_a_job(api, install):
    install(EOD)
    call = api("reviewer")
    job = started(_run(call, HEADER + ROWS))
    assert job.status is JobStatus.FINISHED, job.messages
    assert "staged 2 rows of cases.csv with eod_public 3.3" in job.messages
    rows = list(csv.DictReader(io.StringIO(call("GET", f"/jobs/{job.id}/result").get_data(as_text=True))))
    assert [(r["case"], r["schema_id"], r["result"], r["ss2018_derived"]) for r in rows] == [
        ("a", "breast", "STAGED", "1"), ("c", "", "FAILED_NO_MATCHING_SCHEMA", "")]
    assert audited("staging_run", user_id=call.user.id)


def test_a_malformed_file_fails_its_job_naming_the_upload_and_bad_requests_start_none(api, install):
    install(EOD)
    call = api("registrar")
    job = started(_run(call, "site,year_dx\nC504,2022\n", name="mine.csv"))
    assert job.status is JobStatus.FAILED and "mine.csv, line 1: header lacks required input keys" in job.failure
    unknown = _run(call, HEADER + ROWS, algorithm="eod_public-9.9")
    assert unknown.status_code == 422 and "eod_public-3.3" in unknown.get_json()["error"]["fields"]["algorithm"]
    refused(_run(api("researcher"), HEADER + ROWS))


def test_one_abstract_is_derived_now_and_audited(api, install, no_reference_tables):
    patient = create_patient({"date_of_birth": "19600312", "sex": "2"}, actor=SYSTEM)
    tumor = create_tumor(patient.id, CASES["breast"][0], actor=SYSTEM)
    assert tumor.derived_summary_stage_2018 is None
    call = api("registrar")
    none = call("POST", f"/tumors/{tumor.id}/staging")
    assert none.status_code == 409 and none.get_json()["error"]["code"] == "no_algorithm"
    install(EOD)
    response = call("POST", f"/tumors/{tumor.id}/staging")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["schema_id"], body["algorithm"], body["algorithm_version"]) == (
        "STAGED", "breast", "eod_public", "3.3")
    assert body["derived"]["derived_summary_stage_2018"] == "1"
    assert body["changed"]["derived_summary_stage_2018"] == [None, "1"]
    stored = db_session.get(Tumor, tumor.id)
    db_session.refresh(stored)
    assert (stored.derived_summary_stage_2018, stored.staging_algorithm, stored.version) == (
        "1", "eod_public 3.3", body["version"])
    assert audited("staging_derive:update", user_id=call.user.id, entity_id=str(tumor.id))
    again = call("POST", f"/tumors/{tumor.id}/staging").get_json()
    assert again["changed"] == {} and again["derived"] == body["derived"]
    assert call("POST", f"/tumors/{tumor.id}/staging", json={"algorithm": "x"}).status_code == 422
    refused(api("researcher")("POST", f"/tumors/{tumor.id}/staging"))


def test_an_admin_re_derives_every_abstract(api, install):
    install(EOD)
    patient = create_patient({"date_of_birth": "19600312", "sex": "2"}, actor=SYSTEM)
    create_tumor(patient.id, CASES["breast"][0], actor=SYSTEM)
    admin = api("admin")
    bad = admin("POST", "/staging/rederive", json={"algorithm": "cs"})
    assert bad.status_code == 422 and "algorithm" in bad.get_json()["error"]["fields"]
    job = started(admin("POST", "/staging/rederive", json={"algorithm": "eod_public"}))
    assert job.status is JobStatus.FINISHED, job.messages
    assert "re-derived 1 tumors with eod_public 3.3" in job.messages
    for role in ("registrar", "reviewer", "researcher"):
        refused(api(role)("POST", "/staging/rederive", json={"algorithm": "eod_public"}))
