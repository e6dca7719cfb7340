"""Background jobs: a job table, a Redis queue (RQ) when ``REDIS_URL`` is set, else an in-process worker.

A job kind is a plain function registered with :func:`job_kind`; it receives a
:class:`Progress` and its parameters, and returns the path of its result file (or None).
Progress is written through its own short transactions so a page can watch it while the
job's own work is still uncommitted.
"""
from __future__ import annotations

import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from registry.db import db_session
from registry.models import Job, JobStatus, User
from registry.models.job import FAILED_PREFIX
from registry.models.patient import utcnow

JobFunction = Callable[..., str | None]
_KINDS: dict[str, JobFunction] = {}
_local_pool: ThreadPoolExecutor | None = None


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn`` as the function that runs jobs of kind ``name``."""
    def register(fn: JobFunction) -> JobFunction:
        _KINDS[name] = fn
        return fn
    return register


#: Progress of jobs running in this process, for SQLite, whose single writer is busy with the job itself.
LIVE_PROGRESS: dict[int, tuple[int, str]] = {}


class Progress:
    """What a running job reports: percent done and messages, visible at once to pages and the CLI.

    On a server database each report is its own short transaction; on SQLite the job's own
    transaction holds the only write lock, so reports stay in this process until the job ends.
    """

    def __init__(self, job_id: int, engine: Any, echo: Callable[[int, str], None] | None = None):
        self.job_id = job_id
        self._engine = engine
        self._echo = echo
        self._in_memory = engine.dialect.name == "sqlite"
        self.messages = ""

    def __call__(self, percent: int, message: str | None = None) -> None:
        percent = max(0, min(100, int(percent)))
        if message:
            self.messages = (self.messages + message + "\n")[-20000:]
        if self._in_memory:
            LIVE_PROGRESS[self.job_id] = (percent, self.messages)
        else:
            with Session(self._engine) as session:
                job = session.get(Job, self.job_id)
                job.progress, job.messages = percent, self.messages
                session.commit()
        if self._echo:
            self._echo(percent, message or "")


def live_status(job: Job) -> tuple[int, str]:
    """Percent and messages of ``job``, from this process while it runs on SQLite."""
    return LIVE_PROGRESS.get(job.id, (job.progress, job.messages))


def failure_reason(error: BaseException) -> str:
    """What stopped a job, on one line: the error's own words, or its kind when it has none."""
    words = " ".join(str(error).split())
    return words or f"an unexpected {type(error).__name__} (the server log has the details)"


def offered_result(job: Job) -> Path | None:
    """The file a job offers for download: only a finished job's, inside the job files folder, still there."""
    if job.status is not JobStatus.FINISHED or not job.result_file:
        return None
    path = Path(job.result_file).resolve()
    if not path.is_relative_to(Path(current_app.config["JOB_FILES_DIR"]).resolve()) or not path.is_file():
        return None
    return path


def enqueue(kind: str, params: dict[str, Any], *, user: User | None) -> Job:
    """Create the job row and hand it to Redis, or to this process's worker threads."""
    if kind not in _KINDS:
        raise KeyError(f"no job kind named '{kind}'")
    session = db_session()
    job = Job(kind=kind, params=params, user_id=user.id if user else None)
    session.add(job)
    session.commit()
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from redis import Redis
        from rq import Queue
        Queue("registry", connection=Redis.from_url(redis_url)).enqueue("registry.jobs.execute", job.id,
                                                                        job_timeout=6 * 3600)
    else:
        _pool().submit(_execute_in_app, current_app._get_current_object(), job.id)
    return job


def _pool() -> ThreadPoolExecutor:
    global _local_pool
    if _local_pool is None:
        _local_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="registry-job")
    return _local_pool


def _execute_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        execute(job_id)


def execute(job_id: int, echo: Callable[[int, str], None] | None = None) -> Job:
    """Run one job to the end, recording success or the error; used by every kind of worker."""
    if not has_app_context():
        from registry.app import create_app
        with create_app().app_context():
            return execute(job_id, echo)
    engine = current_app.extensions["registry_engine"]
    with Session(engine) as session:
        job = session.get(Job, job_id)
        job.status, job.started_at = JobStatus.RUNNING, utcnow()
        session.commit()
        kind, params = job.kind, dict(job.params)
    progress = Progress(job_id, engine, echo)
    try:
        result = _KINDS[kind](progress, **params)
        status, message = JobStatus.FINISHED, None
    except Exception as exc:  # the job's error is its result; the worker must go on
        db_session.rollback()
        result, status = None, JobStatus.FAILED
        message = FAILED_PREFIX + failure_reason(exc)
        current_app.logger.error("job %s failed\n%s", job_id, traceback.format_exc())
    finally:
        db_session.remove()
    with Session(engine) as session:
        job = session.get(Job, job_id)
        job.status, job.finished_at, job.result_file = status, utcnow(), result
        if status is JobStatus.FINISHED:
            job.progress = 100
        elif job_id in LIVE_PROGRESS:
            job.progress = LIVE_PROGRESS[job_id][0]
        job.messages = progress.messages + (message + "\n" if message else "")
        session.commit()
        LIVE_PROGRESS.pop(job_id, None)
        session.refresh(job)
        session.expunge(job)
    return job
