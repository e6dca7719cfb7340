"""Jobs over the API (issue 24): a job's owner and admins poll its status, progress and messages and download
its result with their token; anyone else is refused, and the endpoints are in the OpenAPI document."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry, Job, JobStatus
from registry.models.patient import utcnow


def _job(user_id: int, **values: Any) -> Job:
    job = Job(kind="naaccr-export", params={}, user_id=user_id, **values)
    db_session.add(job)
    db_session.commit()
    return job


def test_the_owner_polls_a_job_and_downloads_its_result(api, app, client, make_user):
    call = api("registrar", "job-owner")
    owner = call.user
    running = _job(owner.id, status=JobStatus.RUNNING, progress=40, messages="read 400 of 1000 records\n",
                   started_at=utcnow(), heartbeat_at=utcnow())
    body = call("GET", f"/jobs/{running.id}").get_json()
    assert (body["status"], body["progress"], body["kind"]) == ("running", 40, "naaccr-export")
    assert body["messages"] == ["read 400 of 1000 records"] and body["result_url"] is None
    assert body["url"] == f"/api/v1/jobs/{running.id}" and body["failure"] is None
    not_yet = call("GET", f"/jobs/{running.id}/result")
    assert not_yet.status_code == 404 and "still running" in not_yet.get_json()["error"]["fields"]["job_id"]

    folder = Path(app.config["JOB_FILES_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "export.xml").write_text("<NaaccrData/>")
    done = _job(owner.id, status=JobStatus.FINISHED, progress=100, result_file=str(folder / "export.xml"),
                finished_at=utcnow())
    body = call("GET", f"/jobs/{done.id}").get_json()
    assert body["status"] == "finished" and body["result_url"] == f"/api/v1/jobs/{done.id}/result"
    download = call("GET", body["result_url"].removeprefix("/api/v1"))
    assert download.status_code == 200 and download.data == b"<NaaccrData/>"
    assert db_session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "job_result_download",
                                                             AuditEntry.entity_id == str(done.id))) is not None

    failed = _job(owner.id, status=JobStatus.FAILED, messages="started\nfailed: no such file: x.xml\n",
                  finished_at=utcnow())
    body = call("GET", f"/jobs/{failed.id}").get_json()
    assert body["status"] == "failed" and body["failure"] == "no such file: x.xml"
    assert "no such file" in call("GET", f"/jobs/{failed.id}/result").get_json()["error"]["message"]


def test_only_the_owner_and_admins_see_a_job(api, app, client, make_user):
    _ = api("registrar", "job-owner")
    owner = _.user
    job = _job(owner.id, status=JobStatus.QUEUED, created_at=utcnow() - dt.timedelta(minutes=1))
    admin = api("admin", "job-admin")
    other = api("registrar", "job-other")
    researcher = api("researcher", "job-researcher")
    assert admin("GET", f"/jobs/{job.id}").get_json()["status"] == "queued"
    for caller in (other, researcher):
        refused = caller("GET", f"/jobs/{job.id}")
        assert refused.status_code == 403 and "job_id" in refused.get_json()["error"]["fields"]
        assert caller("GET", f"/jobs/{job.id}/result").status_code == 403
    assert admin("GET", f"/jobs/{job.id + 1000}").status_code == 404
    assert client.get(f"/api/v1/jobs/{job.id}").status_code == 401


def test_the_job_endpoints_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    job = spec["paths"]["/jobs/{job_id}"]["get"]
    assert job["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Job"}
    assert {"status", "progress", "messages", "result_url"} <= set(spec["components"]["schemas"]["Job"]["properties"])
    assert "application/octet-stream" in spec["paths"]["/jobs/{job_id}/result"]["get"]["responses"]["200"]["content"]
