"""Operations validate, write one transaction, audit field by field and refuse stale saves."""
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError

from abstracts import operations as ops
from registry.audit import SYSTEM, AuditLogIsAppendOnly, Actor
from registry.db import db_session
from registry.errors import Conflict, InvalidInput, NotAllowed
from registry.models import AuditEntry, Patient, Tumor, WorkflowState
from tests.completion import completable

PATIENT = {"name_last": "Alderdemo", "name_first": "Mary", "date_of_birth": "19500312", "sex": "2",
           "race1": "01", "spanish_hispanic_origin": "0", "vital_status": "1"}
TUMOR = {"primary_site": "C504", "laterality": "1", "histology": "8500", "behavior": "3",
         "date_of_diagnosis": "20230105", "sequence_number_hospital": "00", "class_of_case": "14",
         "diagnostic_confirmation": "1", "summary_stage_2018": "1",
         "treatment": {"surgery_of_primary_site": "22", "date_of_surgery": "20230201"}}


def _count(model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def _audit(entity: str, action: str) -> list[AuditEntry]:
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.entity == entity,
                                                            AuditEntry.action == action).order_by(AuditEntry.id)))


def test_update_records_before_and_after_in_the_audit_log(app, make_user):
    registrar = make_user("registrar")
    patient = ops.create_patient(PATIENT, actor=registrar)
    assert patient.patient_id_number == "00000001"
    ops.update_patient(patient.id, {"name_last": "Birchdemo", "vital_status": "0", "cause_of_death": "C509"},
                       actor=registrar, expected_version=1)
    [entry] = _audit("patient", "update_patient:update")
    assert entry.username == registrar.username and entry.user_id == registrar.id
    assert entry.patient_id == patient.id and entry.entity_version == 2
    assert entry.changes == {"name_last": ["Alderdemo", "Birchdemo"], "vital_status": ["1", "0"],
                             "cause_of_death": [None, "C509"]}
    [created] = _audit("patient", "create_patient:create")
    assert created.changes["date_of_birth"] == [None, "19500312"]


def test_bad_value_names_the_field_and_writes_nothing(app):
    audit_rows = _count(AuditEntry)
    with pytest.raises(InvalidInput) as error:
        ops.create_patient(PATIENT | {"sex": "7", "date_of_birth": "19501301"}, actor=SYSTEM)
    assert set(error.value.errors) == {"sex", "date_of_birth"}
    assert "sex: '7' is not a valid code for Sex [220]" in str(error.value)
    assert _count(Patient) == 0 and _count(AuditEntry) == audit_rows


def test_unknown_field_and_wrong_type_are_refused(app):
    with pytest.raises(InvalidInput, match="favourite_colour: unknown field"):
        ops.create_patient({"favourite_colour": "blue"}, actor=SYSTEM)
    with pytest.raises(InvalidInput, match="sex: must be text"):
        ops.create_patient({"sex": ["1"]}, actor=SYSTEM)


def test_tumor_with_bad_treatment_is_not_half_written(app):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    before = _count(AuditEntry)
    with pytest.raises(InvalidInput, match="treatment: chemotherapy"):
        ops.create_tumor(patient.id, TUMOR | {"treatment": {"chemotherapy": "05"}}, actor=SYSTEM)
    assert _count(Tumor) == 0 and _count(AuditEntry) == before


def test_failure_inside_the_transaction_rolls_everything_back(app):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    with pytest.raises(InvalidInput, match="patient_id_number: 00000001 is already used"):
        ops.create_patient(PATIENT | {"patient_id_number": patient.patient_id_number}, actor=SYSTEM)
    assert _count(Patient) == 1


def test_second_save_of_the_same_version_is_a_conflict_showing_what_changed(app, make_user):
    first, second = make_user("registrar", "first"), make_user("registrar", "second")
    patient = ops.create_patient(PATIENT, actor=first)
    tumor = ops.create_tumor(patient.id, TUMOR, actor=first)
    opened = tumor.version  # 2 when the installed EOD algorithm stored the derived stage after the insert
    ops.update_tumor(tumor.id, {"summary_stage_2018": "3"}, actor=first, expected_version=opened)
    with pytest.raises(Conflict) as conflict:
        ops.update_tumor(tumor.id, {"laterality": "2"}, actor=second, expected_version=opened)
    assert conflict.value.current_version == opened + 1
    assert conflict.value.changed == {"summary_stage_2018": ["1", "3"]}
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).laterality == "1"


