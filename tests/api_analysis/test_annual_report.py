"""POST /api/v1/annual-report: the page's job (administrators only); the PDF comes from GET /jobs/{id}/result."""
from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import Job, JobStatus
from tests.annual_report.test_annual_report import _demo
from tests.api_analysis.helpers import audited, wait

CAPABILITIES = [("annual report (job)", "POST", "/annual-report")]


def _jobs() -> int:
    return db_session.scalar(select(func.count(Job.id)))


def test_admin_builds_the_report_as_a_job_and_downloads_the_pdf(app, api, tmp_path):
    _demo(40, seed=7)
    admin = api("admin")
    year = dt.date.today().year - 1
    response = admin("POST", "/annual-report", json={"year": year, "public": True})
    assert response.status_code == 202, response.get_data(as_text=True)
    started = response.get_json()
    assert started["kind"] == "annual-report" and response.headers["Location"] == f"/api/v1/jobs/{started['id']}"
    job = wait(started["id"])
    assert job.status is JobStatus.FINISHED, job.messages
    assert job.params == {"year": year, "facility": None, "public": True, "requested_by": admin.user.username}
    state = admin("GET", f"/jobs/{job.id}").get_json()
    assert state["status"] == "finished" and state["result_url"] == f"/api/v1/jobs/{job.id}/result"
    pdf = admin("GET", f"/jobs/{job.id}/result")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert str(year) in text
    assert any(f"year {year}" in e.detail and admin.user.username in e.detail for e in audited("annual_report"))
    assert audited("job_result_download")[-1].user_id == admin.user.id


def test_bad_requests_are_named_and_start_nothing(api):
    admin = api("admin")
    before = _jobs()
    for body, field in (({"year": 1066}, "year"), ({}, "year"), ({"year": dt.date.today().year, "facility": "a b"},
                                                                 "facility"), ({"year": 2020, "colour": 1}, "colour")):
        response = admin("POST", "/annual-report", json=body)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], (body, response.json)
    assert _jobs() == before


@pytest.mark.parametrize("role", ["registrar", "reviewer", "researcher"])
def test_other_roles_are_refused(api, role):
    before = _jobs()
    response = api(role)("POST", "/annual-report", json={"year": dt.date.today().year - 1})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_allowed"
    assert _jobs() == before
