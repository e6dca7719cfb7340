"""Follow-up work: the due and delinquent lists, the CoC follow-up rates and letters to physicians (PDF)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from abstracts.codes import describe, morphology_term
from abstracts.queries import count, follow_up_statement, page_of
from registry.audit import log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.facility import current_facility
from registry.models import PHI_ROLES, Patient

blueprint = Blueprint("followup", __name__, template_folder="templates")


def follow_up_rates(today: dt.date | None = None) -> dict:
    """The CoC follow-up rates of the annual report (reports.annual_report.queries.follow_up), as of
    ``today``: one query and one definition of the diagnosis years for the page and the PDF."""
    from reports.annual_report.queries import Scope, follow_up
    from reports.definitions import follow_up_window
    window = follow_up_window(today or dt.date.today())
    return follow_up(Scope(window.last_year, None, window.as_of))


@blueprint.route("/follow-up")
@roles_required(*PHI_ROLES)
def worklist() -> str:
    kind = request.args.get("list", "due")
    if kind not in {"due", "delinquent"}:
        abort(404)
    per_page = current_app.config["PATIENTS_PER_PAGE"]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = follow_up_statement(kind).order_by(Patient.date_of_last_contact, Patient.id)
    total = count(stmt)
    rates = follow_up_rates()
    return render_template("abstracts/follow_up_worklist.html", kind=kind, rows=page_of(stmt, page, per_page),
                           total=total, page=page, pages=max((total + per_page - 1) // per_page, 1),
                           counts={k: count(follow_up_statement(k)) for k in ("due", "delinquent")},
                           rates=rates)


def _letters_pdf(patients: list[Patient]) -> bytes:
    from weasyprint import HTML
    html = render_template("abstracts/follow_up_letter.html", patients=patients, today=dt.date.today(),
                           describe=describe, morphology_term=morphology_term, facility=current_facility())
    return HTML(string=html, base_url=request.host_url).write_pdf()


@blueprint.route("/follow-up/letters/<int:patient_id>.pdf")
@roles_required(*PHI_ROLES)
def letter(patient_id: int) -> Response:
    patient = db_session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    log_event(current_user, "follow_up_letter", entity="patient", entity_id=patient_id, patient_id=patient_id)
    return Response(_letters_pdf([patient]), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="follow-up-{patient.patient_id_number}.pdf"'})


@blueprint.route("/follow-up/letters.pdf")
@roles_required(*PHI_ROLES)
def letters() -> Response:
    """One letter per patient on a page of the worklist (at most 100 per file)."""
    kind = request.args.get("list", "due")
    if kind not in {"due", "delinquent"}:
        abort(404)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    patients = page_of(follow_up_statement(kind).order_by(Patient.date_of_last_contact, Patient.id), page, 100)
    log_event(current_user, "follow_up_letters", detail=f"{kind} page {page}: {len(patients)} letters")
    return Response(_letters_pdf(patients), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="follow-up-{kind}-{page}.pdf"'})
