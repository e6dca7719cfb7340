"""New records written by the importer's driver-level path are what the ORM would have stored."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, inspect, select, text
from sqlalchemy.exc import DataError, IntegrityError

from registry.audit import operation
from registry.db import db_session
from registry.models import AuditEntry, FirstCourseTreatment, Patient, Tumor
from registry.naaccr import NaaccrReader, bulk
from registry.naaccr.bulk import NewPatient, NewTumor, insert_new_records
from registry.naaccr.importer import ACTION, IMPORT_ACTOR, import_file
from registry.naaccr.intake import clean_columns as _clean
from registry.naaccr.records import ItemMap, column_items, installed_dictionaries

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A" '
        'specificationVersion="1.8" xmlns="http://naaccr.org/naaccrxml">\n')
#: Everything a new record can carry: patient columns, a tumor-level patient column (MRN), patient
#: and tumor items without a column (JSON), an SSDI, treatment, text that JSON and COPY must escape.
PATIENT = {"patientIdNumber": "00000301", "nameLast": "Bulkdemo", "nameFirst": "Ana", "dateOfBirth": "19500101",
           "sex": "2", "race1": "01", "socialSecurityNumber": "123456789", "vitalStatus": "1",
           "nameAlias": "Zoë \"Z\" O'Neil"}
TUMORS = [
    {"primarySite": "C509", "histologicTypeIcdO3": "8500", "behaviorCodeIcdO3": "3", "laterality": "1",
     "dateOfDiagnosis": "20240105", "sequenceNumberHospital": "01", "medicalRecordNumber": "MRN-301",
     "addrAtDxCity": "SPRINGFIELD", "addrAtDxState": "IL",
     "psaLabValue": "12.5", "textRemarks": "tab\there, back\\slash, \"quoted\", naïve &amp; more",
     "rxSummSurgPrimSite2023": "A200", "rxDateSurgery": "20240201", "rxSummChemo": "01"},
    {"primarySite": "C619", "histologicTypeIcdO3": "8140", "behaviorCodeIcdO3": "3", "dateOfDiagnosis": "20250101",
     "sequenceNumberHospital": "02"},
]
PLAIN_PATIENT = {"patientIdNumber": "00000302", "nameLast": "Plaindemo"}
PLAIN_TUMOR = {"primarySite": "C180", "histologicTypeIcdO3": "8140", "behaviorCodeIcdO3": "3",
               "dateOfDiagnosis": "20230101", "sequenceNumberHospital": "00"}
#: Columns that differ between two copies of one record by nature: keys and timestamps.
NOT_COMPARED = {"id", "patient_id", "tumor_id", "created_at", "updated_at"}


def _xml(patients: list[tuple[dict[str, str], list[dict[str, str]]]]) -> str:
    def items(values: dict[str, str]) -> str:
        return "".join(f'<Item naaccrId="{key}">{value}</Item>\n' for key, value in values.items())
    body = "".join(f"<Patient>\n{items(p)}" + "".join(f"<Tumor>\n{items(t)}</Tumor>\n" for t in tumors)
                   + "</Patient>\n" for p, tumors in patients)
    return HEAD + body + "</NaaccrData>\n"


def _new_records(path: Path) -> list[NewPatient]:
    """The file's records cleaned as the importer cleans them, ready for either write path."""
    store, _ = installed_dictionaries()
    item_map = ItemMap(store.get("250"))
    records = []
    with NaaccrReader(path, store) as reader:
        for read in reader:
            incoming = item_map.incoming(read)
            assert not incoming.problems
            values, errors = _clean(Patient, incoming.values)
            assert not errors
            tumors = []
            for tumor in incoming.tumors:
                tumor_values, tumor_errors = _clean(Tumor, tumor.values)
                treatment, treatment_errors = _clean(FirstCourseTreatment, tumor.treatment)
                assert not tumor_errors and not treatment_errors
                tumors.append(NewTumor(tumor_values, tumor.ssdi, tumor.extra, treatment))
            records.append(NewPatient(values, incoming.extra, tumors))
    return records


