"""Read-only queries the pages, API and reports share."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from registry.db import db_session
from registry.models import Patient, Tumor, WorkflowState


@dataclass(frozen=True)
class PatientSearch:
    name: str = ""
    date_of_birth: str = ""
    medical_record_number: str = ""
    patient_id_number: str = ""
    ssn_last4: str = ""

    def statement(self) -> Select:
        stmt = select(Patient)
        if self.name.strip():
            last, _, first = (part.strip() for part in self.name.partition(","))
            if not first and " " in last:
                first, _, last = last.rpartition(" ")
                first, last = first.strip(), last.strip()
            stmt = stmt.where(func.lower(Patient.name_last).startswith(last.lower(), autoescape=True))
            if first:
                stmt = stmt.where(func.lower(Patient.name_first).startswith(first.lower(), autoescape=True))
        if self.date_of_birth.strip():
            stmt = stmt.where(Patient.date_of_birth == self.date_of_birth.strip().replace("-", ""))
        if self.medical_record_number.strip():
            stmt = stmt.where(Patient.medical_record_number == self.medical_record_number.strip())
        if self.patient_id_number.strip():
            stmt = stmt.where(Patient.patient_id_number == self.patient_id_number.strip().zfill(8))
        if self.ssn_last4.strip():
            stmt = stmt.where(Patient.social_security_number.endswith(self.ssn_last4.strip(), autoescape=True))
        return stmt


def search_patients(criteria: PatientSearch, *, page: int = 1, per_page: int = 50) -> tuple[list[Patient], int]:
    """One page of matching patients (by name, then id) and the total number of matches."""
    stmt = criteria.statement()
    total = db_session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db_session.scalars(stmt.order_by(Patient.name_last, Patient.name_first, Patient.id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), int(total or 0)


def workflow_counts() -> dict[str, int]:
    """Number of abstracts in each workflow state."""
    counts = dict(db_session.execute(select(Tumor.workflow_state, func.count()).group_by(Tumor.workflow_state)).all())
    return {state.value: int(counts.get(state, 0)) for state in WorkflowState}


def registry_totals() -> dict[str, int]:
    return {
        "patients": int(db_session.scalar(select(func.count(Patient.id))) or 0),
        "tumors": int(db_session.scalar(select(func.count(Tumor.id))) or 0),
        "deceased": int(db_session.scalar(select(func.count(Patient.id)).where(Patient.vital_status == "0")) or 0),
    }


def tumor_counts_by_patient(patient_ids: list[int]) -> dict[int, int]:
    if not patient_ids:
        return {}
    rows = db_session.execute(select(Tumor.patient_id, func.count()).where(Tumor.patient_id.in_(patient_ids))
                              .group_by(Tumor.patient_id))
    return {pid: int(n) for pid, n in rows}


