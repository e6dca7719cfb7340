"""Pages: the administrator's Submissions page (export as a job, download, history, changes) and the import upload."""
from __future__ import annotations

import csv
import uuid
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

import registry.naaccr.importer  # noqa: F401 - registers the naaccr-import job kind
from registry.audit import log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.jobs import enqueue, shown_status
from registry.models import Job, JobStatus, Role, Submission
from registry.naaccr.dictionary import RECORD_TYPES
from reports.submissions import SUBMISSION_VERSIONS, changes_since_last, submissions

blueprint = Blueprint("submissions", __name__)

#: Who may load files into the registry (an import changes identified records).
IMPORT_ROLES = (Role.REGISTRAR, Role.ADMIN)
REPORT_ROWS_SHOWN = 500


@blueprint.route("/admin/submissions", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def submissions_page() -> str | Response:
    if request.method == "POST":
        version = request.form.get("version", "")
        record_type = request.form.get("record_type", "")
        year_text = request.form.get("diagnosis_year", "").strip()
        errors = []
        if version not in SUBMISSION_VERSIONS:
            errors.append(f"NAACCR version must be one of {', '.join(SUBMISSION_VERSIONS)}")
        if record_type not in RECORD_TYPES:
            errors.append(f"record type must be one of {', '.join(RECORD_TYPES)}")
        if year_text and not (year_text.isdigit() and len(year_text) == 4):
            errors.append("diagnosis year must be four digits, e.g. 2025")
        if errors:
            for error in errors:
                flash(error, "error")
        else:
            job = enqueue("naaccr-export", {"version": version, "record_type": record_type,
                                            "diagnosis_year": int(year_text) if year_text else None,
                                            "include_incomplete": request.form.get("include_incomplete") == "1",
                                            "user_id": current_user.id}, user=current_user)
            return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("naaccr/submissions.html", submissions=submissions(), changes=changes_since_last(),
                           versions=SUBMISSION_VERSIONS, record_types=RECORD_TYPES)


@blueprint.route("/admin/submissions/<int:submission_id>")
@roles_required(Role.ADMIN)
def submission_page(submission_id: int) -> str:
    """One submission: what it carried, and each tumor it left out with the reason."""
    submission = db_session.get(Submission, submission_id)
    if submission is None:
        abort(404)
    log_event(current_user, "view_submission", entity="submission", entity_id=submission_id)
    return render_template("naaccr/submission.html", submission=submission)


@blueprint.route("/admin/submissions/<int:submission_id>/download")
@roles_required(Role.ADMIN)
def download(submission_id: int) -> Response:
    submission = db_session.get(Submission, submission_id)
    if submission is None:
        abort(404)
    path = Path(submission.stored_path)
    if not path.is_file():
        flash(f"{submission.file_name} is no longer on the server", "error")
        return redirect(url_for("submissions.submissions_page"))
    log_event(current_user, "naaccr_download", entity="submission", entity_id=submission.id,
              detail=submission.file_name)
    return send_file(path, as_attachment=True, download_name=submission.file_name)


@blueprint.route("/naaccr/import", methods=["GET", "POST"])
@roles_required(*IMPORT_ROLES)
def import_page() -> str | Response:
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("choose a NAACCR XML file (.xml or .xml.gz) to import", "error")
            return render_template("naaccr/import.html")
        folder = Path(current_app.config["JOB_FILES_DIR"]) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        name = secure_filename(upload.filename) or "upload.xml"
        path = folder / f"{uuid.uuid4().hex}-{name}"
        upload.save(path)
        job = enqueue("naaccr-import", {"path": str(path), "file_name": upload.filename,
                                        "dry_run": request.form.get("dry_run") == "1",
                                        "relaxed": request.form.get("relaxed") == "1",
                                        "user_id": current_user.id}, user=current_user)
        return redirect(url_for("submissions.import_status", job_id=job.id))
    return render_template("naaccr/import.html")


@blueprint.route("/naaccr/import/<int:job_id>")
@roles_required(*IMPORT_ROLES)
def import_status(job_id: int) -> str:
    job = db_session.get(Job, job_id)
    if job is None or job.kind != "naaccr-import":
        abort(404)
    if job.user_id != current_user.id and current_user.role is not Role.ADMIN:
        abort(403)
    rows, more = [], False
    if job.status is JobStatus.FINISHED and job.result_file and Path(job.result_file).is_file():
        with open(job.result_file, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                if len(rows) >= REPORT_ROWS_SHOWN:
                    more = True
                    break
                rows.append(row)
    progress, messages, failure = shown_status(job)
    return render_template("naaccr/import_status.html", job=job, rows=rows, more=more, progress=progress,
                           messages=messages, failure=failure)
