"""Follow-up work: the due and delinquent lists, the CoC follow-up rates and letters to physicians (PDF)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from abstracts.codes import describe, morphology_term
from abstracts.queries import FOLLOW_UP_DELINQUENT_MONTHS, _months_ago, count, follow_up_statement, page_of
from registry.audit import log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.facility import current_facility
from registry.models import PHI_ROLES, Patient, Tumor

blueprint = Blueprint("followup", __name__, template_folder="templates")

ANALYTIC_CLASSES = frozenset(f"{n:02d}" for n in range(0, 23))
#: States that mean "resides outside the US and Canada" (NAACCR [80]); foreign residents are excluded.
FOREIGN_STATES = frozenset({"XX", "YY"})
#: CoC exclusions from the follow-up rate, each (reason, test on a case row) — rules as data.
EXCLUSIONS: tuple[tuple[str, object], ...] = (
    ("non-analytic (class of case 30 or above)", lambda c: c.class_of_case not in ANALYTIC_CLASSES),
    ("in situ cervix", lambda c: (c.primary_site or "").startswith("C53") and c.behavior == "2"),
    ("benign or borderline", lambda c: c.behavior in {"0", "1"}),
    ("localized basal or squamous cell skin", lambda c: (c.primary_site or "").startswith("C44")
     and "8050" <= (c.histology or "") <= "8110" and c.summary_stage in {"0", "1"}),
    ("foreign resident", lambda c: c.addr_at_dx_state in FOREIGN_STATES),
    ("over 100 years old", lambda c: c.age is not None and c.age > 100),
)
TARGETS = {"all": 0.80, "recent": 0.90}


@dataclass
class Rate:
    label: str
    eligible: int
    current: int
    target: float

    @property
    def rate(self) -> float | None:
        return self.current / self.eligible if self.eligible else None

    @property
    def meets(self) -> bool:
        return self.rate is not None and self.rate >= self.target


@dataclass
class _Case:
    class_of_case: str | None
    primary_site: str | None
    behavior: str | None
    histology: str | None
    summary_stage: str | None
    addr_at_dx_state: str | None
    age: int | None
    year: int | None
    vital_status: str | None
    last_contact: str | None


def follow_up_rates(today: dt.date | None = None, reference_year: int = 2008) -> tuple[list[Rate], dict[str, int]]:
    """CoC follow-up rates: analytic cases diagnosed since the reference date (target 80 %) and in the last
    five years (target 90 %) that are dead or were contacted within 15 months; with the exclusions counted."""
    today = today or dt.date.today()
    cutoff = _months_ago(today, FOLLOW_UP_DELINQUENT_MONTHS)
    rows = db_session.execute(
        select(Tumor.class_of_case, Tumor.primary_site, Tumor.behavior, Tumor.histology, Tumor.summary_stage,
               Patient.addr_at_dx_state, Patient.date_of_birth, Tumor.date_of_diagnosis,
               Patient.vital_status, Patient.date_of_last_contact).join(Patient, Patient.id == Tumor.patient_id))
    excluded = dict.fromkeys((reason for reason, _ in EXCLUSIONS), 0)
    counts = {"all": [0, 0], "recent": [0, 0]}
    for row in rows:
        year = int(row.date_of_diagnosis[:4]) if row.date_of_diagnosis else None
        age = today.year - int(row.date_of_birth[:4]) if row.date_of_birth else None
        case = _Case(row.class_of_case, row.primary_site, row.behavior, row.histology, row.summary_stage,
                     row.addr_at_dx_state, age, year, row.vital_status,
                     row.date_of_last_contact)
        if year is None or year < reference_year:
            continue
        reason = next((reason for reason, test in EXCLUSIONS if test(case)), None)
        if reason:
            excluded[reason] += 1
            continue
        current = case.vital_status == "0" or (case.last_contact or "") >= cutoff
        for key, applies in (("all", True), ("recent", year >= today.year - 5)):
            if applies:
                counts[key][0] += 1
                counts[key][1] += current
    rates = [Rate(f"All analytic cases since {reference_year}", *counts["all"], TARGETS["all"]),
             Rate(f"Analytic cases diagnosed {today.year - 5}-{today.year}", *counts["recent"], TARGETS["recent"])]
    return rates, excluded


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
    rates, excluded = follow_up_rates(reference_year=request.args.get("reference_year", 2008, type=int))
    return render_template("abstracts/follow_up_worklist.html", kind=kind, rows=page_of(stmt, page, per_page),
                           total=total, page=page, pages=max((total + per_page - 1) // per_page, 1),
                           counts={k: count(follow_up_statement(k)) for k in ("due", "delinquent")},
                           rates=rates, excluded=excluded)


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
