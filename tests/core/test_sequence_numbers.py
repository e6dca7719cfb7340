"""Sequence Number--Hospital [560] and --Central [380]: the rules' proposal, applied on every save path with the
audit trail showing a hand-entered number the rules changed, and edit P007 for numbers that disagree."""
import pytest
from sqlalchemy import select

from abstracts import operations as ops
from registry.audit import SYSTEM
from registry.db import db_session
from registry.edits import run_edits
from registry.models import AuditEntry, Tumor
from registry.sequence_numbers import propose

MALIGNANT, IN_SITU, BENIGN, BORDERLINE = "3", "2", "0", "1"

#: (what the case shows, [(behavior, date of diagnosis, number entered)], the numbers proposed), tumors in id order.
CASES = [
    ("the only malignant tumor is 00", [(MALIGNANT, "20200105", None)], ["00"]),
    ("an only in situ tumor is 00 too", [(IN_SITU, "2020", "01")], ["00"]),
    ("several malignant tumors in diagnosis order", [(MALIGNANT, "20210105", None), (MALIGNANT, "20190310", None),
                                                     (IN_SITU, "20200101", None)], ["03", "01", "02"]),
    ("the same day: by id", [(MALIGNANT, "20200105", None), (MALIGNANT, "20200105", None)], ["01", "02"]),
    ("a partial date the known parts cannot order: by id", [(MALIGNANT, "20180910", None),
                                                            (MALIGNANT, "201809", None)], ["01", "02"]),
    ("a partial date the known parts do order", [(MALIGNANT, "20181010", None), (MALIGNANT, "201809", None)],
     ["02", "01"]),
    ("the only non-malignant tumor is 60", [(BENIGN, "20200105", None)], ["60"]),
    ("non-malignant tumors 61, 62 in order, apart from the malignant series",
     [(BORDERLINE, "20220105", None), (MALIGNANT, "20230101", None), (BENIGN, "20200105", None)],
     ["62", "00", "61"]),
    ("unknown date among several malignant: 99", [(MALIGNANT, None, None), (MALIGNANT, "20200105", None),
                                                  (MALIGNANT, "20210105", None)], ["99", "01", "02"]),
    ("unknown date among several non-malignant: 88", [(BENIGN, "20200105", None), (BENIGN, None, None)],
     ["61", "88"]),
    ("an only tumor without a date is still the only one", [(MALIGNANT, None, "99")], ["00"]),
    ("98 (cervix in situ) is kept and not counted", [(IN_SITU, "20200105", "98"), (MALIGNANT, "20210105", "02")],
     ["98", "00"]),
    ("no behavior: no proposal", [(None, "20200105", "05")], [None]),
]


@pytest.mark.parametrize("case, tumors, expected", CASES, ids=[c[0] for c in CASES])
def test_proposal(case, tumors, expected):
    records = [{"behavior": b, "date_of_diagnosis": dx, "sequence_number_hospital": entered}
               for b, dx, entered in tumors]
    assert propose(records) == expected


def test_more_than_59_malignant_tumors_run_out_to_99():
    records = [{"behavior": "3", "date_of_diagnosis": f"{1900 + n}"} for n in range(60)]
    proposed = propose(records)
    assert proposed[0] == "01" and proposed[58] == "59" and proposed[59] == "99"


PATIENT = {"name_last": "Seqdemo", "date_of_birth": "19500312", "sex": "2", "vital_status": "1"}
BREAST = {"primary_site": "C504", "laterality": "1", "histology": "8500", "behavior": "3",
          "date_of_diagnosis": "20230105"}
COLON = {"primary_site": "C187", "laterality": "0", "histology": "8140", "behavior": "3",
         "date_of_diagnosis": "20200610"}
MENINGIOMA = {"primary_site": "C700", "laterality": "0", "histology": "9530", "behavior": "0",
              "date_of_diagnosis": "20190101"}


def _numbers(patient_id):
    db_session.expire_all()
    return [(t.primary_site, t.sequence_number_hospital, t.sequence_number_central) for t in db_session.scalars(
        select(Tumor).where(Tumor.patient_id == patient_id).order_by(Tumor.id))]