def _create_with_orm(record: NewPatient) -> int:
    """What the importer's ORM path does for a new record (``Importer._tumors``), as one audited operation."""
    with operation(IMPORT_ACTOR, ACTION) as session:
        patient = Patient(**record.values, extra_items=record.extra_items)
        for tumor in record.tumors:
            created = Tumor(**tumor.values, site_specific_items=tumor.site_specific_items,
                            extra_items=tumor.extra_items)
            created.treatment = FirstCourseTreatment(**tumor.treatment)
            patient.tumors.append(created)
        session.add(patient)
        session.flush()
        return patient.id


def _columns(obj: Any) -> dict[str, Any]:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs
            if attr.key not in NOT_COMPARED}


def _timestamp_kinds(obj: Any) -> list[tuple[type, bool]]:
    stamps = [obj.created_at, obj.updated_at]
    assert all(isinstance(stamp, dt.datetime) for stamp in stamps)
    return [(type(stamp), stamp.tzinfo is None) for stamp in stamps]


def _stored(patient_id: int, since: int) -> dict[str, Any]:
    """Every column of the record as the ORM reads it back, keys replaced by their role."""
    db_session.expire_all()
    patient = db_session.get(Patient, patient_id)
    tumors = sorted(patient.tumors, key=lambda tumor: tumor.sequence_number_hospital)
    json_text = {"patient": _json_text("patient", ["extra_items"], patient.id)}
    json_text.update((f"tumor{i}", _json_text("tumor", ["extra_items", "site_specific_items"], tumor.id))
                     for i, tumor in enumerate(tumors))
    return {
        "patient": _columns(patient),
        "patient_timestamps": _timestamp_kinds(patient),
        "tumors": [(_columns(t), _columns(t.treatment), _timestamp_kinds(t), t.patient_id == patient.id)
                   for t in tumors],
        "json_text": json_text,
        "audit": _audit(patient, tumors, since),
    }


def _last_audit_id() -> int:
    return db_session.scalar(select(func.max(AuditEntry.id))) or 0


def _json_text(table: str, columns: list[str], ident: int) -> tuple[str, ...]:
    """JSON columns as stored (text), not as decoded."""
    selected = ", ".join(f"CAST({column} AS TEXT)" for column in columns)
    return tuple(db_session.execute(text(f"SELECT {selected} FROM {table} WHERE id = :id"), {"id": ident}).one())


def _audit(patient: Patient, tumors: list[Tumor], since: int) -> list[tuple[Any, ...]]:
    """The record's create rows in the audit trail after row ``since``, ids replaced by the part they name.

    A treatment's row is named by its ``tumor_id`` change and its version is left out: for a new
    treatment the flush hook writes a blank ``entity_id`` and no version (neither the identity nor
    the tumor is known yet in ``after_flush``), the bulk path the tumor id and version 1, as the
    Core insert did before it; the test checks those two separately.
    """
    role = {("patient", patient.id): "patient"}
    role.update({("tumor", t.id): f"tumor{i}" for i, t in enumerate(tumors)})
    rows = db_session.scalars(select(AuditEntry).where(AuditEntry.patient_id == patient.id, AuditEntry.id > since,
                                                       AuditEntry.action == f"{ACTION}:create")).all()
    result = []
    for row in rows:
        changes = dict(row.changes)
        if "id" in changes:
            changes["id"] = [None, role[(row.entity, changes["id"][1])]]
        if "patient_id" in changes:
            changes["patient_id"] = [None, role[("patient", changes["patient_id"][1])]]
        if "tumor_id" in changes:
            changes["tumor_id"] = [None, role[("tumor", changes["tumor_id"][1])]]
        if row.entity == "first_course_treatment":
            named, version = changes["tumor_id"][1], None
        else:
            named, version = role[(row.entity, int(row.entity_id))], row.entity_version
        result.append((row.entity, named, version, row.user_id, row.username, row.detail, type(row.at), changes))
    return sorted(result, key=lambda entry: (entry[0], entry[1]))


