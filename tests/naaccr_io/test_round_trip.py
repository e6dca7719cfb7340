"""Official samples go into an empty registry and come out again item for item; re-imports change nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import AuditEntry, Patient, Tumor
from registry.naaccr import load_dictionary
from registry.naaccr.importer import import_file
from registry.naaccr.records import installed_dictionaries
from reports.submissions import export_file
from tests.naaccr_io.conftest import FLAT_DIR, SAMPLES_DIR
from tests.naaccr_io.helpers import file_header, file_items, without_added_derived

SAMPLES = sorted(path for path in SAMPLES_DIR.rglob("*.xml*") if "dictionary" not in path.name)
USER_DICTIONARY = FLAT_DIR / "my-dictionary.xml"


def _users(sample):
    return [load_dictionary(USER_DICTIONARY)] if "non-standard" in sample.name else []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_sample_imports_and_exports_string_for_string(app, install_dictionaries, sample, tmp_path):
    from registry.naaccr import DictionaryStore
    from tests.naaccr_io.conftest import DICTIONARY_DIR
    header = file_header(sample, DictionaryStore.from_directory(DICTIONARY_DIR), _users(sample))
    install_dictionaries(header.naaccr_version)
    store, _ = installed_dictionaries()
    users = _users(sample)

    result = import_file(sample, actor=SYSTEM, store=store, user_dictionaries=users, save_hooks=False)
    original = file_items(sample, store, users)
    assert result.status == "ok", result.rejections[:3]
    assert result.patients_created == len(original)
    assert result.tumors_created == sum(len(tumors) for _, tumors in original)
    assert db_session.scalar(select(func.count(Patient.id))) == len(original)

    out = tmp_path / "again.xml"
    export_file(out, store.get(header.naaccr_version), header.record_type or "A", user_dictionaries=users,
                allow_any_version=True)
    assert file_items(out, store, users) == original


def test_saving_imported_tumors_derives_and_keeps_every_item(app, dictionaries, tmp_path):
    sample = SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-10.xml.gz"
    store, _ = installed_dictionaries()
    assert import_file(sample, actor=SYSTEM, store=store).status == "ok"
    out = tmp_path / "again.xml"
    export_file(out, store.get("250"), "A")
    original, exported = file_items(sample, store), file_items(out, store)
    assert without_added_derived(exported, original) == original
    assert all("survDateDxRecode" in tumor for _, tumors in exported for tumor in tumors)


def test_reimport_matches_everything_and_writes_nothing(app, dictionaries):
    sample = SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-100.xml.gz"
    store, _ = installed_dictionaries()
    first = import_file(sample, actor=SYSTEM, store=store, batch_size=7)
    audit_rows = db_session.scalar(select(func.count(AuditEntry.id)))
    again = import_file(sample, actor=SYSTEM, store=store, batch_size=7)
    assert (first.patients_created, first.tumors_created) == (90, 100)
    assert (again.patients_created, again.tumors_created, again.patients_updated, again.tumors_updated) == (0, 0, 0, 0)
    assert (again.patients_unchanged, again.tumors_unchanged) == (90, 100)
    assert db_session.scalar(select(func.count(Tumor.id))) == 100
    assert db_session.scalar(select(func.count(AuditEntry.id))) == audit_rows + 1  # the import's own log line


def test_flat_v18_file_and_its_xml_twin_import_to_the_same_records(app, install_dictionaries):
    install_dictionaries("180")
    store, _ = installed_dictionaries()
    flat = import_file(FLAT_DIR / "synthetic-data_naaccr-180-incidence_10-records.txt", actor=SYSTEM, store=store,
                       flat_version="180")
    assert flat.status == "ok" and flat.tumors_created == 10
    twin = import_file(FLAT_DIR / "synthetic-data_naaccr-180-incidence_10-tumors.xml", actor=SYSTEM, store=store)
    assert (twin.patients_created, twin.tumors_created, twin.patients_updated, twin.tumors_updated) == (0, 0, 0, 0)
    assert twin.tumors_unchanged == 10
    from registry.naaccr.records import ItemMap
    item_map = ItemMap(store.get("180"))
    stored = [item_map.record_of(p) for p in db_session.scalars(select(Patient).order_by(Patient.id))]
    expected = file_items(FLAT_DIR / "synthetic-data_naaccr-180-incidence_10-tumors.xml", store)
    stored = [(r["items"], [t["items"] for t in r["tumors"]]) for r in stored]
    assert without_added_derived(stored, expected) == expected