def test_a_treatment_created_with_its_tumor_is_in_the_tumors_creation_entry(app):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, TUMOR, actor=SYSTEM)
    [entry] = _audit("tumor", "create_tumor:create")
    assert entry.entity_id == str(tumor.id) and entry.patient_id == patient.id and entry.entity_version == 1
    assert entry.changes["primary_site"] == [None, "C504"]
    assert entry.changes["surgery_of_primary_site"] == [None, "22"] and entry.changes["date_of_surgery"] == \
        [None, "20230201"]
    assert "tumor_id" not in entry.changes
    assert _audit("first_course_treatment", "create_tumor:create") == []


def test_treatment_change_moves_the_tumor_version_and_is_audited(app):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, TUMOR, actor=SYSTEM)
    opened = tumor.version
    ops.update_tumor(tumor.id, {"treatment": {"chemotherapy": "03", "date_of_chemotherapy": "20230301"}},
                     actor=SYSTEM, expected_version=opened)
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).version == opened + 1
    [entry] = _audit("first_course_treatment", "update_tumor:update")
    assert entry.changes["chemotherapy"] == [None, "03"] and entry.patient_id == patient.id
    with pytest.raises(Conflict) as conflict:
        ops.update_tumor(tumor.id, {"behavior": "2"}, actor=SYSTEM, expected_version=opened)
    assert conflict.value.changed["chemotherapy"] == [None, "03"]


def test_workflow_moves_by_role(app, make_user):
    registrar, reviewer = make_user("registrar"), make_user("reviewer")
    patient_data, tumor_data = completable(PATIENT, TUMOR)
    patient = ops.create_patient(patient_data, actor=registrar)
    tumor = ops.create_tumor(patient.id, tumor_data, actor=registrar)
    ops.set_workflow_state(tumor.id, "complete", actor=registrar)
    with pytest.raises(NotAllowed, match="a registrar cannot move an abstract to reviewed"):
        ops.set_workflow_state(tumor.id, "reviewed", actor=registrar)
    ops.set_workflow_state(tumor.id, "in_progress", actor=reviewer, comment="grade missing")
    with pytest.raises(NotAllowed, match="cannot go from in_progress to reviewed"):
        ops.set_workflow_state(tumor.id, "reviewed", actor=reviewer)
    db_session.expire_all()
    stored = db_session.get(Tumor, tumor.id)
    assert stored.workflow_state is WorkflowState.IN_PROGRESS and stored.workflow_comment == "grade missing"


def test_follow_up_moves_last_contact_only_forward(app):
    patient = ops.create_patient(PATIENT | {"date_of_last_contact": "20230601"}, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, TUMOR, actor=SYSTEM)
    ops.record_follow_up(patient.id, {"date_of_contact": "202201", "vital_status": "1"}, actor=SYSTEM)
    db_session.expire_all()
    assert db_session.get(Patient, patient.id).date_of_last_contact == "20230601"
    contact = ops.record_follow_up(patient.id, {"date_of_contact": "20240710", "vital_status": "0",
                                                "follow_up_source": "7"}, actor=SYSTEM,
                                   cancer_status={tumor.id: "2"})
    db_session.expire_all()
    stored = db_session.get(Patient, patient.id)
    assert (stored.date_of_last_contact, stored.vital_status) == ("20240710", "0")
    assert [s.cancer_status for s in contact.tumor_statuses] == ["2"]
    with pytest.raises(InvalidInput, match=r"tumor C50\.4 8500/3 right, diagnosed 2023-01-05, sequence 00: cancer_status"):
        ops.record_follow_up(patient.id, {"date_of_contact": "20240801"}, actor=SYSTEM, cancer_status={tumor.id: "5"})


def test_changes_outside_an_operation_are_refused(app):
    db_session.add(Patient(patient_id_number="00000099"))
    with pytest.raises(RuntimeError, match="outside an operation"):
        db_session.flush()
    db_session.rollback()


def test_audit_log_cannot_be_changed(app, backend):
    ops.create_patient(PATIENT, actor=Actor(None, "someone"))
    newest = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)
    entry = db_session.scalars(newest).one()
    entry.detail = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db_session.execute(update(AuditEntry).values(username="nobody"))
    db_session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db_session.execute(text("DELETE FROM audit_entry"))
    db_session.rollback()
    assert db_session.scalar(newest).username == "someone"


