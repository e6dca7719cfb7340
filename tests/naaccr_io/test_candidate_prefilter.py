"""The candidate query of an import leaves out patients no rule could match, and only those.

``Importer._index`` fetches the registry patients of a batch's Patient ID Numbers and dates of
birth, and its gates in Python keep a patient for a rule only when the rule's first field,
without case or surrounding white space, is some record's. The query narrows the patients of those
dates with an ASCII fold of the same fields in SQL; values the fold cannot judge (non-ASCII
letters, tabs) must still come, so the gates decide them as before.
"""
from __future__ import annotations

import random

import pytest
from sqlalchemy import event, func, or_, select

import registry.naaccr.importer as importer_module
from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.models import Patient
from registry.naaccr.importer import _MATCH_COLUMNS, Importer, _rule_keys, import_file
from registry.naaccr.records import installed_dictionaries

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A" '
        'specificationVersion="1.8" xmlns="http://naaccr.org/naaccrxml">\n')
TUMOR = {"primarySite": "C509", "histologicTypeIcdO3": "8500", "behaviorCodeIcdO3": "3",
         "dateOfDiagnosis": "20240105", "sequenceNumberHospital": "00"}
BIRTH = "19600412"


def _patient(items: dict[str, str]) -> str:
    body = "".join(f'<Item naaccrId="{k}">{v}</Item>\n' for k, v in items.items())
    body += "<Tumor>\n" + "".join(f'<Item naaccrId="{k}">{v}</Item>\n' for k, v in TUMOR.items()) + "</Tumor>\n"
    return f"<Patient>\n{body}</Patient>\n"


def _import(tmp_path, *records: dict[str, str]):
    source = tmp_path / "batch.xml"
    source.write_text(HEAD + "".join(_patient(r) for r in records) + "</NaaccrData>\n", encoding="utf-8")
    store, _ = installed_dictionaries()
    return import_file(source, actor=SYSTEM, store=store)


def _seed(*patients: dict[str, str]) -> list[int]:
    with operation(SYSTEM, "seed") as session:
        rows = [Patient(**columns) for columns in patients]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


# (stored registry patient, the file's record): same person, same date of birth, another Patient ID Number
SAME_PERSON = {
    "non-ASCII name": ({"name_last": "Muñoz", "name_first": "Ana"},
                       {"nameLast": "MUÑOZ", "nameFirst": "ANA"}),
    "non-ASCII name in lower case": ({"name_last": "muñoz", "name_first": "ana"},
                                     {"nameLast": "MUÑOZ", "nameFirst": "Ana"}),
    "non-ASCII first name": ({"name_last": "Smith", "name_first": "José"},
                             {"nameLast": "SMITH", "nameFirst": "JOSÉ"}),
    "first name with a tab": ({"name_last": "Smith", "name_first": "John\t"},
                              {"nameLast": "SMITH", "nameFirst": "JOHN"}),
    "lower-case name": ({"name_last": "smith", "name_first": "john"},
                        {"nameLast": "SMITH", "nameFirst": "JOHN"}),
    "name with spaces around": ({"name_last": " Smith ", "name_first": "John"},
                                {"nameLast": "SMITH", "nameFirst": "John"}),
    "name with a tab": ({"name_last": "Smith\t", "name_first": "John"},
                        {"nameLast": "SMITH", "nameFirst": "John"}),
    "name with a tab and a space before": ({"name_last": "\t smith", "name_first": "John"},
                                           {"nameLast": "Smith", "nameFirst": "John"}),
    "SSN with spaces around": ({"social_security_number": " 1234567 ", "name_last": "Oldname", "name_first": "Jo"},
                               {"socialSecurityNumber": "1234567", "nameLast": "Newname", "nameFirst": "Jo"}),
    "SSN with a tab": ({"social_security_number": "12345678\t", "name_last": "Oldname", "name_first": "Jo"},
                       {"socialSecurityNumber": "12345678", "nameLast": "Newname", "nameFirst": "Jo"}),
    "Patient ID Number with a space": ({"patient_id_number": " 0000042", "name_last": "Oldname"},
                                       {"patientIdNumber": "0000042", "nameLast": "Newname"}),
}


@pytest.mark.parametrize("stored, record", SAME_PERSON.values(), ids=SAME_PERSON.keys())
def test_the_record_still_matches_a_patient_stored_in_another_case_or_spacing(app, dictionaries, tmp_path,
                                                                              stored, record):
    [patient_id] = _seed({"patient_id_number": "00000001", "date_of_birth": BIRTH, **stored})
    _seed({"patient_id_number": "00000002", "date_of_birth": BIRTH, "name_last": "Otherdemo",
           "name_first": "Ana", "social_security_number": "987654321"})

    result = _import(tmp_path, {"patientIdNumber": "00000900", "dateOfBirth": BIRTH, **record})

    assert result.status == "ok", result.rejections
    assert (result.patients_created, result.patients_updated + result.patients_unchanged) == (0, 1)
    assert db_session.scalar(select(func.count(Patient.id))) == 2
    assert db_session.get(Patient, patient_id).tumors  # the tumor went to the stored patient


