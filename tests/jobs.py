"""Waiting for a background job in tests: jobs run in a process of their own, as on a server without Redis."""
import time

from registry.db import db_session
from registry.models import Job, JobStatus


def ended(job_id: int, seconds: float = 120) -> Job:
    """The job once it has finished or failed; fails the test if it has not ended within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db_session.expire_all()
        job = db_session.get(Job, job_id)
        if job.status in (JobStatus.FINISHED, JobStatus.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end within {seconds} s")
