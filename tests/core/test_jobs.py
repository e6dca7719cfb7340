"""Background jobs run in-process without Redis, and through an RQ worker with it."""
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

import reports.submissions  # noqa: F401 - registers the naaccr-export job kind
from registry.db import db_session
from registry.jobs import enqueue, execute, job_kind
from registry.models import Job, JobStatus, Patient
from tests.jobs import ended as _wait


@job_kind("test-failing")
def _failing(progress, reason: str) -> None:
    progress(40, "about to fail")
    raise ValueError(reason)


@job_kind("test-failing-silently")
def _failing_silently(progress) -> None:
    raise KeyError()


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


def _job(app, status: JobStatus, *, user_id: int | None, result: str | None = "result.csv",
         messages: str = "") -> Job:
    """A job row in ``status`` whose result file (when named) exists in the job files folder."""
    files = Path(app.config["JOB_FILES_DIR"])
    files.mkdir(parents=True, exist_ok=True)
    if result:
        (files / result).write_text("a,b\n1,2\n")
    job = Job(kind="naaccr-export", params={}, user_id=user_id, status=status, messages=messages,
              result_file=str(files / result) if result else None)
    db_session.add(job)
    db_session.commit()
    return job


def test_failed_submission_page_says_why_and_offers_no_result(app, no_reference_tables, client, login):
    """With no dictionary installed the export fails: its page says so and offers nothing."""
    login("admin")
    page = client.get("/admin/submissions").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    created = client.post("/admin/submissions", data={"version": "250", "record_type": "A", "csrf_token": token})
    job_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert _wait(job_id).status is JobStatus.FAILED
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Download the result" not in page and f"/jobs/{job_id}/result" not in page
    assert "This job failed, so it has no result to download. Reason: " in page
    assert "the NAACCR 250 base dictionary is not installed" in page
    assert "reference install naaccr-dictionary naaccr-dictionary-250.xml" in page
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["has_result"] is False
    assert status["failure"].startswith("the NAACCR 250 base dictionary is not installed")
    answer = client.get(f"/jobs/{job_id}/result")
    assert answer.status_code == 404
    assert f"Job {job_id} failed, so it has no result to download: the NAACCR 250" in answer.get_data(as_text=True)


def test_a_failed_job_never_offers_a_file_even_if_one_is_recorded(app, client, login):
    user = login("admin")
    job = _job(app, JobStatus.FAILED, user_id=user.id, messages="half written\nfailed: the disk is full\n")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Download the result" not in page and "Reason: <span id=\"job-failure-reason\">the disk is full" in page
    assert client.get(f"/jobs/{job.id}.json").get_json()["has_result"] is False
    answer = client.get(f"/jobs/{job.id}/result")
    assert answer.status_code == 404 and "failed, so it has no result to download: the disk is full" in answer.get_data(
        as_text=True)


def test_a_finished_job_offers_its_result(app, client, login):
    user = login("admin")
    job = _job(app, JobStatus.FINISHED, user_id=user.id)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Download the result" in page and 'id="job-failure" class="flash error" role="alert" hidden' in page
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert (status["status"], status["has_result"], status["failure"]) == ("finished", True, None)
    download = client.get(f"/jobs/{job.id}/result")
    assert download.status_code == 200 and download.get_data(as_text=True) == "a,b\n1,2\n"


@pytest.mark.parametrize("status, result, words", [
    (JobStatus.RUNNING, "result.csv", "has not finished yet (running)"),
    (JobStatus.FINISHED, None, "finished without a result file"),
])
def test_result_route_says_why_there_is_nothing(app, client, login, status, result, words):
    user = login("admin")
    job = _job(app, status, user_id=user.id, result=result)
    answer = client.get(f"/jobs/{job.id}/result")
    assert answer.status_code == 404 and words in answer.get_data(as_text=True)


def test_a_removed_result_file_is_not_offered(app, client, login):
    user = login("admin")
    job = _job(app, JobStatus.FINISHED, user_id=user.id)
    Path(job.result_file).unlink()
    assert "Download the result" not in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    answer = client.get(f"/jobs/{job.id}/result")
    assert answer.status_code == 404 and "no longer on the server" in answer.get_data(as_text=True)


def test_an_error_without_words_is_still_explained(app):
    done = _wait(enqueue("test-failing-silently", {}, user=None).id)
    assert done.failure == "an unexpected KeyError (the server log has the details)"


def test_an_ended_job_shows_its_rows_progress_not_the_last_figures_relayed(app):
    """The watcher keeps the child's last relayed figures until the child has exited, a moment after the child
    wrote the end: a job read then is finished at 100%, not finished at its last relayed 50%."""
    from registry.jobs import LIVE_PROGRESS, live_status
    job = Job(kind="naaccr-export", params={}, status=JobStatus.FINISHED, progress=100, messages="done\n")
    db_session.add(job)
    db_session.commit()
    LIVE_PROGRESS[job.id] = (50, "halfway\n")
    try:
        assert live_status(job) == (100, "done\n")
        job.status = JobStatus.RUNNING
        assert live_status(job) == (50, "halfway\n"), "while it runs, the relayed figures are the newest"
    finally:
        LIVE_PROGRESS.pop(job.id, None)
