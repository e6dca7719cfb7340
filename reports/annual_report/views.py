"""Administrator page: generate the annual report as a background job and download past reports."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from registry.auth import roles_required
from registry.db import db_session
from registry.jobs import enqueue, job_kind
from registry.models import Job, JobStatus, Role

JOB_KIND = "annual-report"

blueprint = Blueprint("annual_report", __name__, url_prefix="/admin/annual-report", template_folder="templates")


@job_kind(JOB_KIND)
def annual_report_job(progress: Any, year: int, facility: str | None = None, public: bool = False,
                      requested_by: str | None = None) -> str:
    """Job kind ``annual-report``: the PDF goes under JOB_FILES_DIR and stays there for download."""
    from registry.audit import SYSTEM, log_event
    from reports.annual_report.builder import build_report
    folder = Path(current_app.config["JOB_FILES_DIR"])
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    name = f"annual-report-{year}-{facility or 'all'}{'-public' if public else ''}-{stamp}.pdf"
    summary = build_report(year, folder / name, facility=facility, public=public, progress=progress)
    log_event(SYSTEM, "annual_report", detail=f"job for {requested_by or 'unknown'}: year {year}, "
                                              f"facility {facility or 'all'}, {'public' if public else 'internal'}")
    return summary["path"]


def _year_choices() -> list[int]:
    this_year = dt.date.today().year
    return list(range(this_year, this_year - 25, -1))


@blueprint.route("/", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def index() -> str | Response:
    if request.method == "POST":
        try:
            year = int(request.form.get("year", ""))
        except ValueError:
            year = 0
        if year not in _year_choices():
            flash("Year: choose a diagnosis year from the list.", "error")
            return redirect(url_for(".index"))
        facility = request.form.get("facility", "").strip() or None
        if facility and (len(facility) > 10 or not facility.isalnum()):
            flash("Facility: a reporting facility code is at most 10 letters or digits.", "error")
            return redirect(url_for(".index"))
        job = enqueue(JOB_KIND, {"year": year, "facility": facility, "public": bool(request.form.get("public")),
                                 "requested_by": current_user.username}, user=current_user)
        return redirect(url_for("jobs.show", job_id=job.id))
    jobs = db_session.scalars(select(Job).where(Job.kind == JOB_KIND).order_by(Job.id.desc()).limit(200)).all()
    return render_template("annual_report/index.html", years=_year_choices(), default_year=dt.date.today().year - 1,
                           finished=[j for j in jobs if j.status is JobStatus.FINISHED and j.result_file],
                           other=[j for j in jobs if j.status is not JobStatus.FINISHED])
