"""SEER survival months stored on every tumor, recomputed whenever dates change.

Every report must count the same days the same way, so the registry derives the seven
NAACCR survival items [1782–1788] once per tumor with :func:`reports.survival.survival_time`
and stores them. A save hook recomputes all of a patient's tumors inside the saving
transaction (another tumor's diagnosis date, the birth date or the last contact can change
a tumor's imputed dates and months); :func:`recompute_survival` does the same in bulk for
data that arrives without going through the save operations (demo data, imports) and when
the end-point year moves on.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from itertools import groupby
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from abstracts.operations import after_tumor_saved
from registry.models import Patient, Tumor
from reports.survival.months import survival_time

#: NAACCR survival items → Tumor columns.
SURVIVAL_ITEMS = {
    "survDateActiveFollowup": "surv_date_active_followup",
    "survFlagActiveFollowup": "surv_flag_active_followup",
    "survMosActiveFollowup": "surv_mos_active_followup",
    "survDatePresumedAlive": "surv_date_presumed_alive",
    "survFlagPresumedAlive": "surv_flag_presumed_alive",
    "survMosPresumedAlive": "surv_mos_presumed_alive",
    "survDateDxRecode": "surv_date_dx_recode",
}
#: The algorithm's inputs: NAACCR id → (model, column). The hospital sequence number stands
#: in for the central one, which a hospital registry does not assign.
INPUTS = {
    "dateOfDiagnosis": (Tumor, "date_of_diagnosis"),
    "typeOfReportingSource": (Tumor, "type_of_reporting_source"),
    "sequenceNumberCentral": (Tumor, "sequence_number_hospital"),
    "dateOfLastContact": (Patient, "date_of_last_contact"),
    "dateOfBirth": (Patient, "date_of_birth"),
    "vitalStatus": (Patient, "vital_status"),
}
BATCH = 5000


def end_point_year() -> int:
    """The survival cut-off's year (reports.definitions): SURVIVAL_END_POINT_YEAR, by default the last
    complete year."""
    from reports.definitions import survival_cutoff
    return survival_cutoff().end_point_year


def derive(tumors: list[dict[str, Any]], year: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Survival items for one patient's tumors given as {NAACCR id: value}; column → value."""
    results = survival_time(tumors, year, today=today)
    return [{column: result.get(naaccr_id) for naaccr_id, column in SURVIVAL_ITEMS.items()}
            for result in results]


def _inputs(patient: Patient, tumor: Tumor) -> dict[str, Any]:
    source = {Patient: patient, Tumor: tumor}
    return {naaccr_id: getattr(source[model], column) for naaccr_id, (model, column) in INPUTS.items()}


def recompute_patient(session: Session, patient: Patient, year: int | None = None) -> int:
    """Recompute the survival items of every tumor of ``patient``; returns how many changed.

    Written with a plain UPDATE (and set as loaded values on the objects), so a recompute
    does not move a tumor's version: a registrar editing another tumor of the patient must
    not get a conflict for values nobody types. Like the bulk recompute, the derived items
    are not audited one by one; they follow from the audited dates.
    """
    tumors = list(session.scalars(select(Tumor).where(Tumor.patient_id == patient.id).order_by(Tumor.id)))
    derived = derive([_inputs(patient, t) for t in tumors], year or end_point_year())
    table = Tumor.__table__
    changed = 0
    for tumor, values in zip(tumors, derived):
        differs = {column: value for column, value in values.items() if getattr(tumor, column) != value}
        if not differs:
            continue
        session.connection().execute(update(table).where(table.c.id == tumor.id).values(differs))
        for column, value in differs.items():
            set_committed_value(tumor, column, value)
        changed += 1
    return changed


@after_tumor_saved
def _recompute_on_save(session: Session, tumor: Tumor) -> None:
    """Save hook: the saved tumor's dates, or its patient's, may have moved."""
    patient = tumor.patient if tumor.patient is not None else session.get(Patient, tumor.patient_id)
    recompute_patient(session, patient)


def _rows(session: Session, low: int, high: int) -> list[Any]:
    tumor, patient = Tumor.__table__.c, Patient.__table__.c
    columns = [tumor.id, tumor.patient_id]
    columns += [(tumor if model is Tumor else patient)[column].label(naaccr_id)
                for naaccr_id, (model, column) in INPUTS.items()]
    columns += [tumor[column] for column in SURVIVAL_ITEMS.values()]
    stmt = (select(*columns).join(Patient.__table__, patient.id == tumor.patient_id)
            .where(tumor.patient_id.between(low, high)).order_by(tumor.patient_id, tumor.id))
    return list(session.execute(stmt))


def recompute_survival(session: Session, *, year: int | None = None,
                       patient_ids: tuple[int, int] | None = None,
                       progress: Callable[[int, str], None] | None = None,
                       today: dt.date | None = None) -> dict[str, int]:
    """Recompute the survival items of every tumor (or of the patients whose ids lie in
    ``patient_ids``, inclusive) with bulk reads and updates, in the caller's transaction.

    Gives the same values as the save hook. Returns ``{"tumors": n, "changed": m}``.
    """
    year = year or end_point_year()
    table = Tumor.__table__
    bounds = select(func.count(), func.min(table.c.patient_id), func.max(table.c.patient_id))
    if patient_ids is not None:
        bounds = bounds.where(table.c.patient_id.between(*patient_ids))
    total, first, last = session.execute(bounds).one()
    statement = (update(table).where(table.c.id == bindparam("tumor_id"))
                 .values({column: bindparam(f"new_{column}") for column in SURVIVAL_ITEMS.values()}))
    seen = changed = 0
    for low in range(first or 0, (last or -1) + 1, BATCH):
        pending = []
        for _, rows in groupby(_rows(session, low, min(low + BATCH - 1, last)), key=lambda row: row.patient_id):
            rows = list(rows)
            inputs = [{naaccr_id: getattr(row, naaccr_id) for naaccr_id in INPUTS} for row in rows]
            for row, values in zip(rows, derive(inputs, year, today)):
                seen += 1
                if any(getattr(row, column) != value for column, value in values.items()):
                    pending.append({"tumor_id": row.id, **{f"new_{c}": v for c, v in values.items()}})
        if pending:
            session.connection().execute(statement, pending)
            changed += len(pending)
        if progress and total:
            progress(int(seen * 100 / total), f"{seen} of {total} tumors")
    if progress:
        progress(100, f"{seen} tumors, {changed} changed (end-point year {year})")
    return {"tumors": seen, "changed": changed}


def _recompute_job(progress: Callable[[int, str], None], year: int | None = None) -> None:
    """Job kind ``survival-recompute``: bulk recompute, one transaction, one audit event."""
    from registry.audit import SYSTEM, log_event, operation
    with operation(SYSTEM, "survival_recompute") as session:
        counts = recompute_survival(session, year=year, progress=progress)
        log_event(SYSTEM, "survival_recompute", detail=f"end-point year {year or end_point_year()}: {counts}",
                  commit=False)
    return None


def register_jobs() -> None:
    from registry.jobs import job_kind
    job_kind("survival-recompute")(_recompute_job)
