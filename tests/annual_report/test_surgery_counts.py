"""Every report that counts surgery of the primary site reads [1290] and [1291] by one rule (surgery_codes.csv),
checked against the official 2023+ site tables' own codes for none, not applicable and unknown."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from abstracts import operations as ops
from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import FirstCourseTreatment
from reports.annual_report import definitions as d
from reports.annual_report.queries import Scope, year_cases
from staging_tables.surgery import code_meaning, shipped_editions, surgery_performed

PATIENT = {"name_last": "Rowandemo", "name_first": "Ana", "date_of_birth": "19600203", "sex": "2", "race1": "01",
           "spanish_hispanic_origin": "0", "vital_status": "1", "date_of_last_contact": "20260101"}


def _tumor(patient_id: int, dx: str, sequence: str, **treatment: str) -> int:
    data = {"primary_site": "C504", "laterality": "1", "histology": "8500", "behavior": "3", "date_of_diagnosis": dx,
            "sequence_number_hospital": sequence, "class_of_case": "14", "diagnostic_confirmation": "1",
            "treatment": treatment}
    return ops.create_tumor(patient_id, data, actor=SYSTEM).id


def test_a_2025_lumpectomy_coded_in_1291_counts_as_surgery_in_the_annual_report(app):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    coded = {
        _tumor(patient.id, "20250310", "01", surgery_of_primary_site_2023="A200"): True,
        _tumor(patient.id, "20250410", "02", surgery_of_primary_site_2023="B200"): True,
        _tumor(patient.id, "20250510", "03", surgery_of_primary_site_2023="B000"): False,
        _tumor(patient.id, "20250610", "04", surgery_of_primary_site_2023="A990"): False,
        _tumor(patient.id, "20250710", "05"): False,
    }
    _tumor(patient.id, "20190310", "06", surgery_of_primary_site="22")

    cases = year_cases(Scope(2025))
    counted = dict(zip(cases["tumor_id"], cases["Surgery"]))
    assert counted == coded
    rows = db_session.execute(select(FirstCourseTreatment, FirstCourseTreatment.surgery_performed)).all()
    assert rows and all(bool(sql) == treatment.surgery_performed for treatment, sql in rows)
    assert year_cases(Scope(2019))["Surgery"].tolist() == [True]
    assert "A100–A900" in d.treatment_rule("Surgery") and "10–90" in d.treatment_rule("Surgery")


@pytest.mark.parametrize("year", sorted(shipped_editions()))
def test_the_rule_classes_every_code_of_every_official_table_as_its_label_says(year):
    item = "rxSummSurgPrimSite2023" if year >= 2023 else "rxSummSurgPrimSite"
    seen = 0
    for table in shipped_editions()[year].tables:
        for entry in table.codes:
            meaning = code_meaning(item, entry.code)
            label = entry.label.lower()
            if label.startswith("none"):
                assert meaning == "none", (table.title, entry)
            elif label.startswith(("unknown", "death certificate only")):
                assert meaning == "unknown", (table.title, entry)
            elif "with or without surgical treatment" in label:
                assert meaning == "not applicable", (table.title, entry)
            else:
                assert meaning == "performed", (table.title, entry)
            seen += 1
    assert seen > 300


def test_performed_reads_either_item():
    assert surgery_performed("22", None) and surgery_performed(None, "A200")
    assert not surgery_performed("00", "A000") and not surgery_performed("98", "A980")
    assert not surgery_performed(None, None)
