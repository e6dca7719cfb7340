"""An incoming tumor the import's keys miss is compared with the patient's stored tumors by the multiple-primary rules.

The same primary as exactly one stored tumor is matched and updated; a doubtful answer is imported as a
new tumor and listed in the report for a registrar; a dry run reports the same without writing.
"""
from __future__ import annotations

import csv

import pytest
from sqlalchemy import func, select

from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import Tumor
from registry.naaccr.importer import import_file
from registry.naaccr.primaries import REVIEW, SAME_PRIMARY, PrimaryDecision, earlier_diagnosis
from registry.naaccr.records import installed_dictionaries
from tests.naaccr_io.test_import_rules import HEAD, _patient

PERSON = {"nameLast": "Breastdemo", "nameFirst": "Ann", "dateOfBirth": "19600412", "sex": "2"}
RIGHT_BREAST = {"primarySite": "C504", "laterality": "1", "histologicTypeIcdO3": "8500", "behaviorCodeIcdO3": "3",
                "dateOfDiagnosis": "20240105", "sequenceNumberHospital": "00", "tumorRecordNumber": "01"}
#: reported again later in the same year, with another tumor record number and sequence number
LATER = {"dateOfDiagnosis": "20240610", "sequenceNumberHospital": "01", "tumorRecordNumber": "02"}


def _file(tmp_path, name: str, tumors: list[dict[str, str]]):
    path = tmp_path / name
    path.write_text(HEAD + _patient("00000501", tumors, **PERSON) + "</NaaccrData>\n")
    return path


def _import(path, tmp_path, dry_run: bool = False):
    store, _ = installed_dictionaries()
    report = tmp_path / f"{path.stem}-{'dry' if dry_run else 'real'}-report.csv"
    result = import_file(path, actor=SYSTEM, store=store, report=report, dry_run=dry_run)
    return result, list(csv.DictReader(report.open(encoding="utf-8")))


def _tumor_count() -> int:
    return db_session.scalar(select(func.count(Tumor.id)))


