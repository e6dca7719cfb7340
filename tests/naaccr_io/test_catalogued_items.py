"""Items without a column are held to the catalogue on import: official code lists, types, lengths."""
from __future__ import annotations

import csv

from sqlalchemy import select

from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import Patient, Tumor
from registry.naaccr.importer import import_file
from registry.naaccr.records import installed_dictionaries
from tests.naaccr_io.test_import_rules import GOOD, HEAD, _patient


def test_catalogued_items_are_checked_and_stored_by_naaccr_id(app, dictionaries, tmp_path):
    good = {**GOOD, "tumorSizeSummary": "015", "regionalNodesPositive": "02", "maritalStatusAtDx": "2",
            "rxSummSurgRadSeq": "3", "textRemarks": "Demo remark only."}
    bad_size = {**GOOD, "tumorSizeSummary": "995", "dateOfDiagnosis": "20240301"}
    bad_payer = {**GOOD, "primaryPayerAtDx": "36", "dateOfDiagnosis": "20240401"}
    text = (HEAD + _patient("00000201", [good], nameLast="Gooddemo", addrCurrentCity="NOWHERE-DEMO")
            + _patient("00000202", [bad_size], nameLast="Sizedemo")
            + _patient("00000203", [bad_payer], nameLast="Payerdemo", addrCurrentState="1X")
            + "</NaaccrData>\n")
    source = tmp_path / "items.xml"
    source.write_text(text)
    lines = text.splitlines()
    store, _ = installed_dictionaries()
    report = tmp_path / "report.csv"

    result = import_file(source, actor=SYSTEM, store=store, report=report)

    assert result.records_rejected == 2
    patient = db_session.scalars(select(Patient)).one()
    assert patient.patient_id_number == "00000201"
    assert patient.extra_items == {"addrCurrentCity": "NOWHERE-DEMO"}
    tumor = db_session.scalars(select(Tumor)).one()
    assert {k: tumor.extra_items[k] for k in ("tumorSizeSummary", "regionalNodesPositive", "maritalStatusAtDx",
                                              "rxSummSurgRadSeq", "textRemarks")} == {
        "tumorSizeSummary": "015", "regionalNodesPositive": "02", "maritalStatusAtDx": "2", "rxSummSurgRadSeq": "3",
        "textRemarks": "Demo remark only."}
    by_item = {row["item"]: row for row in csv.DictReader(report.open())}
    assert set(by_item) == {"tumorSizeSummary", "primaryPayerAtDx", "addrCurrentState"}
    size = by_item["tumorSizeSummary"]
    assert size["patient_id_number"] == "00000202" and "995" in lines[int(size["line"]) - 1]
    assert "Tumor Size Summary [756]" in size["reason"]
    assert "Primary Payer at DX [630]" in by_item["primaryPayerAtDx"]["reason"]
    assert "'1X'" in by_item["addrCurrentState"]["reason"]