def test_bulk_records_read_back_as_the_orm_records(app, dictionaries, tmp_path):
    source = tmp_path / "two.xml"
    source.write_text(_xml([(PATIENT, TUMORS), (PLAIN_PATIENT, [PLAIN_TUMOR])]), encoding="utf-8")
    full, plain = _new_records(source)
    assert full.extra_items and full.tumors[0].site_specific_items and full.tumors[0].extra_items
    assert not (plain.extra_items or plain.tumors[0].site_specific_items or plain.tumors[0].extra_items)

    since = _last_audit_id()
    through_orm = [_stored(_create_with_orm(record), since) for record in (full, plain)]
    with operation(IMPORT_ACTOR, ACTION) as session:
        for patient in session.scalars(select(Patient)):
            session.delete(patient)
    store, _ = installed_dictionaries()
    since = _last_audit_id()
    result = import_file(source, actor=IMPORT_ACTOR, store=store, save_hooks=False)
    assert (result.status, result.patients_created, result.tumors_created) == ("ok", 2, 3), result.rejections
    through_bulk = [_stored(ident, since) for ident in db_session.scalars(select(Patient.id).order_by(Patient.id))]

    assert through_bulk == through_orm
    assert through_bulk[0]["patient"]["extra_items"] == {"nameAlias": "Zoë \"Z\" O'Neil"}
    first = through_bulk[0]["tumors"][0][0]
    assert first["site_specific_items"] == {"psaLabValue": "12.5"}
    assert first["extra_items"]["textRemarks"] == "tab\there, back\\slash, \"quoted\", naïve & more"
    assert first["workflow_state"] == "in_progress" and first["version"] == 1
    assert through_bulk[1]["json_text"] == {"patient": ("{}",), "tumor0": ("{}", "{}")}
    # a treatment created with its tumor is in the tumor's creation entry (ORM and bulk alike), not one of its own
    assert [entity for entity, *_ in through_bulk[0]["audit"]] == ["patient"] + ["tumor"] * 2
    assert not db_session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.entity == "first_course_treatment", AuditEntry.id > since))
    [entry] = [changes for entity, *_, changes in through_bulk[0]["audit"]
               if entity == "tumor" and changes["primary_site"] == [None, "C509"]]
    columns = column_items()
    for naaccr_id in ("rxSummSurgPrimSite2023", "rxDateSurgery", "rxSummChemo"):
        assert columns[naaccr_id].part == "treatment"
        assert entry[columns[naaccr_id].attribute] == [None, TUMORS[0][naaccr_id]]
    assert "tumor_id" not in entry


def test_bulk_ids_follow_existing_rows_and_later_inserts_follow_them(app, dictionaries, tmp_path):
    existing = tmp_path / "existing.xml"
    existing.write_text(_xml([({"patientIdNumber": "00000001", "nameLast": "Oldone"}, TUMORS[1:]),
                              ({"patientIdNumber": "00000002", "nameLast": "Oldtwo"}, TUMORS[1:])]))
    before = {record.values["patient_id_number"]: _create_with_orm(record) for record in _new_records(existing)}
    before_tumors = set(db_session.scalars(select(Tumor.id)))
    source = tmp_path / "new.xml"
    source.write_text(_xml([({"patientIdNumber": f"0000040{n}", "nameLast": "Newdemo"}, TUMORS) for n in range(3)]))
    store, _ = installed_dictionaries()

    result = import_file(source, actor=IMPORT_ACTOR, store=store, save_hooks=False)

    assert (result.status, result.patients_created, result.tumors_created) == ("ok", 3, 6)
    new = dict(db_session.execute(select(Patient.patient_id_number, Patient.id)
                                  .where(Patient.patient_id_number.like("000004%"))).all())
    assert len(set(new.values())) == 3 and min(new.values()) > max(before.values())
    new_tumors = set(db_session.scalars(select(Tumor.id).where(Tumor.patient_id.in_(new.values()))))
    assert len(new_tumors) == 6 and min(new_tumors) > max(before_tumors)
    assert dict(db_session.execute(select(Patient.patient_id_number, Patient.id)
                                   .where(Patient.id.in_(before.values()))).all()) == before
    later = _new_records(existing)[0]
    later.values["patient_id_number"] = "00000009"
    later_id = _create_with_orm(later)
    later_tumors = set(db_session.scalars(select(Tumor.id).where(Tumor.patient_id == later_id)))
    assert later_id > max(new.values()) and min(later_tumors) > max(new_tumors)


