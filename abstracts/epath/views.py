"""Casefinding pages: upload report files (a job), a suspense case's reports with the screening keywords
highlighted and the suggested codes, the source document, and a search of every report received."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from abstracts.casefinding import SOURCES
from abstracts.epath.intake import IntakeResult, take_in
from registry.audit import Actor, log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.jobs import enqueue, job_kind
from registry.models import PHI_ROLES, CasefindingReport, Role, SuspenseCase, User
from registry.reads import note_shown

blueprint = Blueprint("casefinding", __name__, url_prefix="/casefinding", template_folder="templates")
IMPORT_ROLES = (Role.REGISTRAR, Role.ADMIN)
UPLOAD_SUFFIXES = {".hl7", ".txt", ".json", ".xml", ".er7"}
REPORTS_PER_PAGE = 50


def highlighted(text: str, screening: dict) -> Markup:
    """The report text with each keyword the screener found marked by group (cancelled positives struck)."""
    cancelled = set(screening.get("cancelled", []))
    marks = sorted(((k["start"], k["end"], k["group"], i in cancelled) for i, k in enumerate(screening["keywords"])),
                   key=lambda m: (m[0], -m[1]))
    out, cursor = [], 0
    for start, end, group, is_cancelled in marks:
        if start < cursor:
            continue  # nested or overlapping: the outer (first, longest) mark shows it
        css = f"kw kw-{group.lower()}" + (" kw-cancelled" if is_cancelled else "")
        out.append(escape(text[cursor:start]))
        out.append(Markup(f'<mark class="{css}" title="{escape(group)}">') + escape(text[start:end + 1])
                   + Markup("</mark>"))
        cursor = end + 1
    out.append(escape(text[cursor:]))
    return Markup("").join(out)


@blueprint.route("/import", methods=["GET", "POST"])
@roles_required(*IMPORT_ROLES)
def import_page() -> str | Response:
    if request.method == "POST":
        uploads = [u for u in request.files.getlist("files") if u and u.filename]
        if not uploads:
            flash("choose one or more HL7 v2 (.hl7, .txt) or FHIR (.json, .xml) files", "error")
            return render_template("casefinding/import.html"), 422
        folder = Path(current_app.config["JOB_FILES_DIR"]) / "casefinding"
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for upload in uploads:
            name = secure_filename(upload.filename) or "upload.hl7"
            if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
                flash(f"{upload.filename}: not a .hl7, .txt, .json or .xml file; nothing was taken in", "error")
                return render_template("casefinding/import.html"), 422
            path = folder / f"{uuid.uuid4().hex}-{name}"
            upload.save(path)
            files.append({"path": str(path), "name": upload.filename})
        job = enqueue("casefinding-import", {"files": files, "user_id": current_user.id}, user=current_user)
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("casefinding/import.html")


@job_kind("casefinding-import")
def import_job(progress: Callable[[int, str], None], files: list[dict[str, str]], user_id: int | None = None) -> str:
    """Job kind ``casefinding-import``: the result is a JSON report of what was taken in and refused."""
    user = db_session.get(User, user_id) if user_id else None
    actor = user or Actor(None, "casefinding-import")
    total = IntakeResult()
    for number, file in enumerate(files, 1):
        def step(percent: int, message: str, number: int = number) -> None:
            progress(int(((number - 1) + percent / 100) * 100 / len(files)), f"{file['name']}: {message}")
        try:
            result = take_in(Path(file["path"]).read_bytes(), actor=actor, source=file["name"], progress=step)
        except Exception as exc:  # one unreadable file must not stop the others
            total.refused.append((file["name"], str(exc)))
            progress(int(number * 100 / len(files)), f"{file['name']}: refused: {exc}")
            continue
        total.taken += result.taken
        total.refused += result.refused
        for label, reason in result.refused:
            progress(int(number * 100 / len(files)), f"refused: {label}: {reason}")
    report = Path(files[0]["path"]).with_name(Path(files[0]["path"]).stem + "-casefinding.json")
    report.write_text(json.dumps(total.as_json(), indent=1), encoding="utf-8")
    progress(100, total.summary())
    return str(report)


@blueprint.route("/cases/<int:case_id>")
@roles_required(*PHI_ROLES)
def case(case_id: int) -> str:
    suspense = db_session.get(SuspenseCase, case_id)
    if suspense is None:
        abort(404)
    reports = list(db_session.scalars(select(CasefindingReport).where(CasefindingReport.suspense_case_id == case_id)
                                      .order_by(CasefindingReport.id)))
    note_shown([suspense, *reports])
    return render_template("casefinding/case.html", case=suspense, reports=reports, highlighted=highlighted,
                           sources=SOURCES)


@blueprint.route("/reports/<int:report_id>/document")
@roles_required(*PHI_ROLES)
def document(report_id: int) -> Response:
    report = db_session.get(CasefindingReport, report_id)
    if report is None:
        abort(404)
    log_event(current_user, "casefinding_document_read", entity="casefinding_report", entity_id=report.id,
              patient_id=report.patient_id, detail=report.received_from[:200])
    text = report.document.replace("\r", "\n") if report.format == "hl7v2" else report.document
    return Response(text, mimetype="text/plain", headers={"Content-Disposition": "inline"})


@blueprint.route("/reports")
@roles_required(*PHI_ROLES)
def reports() -> str:
    """Every report received, reportable or not, searchable by words of the text, accession or name."""
    query = request.args.get("q", "").strip()[:100]
    which = request.args.get("reportable", "")
    stmt = select(CasefindingReport).order_by(CasefindingReport.id.desc())
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.join(SuspenseCase, SuspenseCase.id == CasefindingReport.suspense_case_id).where(or_(
            func.lower(CasefindingReport.report_text).like(like), func.lower(CasefindingReport.accession).like(like),
            func.lower(SuspenseCase.name_last).like(like)))
    if which in {"yes", "no"}:
        stmt = stmt.where(CasefindingReport.reportable.is_(which == "yes"))
    rows = list(db_session.scalars(stmt.limit(REPORTS_PER_PAGE)))
    note_shown(rows)
    cases = {c.id: c for c in db_session.scalars(select(SuspenseCase).where(
        SuspenseCase.id.in_({r.suspense_case_id for r in rows})))}
    return render_template("casefinding/reports.html", rows=rows, cases=cases, query=query, which=which,
                           limit=REPORTS_PER_PAGE)
