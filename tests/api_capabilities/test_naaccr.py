"""NAACCR files over the API (issue 24): validate (a dry run), import and export as jobs, with the import and
Submissions pages' roles; uploads are multipart, a file over the limit a JSON 413."""
from __future__ import annotations

import csv
import gzip
import io

from sqlalchemy import func, select

from registry.db import db_session
from registry.models import JobStatus, Patient, Submission
from tests.api_capabilities.conftest import audited, refused, started
from tests.naaccr_io.conftest import NAACCR_DIR, SAMPLES_DIR

CAPABILITIES = [
    ("validate a NAACCR file", "POST", "/naaccr/validate"),
    ("import a NAACCR file", "POST", "/naaccr/imports"),
    ("export a NAACCR file", "POST", "/naaccr/exports"),
]
SAMPLE = SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-10.xml.gz"


def _upload(call, path: str, sample=SAMPLE, **fields):
    return call("POST", path, data={"file": (io.BytesIO(sample.read_bytes()), sample.name), **fields},
                content_type="multipart/form-data")


def _patients() -> int:
    return db_session.scalar(select(func.count(Patient.id)))


def test_validate_runs_a_dry_run_that_saves_nothing(api, dictionaries):
    call = api("registrar")
    job = started(_upload(call, "/naaccr/validate"))
    assert job.status is JobStatus.FINISHED, job.messages
    assert (job.kind, job.params["dry_run"]) == ("naaccr-import", True)
    assert "would import: patients 8 new" in job.messages and _patients() == 0
    report = call("GET", f"/jobs/{job.id}/result")
    assert report.status_code == 200 and report.data.startswith(b"line")
    assert audited("naaccr_import:dry_run", user_id=call.user.id)


def test_validate_with_a_user_dictionary_and_relaxed(api, install_dictionaries):
    install_dictionaries("210", "250")
    call = api("admin")
    folder = SAMPLES_DIR / "flat-and-xml"
    own_items = folder / "synthetic-data_naaccr-210-incidence_10-tumors_non-standard.xml"
    without = started(_upload(call, "/naaccr/validate", own_items))
    with_dictionary = started(call("POST", "/naaccr/validate", content_type="multipart/form-data", data={
        "file": (io.BytesIO(own_items.read_bytes()), own_items.name),
        "dictionary": (io.BytesIO((folder / "my-dictionary.xml").read_bytes()), "my-dictionary.xml")}))
    assert with_dictionary.status is JobStatus.FINISHED and "; 0 records rejected" in with_dictionary.messages, \
        with_dictionary.messages
    assert "; 0 records rejected" not in without.messages, without.messages

    sample = NAACCR_DIR / "validity" / "invalid_relaxed" / "invalid_default-namespace-missing-1.xml"
    strict = started(_upload(call, "/naaccr/validate", sample))
    relaxed = started(_upload(call, "/naaccr/validate", sample, relaxed="true"))
    assert "would import: patients 0 new" in strict.messages, strict.messages
    assert "would import: patients 1 new" in relaxed.messages, relaxed.messages
    bad = call("POST", "/naaccr/validate", content_type="multipart/form-data", data={
        "file": (io.BytesIO(SAMPLE.read_bytes()), SAMPLE.name),
        "dictionary": (io.BytesIO(b"<NotADictionary/>"), "mine.xml")})
    assert bad.status_code == 422 and "NaaccrDictionary" in bad.get_json()["error"]["fields"]["dictionary"]
    assert bad.get_json()["error"]["fields"]["dictionary"].startswith("mine.xml")
    assert _patients() == 0