def test_the_candidate_query_leaves_out_the_patients_of_the_dates_no_rule_could_match(app, dictionaries, tmp_path):
    [smith, nandu, by_number] = _seed(
        {"patient_id_number": "00000001", "date_of_birth": BIRTH, "name_last": "smith", "name_first": "John"},
        # a value the SQL fold cannot judge comes anyway, for the gate to refuse
        {"patient_id_number": "00000002", "date_of_birth": BIRTH, "name_last": "Ñandú", "name_first": "Eva"},
        {"patient_id_number": "00000800", "date_of_birth": "19010101", "name_last": "Numberdemo"})
    _seed(*({"patient_id_number": f"{100 + n:08d}", "date_of_birth": BIRTH, "name_last": f"Other{chr(97 + n)}demo",
             "name_first": "John", "social_security_number": f"{500000000 + n}"} for n in range(20)))
    # the same surname and birth date, another first name: no key of the import's is theirs
    _seed(*({"patient_id_number": f"{200 + n:08d}", "date_of_birth": BIRTH, "name_last": "Smith",
             "name_first": f"Other{chr(97 + n)}", "social_security_number": f"{600000000 + n}"} for n in range(5)))
    engine = app.extensions["registry_engine"]
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "date_of_birth" in statement.partition("WHERE")[2]:  # the candidates, by number or date of birth
            statements.append((statement, parameters))

    event.listen(engine, "after_cursor_execute", capture)
    try:
        result = _import(tmp_path,
                         {"patientIdNumber": "00000900", "dateOfBirth": BIRTH, "nameLast": "SMITH",
                          "nameFirst": "John", "socialSecurityNumber": "123456789"},
                         {"patientIdNumber": "00000800", "nameLast": "Numberdemo"})
    finally:
        event.remove(engine, "after_cursor_execute", capture)

    assert (result.patients_created, result.patients_updated + result.patients_unchanged) == (0, 2), result.rejections
    [(statement, parameters)] = statements
    with engine.connect() as conn:  # the same statement again, on what the registry holds now
        fetched = {row[0] for row in conn.exec_driver_sql(statement, parameters)}
    assert fetched == {smith, nandu, by_number}  # not the 25 others born that day


# spellings that Python's strip().upper() brings together, and SQL's upper()/trim() do not all
LAST = ["Smith", "smith", " SMITH", "Smith\t", "\u00a0Smith", "\x1fsmith", "Muñoz", "MUÑOZ", "muñoz ", "Straße",
        "STRASSE", "Dıaz", "DIAZ", "diaz", "Oﬁeld", "OFIELD", "Lee", "lee", "Ng", None]
FIRST = ["Ana", "ana ", "ANA", "Eva", "eva\t", "José", "JOSÉ", None]
SSN = ["12345678", " 12345678", "12345678 ", "1234567\t", "87654321", "87654321", "999999999", "١٢٣٤", None]
BIRTHS = ["19600412", "19700101", "19800202", "19900303"]


def _spelled(rng: random.Random) -> dict[str, str | None]:
    number = f"{rng.randrange(60):07d}"
    return {"patient_id_number": rng.choice([number, " " + number, number + " ", number.replace("0", "o", 1)]),
            "name_last": rng.choice(LAST), "name_first": rng.choice(FIRST),
            "social_security_number": rng.choice(SSN), "date_of_birth": rng.choice(BIRTHS)}


def _as_ids(index):
    return {rule: {key: sorted(getattr(entry, "id", entry) for entry in found) for key, found in keys.items()}
            for rule, keys in index.items()}


def _looked_up(index, keys):
    """The entries a record of the batch can find (``_match`` looks up only the records' own keys)."""
    wanted = {(rule, key) for record in keys for rule, key in record}
    return {rule: {key: found for key, found in entries.items() if (rule, key) in wanted}
            for rule, entries in index.items()}


def test_the_index_is_the_one_the_unfiltered_query_gives(app, monkeypatch):
    """Under every key a record of the batch has: the same patients, with the same known SSNs."""
    rng = random.Random(20240105)
    stored, numbers = [], set()
    while len(stored) < 240:
        columns = _spelled(rng)
        if columns["patient_id_number"] not in numbers:
            numbers.add(columns["patient_id_number"])
            stored.append(columns)
    _seed(*stored)
    filtered = importer_module._candidates

    def unfiltered(table, dialect, numbers, births, keys):
        return select(table.c.id, *(table.c[name] for name in _MATCH_COLUMNS)).where(
            or_(table.c.patient_id_number.in_(numbers), table.c.date_of_birth.in_(births)))

    fetched, totals = {}, {unfiltered: 0, filtered: 0}

    def counting(choice):
        def query(table, dialect, numbers, births, keys):
            candidates = choice(table, dialect, numbers, births, keys)
            fetched[choice] = db_session.scalar(select(func.count()).select_from(candidates.subquery()))
            totals[choice] += fetched[choice]
            return candidates
        return query

    for _ in range(12):
        batch = [{k: v for k, v in _spelled(rng).items() if v is not None} for _ in range(rng.randrange(1, 30))]
        keys = [_rule_keys(values) for values in batch]
        results = []
        for choice in (unfiltered, filtered):
            monkeypatch.setattr(importer_module, "_candidates", counting(choice))
            importer = Importer(actor=SYSTEM, store=None)
            index = _looked_up(_as_ids(importer._index(db_session(), batch, keys)), keys)
            ssn = {patient: known for patient, known in importer._candidate_ssn.items()
                   if any(patient in found for entries in index.values() for found in entries.values())}
            results.append((index, ssn))
            db_session.rollback()
        assert results[0] == results[1]
        assert fetched[filtered] <= fetched[unfiltered]
    assert totals[filtered] < totals[unfiltered]
