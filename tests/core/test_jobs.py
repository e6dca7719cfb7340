"""Background jobs run in-process without Redis, and through an RQ worker with it."""
import os
import time

import pytest
from sqlalchemy import func, select

from registry.db import db_session
from registry.jobs import enqueue, execute, job_kind
from registry.models import Job, JobStatus, Patient


@job_kind("test-failing")
def _failing(progress, reason: str) -> None:
    progress(40, "about to fail")
    raise ValueError(reason)


def _wait(job_id: int, seconds: float = 30) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db_session.expire_all()
        job = db_session.get(Job, job_id)
        if job.status in (JobStatus.FINISHED, JobStatus.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end within {seconds} s")


def test_in_process_job_runs_with_progress(app, make_user, client, login):
    user = login("admin")
    job = enqueue("demo-data", {"patients": 30, "seed": 2}, user=user)
    done = _wait(job.id)
    assert done.status is JobStatus.FINISHED and done.progress == 100
    assert "30 of 30 patients" in done.messages
    assert db_session.scalar(select(func.count(Patient.id))) == 30
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["status"] == "finished" and status["progress"] == 100
    assert "job-progress" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_failed_job_keeps_its_error_and_writes_nothing(app):
    job = enqueue("test-failing", {"reason": "no such file: x.xml"}, user=None)
    done = _wait(job.id)
    assert done.status is JobStatus.FAILED
    assert "about to fail" in done.messages and "failed: no such file: x.xml" in done.messages


def test_other_users_cannot_see_a_job(app, client, make_user, login):
    owner = make_user("registrar", "owner")
    job = enqueue("test-failing", {"reason": "x"}, user=owner)
    _wait(job.id)
    login("researcher")
    assert client.get(f"/jobs/{job.id}.json").status_code == 403


def test_jobs_go_through_redis_when_configured(app):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown
    from rq import Queue, SimpleWorker
    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisDown:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url}")
    queue = Queue("registry", connection=connection)
    queue.empty()
    app.config["REDIS_URL"] = url
    job = enqueue("demo-data", {"patients": 5, "seed": 1}, user=None)
    assert db_session.get(Job, job.id).status is JobStatus.QUEUED
    assert queue.count == 1
    SimpleWorker([queue], connection=connection).work(burst=True)
    done = _wait(job.id, 5)
    assert done.status is JobStatus.FINISHED
    assert db_session.scalar(select(func.count(Patient.id))) == 5


def test_execute_reports_progress_to_a_terminal_callback(app):
    job = Job(kind="demo-data", params={"patients": 4})
    db_session.add(job)
    db_session.commit()
    seen = []
    finished = execute(job.id, echo=lambda percent, message: seen.append(percent))
    assert finished.status is JobStatus.FINISHED and seen[-1] == 100