def test_derived_items_cannot_be_entered(app):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    with pytest.raises(InvalidInput, match="derived_summary_stage_2018: is derived by the registry"):
        ops.create_tumor(patient.id, TUMOR | {"derived_summary_stage_2018": "1"}, actor=SYSTEM)
    with pytest.raises(InvalidInput, match="surv_mos_active_followup: is derived"):
        ops.create_tumor(patient.id, TUMOR | {"surv_mos_active_followup": "0012"}, actor=SYSTEM)


def test_hooks_run_inside_the_save_and_a_failing_hook_rolls_it_back(app):
    seen = []

    def remember(session, tumor):
        seen.append((tumor.id, tumor.patient.date_of_last_contact))

    def refuse(session, tumor):
        if tumor.laterality == "2":
            raise InvalidInput({"laterality": "refused by hook"})

    ops.TUMOR_SAVED.extend([remember, refuse])
    try:
        patient = ops.create_patient(PATIENT, actor=SYSTEM)
        tumor = ops.create_tumor(patient.id, TUMOR, actor=SYSTEM)
        ops.record_follow_up(patient.id, {"date_of_contact": "20240101", "vital_status": "1"}, actor=SYSTEM)
        assert seen == [(tumor.id, None), (tumor.id, "20240101")]
        with pytest.raises(InvalidInput, match="refused by hook"):
            ops.update_tumor(tumor.id, {"laterality": "2"}, actor=SYSTEM)
        db_session.expire_all()
        assert db_session.get(Tumor, tumor.id).laterality == "1"
    finally:
        ops.TUMOR_SAVED.remove(remember)
        ops.TUMOR_SAVED.remove(refuse)


def test_records_are_described_as_registrars_know_them():
    """Issue 20.12: messages name a tumor by site, morphology, side, diagnosis date and sequence, a patient by
    name and medical record number, never by database id."""
    tumor = Tumor(primary_site="C504", histology="8500", behavior="3", laterality="1",
                  date_of_diagnosis="20250314", sequence_number_hospital="00")
    assert tumor.described == "C50.4 8500/3 right, diagnosed 2025-03-14, sequence 00"
    assert Tumor(primary_site="C619", histology="8140", behavior="3", laterality="0",
                 date_of_diagnosis="2024").described == "C61.9 8140/3, diagnosed 2024"
    assert Tumor().described == "site ? histology ?, diagnosis date blank"
    patient = Patient(name_last="Doe", name_first="Jane", medical_record_number="M12345", patient_id_number="00000017")
    assert patient.described == "Doe, Jane (MRN M12345)"
    assert Patient(name_last="Roe", patient_id_number="00000017").described == "Roe (Patient ID 00000017)"


def test_operation_messages_never_name_database_ids(app, make_user):
    registrar, other = make_user("registrar"), make_user("registrar", "other")
    patient = ops.create_patient(PATIENT | {"medical_record_number": "M777"}, actor=registrar)
    tumor = ops.create_tumor(patient.id, TUMOR, actor=registrar)
    opened = tumor.version
    ops.update_tumor(tumor.id, {"summary_stage_2018": "3"}, actor=registrar, expected_version=opened)
    with pytest.raises(Conflict) as conflict:
        ops.update_tumor(tumor.id, {"laterality": "2"}, actor=other, expected_version=opened)
    assert "tumor C50.4 8500/3 right, diagnosed 2023-01-05, sequence 00 was changed" in str(conflict.value)
    with pytest.raises(Conflict) as conflict:
        ops.save_abstract(patient.id, tumor.id, {}, {"laterality": "2"}, actor=other, patient_version=1,
                          tumor_version=opened)
    assert "tumor C50.4 8500/3 right" in str(conflict.value)
    with pytest.raises(NotAllowed) as refused:
        ops.set_workflow_state(tumor.id, "reviewed", actor=registrar)
    assert str(refused.value).startswith("tumor C50.4 8500/3 right, diagnosed 2023-01-05, sequence 00 cannot go")
    stranger = ops.create_patient(PATIENT | {"name_last": "Elmdemo"}, actor=registrar)
    with pytest.raises(InvalidInput) as wrong:
        ops.record_follow_up(stranger.id, {"date_of_contact": "20240801"}, actor=registrar,
                             cancer_status={tumor.id: "1"})
    assert "not tumors of patient Elmdemo, Mary (Patient ID 00000002)" in str(wrong.value)
    for message in (str(conflict.value), str(refused.value), str(wrong.value)):
        assert f"tumor {tumor.id}" not in message and f"patient {patient.id}" not in message
