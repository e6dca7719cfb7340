"""Pages: the home page (work counts) and the patient list with search and paging."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from abstracts.queries import (PatientSearch, registry_totals, search_patients, tumor_counts_by_patient,
                               workflow_counts)
from registry.audit import log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.models import PHI_ROLES, Patient

blueprint = Blueprint("abstracts", __name__, template_folder="templates")


@blueprint.route("/")
@login_required
def home() -> str:
    return render_template("abstracts/home.html", workflow=workflow_counts(), totals=registry_totals())


@blueprint.route("/patients")
@roles_required(*PHI_ROLES)
def patients() -> str:
    criteria = PatientSearch(**{field: request.args.get(field, "")[:80] for field in PatientSearch.__dataclass_fields__})
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = current_app.config["PATIENTS_PER_PAGE"]
    rows, total = search_patients(criteria, page=page, per_page=per_page)
    pages = max((total + per_page - 1) // per_page, 1)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("abstracts/patients.html", rows=rows, total=total, page=page, pages=pages,
                           criteria=criteria, query=query,
                           tumor_counts=tumor_counts_by_patient([p.id for p in rows]))


@blueprint.route("/patients/<int:patient_id>")
@roles_required(*PHI_ROLES)
def patient(patient_id: int) -> str:
    record = db_session.get(Patient, patient_id)
    if record is None:
        abort(404)
    log_event(current_user, "view_patient", entity="patient", entity_id=patient_id, patient_id=patient_id)
    return render_template("abstracts/patient.html", patient=record)