def test_upload_mistakes_are_named(api, dictionaries):
    call = api("registrar")
    missing = call("POST", "/naaccr/imports", data={"relaxed": "1"}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.get_json()["error"]["fields"]
    unknown = _upload(call, "/naaccr/imports", dry_run="1")
    assert unknown.status_code == 422 and unknown.get_json()["error"]["fields"] == {"dry_run": "Unknown field."}
    not_a_form = call("POST", "/naaccr/imports", json={"file": "x"})
    assert not_a_form.status_code == 400 and not_a_form.get_json()["error"]["fields"]["file"]
    assert _patients() == 0


def test_import_loads_the_file_and_refuses_other_roles(api, dictionaries):
    call = api("registrar")
    job = started(_upload(call, "/naaccr/imports"))
    assert job.status is JobStatus.FINISHED, job.messages
    assert _patients() == 8 and "imported: patients 8 new" in job.messages
    assert audited("naaccr_import", user_id=call.user.id)
    for role in ("reviewer", "researcher"):
        refused(_upload(api(role), "/naaccr/imports"))
        refused(_upload(api(role, f"{role}-v"), "/naaccr/validate"))
    assert _patients() == 8


def test_a_file_over_the_limit_is_a_json_413(api, app, dictionaries):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = _upload(api("registrar"), "/naaccr/imports")
    assert response.status_code == 413 and response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and "1000" in error["fields"]["file"]


def test_export_writes_a_file_recorded_as_a_submission(api, dictionaries):
    registrar = api("registrar")
    started(_upload(registrar, "/naaccr/imports"))
    admin = api("admin")
    bad = admin("POST", "/naaccr/exports", json={"version": "180", "record_type": "Z", "diagnosis_year": 25})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"version", "record_type", "diagnosis_year"}
    job = started(admin("POST", "/naaccr/exports", json={"version": "250", "record_type": "I",
                                                         "include_incomplete": True}))
    assert job.status is JobStatus.FINISHED, job.messages
    assert (job.kind, job.params["record_type"], job.params["include_incomplete"]) == ("naaccr-export", "I", True)
    download = admin("GET", f"/jobs/{job.id}/result")
    text = gzip.decompress(download.data).decode()
    assert download.status_code == 200 and text.count("<Patient>") == 8 and 'recordType="I"' in text
    submission = db_session.scalars(select(Submission)).one()
    assert (submission.record_type, submission.patient_count, submission.created_by) == ("I", 8, admin.user.username)
    refused(registrar("POST", "/naaccr/exports", json={"version": "250", "record_type": "A"}))


def test_the_import_report_names_rejected_records(api, dictionaries, tmp_path):
    """A record the reader refuses is a row of the report the job offers, named by line."""
    broken = tmp_path / "broken.xml"
    text = gzip.decompress(SAMPLE.read_bytes()).decode()
    broken.write_text(text.replace('naaccrId="dateOfBirth">', 'naaccrId="dateOfBirth">1999', 1))
    call = api("registrar")
    job = started(_upload(call, "/naaccr/validate", broken))
    rows = list(csv.DictReader(io.StringIO(call("GET", f"/jobs/{job.id}/result").get_data(as_text=True))))
    assert job.status is JobStatus.FINISHED and rows, job.messages


def test_colliding_patient_id_numbers_reject_the_record_with_the_reason(api, dictionaries, tmp_path):
    """Two different people under one Patient ID Number [20]: the database refuses the second, and the import
    says so in its report and goes on. The dry run failed here with "'DetachedInstanceError' object has no
    attribute 'orig'": its rolled-back batch left the importing user's row expired and detached, so every later
    record failed on reading it, and the failure was then read as a database error."""
    text = gzip.decompress(SAMPLE.read_bytes()).decode()
    clashing = tmp_path / "clashing.xml"
    clashing.write_text(text.replace('naaccrId="patientIdNumber">00000002<', 'naaccrId="patientIdNumber">00000001<'))
    call = api("registrar")
    dry = started(_upload(call, "/naaccr/validate", clashing))
    assert dry.status is JobStatus.FINISHED and "would import: patients" in dry.messages, dry.messages
    assert _patients() == 0
    job = started(_upload(call, "/naaccr/imports", clashing))
    assert job.status is JobStatus.FINISHED, job.messages
    assert "imported: patients 7 new" in job.messages and "1 records rejected" in job.messages, job.messages
    report = list(csv.DictReader(io.StringIO(call("GET", f"/jobs/{job.id}/result").get_data(as_text=True))))
    [rejected] = [row for row in report if row["outcome"] == "rejected"]
    assert rejected["patient_id_number"] == "00000001" and "database refused" in rejected["reason"], rejected
    assert _patients() == 7
