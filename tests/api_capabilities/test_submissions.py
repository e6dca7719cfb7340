"""Submissions over the API (issue 24): the Submissions page's list, export form, detail and download, for
administrators only; the detail and the download are audited as on the page."""
from __future__ import annotations

import gzip

from sqlalchemy import select

from registry.db import db_session
from registry.models import JobStatus, Submission
from tests.api_capabilities.conftest import audited, refused, started

CAPABILITIES = [
    ("list the submissions", "GET", "/submissions"),
    ("write a submission", "POST", "/submissions"),
    ("see a submission", "GET", "/submissions/{submission_id}"),
    ("download a submission's file", "GET", "/submissions/{submission_id}/file"),
]


def test_an_admin_writes_lists_reads_and_downloads_a_submission(api, dictionaries):
    admin = api("admin")
    assert admin("GET", "/submissions").get_json()["total"] == 0
    job = started(admin("POST", "/submissions", json={"version": "260", "record_type": "A",
                                                      "diagnosis_year": 2024}))
    assert job.status is JobStatus.FINISHED, job.messages
    submission = db_session.scalars(select(Submission)).one()
    listed = admin("GET", "/submissions", query_string={"per_page": 5}).get_json()
    assert listed["total"] == 1 and listed["per_page"] == 5
    [item] = listed["items"]
    assert (item["id"], item["naaccr_version"], item["record_type"], item["diagnosis_year"]) == (
        submission.id, "260", "A", 2024)
    assert item["file_url"] == f"/api/v1/submissions/{submission.id}/file"
    detail = admin("GET", f"/submissions/{submission.id}").get_json()
    assert detail["file_name"] == submission.file_name and detail["left_out"] == []
    assert audited("view_submission", entity_id=str(submission.id), user_id=admin.user.id)
    download = admin("GET", f"/submissions/{submission.id}/file")
    assert download.status_code == 200 and submission.file_name in download.headers["Content-Disposition"]
    assert b"NaaccrData" in gzip.decompress(download.data)
    assert audited("naaccr_download", entity_id=str(submission.id), user_id=admin.user.id)


def test_submission_mistakes_are_named_and_other_roles_refused(api, dictionaries):
    admin = api("admin")
    bad = admin("POST", "/submissions", json={"version": "250", "record_type": "A", "diagnosis_year": "2024",
                                              "deliver": True})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"diagnosis_year", "deliver"}
    assert admin("GET", "/submissions", query_string={"year": "2024"}).status_code == 400
    assert admin("GET", "/submissions/999").status_code == 404
    gone = Submission(file_name="gone.xml", stored_path="/nonexistent/gone.xml", checksum="0" * 64,
                      naaccr_version="250", record_type="A", created_by="system")
    db_session.add(gone)
    db_session.commit()
    missing = admin("GET", f"/submissions/{gone.id}/file")
    assert missing.status_code == 404 and "no longer on the server" in missing.get_json()["error"]["message"]
    for role in ("registrar", "reviewer", "researcher"):
        call = api(role)
        refused(call("GET", "/submissions"))
        refused(call("POST", "/submissions", json={"version": "250", "record_type": "A"}))
        refused(call("GET", f"/submissions/{gone.id}"))
        refused(call("GET", f"/submissions/{gone.id}/file"))
    assert not audited("naaccr_download")