def _entries(action):
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_numbers_are_proposed_again_when_a_tumor_is_added_redated_or_removed(app, make_user):
    registrar = make_user("registrar")
    patient = ops.create_patient(PATIENT, actor=registrar)
    breast = ops.create_tumor(patient.id, BREAST, actor=registrar)
    assert _numbers(patient.id) == [("C504", "00", "00")]

    colon = ops.create_tumor(patient.id, COLON, actor=registrar)
    assert _numbers(patient.id) == [("C504", "02", "02"), ("C187", "01", "01")]
    first, moved = [e for e in _entries("create_tumor:sequence_numbers:update") if e.entity_id == str(breast.id)]
    assert first.changes == {"sequence_number_hospital": [None, "00"], "sequence_number_central": [None, "00"]}
    assert moved.changes == {"sequence_number_hospital": ["00", "02"], "sequence_number_central": ["00", "02"]}
    assert moved.username == registrar.username

    ops.create_tumor(patient.id, MENINGIOMA, actor=registrar)
    assert _numbers(patient.id)[2] == ("C700", "60", "60")

    ops.update_tumor(colon.id, {"date_of_diagnosis": "20240101"}, actor=registrar)
    assert _numbers(patient.id)[:2] == [("C504", "01", "01"), ("C187", "02", "02")]
    assert _entries("update_tumor:sequence_numbers:update")

    ops.delete_tumor(colon.id, actor=registrar)
    assert _numbers(patient.id) == [("C504", "00", "00"), ("C700", "60", "60")]
    [deleted] = [e for e in _entries("delete_tumor:delete") if e.entity == "tumor"]
    assert deleted.entity_id == str(colon.id)
    assert [e.entity_id for e in _entries("delete_tumor:sequence_numbers:update")] == [str(breast.id)]


def test_a_hand_entered_number_stands_until_the_tumor_moves_in_the_sequence(app, make_user):
    """A registrar who counts a primary diagnosed elsewhere types 02: the rules do not overwrite it on a save
    that neither adds, re-dates nor changes the behavior of a tumor (P007 warns); a re-date applies the
    rules again, and the audit trail shows both values."""
    registrar = make_user("registrar")
    patient = ops.create_patient(PATIENT, actor=registrar)
    tumor = ops.create_tumor(patient.id, BREAST, actor=registrar)
    ops.save_abstract(patient.id, tumor.id, {}, {"sequence_number_hospital": "02"}, actor=registrar)
    assert _numbers(patient.id) == [("C504", "02", "00")]
    [entered] = [e for e in _entries("save_abstract:update") if e.entity == "tumor"]
    assert entered.changes == {"sequence_number_hospital": ["00", "02"]}
    assert _entries("save_abstract:sequence_numbers:update") == []
    ops.update_tumor(tumor.id, {"laterality": "2"}, actor=registrar)
    assert _numbers(patient.id) == [("C504", "02", "00")]

    ops.update_tumor(tumor.id, {"date_of_diagnosis": "20240201"}, actor=registrar)
    assert _numbers(patient.id) == [("C504", "00", "00")]
    [applied] = _entries("update_tumor:sequence_numbers:update")
    assert applied.changes == {"sequence_number_hospital": ["02", "00"]}


def test_apply_sequence_numbers_is_an_operation_of_its_own(app, make_user):
    registrar = make_user("registrar")
    patient = ops.create_patient(PATIENT, actor=registrar)
    tumor = ops.create_tumor(patient.id, BREAST, actor=registrar)
    assert ops.apply_sequence_numbers(patient.id, actor=registrar) == []
    from registry.audit import operation
    with operation(SYSTEM, "test"):
        db_session.get(Tumor, tumor.id).sequence_number_hospital = "07"
    assert [t.id for t in ops.apply_sequence_numbers(patient.id, actor=registrar)] == [tumor.id]
    [entry] = _entries("apply_sequence_numbers:sequence_numbers:update")
    assert entry.changes == {"sequence_number_hospital": ["07", "00"]}


def _p007(tumors):
    base = {"primary_site": "C504", "histology": "8500", "laterality": "1"}
    return [f for f in run_edits({"sex": "2"}, [base | t for t in tumors]) if f.edit_id == "P007"]


def test_edit_p007_flags_numbers_that_disagree_with_the_rules():
    agree = [{"behavior": "3", "date_of_diagnosis": "20200105", "sequence_number_hospital": "01"},
             {"behavior": "3", "date_of_diagnosis": "20210105", "sequence_number_hospital": "02",
              "laterality": "2"}]
    assert _p007(agree) == []
    swapped = [agree[0] | {"sequence_number_hospital": "02"}, agree[1] | {"sequence_number_hospital": "01"}]
    assert sorted(f.tumor_index for f in _p007(swapped)) == [0, 1]
    assert "Sequence Number--Hospital [560] 02" in _p007(swapped)[0].message
    central = [agree[0] | {"sequence_number_central": "05"}, agree[1]]
    [failure] = _p007(central)
    assert failure.tumor_index == 0 and failure.severity == "warning"
    same_day = [agree[0] | {"sequence_number_hospital": "02"},
                agree[1] | {"sequence_number_hospital": "01", "date_of_diagnosis": "20200105"}]
    assert _p007(same_day) == []
    assert _p007([agree[0] | {"sequence_number_hospital": None}, agree[1]]) == []  # blank: a save fills it