def test_driver_errors_come_out_as_sqlalchemy_errors_and_roll_back(app, dictionaries, tmp_path):
    source = tmp_path / "one.xml"
    source.write_text(_xml([(PATIENT, TUMORS)]), encoding="utf-8")
    (record,) = _new_records(source)
    _create_with_orm(record)
    counts = {model: db_session.query(model).count() for model in (Patient, Tumor, AuditEntry)}

    with pytest.raises(IntegrityError, match="patient_id_number|uq_patient"):
        with operation(IMPORT_ACTOR, ACTION) as session:
            insert_new_records(session, IMPORT_ACTOR, ACTION, [NewPatient({"patient_id_number": "00000777"}, {}),
                                                               record])

    db_session.expire_all()
    assert {model: db_session.query(model).count() for model in counts} == counts


def test_the_database_still_checks_each_value_it_is_sent(app, backend, tmp_path):
    """The bulk rows skip SQLAlchemy, not the database's own checks: a value its column does not take is
    refused (on PostgreSQL in COPY's binary format, where also a value too long for its column is) and
    nothing of the batch is written."""
    counts = {model: db_session.query(model).count() for model in (Patient, Tumor, AuditEntry)}
    refused = [(NewPatient({"name_last": "Nonumberdemo"}, {}), IntegrityError, "patient_id_number")]  # NOT NULL
    if backend == "postgresql":  # SQLite does not hold values to a column's length
        refused.append((NewPatient({"patient_id_number": "000000001", "name_last": "Toolongdemo"}, {}), DataError,
                        "character varying\\(8\\)"))  # 9 of 8 characters
    for record, error, named in refused:
        with pytest.raises(error, match=named):
            with operation(IMPORT_ACTOR, ACTION) as session:
                insert_new_records(session, IMPORT_ACTOR, ACTION, [NewPatient({"patient_id_number": "00000888"}, {}),
                                                                   record])
        db_session.expire_all()
        assert {model: db_session.query(model).count() for model in counts} == counts


@pytest.mark.parametrize(("ddl", "sent_as"), [("VARCHAR(8)", "text"), ("JSON", "text"), ("INTEGER", "int4"),
                                              ("TIMESTAMP WITH TIME ZONE", "timestamptz"), ("text", "text")])
def test_each_column_type_has_its_binary_copy_type(ddl, sent_as):
    assert bulk.copy_type(ddl) == sent_as


def test_a_column_type_without_a_binary_copy_type_is_refused_by_name():
    with pytest.raises(ValueError, match="NUMERIC\\(5, 2\\)"):
        bulk.copy_type("NUMERIC(5, 2)")


def test_batches_commit_without_waiting_for_the_disk_and_the_closing_entry_waits(app, dictionaries, backend, tmp_path):
    """On PostgreSQL each batch sets ``synchronous_commit`` off for itself; the import's closing audit
    entry commits normally, which flushes the log of every batch before it."""
    source = tmp_path / "three.xml"
    source.write_text(_xml([({"patientIdNumber": f"0000060{n}", "nameLast": "Durabledemo"}, TUMORS[:1])
                            for n in range(3)]), encoding="utf-8")
    store, _ = installed_dictionaries()
    seen: list[str] = []
    engine = db_session.get_bind()

    def statement(_conn, _cursor, sql, *_args):
        seen.append(sql)

    def commit(_conn):
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        result = import_file(source, actor=IMPORT_ACTOR, store=store, batch_size=1, save_hooks=False)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)

    assert (result.status, result.patients_created) == ("ok", 3), result.fatal
    relaxed = [sql for sql in seen if "synchronous_commit" in sql]
    assert relaxed == (["SET LOCAL synchronous_commit TO off"] * 3 if backend == "postgresql" else [])
    closing = max(i for i, sql in enumerate(seen) if sql.startswith("INSERT INTO audit_entry"))
    opened = max(i for i, sql in enumerate(seen[:closing]) if sql == "COMMIT")
    assert "COMMIT" in seen[closing:] and not any("synchronous_commit" in sql for sql in seen[opened:])
    assert db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == ACTION


@pytest.fixture
def refuse_site_c619(app, backend):
    """A database rule the importer does not know: no tumor of site C619 (as a trigger or a CHECK)."""
    if backend == "sqlite":
        create = ("CREATE TRIGGER refuse_c619 BEFORE INSERT ON tumor WHEN NEW.primary_site = 'C619' "
                  "BEGIN SELECT RAISE(ABORT, 'refused by the test rule'); END")
        drop = "DROP TRIGGER refuse_c619"
    else:
        create = "ALTER TABLE tumor ADD CONSTRAINT refuse_c619 CHECK (primary_site <> 'C619')"
        drop = "ALTER TABLE tumor DROP CONSTRAINT refuse_c619"
    db_session.execute(text(create))
    db_session.commit()
    yield
    db_session.rollback()
    db_session.execute(text(drop))
    db_session.commit()


