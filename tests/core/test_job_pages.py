"""Job pages as a registry uses them every day: file names without server paths, readable local times, and
Retry on a failed job in the list for administrators (issue 22)."""
import datetime as dt
import re
from pathlib import Path

from sqlalchemy import select

from registry.audit import AuditEntry
from registry.db import db_session
from registry.jobs import RERUN_ROLES, job_kind, without_paths
from registry.models import Job, JobStatus, Role
from tests.jobs import ended as _ended


@job_kind("test-retry")
def _retry_kind(progress, reason: str) -> None:
    raise ValueError(reason)


def _csrf(client) -> str:
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)


def _failed_job(app, user_id: int, kind: str = "test-retry") -> Job:
    upload = Path(app.config["JOB_FILES_DIR"]).resolve() / "17" / "hospital-upload.xml"
    job = Job(kind=kind, params={"reason": f"{upload}: not a NAACCR XML file"}, user_id=user_id,
              status=JobStatus.FAILED, messages=f"reading {upload}\nfailed: {upload}: not a NAACCR XML file\n",
              created_at=dt.datetime(2026, 3, 4, 10, 5, 6, 123456, tzinfo=dt.timezone.utc),
              started_at=dt.datetime(2026, 3, 4, 10, 5, 7, 654321, tzinfo=dt.timezone.utc),
              finished_at=dt.datetime(2026, 3, 4, 10, 6, 8, 987654, tzinfo=dt.timezone.utc))
    db_session.add(job)
    db_session.commit()
    return job


def test_paths_are_cut_to_the_file_name_and_codes_are_left_alone():
    assert without_paths("failed: /srv/registry/jobs/12/upload.xml: line 3") == "failed: upload.xml: line 3"
    assert without_paths("C50.4 8500/3 diagnosed 2025/03/14, see https://example.org/a/b") == \
        "C50.4 8500/3 diagnosed 2025/03/14, see https://example.org/a/b"
    assert without_paths(None) == ""


def test_job_pages_never_show_the_server_path(app, client, login):
    user = login("admin")
    job = _failed_job(app, user.id)
    folder = str(Path(app.config["JOB_FILES_DIR"]).resolve())
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    status = client.get(f"/jobs/{job.id}.json").get_json()
    result = client.get(f"/jobs/{job.id}/result").get_data(as_text=True)
    for shown in (page, status["messages"], status["failure"], result):
        assert folder not in shown
    assert "reading hospital-upload.xml" in page and "hospital-upload.xml: not a NAACCR XML file" in page
    assert status["failure"] == "hospital-upload.xml: not a NAACCR XML file"


def test_the_api_job_state_never_shows_the_server_path(app, api):
    call = api("admin")
    job = _failed_job(app, call.user.id)
    state = call("GET", f"/jobs/{job.id}").get_json()
    assert state["failure"] == "hospital-upload.xml: not a NAACCR XML file"
    assert state["messages"] == ["reading hospital-upload.xml", "failed: hospital-upload.xml: not a NAACCR XML file"]


def test_job_times_are_local_to_the_minute_with_the_zone(app, client, login):
    from registry.dates import display_zone
    user = login("admin")
    job = _failed_job(app, user.id)
    zone = display_zone(app.config.get("TIMEZONE"))
    for path in ("/jobs/", f"/jobs/{job.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "123456" not in page and "987654" not in page and "+00:00" not in page
        finished = job.finished_at.replace(tzinfo=dt.timezone.utc).astimezone(zone)
        assert f"{finished:%Y-%m-%d %H:%M} {finished.tzname()}" in page


def test_failed_jobs_offer_retry_in_the_list_to_admins_only(app, client, login, make_user, monkeypatch):
    monkeypatch.setitem(RERUN_ROLES, "test-retry", frozenset({Role.ADMIN, Role.REGISTRAR}))
    registrar = make_user("registrar", "owner")
    failed = _failed_job(app, registrar.id)
    finished = Job(kind="test-retry", params={"reason": "x"}, user_id=registrar.id, status=JobStatus.FINISHED)
    db_session.add(finished)
    db_session.commit()
    login("registrar", "owner2")
    assert "Retry" not in client.get("/jobs/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _csrf(client)})

    admin = login("admin")
    page = client.get("/jobs/").get_data(as_text=True)
    assert page.count(">Retry</button>") == 1 and f'/jobs/{failed.id}/rerun' in page
    assert f'/jobs/{finished.id}/rerun' not in page
    answer = client.post(f"/jobs/{failed.id}/rerun", data={"csrf_token": _csrf(client), "from": "list"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/jobs/")
    again = db_session.scalars(select(Job).where(Job.id > finished.id)).one()
    assert (again.kind, again.params, again.user_id) == ("test-retry", failed.params, admin.id)
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "job_rerun")).one()
    assert (entry.user_id, entry.entity_id) == (admin.id, str(again.id)) and f"again of job {failed.id}" in entry.detail
    assert f"Job {failed.id} (test-retry) is running again as job {again.id}." in client.get("/jobs/").get_data(
        as_text=True)
    _ended(again.id)