CASES = {
    "same primary, later date": ({**RIGHT_BREAST, **LATER}, 1, 1, 0, SAME_PRIMARY, "Solid Tumor 2018+ Breast M18"),
    "left breast": ({**RIGHT_BREAST, **LATER, "laterality": "2"}, 2, 0, 0, None, None),
    "laterality unknown": ({**RIGHT_BREAST, **LATER, "laterality": "9"}, 2, 0, 1, REVIEW,
                           "Solid Tumor 2018+ Breast M7"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_unmatched_tumor_of_a_stored_patient_goes_through_the_multiple_primary_rules(app, dictionaries,
                                                                                       tmp_path, case):
    incoming, tumors_after, matched, to_review, outcome, step = CASES[case]
    first, _ = _import(_file(tmp_path, "stored.xml", [RIGHT_BREAST]), tmp_path)
    assert (first.status, first.tumors_created) == ("ok", 1)
    stored_id = db_session.scalar(select(Tumor.id))
    again = _file(tmp_path, "again.xml", [incoming])

    dry, dry_rows = _import(again, tmp_path, dry_run=True)
    assert _tumor_count() == 1
    real, rows = _import(again, tmp_path)

    assert _tumor_count() == tumors_after
    assert (real.tumors_same_primary, real.tumors_to_review) == (matched, to_review)
    assert (real.tumors_created, real.tumors_updated) == (tumors_after - 1, matched)
    assert (dry.tumors_same_primary, dry.tumors_to_review, dry.tumors_created, dry.tumors_updated) == \
        (real.tumors_same_primary, real.tumors_to_review, real.tumors_created, real.tumors_updated)
    assert dry_rows == rows
    if outcome is None:
        assert rows == []
        return
    [row] = rows
    assert (row["outcome"], row["rule_step"], row["patient_id_number"], row["patient"], row["tumor"]) == \
        (outcome, step, "00000501", "1", "1")
    stored_patient = db_session.get(Tumor, stored_id).patient
    assert (f"registry tumor C50.4 8500/3 right, diagnosed 2024-01-05, sequence 00 of {stored_patient.display_name} "
            f"(") in row["reason"]
    assert f"tumor {stored_id} " not in row["reason"], "issue 20.12: no database ids in messages"
    assert "same primary" in real.summary()
    if outcome == SAME_PRIMARY:
        assert db_session.scalars(select(Tumor.id)).all() == [stored_id]
        merged = db_session.get(Tumor, stored_id)
        assert merged.extra_items["tumorRecordNumber"] == "02"
        assert merged.date_of_diagnosis == "20240105", "a same-primary merge keeps the earlier diagnosis date"


@pytest.mark.parametrize("stored, incoming, kept", [
    ("20240105", "20240610", "20240105"), ("20240610", "20240105", "20240105"), ("2024", "20240610", "20240610"),
    ("202406", "20240105", "20240105"), ("20240105", "", "20240105"), ("", "2024", "2024"),
])
def test_a_merge_keeps_the_earlier_diagnosis_date(stored, incoming, kept):
    assert earlier_diagnosis(stored, incoming) == kept


def test_the_same_primary_as_two_stored_tumors_is_a_new_tumor_to_review(app, dictionaries, tmp_path):
    """Merging needs one candidate: two stored tumors the rules both call the same primary leave it to a registrar."""
    earlier = {**RIGHT_BREAST, "dateOfDiagnosis": "20230905", "sequenceNumberHospital": "01", "tumorRecordNumber": "03"}
    _import(_file(tmp_path, "stored.xml", [RIGHT_BREAST, earlier]), tmp_path)
    assert _tumor_count() == 2

    result, rows = _import(_file(tmp_path, "again.xml", [{**RIGHT_BREAST, **LATER, "sequenceNumberHospital": "02"}]),
                           tmp_path)

    assert (result.tumors_created, result.tumors_same_primary, result.tumors_to_review) == (1, 0, 1)
    assert _tumor_count() == 3
    [row] = rows
    assert row["outcome"] == REVIEW and row["reason"].count("same primary as registry tumor") == 2


def test_a_tumor_matched_by_the_keys_is_not_taken_again_by_the_rules(app, dictionaries, tmp_path):
    """The file's own second tumor that the rules call the stored one's primary is new, for review, not merged."""
    _import(_file(tmp_path, "stored.xml", [RIGHT_BREAST]), tmp_path)

    result, rows = _import(_file(tmp_path, "again.xml", [{**RIGHT_BREAST, **LATER}, RIGHT_BREAST]), tmp_path)

    assert (result.tumors_unchanged, result.tumors_created, result.tumors_to_review) == (1, 1, 1)
    assert _tumor_count() == 2
    [row] = rows
    assert row["tumor"] == "1" and "another tumor of this record was matched to it" in row["reason"]


def test_the_command_prints_each_tumor_matched_or_to_review_with_its_step(app, dictionaries, tmp_path):
    _import(_file(tmp_path, "stored.xml", [RIGHT_BREAST]), tmp_path)
    again = _file(tmp_path, "again.xml", [{**RIGHT_BREAST, **LATER}])

    output = app.test_cli_runner().invoke(args=["naaccr", "import", str(again)]).output

    assert f"{SAME_PRIMARY}: line " in output and "Solid Tumor 2018+ Breast M18" in output
    assert "1 matched as the same primary by the multiple-primary rules, 0 new to review" in output


def test_the_rules_run_only_for_tumors_of_stored_patients_the_keys_miss(app, dictionaries, tmp_path, monkeypatch):
    """New patients (the bulk path) and tumors the keys match never reach the rules."""
    import registry.naaccr.importer as importer
    compared = []

    def comparing(*args):
        compared.append(args)
        return PrimaryDecision(None)
    monkeypatch.setattr(importer, "same_primary", comparing)
    path = tmp_path / "new.xml"
    path.write_text(HEAD + _patient("00000601", [RIGHT_BREAST, {**RIGHT_BREAST, **LATER}], **PERSON)
                    + _patient("00000602", [RIGHT_BREAST], nameLast="Otherdemo") + "</NaaccrData>\n")

    first, _ = _import(path, tmp_path)
    again, _ = _import(path, tmp_path)

    assert (first.tumors_created, again.tumors_unchanged, again.tumors_created) == (3, 3, 0)
    assert compared == []
    later = tmp_path / "later.xml"
    later.write_text(HEAD + _patient("00000602", [{**RIGHT_BREAST, **LATER}], nameLast="Otherdemo") + "</NaaccrData>\n")
    _import(later, tmp_path)
    assert len(compared) == 1
