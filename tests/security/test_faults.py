"""Faults: an import killed halfway, a database that goes away and comes back, two saves of one abstract."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from registry.db import db_session
from registry.models import AuditEntry, Patient, Tumor
from tests.abstracting.conftest import form_fields
from tests.reference import REFERENCE_DIR
from tests.security.conftest import PASSWORD, sign_in
from tests.security.headers import assert_security_headers

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REFERENCE_DIR / "naaccr" / "samples" / "naaccr-xml-sample-v250-incidence-1000.xml.gz"
DICTIONARY = REFERENCE_DIR / "naaccr" / "dictionaries" / "naaccr-dictionary-250.xml"
BATCH = 25


def _flask(database_url: str, *args: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url)
    env.pop("REDIS_URL", None)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(text(sql))


def test_an_import_killed_halfway_leaves_whole_batches_and_runs_again_to_completion(app, database_url, tmp_path):
    from registry.audit import SYSTEM
    from registry.reference import install
    install("naaccr-dictionary", DICTIONARY, actor=SYSTEM, store=tmp_path / "store")
    engine = create_engine(database_url)
    importing = _flask(database_url, "naaccr", "import", str(SAMPLE), "--batch-size", str(BATCH))
    deadline = time.time() + 120
    while time.time() < deadline and importing.poll() is None:
        if _count(engine, "SELECT count(*) FROM patient") >= 2 * BATCH:
            break
        time.sleep(0.05)
    assert importing.poll() is None, "the import finished before it could be killed: " + importing.stdout.read()
    importing.send_signal(signal.SIGKILL)
    importing.wait(timeout=30)
    patients = _count(engine, "SELECT count(*) FROM patient")
    assert 0 < patients < 1000
    assert patients % BATCH == 0, f"{patients} patients: a batch of {BATCH} was left half-written"
    assert _count(engine, "SELECT count(*) FROM patient WHERE id NOT IN (SELECT patient_id FROM tumor)") == 0
    # the audit rows of a batch are written in the same transaction as the batch
    assert _count(engine, "SELECT count(*) FROM audit_entry WHERE entity = 'patient' AND action = 'naaccr_import\\:create'") \
        == patients

    again = _flask(database_url, "naaccr", "import", str(SAMPLE), "--batch-size", str(BATCH))
    output, _ = again.communicate(timeout=600)
    assert again.returncode in (0, 1), output
    total = _count(engine, "SELECT count(*) FROM patient")
    assert total > patients
    assert total == _count(engine, "SELECT count(DISTINCT patient_id_number) FROM patient"), "an import duplicated"
    engine.dispose()


def test_two_saves_of_one_abstract_through_the_form_never_lose_a_change(app, registry, make_user):
    from abstracts import operations as ops
    from registry.audit import SYSTEM
    from tests.abstracting.conftest import PATIENT, TUMOR
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    tumor_id = ops.create_tumor(patient.id, TUMOR, actor=SYSTEM).id  # in progress
    first = registry.principals["registrar"].client
    second = sign_in(app, make_user("registrar", "registrar2").username)
    path = f"/patients/{patient.id}/tumors/{tumor_id}"
    mine, theirs = (form_fields(c.get(path).get_data(as_text=True), "abstract-form") for c in (first, second))
    mine["remarks"] = "first registrar's remark"
    saved = first.post(path, data=mine)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    theirs["remarks"] = "second registrar's remark"
    theirs["laterality"] = "2" if theirs.get("laterality") != "2" else "1"
    refused = second.post(path, data=theirs)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Someone else saved this abstract" in body
    assert "first registrar&#39;s remark" in body
    tumor = db_session.get(Tumor, tumor_id, populate_existing=True)
    assert tumor.extra_items.get("textRemarks") == "first registrar's remark"
    assert tumor.laterality != theirs["laterality"], "the refused save wrote something"
    # the second registrar reloads and applies their change: both changes are kept
    fresh = form_fields(second.get(path).get_data(as_text=True), "abstract-form")
    fresh["laterality"] = theirs["laterality"]
    assert second.post(path, data=fresh).status_code == 302
    tumor = db_session.get(Tumor, tumor_id, populate_existing=True)
    assert (tumor.extra_items.get("textRemarks"), tumor.laterality) == ("first registrar's remark",
                                                                        theirs["laterality"])


# --- the database goes away and comes back -----------------------------------------------------

def _assert_unavailable(client, where: str) -> None:
    page = client.get("/patients")
    body = page.get_data(as_text=True)
    assert page.status_code == 503 and "Database unavailable" in body, f"{where}: {page.status_code} {body[:300]}"
    assert "Traceback" not in body and "OperationalError" not in body
    assert_security_headers(page, where)
    api = client.get("/api/v1/patients", headers={"Authorization": "Bearer crt_whatever"})
    assert api.status_code == 503 and api.json["error"]["code"] == "database_unavailable"


def test_sqlite_file_moved_away_gives_503_and_the_app_recovers(tmp_path):
    from registry.app import create_app
    from registry.auth.operations import create_user
    from registry.cli import upgrade_database
    folder = tmp_path / "db"
    folder.mkdir()
    url = f"sqlite:///{folder / 'registry.db'}"
    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "JOB_FILES_DIR": str(tmp_path / "jobs")})
    engine = app.extensions["registry_engine"]
    with app.app_context():
        create_user("registrar1", PASSWORD, "registrar")
        client = sign_in(app, "registrar1")
        assert client.get("/patients").status_code == 200
        folder.rename(tmp_path / "away")
        engine.dispose()  # the server loses its connections
        _assert_unavailable(client, "sqlite away")
        (tmp_path / "away").rename(folder)
        assert client.get("/patients").status_code == 200
    engine.dispose()


@pytest.fixture
def own_postgres():
    """A throwaway PostgreSQL cluster this test may stop and start."""
    from tests.conftest import ThrowawayPostgres
    cluster = ThrowawayPostgres("fault")
    try:
        yield cluster.url, cluster.pg_ctl
    finally:
        cluster.close()


def test_postgresql_stopped_gives_503_and_the_app_recovers_when_it_starts(own_postgres, tmp_path):
    from registry.app import create_app
    from registry.auth.operations import create_user
    from registry.cli import upgrade_database
    url, pg_ctl = own_postgres
    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "JOB_FILES_DIR": str(tmp_path / "jobs")})
    with app.app_context():
        create_user("registrar1", PASSWORD, "registrar")
        client = sign_in(app, "registrar1")
        assert client.get("/patients").status_code == 200
        pg_ctl("-m", "fast", "stop")
        _assert_unavailable(client, "postgresql stopped")
        pg_ctl("start")
        assert client.get("/patients").status_code == 200
        assert db_session.scalar(select(func.count(AuditEntry.id))) > 0
        assert db_session.scalar(select(func.count(Patient.id))) == 0
    app.extensions["registry_engine"].dispose()
