"""Rejected records leave nothing behind; items NAACCR keeps per tumor survive the patient-level columns."""
from __future__ import annotations

import csv

from sqlalchemy import func, select

from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import Patient, Tumor
from registry.naaccr.importer import import_file
from registry.naaccr.records import ItemMap, installed_dictionaries
from reports.submissions import export_file
from tests.naaccr_io.helpers import file_items, without_added_derived

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A" '
        'specificationVersion="1.8" xmlns="http://naaccr.org/naaccrxml">\n')


def _item(naaccr_id: str, value: str) -> str:
    return f'<Item naaccrId="{naaccr_id}">{value}</Item>\n'


def _patient(number: str, tumors: list[dict[str, str]], **items: str) -> str:
    body = _item("patientIdNumber", number) + "".join(_item(k, v) for k, v in items.items())
    for tumor in tumors:
        body += "<Tumor>\n" + "".join(_item(k, v) for k, v in tumor.items()) + "</Tumor>\n"
    return f"<Patient>\n{body}</Patient>\n"


GOOD = {"primarySite": "C509", "histologicTypeIcdO3": "8500", "behaviorCodeIcdO3": "3",
        "dateOfDiagnosis": "20240105", "sequenceNumberHospital": "00"}


def test_a_record_with_errors_is_rejected_whole_with_line_and_reason(app, dictionaries, tmp_path):
    text = (HEAD + _patient("00000101", [GOOD], nameLast="Onedemo", dateOfBirth="19500101")
            + _patient("00000102", [GOOD, {**GOOD, "primarySite": "C5X9", "dateOfDiagnosis": "20240301"}],
                       nameLast="Twodemo")
            + _patient("00000103", [{**GOOD, "dateOfDiagnosis": "20230231"}], nameLast="Threedemo")
            + "</NaaccrData>\n")
    source = tmp_path / "mixed.xml"
    source.write_text(text)
    lines = text.splitlines()
    store, _ = installed_dictionaries()
    report = tmp_path / "report.csv"

    result = import_file(source, actor=SYSTEM, store=store, report=report)

    assert result.status == "rejected" and result.records_rejected == 2
    assert db_session.scalars(select(Patient.patient_id_number)).all() == ["00000101"]
    assert db_session.scalar(select(func.count(Tumor.id))) == 1
    rows = list(csv.DictReader(report.open()))
    by_item = {row["item"]: row for row in rows}
    site = by_item["primarySite"]
    assert (site["patient"], site["tumor"], site["patient_id_number"]) == ("2", "2", "00000102")
    assert "C5X9" in lines[int(site["line"]) - 1] and "C5X9" in site["reason"]
    date = by_item["dateOfDiagnosis"]
    assert "20230231" in lines[int(date["line"]) - 1] and "calendar date" in date["reason"]


def test_tumor_level_items_of_the_patient_come_back_per_tumor(app, dictionaries, tmp_path):
    first = {**GOOD, "medicalRecordNumber": "MRN1", "addrAtDxCity": "SPRINGFIELD", "addrAtDxState": "IL"}
    second = {**GOOD, "primarySite": "C619", "histologicTypeIcdO3": "8140", "sequenceNumberHospital": "02",
              "dateOfDiagnosis": "20250101", "addrAtDxCity": "SHELBYVILLE", "addrAtDxState": "IL",
              "psaLabValue": "12.5"}
    source = tmp_path / "moved.xml"
    source.write_text(HEAD + _patient("00000201", [first, second], nameLast="Movedemo") + "</NaaccrData>\n")
    store, _ = installed_dictionaries()
    assert import_file(source, actor=SYSTEM, store=store).status == "ok"

    patient = db_session.scalars(select(Patient)).one()
    assert (patient.medical_record_number, patient.addr_at_dx_city) == ("MRN1", "SPRINGFIELD")
    later = [t for t in patient.tumors if t.primary_site == "C619"][0]
    assert later.extra_items == {"medicalRecordNumber": "", "addrAtDxCity": "SHELBYVILLE"}
    assert later.site_specific_items == {"psaLabValue": "12.5"}
    record = ItemMap(store.get("250")).record_of(patient)
    assert "medicalRecordNumber" not in record["items"]
    out = tmp_path / "out.xml"
    export_file(out, store.get("250"), "A")
    original = file_items(source, store)
    assert without_added_derived(file_items(out, store), original) == original


def test_v26_files_carry_sex_assigned_at_birth(app, dictionaries, tmp_path):
    v26 = HEAD.replace("dictionary-250", "dictionary-260")
    source = tmp_path / "v26.xml"
    source.write_text(v26 + _patient("00000301", [GOOD], sexAssignedAtBirth="2") + "</NaaccrData>\n")
    store, _ = installed_dictionaries()
    assert import_file(source, actor=SYSTEM, store=store).status == "ok"
    assert db_session.scalars(select(Patient.sex_assigned_at_birth)).one() == "2"
    out25 = tmp_path / "v25.xml"
    export_file(out25, store.get("250"), "A")
    patient, _ = file_items(out25, store)[0]
    assert patient["sex"] == "2" and "sexAssignedAtBirth" not in patient


def test_same_name_and_birth_date_with_different_ssn_are_two_people(app, dictionaries, tmp_path):
    """Name + date of birth matches only when the known Social Security Numbers do not disagree."""
    person = {"nameLast": "Samedemo", "nameFirst": "Linda", "dateOfBirth": "19460324"}
    other = {**GOOD, "primarySite": "C349", "histologicTypeIcdO3": "8140", "dateOfDiagnosis": "20240601"}
    source = tmp_path / "namesakes.xml"
    source.write_text(HEAD + _patient("00000301", [GOOD], socialSecurityNumber="123456781", **person)
                      + _patient("00000302", [other], socialSecurityNumber="123456782", **person)
                      + _patient("00000303", [other], socialSecurityNumber="999999999", **person)
                      + "</NaaccrData>\n")
    store, _ = installed_dictionaries()
    result = import_file(source, actor=SYSTEM, store=store, batch_size=2)
    # the second record is another person; the third (SSN unknown) could be either of them
    assert db_session.scalars(select(Patient.patient_id_number).order_by(Patient.id)).all() == ["00000301", "00000302"]
    assert (result.patients_created, result.patients_updated, result.records_rejected) == (2, 0, 1)
    [rejection] = result.rejections
    assert rejection.patient_id_number == "00000303" and "matches 2 registry patients" in rejection.reason
