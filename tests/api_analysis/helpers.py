"""What the API tests of analysis share: waiting for a job, and the audit entries of an action."""
from __future__ import annotations

import time

from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry, Job, JobStatus


def wait(job_id: int, seconds: float = 120) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db_session.expire_all()
        job = db_session.get(Job, job_id)
        if job.status in (JobStatus.FINISHED, JobStatus.FAILED):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end within {seconds} s")


def audited(action: str) -> list[AuditEntry]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
