"""A job whose worker was killed outright (kill -9) is marked failed once its heartbeat is too old, and can be rerun."""
from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import select

import registry.naaccr.importer  # noqa: F401 - registers the naaccr-import job kind
from registry.db import db_session
from registry.jobs import enqueue, job_kind
from registry.models import AuditEntry, Job, JobStatus
from registry.models.patient import utcnow
from tests.security.conftest import csrf_of, sign_in

RELEASE = threading.Event()


@job_kind("test-waiting")
def _waiting(progress, release: str) -> None:
    """Waits until the file ``release`` exists (the job runs in a process of its own, so an Event cannot reach it)."""
    progress(10, "waiting")
    for _ in range(3000):
        if Path(release).exists():
            return
        threading.Event().wait(0.02)


def _running_job(user_id: int, *, heartbeat: dt.datetime) -> Job:
    """The row a worker leaves when it is killed in the middle of an import."""
    job = Job(kind="naaccr-import", params={"path": "/nonexistent/upload.xml", "file_name": "upload.xml",
                                             "user_id": user_id},
              user_id=user_id, status=JobStatus.RUNNING, progress=66, messages="batch 2 of 3\n",
              started_at=heartbeat - dt.timedelta(minutes=5), heartbeat_at=heartbeat)
    db_session.add(job)
    db_session.commit()
    return job


def test_a_job_whose_worker_stopped_is_marked_failed_when_read_and_can_be_run_again(app, make_user):
    app.config["JOB_STALE_SECONDS"] = 120
    user = make_user("registrar")
    client = sign_in(app, user.username)
    stopped = _running_job(user.id, heartbeat=utcnow() - dt.timedelta(seconds=600))
    alive = _running_job(user.id, heartbeat=utcnow())
    page = client.get(f"/jobs/{stopped.id}").get_data(as_text=True)
    assert "failed" in page and "the worker running it stopped" in page
    db_session.expire_all()
    assert db_session.get(Job, stopped.id).status is JobStatus.FAILED
    assert db_session.get(Job, alive.id).status is JobStatus.RUNNING, "a job with a fresh heartbeat was failed"
    assert client.get(f"/jobs/{alive.id}.json").get_json()["status"] == "running"
    logged = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "job_worker_stopped")).all()
    assert [entry.entity_id for entry in logged] == [str(stopped.id)]

    again = client.post(f"/jobs/{stopped.id}/rerun", data={"csrf_token": csrf_of(client.get("/account").get_data(as_text=True))})
    assert again.status_code == 302
    new_id = int(again.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    rerun = db_session.get(Job, new_id)
    assert (rerun.kind, rerun.params, rerun.user_id) == ("naaccr-import", stopped.params, user.id)
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "job_rerun")).one()
    assert (entry.user_id, entry.entity_id) == (user.id, str(new_id)) and str(stopped.id) in entry.detail
    _wait_until_ended(new_id)  # its upload is gone, so it fails; it must not outlive the test


def _wait_until_ended(job_id: int) -> None:
    for _ in range(3000):
        db_session.expire_all()
        if db_session.get(Job, job_id).status in (JobStatus.FINISHED, JobStatus.FAILED):
            return
        RELEASE.wait(0.02)
    raise AssertionError(f"job {job_id} did not end")


def test_the_job_list_fails_stopped_jobs_too_and_a_role_that_may_not_start_the_kind_cannot_rerun(app, make_user):
    app.config["JOB_STALE_SECONDS"] = 120
    reviewer = make_user("reviewer")
    client = sign_in(app, reviewer.username)
    stopped = _running_job(reviewer.id, heartbeat=utcnow() - dt.timedelta(seconds=600))
    assert client.get("/jobs/").status_code == 200
    db_session.expire_all()
    assert db_session.get(Job, stopped.id).status is JobStatus.FAILED
    assert "Run this job again" not in client.get(f"/jobs/{stopped.id}").get_data(as_text=True)
    refused = client.post(f"/jobs/{stopped.id}/rerun", data={"csrf_token": csrf_of(client.get("/account").get_data(as_text=True))})
    assert refused.status_code == 403
    assert db_session.scalar(select(Job.id).where(Job.id > stopped.id)) is None


def test_the_runner_keeps_the_heartbeat_of_a_running_job_fresh(app, tmp_path):
    app.config["JOB_HEARTBEAT_SECONDS"] = 0.05
    release = tmp_path / "release"
    job = enqueue("test-waiting", {"release": str(release)}, user=None)
    try:
        first = None
        for _ in range(2000):
            db_session.expire_all()
            beat = db_session.get(Job, job.id).heartbeat_at
            if first is None:
                first = beat
            elif beat is not None and beat > first:
                break
            RELEASE.wait(0.02)
        assert first is not None and beat > first, "the heartbeat did not move while the job ran"
    finally:
        release.touch()
    _wait_until_ended(job.id)
