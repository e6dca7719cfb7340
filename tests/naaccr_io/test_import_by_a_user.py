"""An import run by a user (the web's and the API's import jobs) whose batch the database refuses goes on record by
record and rejects the refused records: the user's row, detached by the failed batch, must not end the import."""
from __future__ import annotations

from registry.audit import SYSTEM, operation
from registry.demo import load_demo_data
from registry.naaccr.importer import import_file
from registry.naaccr.records import installed_dictionaries

from .conftest import SAMPLES_DIR


def test_a_users_import_rejects_the_records_the_database_refuses_and_imports_the_rest(app, make_user, tmp_path):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 4, seed=3)  # Patient ID Numbers 00000001-00000004, as the sample's first four
    store, _ = installed_dictionaries()
    user = make_user("registrar", "importing-registrar")
    result = import_file(SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-10.xml.gz", actor=user, store=store,
                         report=tmp_path / "report.csv")
    refused = [r for r in result.rejections if "the database refused the record" in r.reason]
    assert refused and result.records_rejected == len(refused) <= 4, result.summary()
    assert result.patients_created == result.patients_read - len(refused) > 0, result.summary()
