"""Research releases end to end through the command line: Safe Harbor leaves no PHI, ages and
restricted ZIP areas are pooled, limited data sets need a valid data use agreement, every release
is logged, Parquet and NAACCR XML read back, and the dictionary explains every variable."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

from sqlalchemy import select

from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.models import (AuditEntry, DataUseAgreement, FirstCourseTreatment, FollowUpContact, Patient,
                             ResearchRelease, Tumor)
from tests.reference import REFERENCE_DIR
from tests.research.conftest import csv_rows, patient_of_tumor, read_zip, tumor_of

PHI_COLUMNS = ("patient_id_number", "medical_record_number", "name_last", "name_first", "name_middle",
               "name_birth_surname", "social_security_number", "addr_at_dx_street", "addr_at_dx_city")


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["export", "research", *args])
    return result


def source_phi() -> set[str]:
    """Every identifier, full date (CCYYMMDD and ISO) and ZIP5 of the source records."""
    values: set[str] = set()
    for patient in db_session.scalars(select(Patient)):
        # a one-letter middle initial equals codes such as grade H; its column is checked absent instead
        values |= {getattr(patient, name) for name in PHI_COLUMNS if len(getattr(patient, name) or "") > 1}
        if patient.addr_at_dx_postal_code:
            values.add(patient.addr_at_dx_postal_code[:5])
    dates = set()
    for model in (Patient, Tumor, FirstCourseTreatment, FollowUpContact):
        columns = [c for c in model.__table__.columns if c.info.get("kind") == "date"]
        for row in db_session.execute(select(*columns)):
            dates |= {v for v in row if v and len(v) == 8}
    values |= dates | {f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in dates}
    return values


def test_safe_harbor_release_holds_no_phi(app, registry_data, tmp_path):
    output = tmp_path / "release.zip"
    result = run(app, "--output", str(output), "--purpose", "PHI scan")
    assert result.exit_code == 0, result.output
    files = read_zip(output)
    assert set(files) == {"data.csv", "dictionary.csv", "dictionary.html"}
    rows = csv_rows(files["data.csv"])
    assert len(rows) == db_session.query(Tumor).count()
    phi = source_phi()
    assert len(phi) > 500
    leaks = []
    for row in rows:
        for column, cell in row.items():
            if cell in phi or (not cell.isdigit() and any(len(v) >= 5 and v in cell for v in phi)):
                leaks.append((column, cell))
    assert leaks == []
    for column in ("name_last", "name_middle", "social_security_number", "medical_record_number", "addr_at_dx_street",
                   "addr_at_dx_city", "county_at_dx", "patient_id_number"):
        assert column not in rows[0]
    assert all(len(row["date_of_diagnosis"]) in (0, 4) for row in rows)
    assert all(len(row["addr_at_dx_postal_code"]) == 3 for row in rows)
    assert len({row["study_tumor_id"] for row in rows}) == len(rows)


def test_old_ages_and_restricted_zip3_are_pooled(app, registry_data, tmp_path):
    output = tmp_path / "release.zip"
    assert run(app, "--output", str(output)).exit_code == 0
    release = db_session.scalars(select(ResearchRelease)).one()
    tumors = tumor_of(release.id)
    by_patient: dict[int, list[dict]] = {}
    for row in csv_rows(read_zip(output)["data.csv"]):
        by_patient.setdefault(patient_of_tumor(tumors[row["study_tumor_id"]]), []).append(row)
    old = by_patient[1]
    assert {row["age_at_diagnosis"] for row in old} == {"90+"}
    assert {row["date_of_birth"] for row in old} == {""}
    assert {row["addr_at_dx_postal_code"] for row in old} == {"000"}      # 036 is restricted
    assert {row["addr_at_dx_postal_code"] for row in by_patient[2]} == {"000"}   # 823
    assert {row["addr_at_dx_postal_code"] for row in by_patient[3]} == {"000"}   # 692
    assert {row["addr_at_dx_postal_code"] for row in by_patient[4]} == {"627"}
    ages = [row["age_at_diagnosis"] for rows in by_patient.values() for row in rows]
    assert all(age == "90+" or int(age) <= 89 for age in ages if age)
    assert len({row["study_patient_id"] for row in old}) == 1


def test_limited_data_set_needs_a_valid_agreement(app, registry_data, make_user, tmp_path):
    output = tmp_path / "limited.zip"
    result = run(app, "--output", str(output), "--limited")
    assert result.exit_code != 0 and "needs a data use agreement" in result.output
    assert not output.exists()
    make_user("researcher", "dana")
    runner = app.test_cli_runner()
    added = runner.invoke(args=["research", "agreement", "add", "dana", "--project", "Breast outcomes",
                                "--expires", (dt.date.today() + dt.timedelta(days=90)).isoformat()])
    assert added.exit_code == 0, added.output
    agreement = db_session.scalars(select(DataUseAgreement)).one()
    with operation(SYSTEM, "test_expire") as session:
        session.get(DataUseAgreement, agreement.id).expires_on = dt.date.today() - dt.timedelta(days=1)
    result = run(app, "--output", str(output), "--limited", "--agreement", str(agreement.id))
    assert result.exit_code != 0 and "expired" in result.output
    assert not output.exists() and db_session.query(ResearchRelease).count() == 0
    with operation(SYSTEM, "test_renew") as session:
        session.get(DataUseAgreement, agreement.id).expires_on = dt.date.today()
    result = run(app, "--output", str(output), "--limited", "--agreement", str(agreement.id),
                 "--variables", "date_of_diagnosis,addr_at_dx_postal_code,age_at_diagnosis")
    assert result.exit_code == 0, result.output
    rows = csv_rows(read_zip(output)["data.csv"])
    assert list(rows[0]) == ["study_patient_id", "study_tumor_id", "date_of_diagnosis", "addr_at_dx_postal_code",
                             "age_at_diagnosis"]
    assert any(len(row["date_of_diagnosis"]) == 8 for row in rows)
    assert "69201" in {row["addr_at_dx_postal_code"] for row in rows}
    release = db_session.scalars(select(ResearchRelease)).one()
    assert release.level == "limited" and release.agreement_id == agreement.id
    refused = run(app, "--output", str(tmp_path / "x.zip"), "--variables", "name_last,date_of_birth")
    assert refused.exit_code != 0 and "name_last: a direct identifier never leaves the registry" in refused.output


def test_release_log_records_each_release(app, registry_data, tmp_path):
    first = tmp_path / "breast.zip"
    assert run(app, "--output", str(first), "--site", "C50", "--years", "2010-2020", "--purpose", "Breast study",
               "--variables", "primary_site,summary_stage").exit_code == 0
    second = tmp_path / "all.zip"
    assert run(app, "--output", str(second), "--sex", "2", "--age", "20-64").exit_code == 0
    logged = db_session.scalars(select(ResearchRelease).order_by(ResearchRelease.id)).all()
    assert len(logged) == 2
    breast = logged[0]
    assert breast.purpose == "Breast study" and breast.level == "safe_harbor" and breast.file_format == "csv"
    assert breast.filters == {"years": "2010-2020", "sites": ["C50"]}
    assert breast.variables == ["study_patient_id", "study_tumor_id", "primary_site", "summary_stage"]
    assert breast.checksum == hashlib.sha256(first.read_bytes()).hexdigest()
    rows = csv_rows(read_zip(first)["data.csv"])
    assert breast.row_count == len(rows) > 0 and all(row["primary_site"].startswith("C50") for row in rows)
    assert breast.expires_at.date() > dt.date.today()
    assert logged[1].filters == {"sexes": ["2"], "ages": "20-64"}
    events = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "research_release")).all()
    assert [e.entity_id for e in events] == [str(r.id) for r in logged]
    with operation(SYSTEM, "test_age") as session:
        session.get(ResearchRelease, breast.id).expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    purged = app.test_cli_runner().invoke(args=["research", "purge"])
    assert "1 expired release files deleted" in purged.output
    assert not first.exists() and second.exists()
    bad = run(app, "--output", str(tmp_path / "bad.zip"), "--years", "2020-2010", "--sex", "7")
    assert bad.exit_code != 0 and "years:" in bad.output and "sex:" in bad.output


def test_parquet_is_readable(app, registry_data, tmp_path):
    import pyarrow.parquet as pq
    output = tmp_path / "release.zip"
    assert run(app, "--output", str(output), "--format", "parquet").exit_code == 0
    (tmp_path / "data.parquet").write_bytes(read_zip(output)["data.parquet"])
    table = pq.read_table(tmp_path / "data.parquet")
    assert table.num_rows == db_session.query(Tumor).count()
    assert "study_patient_id" in table.column_names and "name_last" not in table.column_names
    assert set(table.column("age_at_diagnosis").to_pylist()) >= {"90+"}


def test_naaccr_incidence_file_is_readable(app, registry_data, tmp_path):
    from registry.naaccr import NaaccrReader, validate
    from registry.naaccr.records import installed_dictionaries
    from registry.reference import install
    install("naaccr-dictionary", REFERENCE_DIR / "naaccr" / "dictionaries" / "naaccr-dictionary-250.xml",
            actor=SYSTEM, store=tmp_path / "store")
    output = tmp_path / "release.zip"
    result = run(app, "--output", str(output), "--format", "naaccr")
    assert result.exit_code == 0, result.output
    (tmp_path / "data.xml").write_bytes(read_zip(output)["data.xml"])
    store, _ = installed_dictionaries()
    report = validate(tmp_path / "data.xml", store)
    assert report.status == "valid", report.problems[:5]
    release = db_session.scalars(select(ResearchRelease)).one()
    with NaaccrReader(tmp_path / "data.xml", store) as reader:
        assert reader.data.record_type == "I"
        patients = list(reader)
    assert sum(len(p.tumors) for p in patients) == release.row_count
    phi = source_phi()
    for patient in patients:
        assert int(patient.items["patientIdNumber"]) >= 50_000_000
        assert not phi & set(patient.items.values())
        for tumor in patient.tumors:
            assert not phi & set(tumor.items.values())
            assert len(tumor.items.get("dateOfDiagnosis", "2020")) == 4


def test_dictionary_lists_every_chosen_variable(app, registry_data, tmp_path):
    output = tmp_path / "release.zip"
    chosen = "sex,primary_site,date_of_diagnosis,summary_stage,seer_site_recode,seer_cause_specific_cod," \
             "surv_mos_active_followup,surv_flag_active_followup,vital_status_at_cutoff,age_at_diagnosis"
    assert run(app, "--output", str(output), "--variables", chosen).exit_code == 0
    files = read_zip(output)
    entries = {row["variable"]: row for row in csv.DictReader(io.StringIO(files["dictionary.csv"].decode()))}
    assert list(entries) == ["study_patient_id", "study_tumor_id", *chosen.split(",")]
    assert entries["sex"]["naaccr_item"] == "220" and "1 = Male" in entries["sex"]["codes"]
    assert entries["primary_site"]["naaccr_item"] == "400" and "C509 = Breast, NOS" in entries["primary_site"]["codes"]
    assert entries["date_of_diagnosis"]["naaccr_item"] == "390" and "year only" in entries["date_of_diagnosis"]["released_as"]
    assert entries["seer_cause_specific_cod"]["naaccr_item"] == "1914"
    assert "1 = Dead (attributable" in entries["seer_cause_specific_cod"]["codes"]
    assert "39 = Breast" in entries["seer_site_recode"]["codes"]
    assert entries["surv_mos_active_followup"]["naaccr_item"] == "1784"
    assert "1 = Complete dates" in entries["surv_flag_active_followup"]["codes"]
    assert "90+" in entries["age_at_diagnosis"]["released_as"] and entries["age_at_diagnosis"]["naaccr_item"] == "230"
    html = files["dictionary.html"].decode()
    assert all(f"<td>{name}</td>" in html for name in entries)
    assert all(entries[name]["codes"] for name in ("sex", "summary_stage", "vital_status_at_cutoff"))
