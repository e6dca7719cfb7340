"""The abstract printout: one tumor's abstract as a PDF laid out like a paper abstract.

Every section of the item catalogue in the registrar's order, each item that holds a value (and each item
the completion table requires, blank or not) with its code and the code's label; the text documentation
in full. Served from the abstract page and over the API (``GET /api/v1/tumors/<id>/abstract.pdf``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from abstracts import api
from abstracts.api import api_route
from abstracts.codes import describe, morphology_term, system_for
from registry.audit import log_event
from registry.auth import roles_required
from registry.catalogue import CatalogueItem, catalogue
from registry.dates import display_date
from registry.db import db_session
from registry.models import PHI_ROLES, Patient, Tumor

blueprint = Blueprint("printout", __name__, template_folder="templates")


@dataclass(frozen=True)
class PrintedItem:
    label: str
    code: str
    term: str
    required: bool
    text: bool


def item_value(item: CatalogueItem, patient: Patient, tumor: Tumor) -> str:
    """The value an item holds for this patient and tumor, wherever the catalogue stores it."""
    if item.column is not None:
        holder: Any = {"patient": patient, "tumor": tumor, "treatment": tumor.treatment}[item.record]
        value = getattr(holder, item.column.attribute, None) if holder is not None else None
    elif item.store == "site_specific_items":
        value = (tumor.site_specific_items or {}).get(item.naaccr_id)
    elif item.level == "Patient":
        value = (patient.extra_items or {}).get(item.naaccr_id)
    else:
        value = (tumor.extra_items or {}).get(item.naaccr_id)
    return str(value).strip() if value is not None else ""


def _term(item: CatalogueItem, value: str, tumor: Tumor) -> str:
    if not value:
        return ""
    if item.column is not None:
        if item.column.attribute == "histology":
            return morphology_term(value, tumor.behavior)
        system = system_for(item.column)
        if system:
            return describe(system, value)
    if item.data_type == "date" or (item.column is not None and item.column.kind == "date"):
        return display_date(value)
    return catalogue().term(item.naaccr_id, value)


def printed_sections(patient: Patient, tumor: Tumor) -> list[tuple[str, list[tuple[str, list[PrintedItem]]]]]:
    """``[(section title, [(group, items)])]`` of what the printout shows."""
    cat = catalogue()
    year = int(tumor.date_of_diagnosis[:4]) if (tumor.date_of_diagnosis or "")[:4].isdigit() else None
    analytic = (tumor.class_of_case or "") in {f"{n:02d}" for n in range(0, 23)}
    required = {item.naaccr_id for item, _ in cat.required(year, analytic)}
    sections = []
    for _key, title, groups in cat.sections():
        shown_groups = []
        for group, items in groups:
            shown = []
            for item in items:
                value = item_value(item, patient, tumor)
                if value or item.naaccr_id in required:
                    shown.append(PrintedItem(item.label, value, _term(item, value, tumor),
                                             item.naaccr_id in required, item.text_documentation))
            if shown:
                shown_groups.append((group, shown))
        sections.append((title, shown_groups))
    return sections


def abstract_pdf(patient: Patient, tumor: Tumor) -> bytes:
    from weasyprint import HTML
    html = render_template("abstracts/printout.html", patient=patient, tumor=tumor,
                           sections=printed_sections(patient, tumor), printed=dt.datetime.now().astimezone())
    return HTML(string=html).write_pdf()


def _pdf_response(tumor: Tumor, user: Any) -> Response:
    patient = tumor.patient
    log_event(user, "print_abstract", entity="tumor", entity_id=tumor.id, patient_id=patient.id)
    name = f"abstract-{patient.patient_id_number}-{tumor.sequence_number_hospital or tumor.id}.pdf"
    return Response(abstract_pdf(patient, tumor), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@blueprint.route("/patients/<int:patient_id>/tumors/<int:tumor_id>/abstract.pdf")
@roles_required(*PHI_ROLES)
def printout(patient_id: int, tumor_id: int) -> Response:
    tumor = db_session.get(Tumor, tumor_id)
    if tumor is None or tumor.patient_id != patient_id:
        abort(404)
    return _pdf_response(tumor, current_user)


@api_route("/tumors/<int:tumor_id>/abstract.pdf", phi_only=True)
def tumor_printout(tumor_id: int) -> Response:
    """The abstract printout of one tumor (PDF)."""
    from flask import g

    from abstracts.api import ApiError
    tumor = db_session.get(Tumor, tumor_id)
    if tumor is None:
        raise ApiError(404, "not_found", f"no tumor {tumor_id}")
    return _pdf_response(tumor, g.api_user)


api.describe(("/tumors/{tumor_id}/abstract.pdf", "get", "The abstract printout (PDF, every section with codes, their "
          "labels and the text documentation)", None, "PDF"))
