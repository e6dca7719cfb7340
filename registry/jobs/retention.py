"""Job files do not outlive their retention: uploads and reports hold PHI, so they go after ``JOB_FILE_RETENTION_DAYS``.

Every file a job was given (an uploaded import) or made (its report) is deleted once the job ended
that many days ago; the job row stays, with ``files_deleted_at`` set, and an audit entry names the
files. Result files that belong to a record with a lifetime of its own are left to it: a NAACCR
submission (kept with its checksum in the submission history) and a research release (deleted by
``research purge`` after ``RESEARCH_FILE_DAYS``). Uploads no job row names (a request that failed
after saving its file) are deleted by age. The same clean-up forgets sign-in throttle rows of
addresses that have not failed for longer than the throttle remembers. It runs after every job,
and from ``flask --app wsgi jobs clean-up`` (for cron, where jobs are rare).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, or_, select

from registry.audit import SYSTEM, Actor, log_event
from registry.db import db_session
from registry.models import Job, JobStatus, LoginThrottle
from registry.models.patient import utcnow

#: Kinds whose result file belongs to a record with its own lifetime (their uploads, if any, still go).
RESULT_KEPT_BY_ITS_RECORD = frozenset({"naaccr-export", "research-export"})
#: Where uploads wait for their import job.
UPLOADS = "imports"


@dataclass
class CleanUp:
    """What one clean-up did."""

    jobs: list[int] = field(default_factory=list)
    files: int = 0
    orphans: int = 0
    throttle_rows: int = 0

    def summary(self) -> str:
        return (f"{self.files} files of {len(self.jobs)} jobs past their retention deleted, {self.orphans} uploads "
                f"no job names deleted, {self.throttle_rows} sign-in throttle rows forgotten")


def _inside(folder: Path, name: str | None) -> Path | None:
    """``name`` as a path when it lies inside ``folder`` (nothing outside the job files is ever deleted)."""
    if not name:
        return None
    path = Path(name).resolve()
    return path if path.is_relative_to(folder) else None


def _job_files(job: Job, folder: Path) -> list[Path]:
    names = [job.params.get("path") if isinstance(job.params, dict) else None]
    if job.kind not in RESULT_KEPT_BY_ITS_RECORD:
        names.append(job.result_file)
    return [path for path in (_inside(folder, name) for name in names) if path is not None]


def clean_up(now: dt.datetime | None = None, actor: Actor = SYSTEM) -> CleanUp:
    """Delete the files of jobs past their retention and forget stale throttle rows; each job one transaction."""
    from registry.auth.operations import ADDRESS_FORGETS_AFTER
    now = now or utcnow()
    days = float(current_app.config.get("JOB_FILE_RETENTION_DAYS", 30))
    cutoff = now - dt.timedelta(days=days)
    folder = Path(current_app.config["JOB_FILES_DIR"]).resolve()
    done = CleanUp()
    session = db_session()
    ended = select(Job).where(Job.status.in_([JobStatus.FINISHED, JobStatus.FAILED]), Job.files_deleted_at.is_(None),
                              Job.finished_at < cutoff).order_by(Job.id)
    for job in session.scalars(ended).all():
        deleted = []
        for path in _job_files(job, folder):
            if path.is_file():
                path.unlink()
                deleted.append(path.name)
        job.files_deleted_at = now
        log_event(actor, "job_files_deleted", entity="job", entity_id=job.id, commit=False,
                  detail=f"{job.kind}, ended {job.finished_at:%Y-%m-%d}, retention {days:g} days: "
                         + (", ".join(deleted) or "no files left"))
        session.commit()
        done.jobs.append(job.id)
        done.files += len(deleted)
    done.orphans = _orphan_uploads(folder / UPLOADS, cutoff, actor)
    forgotten = session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - ADDRESS_FORGETS_AFTER,
        or_(LoginThrottle.held_until.is_(None), LoginThrottle.held_until < now)))
    done.throttle_rows = forgotten.rowcount or 0
    session.commit()
    if done.jobs or done.orphans or done.throttle_rows:
        current_app.logger.info("clean-up: %s", done.summary())
    return done


def _orphan_uploads(uploads: Path, cutoff: dt.datetime, actor: Actor) -> int:
    """Delete uploads older than the cutoff that no job still keeping its files names."""
    if not uploads.is_dir():
        return 0
    waiting = select(Job.params).where(Job.files_deleted_at.is_(None))
    wanted = {Path(params["path"]).resolve() for params in db_session.scalars(waiting)
              if isinstance(params, dict) and params.get("path")}
    oldest = cutoff.timestamp() if cutoff.tzinfo else time.mktime(cutoff.timetuple())
    gone = []
    for path in uploads.iterdir():
        if path.is_file() and path.resolve() not in wanted and path.stat().st_mtime < oldest:
            path.unlink()
            gone.append(path.name)
    if gone:
        log_event(actor, "job_files_deleted", detail=f"{len(gone)} uploads no job names, older than the retention: "
                                                     + ", ".join(gone)[:1900])
    return len(gone)
