"""Background jobs: a job table, a Redis queue (RQ) when ``REDIS_URL`` is set, else a child process per job.

A job kind is a plain function registered with :func:`job_kind`; it receives a
:class:`Progress` and its parameters, and returns the path of its result file (or None).
Progress is written through its own short transactions so a page can watch it while the
job's own work is still uncommitted.

Jobs never run in the web process: a hostile or merely huge import could otherwise take its memory
and the site with it. Without Redis, each job runs in a fresh interpreter (``python -m
registry.jobs.child``) that a thread of the web process starts and watches (at most two at once);
a child that dies (out of memory, killed) fails its job with the reason, and the site stays up.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import re
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from registry.db import db_session
from registry.errors import NotAllowed
from registry.models import Job, JobStatus, Role, User
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


#: Who may run a job of each kind again from its page: the roles whose page starts that kind. Kinds not listed
#: (research exports, whose release is decided when they are asked for) are not offered again.
RERUN_ROLES: dict[str, frozenset[Role]] = {
    "naaccr-import": frozenset({Role.ADMIN, Role.REGISTRAR}),
    "naaccr-export": frozenset({Role.ADMIN}),
    "annual-report": frozenset({Role.ADMIN}),
    "staging-rederive": frozenset({Role.ADMIN}),
}
#: Jobs running in this process: alive whatever their heartbeat says (a SQLite job may hold the only write lock).
RUNNING_HERE: set[int] = set()

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
    """Percent and messages of ``job``, from this process while it runs on SQLite; the row's once it has ended
    (the relayed figures stay here until the child process has exited, a moment after it wrote the end)."""
    if job.status in (JobStatus.FINISHED, JobStatus.FAILED):
        return job.progress, job.messages
    return LIVE_PROGRESS.get(job.id, (job.progress, job.messages))


#: An absolute server path (``/srv/registry/jobs/12/upload.xml``): two or more segments after a slash that no word,
#: slash or dot precedes, so codes (``8500/3``), dates and URLs (``https://host/...``) are left alone.
_SERVER_PATH = re.compile(r"(?<![\w/.:])/(?:[\w.@+~-]+/)+([\w.@+~-]+)")


def without_paths(text: str | None) -> str:
    """``text`` with every server file path cut to the file's name: pages show what a job did to which file,
    never where the server keeps its files (a failure's error and a job's messages may name the full path)."""
    return _SERVER_PATH.sub(r"\1", text or "")


def shown_status(job: Job) -> tuple[int, str, str | None]:
    """Percent, messages and failure of ``job`` as pages and the API show them: live, without server paths."""
    progress, messages = live_status(job)
    failure = job.failure
    return progress, without_paths(messages), without_paths(failure) if failure is not None else None


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


def may_rerun(job: Job, user: User) -> bool:
    """Whether ``user`` may run ``job`` again: it has ended, and its kind is one the user's role starts."""
    return (job.status in (JobStatus.FINISHED, JobStatus.FAILED) and user.role in RERUN_ROLES.get(job.kind, ())
            and (job.user_id == user.id or user.role is Role.ADMIN))


def rerun(job: Job, user: User) -> Job:
    """Enqueue the same kind with the same parameters for ``user`` (audited): what a stopped job's page offers.

    A kind that records who asked for it (``user_id``) records the user who asked again.
    """
    from registry.audit import log_event
    if not may_rerun(job, user):
        raise NotAllowed(f"you may not run job {job.id} ({job.kind}) again")
    params = dict(job.params)
    if "user_id" in params:
        params["user_id"] = user.id
    again = enqueue(job.kind, params, user=user)
    log_event(user, "job_rerun", entity="job", entity_id=again.id, detail=f"{job.kind}: again of job {job.id}")
    return again


def fail_stopped_jobs() -> list[int]:
    """Mark failed every running job whose worker stopped (no heartbeat for ``JOB_STALE_SECONDS``), audited.

    A worker killed outright (``kill -9``, a lost machine) cannot record its own end; without this its job
    would show "running" forever. Called when jobs are listed or shown, and by a worker as it starts.
    """
    from registry.audit import SYSTEM, log_event
    limit = float(current_app.config["JOB_STALE_SECONDS"])
    cutoff = utcnow() - dt.timedelta(seconds=limit)
    session = db_session()
    last_sign = func.coalesce(Job.heartbeat_at, Job.started_at, Job.created_at)
    stmt = select(Job.id, last_sign).where(Job.status == JobStatus.RUNNING, last_sign < cutoff)
    if RUNNING_HERE:
        stmt = stmt.where(Job.id.not_in(RUNNING_HERE))
    stopped = []
    for job_id, seen in session.execute(stmt).all():
        line = (f"{FAILED_PREFIX}the worker running it stopped (no sign of life since {seen:%Y-%m-%d %H:%M:%S} UTC, "
                f"limit {limit:g} s); run it again from this page\n")
        marked = session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING)
                                 .values(status=JobStatus.FAILED, finished_at=utcnow(), messages=Job.messages + line))
        if marked.rowcount:
            log_event(SYSTEM, "job_worker_stopped", entity="job", entity_id=job_id, detail=line.strip(), commit=False)
            stopped.append(job_id)
    session.commit()
    return stopped


