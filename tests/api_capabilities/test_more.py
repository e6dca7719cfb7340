"""The jobs list and Retry, the facility settings and the research release log over the API (issue 24): the
operations and role rules of the Jobs, Facility and research pages, each change audited by its operation."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry, Facility, Job, JobStatus, ResearchRelease
from registry.models.patient import utcnow
from tests.api_capabilities.conftest import audited, refused, wait

CAPABILITIES = [
    ("list one's jobs", "GET", "/jobs"),
    ("run an ended job again", "POST", "/jobs/{job_id}/rerun"),
    ("read the facility settings", "GET", "/facility"),
    ("change the facility settings", "PATCH", "/facility"),
    ("list research releases", "GET", "/research/releases"),
    ("download a research release", "GET", "/research/releases/{release_id}/file"),
]


def _job(user, kind: str = "naaccr-import", status: JobStatus = JobStatus.FAILED, **params) -> Job:
    job = Job(kind=kind, params=params, user_id=user.id, status=status)
    db_session.add(job)
    db_session.commit()
    return job


def test_each_sees_their_own_jobs_and_admins_every_job(api):
    registrar, other, admin = api("registrar"), api("reviewer"), api("admin")
    mine = [_job(registrar.user, status=JobStatus.FINISHED), _job(registrar.user)]
    theirs = _job(other.user, kind="naaccr-export")
    listed = registrar("GET", "/jobs")
    assert listed.status_code == 200
    body = listed.get_json()
    assert [j["id"] for j in body["items"]] == [mine[1].id, mine[0].id] and body["total"] == 2
    assert body["items"][0]["status"] == "failed" and body["items"][0]["url"] == f"/api/v1/jobs/{mine[1].id}"
    assert [j["id"] for j in other("GET", "/jobs").get_json()["items"]] == [theirs.id]
    assert other("GET", f"/jobs/{mine[0].id}").status_code == 403  # not listed, and not shown either
    everything = admin("GET", "/jobs?per_page=2").get_json()
    assert (everything["total"], everything["pages"]) == (3, 2)
    assert [j["id"] for j in everything["items"]] == [theirs.id, mine[1].id]
    assert [j["id"] for j in admin("GET", "/jobs?page=2&per_page=2").get_json()["items"]] == [mine[0].id]
    assert registrar("GET", "/jobs?user=x").status_code == 400


def test_an_ended_job_runs_again_through_the_audited_rerun(api):
    registrar = api("registrar")
    failed = _job(registrar.user, path="/nonexistent.xml")
    answer = registrar("POST", f"/jobs/{failed.id}/rerun")
    assert answer.status_code == 202, answer.get_data(as_text=True)
    body = answer.get_json()
    assert answer.headers["Location"] == body["url"] == f"/api/v1/jobs/{body['id']}" and body["id"] != failed.id
    again = wait(body["id"])
    assert (again.kind, again.params, again.user_id) == ("naaccr-import", {"path": "/nonexistent.xml"},
                                                         registrar.user.id)
    entry = audited("job_rerun", entity_id=str(again.id))
    assert entry and entry[0].user_id == registrar.user.id and f"again of job {failed.id}" in entry[0].detail

    admin = api("admin")
    by_admin = admin("POST", f"/jobs/{failed.id}/rerun")
    assert by_admin.status_code == 202 and wait(by_admin.get_json()["id"]).user_id == admin.user.id


def test_rerun_is_refused_to_other_users_roles_kinds_and_running_jobs(api):
    owner, other, reviewer = api("registrar"), api("registrar", "other.registrar"), api("reviewer")
    failed = _job(owner.user)
    refused(other("POST", f"/jobs/{failed.id}/rerun"))
    refused(reviewer("POST", f"/jobs/{_job(reviewer.user).id}/rerun"))
    refused(owner("POST", f"/jobs/{_job(owner.user, kind='naaccr-export').id}/rerun"))
    running = owner("POST", f"/jobs/{_job(owner.user, status=JobStatus.RUNNING).id}/rerun")
    assert running.status_code == 409 and "job_id" in running.get_json()["error"]["fields"]
    assert owner("POST", "/jobs/999999/rerun").status_code == 404
    assert not audited("job_rerun")
    assert db_session.scalar(select(Job).where(Job.id > failed.id + 3)) is None


def test_an_admin_reads_and_changes_the_facility_settings(api):
    admin = api("admin")
    blank = admin("GET", "/facility")
    assert blank.status_code == 200 and blank.get_json()["name"] == "" and blank.get_json()["updated_at"] is None
    changed = admin("PATCH", "/facility", json={"name": "Springfield Demo Hospital", "reporting_facility": "0006543210",
                                               "npi_reporting_facility": "1234567893", "address_state": "IL"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["npi_reporting_facility"] == "1234567893"
    db_session.expire_all()
    facility = db_session.get(Facility, 1)
    assert (facility.name, facility.reporting_facility, facility.address_state) == (
        "Springfield Demo Hospital", "0006543210", "IL")
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action.like("update_facility%"))).one()
    assert entry.user_id == admin.user.id and entry.changes["name"][1] == "Springfield Demo Hospital"

    kept = admin("PATCH", "/facility", json={"telephone": "217-555-0100"}).get_json()
    assert (kept["telephone"], kept["name"]) == ("217-555-0100", "Springfield Demo Hospital")
    assert admin("GET", "/facility").get_json()["telephone"] == "217-555-0100"


def test_bad_facility_settings_are_named_and_nothing_is_saved(api):
    admin = api("admin")
    bad = admin("PATCH", "/facility", json={"name": "X", "npi_reporting_facility": "1234567890",
                                           "address_state": "il", "colour": "blue"})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"npi_reporting_facility", "address_state", "colour"}
    assert "check digit" in bad.get_json()["error"]["fields"]["npi_reporting_facility"]
    assert admin("PATCH", "/facility", json={}).status_code == 422
    db_session.expire_all()
    assert db_session.get(Facility, 1) is None
    assert not db_session.scalars(select(AuditEntry).where(AuditEntry.action.like("update_facility%"))).all()
    for role in ("registrar", "reviewer", "researcher"):
        caller = api(role)
        refused(caller("GET", "/facility"))
        refused(caller("PATCH", "/facility", json={"name": "Not Mine"}))
    db_session.expire_all()
    assert db_session.get(Facility, 1) is None


def _release(user, folder, name: str, *, data: bytes | None = b"PK-zip-bytes") -> ResearchRelease:
    path = folder / name
    if data is not None:
        path.write_bytes(data)
    release = ResearchRelease(created_by_id=user.id, created_by=user.username, level="safe_harbor",
                              file_format="csv", checksum="0" * 64, file_name=name, file_path=str(path),
                              row_count=12, patient_count=10, expires_at=utcnow() + dt.timedelta(days=30))
    db_session.add(release)
    db_session.commit()
    return release


def test_researchers_list_and_download_their_own_releases(api, tmp_path):
    researcher, colleague, admin = api("researcher"), api("researcher", "colleague"), api("admin")
    mine = _release(researcher.user, tmp_path, "mine.zip", data=b"my released rows")
    theirs = _release(colleague.user, tmp_path, "theirs.zip")
    gone = _release(researcher.user, tmp_path, "gone.zip", data=None)

    listed = researcher("GET", "/research/releases")
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [r["id"] for r in items] == [gone.id, mine.id]
    assert items[1]["file_url"] == f"/api/v1/research/releases/{mine.id}/file" and items[0]["file_url"] is None
    assert "file_path" not in items[1] and items[1]["row_count"] == 12
    assert {r["id"] for r in admin("GET", "/research/releases").get_json()["items"]} == {mine.id, theirs.id, gone.id}

    got = researcher("GET", f"/research/releases/{mine.id}/file")
    assert got.status_code == 200 and got.data == b"my released rows"
    assert "mine.zip" in got.headers["Content-Disposition"]
    entry = audited("research_download", entity_id=str(mine.id))
    assert len(entry) == 1 and entry[0].user_id == researcher.user.id and entry[0].detail == "mine.zip"

    refused(researcher("GET", f"/research/releases/{theirs.id}/file"))
    expired = researcher("GET", f"/research/releases/{gone.id}/file")
    assert expired.status_code == 404 and expired.get_json()["error"]["code"] == "expired"
    assert admin("GET", f"/research/releases/{theirs.id}/file").status_code == 200
    assert audited("research_download", entity_id=str(theirs.id))[0].user_id == admin.user.id
    assert not audited("research_download", entity_id=str(gone.id))
    for role in ("registrar", "reviewer"):
        caller = api(role)
        refused(caller("GET", "/research/releases"))
        refused(caller("GET", f"/research/releases/{mine.id}/file"))
    assert len(audited("research_download")) == 2
