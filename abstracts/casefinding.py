"""Casefinding suspense: potential cases entered with minimal data, later abstracted or ruled out.

Suspense cases are not abstracts, so each change is written to the audit trail as an event.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from abstracts.operations import clean
from registry.audit import Actor, log_event, operation
from registry.dates import date_problem
from registry.errors import InvalidInput, NotAllowed, NotFound
from registry.models import FirstCourseTreatment, Patient, SuspenseCase, SuspenseStatus, Tumor, User
from registry.models.patient import utcnow

#: Where potential cases come from, in registrars' words.
SOURCES = {
    "pathology": "Pathology report",
    "epath_hl7": "Electronic pathology report (HL7 v2)",
    "epath_fhir": "FHIR report or bundle",
    "disease_index": "Disease index",
    "radiology": "Radiology report",
    "oncology_clinic": "Oncology / radiation clinic",
    "physician": "Physician office",
    "death_certificate": "Death certificate",
    "other": "Other",
}
FIELDS = ("name_last", "name_first", "date_of_birth", "medical_record_number", "primary_site", "date_found",
          "source", "note")


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    values = {key: (str(data.get(key) or "").strip() or None) for key in FIELDS}
    unknown = set(data) - set(FIELDS)
    errors = {key: "unknown field for a suspense case" for key in unknown}
    if not (values["name_last"] or values["medical_record_number"]):
        errors["name_last"] = "give a last name or a medical record number"
    for key in ("date_of_birth", "date_found"):
        if values[key]:
            problem = date_problem(values[key])
            if problem:
                errors[key] = problem
    if values["primary_site"]:
        values["primary_site"] = values["primary_site"].replace(".", "").upper()
        if not re.fullmatch(r"C[0-9]{3}", values["primary_site"]):
            errors["primary_site"] = f"'{values['primary_site']}' is not an ICD-O-3 topography code (C000-C809)"
    if values["source"] not in SOURCES:
        errors["source"] = f"choose one of {', '.join(SOURCES)}"
    if errors:
        raise InvalidInput(errors)
    return values


def add_suspense_case(data: dict[str, Any], *, actor: Actor | User) -> SuspenseCase:
    values = _validated(data)
    with operation(actor, "add_suspense_case") as session:
        who = actor.id if isinstance(actor, User) else actor.user_id
        case = SuspenseCase(created_by_id=who, **values)
        session.add(case)
        session.flush()
        log_event(actor, "add_suspense_case", entity="suspense_case", entity_id=case.id,
                  detail=f"source {case.source}, site {case.primary_site or '-'}", commit=False)
    return case


def _open_case(session: Any, case_id: int) -> SuspenseCase:
    case = session.get(SuspenseCase, case_id)
    if case is None:
        raise NotFound(f"suspense case {case_id} does not exist")
    if case.status is not SuspenseStatus.OPEN:
        raise NotAllowed(f"suspense case {case_id} is already {case.status.value.replace('_', ' ')}")
    return case


def abstract_suspense_case(case_id: int, *, actor: Actor | User) -> Tumor:
    """Start an abstract from a suspense case: the patient with the same medical record number, or a new
    patient from the case's data, gets a new tumor in progress with the case's site. A case re-opened by a
    corrected report that still has its abstract gives that abstract back to review, never a second tumor."""
    with operation(actor, "abstract_suspense_case") as session:
        case = _open_case(session, case_id)
        existing = session.get(Tumor, case.tumor_id) if case.tumor_id else None
        if existing is not None:
            who = actor.id if isinstance(actor, User) else actor.user_id
            log_event(actor, "abstract_suspense_case", entity="suspense_case", entity_id=case.id,
                      patient_id=existing.patient_id, detail=(f"abstract of {existing.described} reviewed after: "
                                                              f"{case.reason or 'a corrected report'}")[:2000],
                      commit=False)
            case.status, case.reason, case.resolved_by_id, case.resolved_at = (SuspenseStatus.ABSTRACTED, None, who,
                                                                               utcnow())
            return existing
        patient = session.get(Patient, case.patient_id) if case.patient_id else None
        if patient is None and case.medical_record_number:
            patient = session.scalar(select(Patient).where(Patient.medical_record_number == case.medical_record_number))
        if patient is None:
            from abstracts.operations import _next_patient_id_number
            values = clean(Patient, {"name_last": case.name_last, "name_first": case.name_first,
                                     "date_of_birth": case.date_of_birth,
                                     "medical_record_number": case.medical_record_number})
            patient = Patient(patient_id_number=_next_patient_id_number(session), **values)
            session.add(patient)
            session.flush()
        who = actor.id if isinstance(actor, User) else actor.user_id
        prefilled, provenance = suggested_tumor_values(session, case)
        tumor = Tumor(patient_id=patient.id, abstracted_by_id=who, abstracted_at=utcnow(),
                      **({"primary_site": case.primary_site} | prefilled))
        tumor.treatment = FirstCourseTreatment()
        session.add(tumor)
        session.flush()
        case.status, case.patient_id, case.tumor_id = SuspenseStatus.ABSTRACTED, patient.id, tumor.id
        case.resolved_by_id, case.resolved_at = who, utcnow()
        log_event(actor, "abstract_suspense_case", entity="suspense_case", entity_id=case.id,
                  patient_id=patient.id, detail=(f"abstract of {tumor.described}" + (f"; pre-filled from casefinding: "
                                                                         f"{'; '.join(provenance)}" if provenance
                                                                         else ""))[:2000], commit=False)
    return tumor


#: Suggested items → tumor fields they pre-fill (histology/behavior splits in two).
PREFILL = {"site": ("primary_site",), "histology": ("histology", "behavior"), "laterality": ("laterality",),
           "grade": ("grade_pathological",), "date_of_diagnosis": ("date_of_diagnosis",),
           "diagnostic_confirmation": ("diagnostic_confirmation",)}


def suggested_tumor_values(session: Any, case: SuspenseCase) -> tuple[dict[str, str], list[str]]:
    """Tumor values suggested by the case's current reportable reports (newest first wins), each valid for
    its item, and where each came from."""
    from registry.models import CasefindingReport
    reports = session.scalars(select(CasefindingReport).where(
        CasefindingReport.suspense_case_id == case.id, CasefindingReport.superseded_by_id.is_(None),
        CasefindingReport.reportable.is_(True)).order_by(CasefindingReport.id.desc())).all()
    values: dict[str, str] = {}
    provenance: list[str] = []
    for report in reports:
        for suggestion in report.suggestions:
            fields = PREFILL.get(suggestion["item"], ())
            if not fields or fields[0] in values:
                continue
            parts = suggestion["code"].split("/") if suggestion["item"] == "histology" else [suggestion["code"]]
            candidate = dict(zip(fields, parts))
            try:
                candidate = clean(Tumor, candidate)
            except InvalidInput:
                continue
            values.update(candidate)
            provenance.append(f"{suggestion['item']} {suggestion['code']} from report {report.id} "
                              f"({suggestion['source']}: {suggestion['detail']})")
    return values, provenance


def mark_not_reportable(case_id: int, reason: str, *, actor: Actor | User) -> SuspenseCase:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": "say why the case is not reportable"})
    with operation(actor, "suspense_not_reportable") as session:
        case = _open_case(session, case_id)
        who = actor.id if isinstance(actor, User) else actor.user_id
        case.status, case.reason, case.resolved_by_id, case.resolved_at = (SuspenseStatus.NOT_REPORTABLE, reason,
                                                                           who, utcnow())
        log_event(actor, "suspense_not_reportable", entity="suspense_case", entity_id=case.id, detail=reason[:500],
                  commit=False)
    return case