class Heartbeat:
    """Writes the job's ``heartbeat_at`` every ``JOB_HEARTBEAT_SECONDS`` from a thread of its own while it runs."""

    def __init__(self, job_id: int, engine: Any, seconds: float):
        self.job_id, self._engine, self._seconds = job_id, engine, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-{job_id}-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        RUNNING_HERE.add(self.job_id)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        RUNNING_HERE.discard(self.job_id)

    def _beat(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                with Session(self._engine) as session:
                    session.execute(update(Job).where(Job.id == self.job_id).values(heartbeat_at=utcnow()))
                    session.commit()
            except OperationalError:  # SQLite busy with the job's own writes: the next beat tries again
                continue


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
        _pool().submit(_run_in_child, current_app._get_current_object(), job.id, _KINDS[kind].__module__)
    return job


def _pool() -> ThreadPoolExecutor:
    global _local_pool
    if _local_pool is None:
        _local_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="registry-job")
    return _local_pool


def stop_local_jobs() -> None:
    """Let the jobs this process is watching finish and drop the ones not started (a server or a test
    ending), so no child process is left writing to a database that is being closed or reset."""
    global _local_pool
    if _local_pool is not None:
        _local_pool.shutdown(wait=True, cancel_futures=True)
        _local_pool = None


_SERVING: Flask | None = None


def serve(app: Flask) -> None:
    """The application a worker without one (RQ) runs jobs in; ``create_app`` hands it over, so the job runner
    never imports the application factory (which imports the commands, demo data and jobs back)."""
    global _SERVING
    _SERVING = app


def _child_config(app: Flask) -> dict[str, Any]:
    """The app's configuration for a child process (what cannot be pickled stays behind)."""
    config = {}
    for name, value in app.config.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001 - an object of the running app; the child builds its own
            continue
        config[name] = value
    return config


def _run_in_child(app: Flask, job_id: int, module: str) -> None:
    """Run the job in a child process and watch it: relay its progress, fail the job if the child dies.

    The configuration goes through the child's standard input (never its command line, where ``ps``
    shows it); progress comes back as JSON lines on a pipe of its own.
    """
    with app.app_context():
        receiving, sending = os.pipe()
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry)}
        RUNNING_HERE.add(job_id)
        messages = ""
        try:
            try:
                child = subprocess.Popen([sys.executable, "-m", "registry.jobs.child", str(job_id), module,
                                          str(sending)], stdin=subprocess.PIPE, pass_fds=(sending,), env=environment)
            except OSError:
                os.close(receiving)
                raise
            finally:
                os.close(sending)
            assert child.stdin is not None
            with os.fdopen(receiving, "r", encoding="utf-8") as channel:
                with child.stdin:
                    pickle.dump(_child_config(app), child.stdin)
                for line in channel:
                    percent, message = json.loads(line)
                    if message:
                        messages = (messages + message + "\n")[-20000:]
                    LIVE_PROGRESS[job_id] = (percent, messages)
            code = child.wait()
            if code:
                _fail_abandoned(job_id, f"the process running it stopped (exit code {code}"
                                        f"{', killed: out of memory?' if code < 0 else ''}); run it again from this page",
                                messages)
        except Exception:  # noqa: BLE001 - the watcher must not die silently: the job says what happened
            current_app.logger.error("job %s: its process could not be run\n%s", job_id, traceback.format_exc())
            _fail_abandoned(job_id, "its process could not be started (the server log has the details)", "")
        finally:
            RUNNING_HERE.discard(job_id)
            LIVE_PROGRESS.pop(job_id, None)
            db_session.remove()


def _fail_abandoned(job_id: int, reason: str, relayed: str) -> None:
    """Mark failed, audited, a job its process left queued or running (it ended without recording its end).

    ``relayed`` is the progress it reported (on SQLite only this process has it).
    """
    from registry.audit import SYSTEM, log_event
    line = FAILED_PREFIX + reason + "\n"
    session = db_session()
    marked = session.execute(update(Job).where(Job.id == job_id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
                             .values(status=JobStatus.FAILED, finished_at=utcnow(), messages=relayed + line))
    if marked.rowcount:
        log_event(SYSTEM, "job_worker_stopped", entity="job", entity_id=job_id, detail=line.strip(), commit=False)
        current_app.logger.error("job %s: %s", job_id, reason)
    session.commit()


def execute(job_id: int, echo: Callable[[int, str], None] | None = None) -> Job:
    """Run one job to the end, recording success or the error; used by every kind of worker."""
    if not has_app_context():
        if _SERVING is None:
            raise RuntimeError("no application to run the job in: start workers with 'flask --app wsgi jobs worker'")
        with _SERVING.app_context():
            return execute(job_id, echo)
    engine = current_app.extensions["registry_engine"]
    with Session(engine) as session:
        job = session.get(Job, job_id)
        job.status, job.started_at = JobStatus.RUNNING, utcnow()
        job.heartbeat_at = job.started_at
        session.commit()
        kind, params = job.kind, dict(job.params)
    progress = Progress(job_id, engine, echo)
    try:
        with Heartbeat(job_id, engine, float(current_app.config["JOB_HEARTBEAT_SECONDS"])):
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
    _clean_up_after(job_id)
    return job


def _clean_up_after(job_id: int) -> None:
    """Retention's clean-up after each job, where no web request waits for it; its failure is only logged."""
    from registry.jobs.retention import clean_up
    try:
        clean_up()
    except Exception:  # noqa: BLE001 - the job's outcome is recorded already; the next one tries again
        db_session.rollback()
        current_app.logger.error("clean-up after job %s failed\n%s", job_id, traceback.format_exc())
    finally:
        db_session.remove()
