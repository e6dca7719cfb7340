"""Survival months stored on every tumor: recomputed by the save hook when dates change, and
in bulk (demo data, the CLI, the job) with the same values."""
import datetime as dt

import pytest
from sqlalchemy import select, update

from abstracts import operations as ops
from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.errors import InvalidInput
from registry.jobs import execute
from registry.models import Job, JobStatus, Patient, Tumor
from reports.survival import survival_time
from reports.survival.store import SURVIVAL_ITEMS, derive, end_point_year, recompute_survival

PATIENT = {"name_last": "Survdemo", "name_first": "Ann", "date_of_birth": "19500312", "sex": "2",
           "vital_status": "1", "date_of_last_contact": "20200615"}
TUMOR = {"primary_site": "C504", "histology": "8500", "behavior": "3", "date_of_diagnosis": "20180310",
         "sequence_number_hospital": "01", "type_of_reporting_source": "1"}


def stored(tumor_id: int) -> dict:
    db_session.expire_all()
    tumor = db_session.get(Tumor, tumor_id)
    return {naaccr_id: getattr(tumor, column) for naaccr_id, column in SURVIVAL_ITEMS.items()}


def expected(patient: dict, tumors: list[dict]) -> list[dict]:
    inputs = [{"dateOfDiagnosis": t["date_of_diagnosis"], "typeOfReportingSource": "1",
               "sequenceNumberCentral": t["sequence_number_hospital"],
               "dateOfLastContact": patient["date_of_last_contact"], "dateOfBirth": patient["date_of_birth"],
               "vitalStatus": patient["vital_status"]} for t in tumors]
    return [{k: r[k] for k in SURVIVAL_ITEMS} for r in survival_time(inputs, end_point_year())]


def test_end_point_year_is_the_last_complete_year(app):
    assert app.config["SURVIVAL_END_POINT_YEAR"] == dt.date.today().year - 1 == end_point_year()


def test_save_hook_recomputes_when_dates_change(app, make_user):
    registrar = make_user("registrar")
    patient = ops.create_patient(PATIENT, actor=registrar)
    first = ops.create_tumor(patient.id, TUMOR, actor=registrar)
    values = stored(first.id)
    assert values == expected(PATIENT, [TUMOR])[0]
    assert values["survMosActiveFollowup"] == "0027" and values["survFlagActiveFollowup"] == "1"

    ops.update_tumor(first.id, {"date_of_diagnosis": "20180910"}, actor=registrar)
    assert stored(first.id)["survMosActiveFollowup"] == "0021"

    ops.update_patient(patient.id, {"date_of_last_contact": "20210615"}, actor=registrar)
    assert stored(first.id)["survMosActiveFollowup"] == "0033"

    ops.record_follow_up(patient.id, {"date_of_contact": "20220101", "vital_status": "0"}, actor=registrar)
    after = stored(first.id)
    assert after["survMosActiveFollowup"] == "0039" and after["survDateActiveFollowup"] == "20220101"

    # A second tumor known only to the month is put between the first one's day and the month's end.
    second = ops.create_tumor(patient.id, TUMOR | {"date_of_diagnosis": "201809", "sequence_number_hospital": "02",
                                                   "primary_site": "C341", "histology": "8140"}, actor=registrar)
    both = expected(PATIENT | {"date_of_last_contact": "20220101", "vital_status": "0"},
                    [TUMOR | {"date_of_diagnosis": "20180910"},
                     TUMOR | {"date_of_diagnosis": "201809", "sequence_number_hospital": "02"}])
    assert [stored(first.id), stored(second.id)] == both
    assert stored(second.id)["survDateDxRecode"] == "20180920"
    assert stored(second.id)["survFlagActiveFollowup"] == "3"


def test_derived_values_cannot_be_typed_in(app, make_user):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    with pytest.raises(InvalidInput) as refused:
        ops.create_tumor(patient.id, TUMOR | {"surv_mos_active_followup": "0001"}, actor=SYSTEM)
    assert "surv_mos_active_followup" in refused.value.errors


def test_bulk_recompute_equals_the_per_patient_computation(app, demo):
    columns = list(SURVIVAL_ITEMS.values())
    loaded = {t.id: [getattr(t, c) for c in columns] for t in db_session.scalars(select(Tumor))}
    assert all(values[2] is not None for values in loaded.values())    # months filled by demo loading
    with operation(SYSTEM, "test") as session:
        session.execute(update(Tumor).values({c: None for c in columns}))
    with operation(SYSTEM, "survival_recompute") as session:
        counts = recompute_survival(session)
    assert counts == {"tumors": len(loaded), "changed": len(loaded)}
    db_session.expire_all()
    year = end_point_year()
    for patient in db_session.scalars(select(Patient)):
        tumors = sorted(patient.tumors, key=lambda t: t.id)
        inputs = [{"dateOfDiagnosis": t.date_of_diagnosis, "typeOfReportingSource": t.type_of_reporting_source,
                   "sequenceNumberCentral": t.sequence_number_hospital,
                   "dateOfLastContact": patient.date_of_last_contact, "dateOfBirth": patient.date_of_birth,
                   "vitalStatus": patient.vital_status} for t in tumors]
        for tumor, values in zip(tumors, derive(inputs, year)):
            assert [getattr(tumor, c) for c in columns] == [values[c] for c in columns] == loaded[tumor.id]
    with operation(SYSTEM, "survival_recompute") as session:
        assert recompute_survival(session)["changed"] == 0


def test_recompute_job_and_cli_with_another_end_point(app, demo):
    job = Job(kind="survival-recompute", params={"year": 2015})
    db_session.add(job)
    db_session.commit()
    finished = execute(job.id)
    assert finished.status is JobStatus.FINISHED, finished.messages
    late = db_session.scalars(select(Tumor).where(Tumor.date_of_diagnosis >= "2016")).first()
    db_session.expire_all()
    assert db_session.get(Tumor, late.id).surv_flag_active_followup == "9"   # diagnosed after the end point
    result = app.test_cli_runner().invoke(args=["survival", "recompute"])
    assert result.exit_code == 0, result.output
    assert f"{demo['tumor']} tumors" in result.output and f"end-point year {end_point_year()}" in result.output
    db_session.expire_all()
    assert db_session.get(Tumor, late.id).surv_flag_active_followup in {"0", "1", "2", "3"}
