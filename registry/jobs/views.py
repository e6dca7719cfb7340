"""Job pages: a list, a page with a live progress bar, its JSON status and the result download."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from registry.audit import log_event
from registry.db import db_session
from registry.jobs import fail_stopped_jobs, may_rerun, offered_result, rerun, shown_status, without_paths
from registry.models import Job, JobStatus, Role

blueprint = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="../templates")


def _visible(job_id: int) -> Job:
    job = db_session.get(Job, job_id)
    if job is None:
        abort(404)
    if job.user_id != current_user.id and current_user.role is not Role.ADMIN:
        abort(403)
    return job


@blueprint.route("/")
@login_required
def list_jobs() -> str:
    fail_stopped_jobs()
    stmt = select(Job).order_by(Job.id.desc()).limit(100)
    if current_user.role is not Role.ADMIN:
        stmt = stmt.where(Job.user_id == current_user.id)
    jobs = db_session.scalars(stmt).all()
    retry = {job.id for job in jobs if job.status is JobStatus.FAILED and current_user.role is Role.ADMIN
             and may_rerun(job, current_user)}
    return render_template("jobs/list.html", jobs=jobs, retry=retry)


@blueprint.route("/<int:job_id>")
@login_required
def show(job_id: int) -> str:
    fail_stopped_jobs()
    job = _visible(job_id)
    progress, messages, failure = shown_status(job)
    return render_template("jobs/show.html", job=job, may_rerun=may_rerun(job, current_user), progress=progress,
                           messages=messages, failure=failure)


@blueprint.route("/<int:job_id>/rerun", methods=["POST"])
@login_required
def rerun_job(job_id: int) -> Response:
    """Run an ended job again (audited by :func:`rerun`): from its page, or Retry on a failed job in the list."""
    job = _visible(job_id)
    if not may_rerun(job, current_user):
        abort(403)
    again = rerun(job, current_user)
    if request.form.get("from") == "list":
        flash(f"Job {job.id} ({job.kind}) is running again as job {again.id}.", "info")
        return redirect(url_for("jobs.list_jobs"))
    return redirect(url_for("jobs.show", job_id=again.id))


@blueprint.route("/<int:job_id>.json")
@login_required
def status(job_id: int) -> Response:
    fail_stopped_jobs()
    job = _visible(job_id)
    progress, messages, failure = shown_status(job)
    return jsonify(id=job.id, kind=job.kind, status=job.status.value, progress=progress,
                   messages=messages, has_result=offered_result(job) is not None, failure=failure)


@blueprint.app_template_global("job_result")
def job_result(job: Job) -> bool:
    """Whether a job page may offer the result link (any page that shows a job uses this)."""
    return offered_result(job) is not None


@blueprint.route("/<int:job_id>/result")
@login_required
def result(job_id: int) -> Response | tuple[str, int]:
    job = _visible(job_id)
    path = offered_result(job)
    if path is None:
        return render_template("error.html", title="No result", message=_why_no_result(job)), 404
    log_event(current_user, "job_result_download", entity="job", entity_id=job.id, detail=f"{job.kind}: {path.name}")
    return send_file(path, as_attachment=True)


def _why_no_result(job: Job) -> str:
    if job.status is JobStatus.FAILED:
        return f"Job {job.id} failed, so it has no result to download: {without_paths(job.failure)}"
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return f"Job {job.id} has not finished yet ({job.status.value}); its result can be downloaded once it has."
    if not job.result_file:
        return f"Job {job.id} finished without a result file."
    if job.files_deleted_at is not None:
        return (f"The result file of job {job.id} was deleted on {job.files_deleted_at:%Y-%m-%d}: job files are kept "
                f"{current_app.config['JOB_FILE_RETENTION_DAYS']:g} days.")
    return f"The result file of job {job.id} is no longer on the server."