def test_a_refused_batch_is_retried_record_by_record(app, dictionaries, refuse_site_c619, tmp_path):
    good = TUMORS[:1]
    source = tmp_path / "three.xml"
    source.write_text(_xml([({"patientIdNumber": "00000501", "nameLast": "Firstdemo"}, good),
                            ({"patientIdNumber": "00000502", "nameLast": "Refuseddemo"}, TUMORS),
                            ({"patientIdNumber": "00000503", "nameLast": "Thirddemo"}, good)]), encoding="utf-8")
    store, _ = installed_dictionaries()

    result = import_file(source, actor=IMPORT_ACTOR, store=store, save_hooks=False)

    assert (result.records_rejected, result.patients_created, result.tumors_created) == (1, 2, 2)
    (rejection,) = result.rejections
    assert rejection.patient_id_number == "00000502"
    assert rejection.reason.startswith("the database refused the record")
    assert db_session.scalars(select(Patient.patient_id_number).order_by(Patient.id)).all() == ["00000501",
                                                                                                "00000503"]
    patient_ids = set(db_session.scalars(select(Patient.id)))
    audited = set(db_session.scalars(select(AuditEntry.patient_id).where(AuditEntry.action == f"{ACTION}:create")))
    assert audited == patient_ids
    assert db_session.query(AuditEntry).filter(AuditEntry.action == f"{ACTION}:create").count() == 2 * 2


def test_a_concurrent_writer_taking_the_ids_leads_to_a_retry_not_a_loss(app, dictionaries, database_url,
                                                                        monkeypatch, tmp_path):
    """SQLite draws ids after ``max(id)``: another writer committing in between makes the batch fail and
    the records go in one by one; PostgreSQL's sequences never hand out the same id twice."""
    other = create_engine(database_url, connect_args={"timeout": 5} if database_url.startswith("sqlite") else {})
    next_ids = bulk._Writer.next_ids
    interfered = []

    def next_ids_then_concurrent_insert(self, table, count):
        ids = next_ids(self, table, count)
        if table.name == "patient" and not interfered:
            with other.begin() as connection:
                connection.execute(Patient.__table__.insert().values(
                    patient_id_number="00000999", name_last="Concurrent", extra_items={}))
            interfered.append(ids)
        return ids

    monkeypatch.setattr(bulk._Writer, "next_ids", next_ids_then_concurrent_insert)
    source = tmp_path / "three.xml"
    source.write_text(_xml([({"patientIdNumber": f"0000060{n}", "nameLast": "Racedemo"}, TUMORS[:1])
                            for n in range(3)]), encoding="utf-8")
    store, _ = installed_dictionaries()
    try:
        result = import_file(source, actor=IMPORT_ACTOR, store=store, save_hooks=False)
    finally:
        other.dispose()

    assert interfered
    assert (result.status, result.patients_created, result.tumors_created) == ("ok", 3, 3)
    rows = db_session.execute(select(Patient.patient_id_number, Patient.id)).all()
    assert sorted(number for number, _ in rows) == ["00000600", "00000601", "00000602", "00000999"]
    assert len({ident for _, ident in rows}) == 4
    assert db_session.query(AuditEntry).filter(AuditEntry.action == f"{ACTION}:create").count() == 3 * 2


@pytest.mark.parametrize("table, written", [(Patient.__table__, bulk.PATIENT_COLUMNS),
                                            (Tumor.__table__, bulk.TUMOR_COLUMNS),
                                            (FirstCourseTreatment.__table__, bulk.TREATMENT_COLUMNS),
                                            (AuditEntry.__table__, bulk.AUDIT_COLUMNS)])
def test_bulk_columns_cover_every_default_the_core_insert_applies(table, written):
    """A column added later with a Python-side default or NOT NULL must be written by the bulk path too."""
    assert set(written) <= set(table.columns.keys())
    for column in table.columns:
        if column.name in written:
            continue
        assert column.default is None, column.name
        assert column.nullable or column.server_default is not None or column.primary_key, column.name
