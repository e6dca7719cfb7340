"""``edits check`` over CSV files of NAACCR ids and ``edits run`` over the database."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from abstracts.operations import create_patient, create_tumor
from registry.audit import SYSTEM
from registry.edits import naaccr_id_map, records_from_orm, run_edits
from registry.edits.cli import REPORT_COLUMNS, edits_group
from registry.items import naaccr_items
from registry.models import AuditEntry, Patient, Tumor
from tests.edits.cases import BASE_PATIENT, BASE_TUMOR

TREATMENT = {"surgery_of_primary_site", "date_of_surgery", "reason_for_no_surgery", "scope_regional_lymph_node_surgery",
             "surgery_other_sites", "radiation_modality", "date_of_radiation", "chemotherapy", "hormone_therapy",
             "date_of_hormone_therapy", "immunotherapy", "transplant_endocrine", "other_therapy",
             "date_of_initial_treatment"}


@pytest.fixture
def runner(app):
    app.cli.add_command(edits_group)
    return app.test_cli_runner()


def _to_naaccr(values: dict) -> dict:
    ids = {attribute: naaccr_id for naaccr_id, (_, attribute) in naaccr_id_map().items()}
    return {ids[name]: value or "" for name, value in values.items()}


def _write(path: Path, rows: list[dict], extra_column: bool = False) -> Path:
    header = list(rows[0]) + (["stateUserItem"] if extra_column else [])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, restval="x")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _report(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == REPORT_COLUMNS
        return list(reader)


def test_check_reports_each_failure_with_its_row(runner, tmp_path):
    good = _to_naaccr(BASE_PATIENT | BASE_TUMOR)
    second_tumor = _to_naaccr(BASE_PATIENT | BASE_TUMOR | {"sequence_number_hospital": "00", "primary_site": "C189",
                                                          "laterality": "0"})
    other_patient = _to_naaccr(BASE_PATIENT | BASE_TUMOR | {"patient_id_number": "00000002", "sex": "1",
                                                           "primary_site": "C539", "laterality": "0",
                                                           "vital_status": "0", "behavior": "7"})
    source = _write(tmp_path / "in.csv", [good, other_patient, second_tumor], extra_column=True)
    result = runner.invoke(args=["edits", "check", "--input", str(source), "--report", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert "read 3 record(s) of 2 patient(s)" in result.output and "stateUserItem" in result.output
    rows = _report(tmp_path / "out.csv")
    found = {(r["record_position"], r["patient_id"], r["edit_id"]) for r in rows}
    assert {("1", "00000001", "P001"), ("3", "00000001", "P001"), ("3", "00000001", "P002"),
            ("1", "00000001", "P007"), ("3", "00000001", "P007"),  # both 00: the rules give 01 and 02
            ("2", "00000002", "E050"),
            ("2", "00000002", "E101"), ("2", "00000002", "IV0523"),
            # duct carcinoma (8500) of the colon and of the cervix: not on the installed SEER list
            ("3", "00000001", "P006"), ("2", "00000002", "P006")} == found
    sex_site = next(r for r in rows if r["edit_id"] == "E050")
    assert sex_site["severity"] == "error" and sex_site["fields"] == "sex;primarySite"
    assert sex_site["tumor_sequence"] == "00" and "C539" in sex_site["message"]
    assert next(r for r in rows if r["edit_id"] == "E101")["tumor_sequence"] == ""


def test_check_of_a_clean_file_writes_an_empty_report(runner, tmp_path):
    source = _write(tmp_path / "in.csv", [_to_naaccr(BASE_PATIENT | BASE_TUMOR)])
    result = runner.invoke(args=["edits", "check", "--input", str(source), "--report", str(tmp_path / "out.csv")])
    assert result.exit_code == 0 and "0 error(s), 0 warning(s)" in result.output
    assert _report(tmp_path / "out.csv") == []


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "the file is empty"),
    (b"name,colour\nx,y\n", "no column is a NAACCR XML id"),
    (b"primarySite,sex\n\xff\xfe,1\n", "not UTF-8"),
    (b"primarySite,sex\nC509,2,extra\n", "more values than the header"),
])
def test_check_refuses_a_file_it_cannot_read(runner, tmp_path, content, message):
    source = tmp_path / "in.csv"
    if content is not None:
        source.write_bytes(content)
    result = runner.invoke(args=["edits", "check", "--input", str(source), "--report", str(tmp_path / "out.csv")])
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "out.csv").exists()


def _store(patient: dict, tumor: dict) -> Patient:
    stored = create_patient(patient, actor=SYSTEM)
    create_tumor(stored.id, {k: v for k, v in tumor.items() if k not in TREATMENT}
                 | {"treatment": {k: v for k, v in tumor.items() if k in TREATMENT}}, actor=SYSTEM)
    return stored


def test_records_from_orm_match_the_plain_dicts(app):
    from registry.db import db_session
    stored = _store(BASE_PATIENT, BASE_TUMOR)
    db_session.expire_all()
    patient, tumors = records_from_orm(db_session.get(Patient, stored.id))
    derived = {a for a, spec in naaccr_items(Tumor).items() if spec.derived}
    assert {k: v for k, v in patient.items() if v is not None} == BASE_PATIENT
    assert {k: v for k, v in tumors[0].items() if v is not None and k not in derived} == BASE_TUMOR | {
        "sequence_number_central": "00"}  # proposed on save: the patient's only malignant tumor
    assert tumors[0]["surv_mos_active_followup"] is not None, "survival time is derived on save"
    assert run_edits(patient, tumors) == []


def test_run_over_the_database_and_since(runner, tmp_path):
    from registry.db import db_session
    _store(BASE_PATIENT, BASE_TUMOR)
    bad = _store(BASE_PATIENT | {"patient_id_number": "00000002", "sex": "1"},
                 BASE_TUMOR | {"primary_site": "C539", "laterality": "0"})
    report = tmp_path / "db.csv"
    result = runner.invoke(args=["edits", "run", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "checked 2 patient(s), 2 tumor(s): 2 error(s)" in result.output
    assert "site/histology: SEER site/histology validation list 20220429" in result.output
    row, site_histology = sorted(_report(report), key=lambda r: r["edit_id"])
    assert (site_histology["edit_id"], site_histology["patient_id"]) == ("P006", "00000002")
    assert row["edit_id"] == "E050" and row["patient_id"] == "00000002"
    stored = db_session.get(Patient, bad.id)
    assert row["record_position"] == f"{stored.described}: {stored.tumors[0].described}"
    assert row["record_position"].startswith(f"{stored.display_name} (") and " C53.9 " in row["record_position"]
    assert db_session.query(AuditEntry).filter_by(action="edits_run").count() == 1
    later = runner.invoke(args=["edits", "run", "--since", "2999-01-01", "--report", str(report)])
    assert later.exit_code == 0 and "checked 0 patient(s)" in later.output
    assert _report(report) == []
    refused = runner.invoke(args=["edits", "run", "--since", "yesterday", "--report", str(report)])
    assert refused.exit_code != 0 and "yesterday" in refused.output
