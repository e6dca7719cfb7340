"""Submissions page (administrators) and import upload page (registrars, administrators)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import JobStatus, Patient, Submission
from tests.naaccr_io.conftest import NAACCR_DIR, SAMPLES_DIR
from tests.jobs import ended as _wait

PAGES = {"/admin/submissions": {"admin"}, "/naaccr/import": {"registrar", "admin"}}


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("role", ["registrar", "reviewer", "researcher", "admin"])
def test_pages_open_only_to_their_roles(client, login, role):
    login(role)
    for url, roles in PAGES.items():
        assert client.get(url).status_code == (200 if role in roles else 403), (url, role)


def test_pages_need_a_sign_in(client):
    for url in PAGES:
        assert client.get(url).status_code == 302


def test_upload_runs_an_import_job_and_shows_the_report(client, login, dictionaries, tmp_path):
    login("registrar")
    page = client.get("/naaccr/import").get_data(as_text=True)
    sample = SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-10.xml.gz"
    with sample.open("rb") as handle:
        response = client.post("/naaccr/import", data={"csrf_token": _token(page), "file": (handle, sample.name)},
                               content_type="multipart/form-data")
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    job = _wait(job_id)
    assert job.status is JobStatus.FINISHED, job.messages
    assert db_session.scalar(select(func.count(Patient.id))) == 8
    status = client.get(f"/naaccr/import/{job_id}").get_data(as_text=True)
    assert "job-progress" in status and "every record was accepted" in status
    assert client.get(f"/jobs/{job_id}/result").status_code == 200


def test_an_upload_without_the_namespace_imports_nothing_unless_relaxed_is_ticked(client, login, dictionaries):
    login("registrar")
    page = client.get("/naaccr/import").get_data(as_text=True)
    assert 'name="relaxed"' in page
    sample = NAACCR_DIR / "validity" / "invalid_relaxed" / "invalid_default-namespace-missing-1.xml"
    for relaxed, patients in (("", 0), ("1", 1)):
        with sample.open("rb") as handle:
            response = client.post("/naaccr/import", data={"csrf_token": _token(page), "relaxed": relaxed,
                                                           "file": (handle, sample.name)},
                                   content_type="multipart/form-data")
        job = _wait(int(response.headers["Location"].rsplit("/", 1)[1]))
        assert db_session.scalar(select(func.count(Patient.id))) == patients, job.messages
        status = client.get(f"/naaccr/import/{job.id}").get_data(as_text=True)
        assert ("no record of it is imported" in status) is (not relaxed), status
        assert ("(relaxed)" in status) is bool(relaxed)


def test_admin_creates_and_downloads_a_submission(client, login, dictionaries):
    login("admin")
    page = client.get("/admin/submissions").get_data(as_text=True)
    assert "No submission yet" in page
    response = client.post("/admin/submissions", data={"csrf_token": _token(page), "version": "260",
                                                       "record_type": "A", "diagnosis_year": ""})
    assert response.status_code == 302
    job = _wait(int(response.headers["Location"].rsplit("/", 1)[1]))
    assert job.status is JobStatus.FINISHED, job.messages
    submission = db_session.scalars(select(Submission)).one()
    download = client.get(f"/admin/submissions/{submission.id}/download")
    assert download.status_code == 200 and download.data[:2] == b"\x1f\x8b"
    assert submission.file_name in client.get("/admin/submissions").get_data(as_text=True)
    bad = client.post("/admin/submissions", data={"csrf_token": _token(page), "version": "180", "record_type": "A"})
    assert "NAACCR version must be one of" in bad.get_data(as_text=True)
