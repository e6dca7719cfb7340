"""Pages: a researcher builds a dataset through a job and downloads it; administrators see the
release log and record agreements; researchers never reach patient pages or identified API views."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from registry.db import db_session
from registry.models import DataUseAgreement, JobStatus, ResearchRelease
from tests.core.test_jobs import _wait


def _token(client, path):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_researcher_builds_a_dataset_and_downloads_it(app, client, login, registry_data):
    login("researcher")
    page = client.get("/research/")
    assert page.status_code == 200 and "age_at_diagnosis" in page.get_data(as_text=True)
    response = client.post("/research/", data={"csrf_token": _token(client, "/research/"), "level": "safe_harbor",
                                               "file_format": "csv", "sites": "C50, C18-C20", "years": "2010-2025",
                                               "variables": ["primary_site", "summary_stage"], "purpose": "page"})
    assert response.status_code == 302, response.get_data(as_text=True)
    job = _wait(int(response.headers["Location"].rstrip("/").split("/")[-1]))
    assert job.status is JobStatus.FINISHED, job.messages
    release = db_session.scalars(select(ResearchRelease)).one()
    assert release.purpose == "page" and release.filters["sites"] == ["C50", "C18-C20"]
    assert release.variables == ["study_patient_id", "study_tumor_id", "primary_site", "summary_stage"]
    download = client.get(f"/research/releases/{release.id}/download")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    refused = client.post("/research/", data={"csrf_token": _token(client, "/research/"), "level": "limited",
                                              "file_format": "csv"})
    assert "needs a data use agreement" in refused.get_data(as_text=True)


def test_researcher_never_reaches_identified_views(app, client, login, registry_data):
    user = login("researcher")
    for path in ("/patients", "/patients/1", "/patients/1/tumors/1", "/research/admin"):
        assert client.get(path).status_code == 403, path
    from abstracts.tokens import create_token
    _, token = create_token(user, "analysis")
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/v1/patients/1", headers=headers).get_json()
    assert "name_last" not in body and "social_security_number" not in body and "date_of_birth" not in body
    assert client.patch("/api/v1/patients/1", json={"name_last": "X"}, headers=headers).status_code == 403


def test_admin_records_agreements_and_sees_the_log(app, client, login, make_user, registry_data):
    make_user("researcher", "rita")
    login("admin")
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    response = client.post("/research/admin", data={"csrf_token": _token(client, "/research/admin"),
                                                    "username": "rita", "project": "Colon study", "expires": expires})
    assert response.status_code == 302
    agreement = db_session.scalars(select(DataUseAgreement)).one()
    assert agreement.user.username == "rita" and agreement.project == "Colon study"
    page = client.get("/research/admin").get_data(as_text=True)
    assert "Colon study" in page and "Release log" in page
    client.post("/research/admin", data={"csrf_token": _token(client, "/research/admin"), "revoke": agreement.id})
    db_session.expire_all()
    assert db_session.get(DataUseAgreement, agreement.id).revoked_at is not None
