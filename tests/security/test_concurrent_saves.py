"""Two saves of one patient at the same moment, one unchanged and one changed, both from the current version.

PostgreSQL only: SQLite has one writer, so every request (which at least stamps its API token's last use)
waits for the other's transaction and the saves cannot interleave.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select

from registry.db import db_session, session_factory
from registry.models import Patient, PatientNameKey
from tests.security.conftest import Principal, new_client

CHANGED, UNCHANGED = "changed save", "unchanged save"
#: How long the changed save keeps its transaction open while the unchanged one runs: the unchanged one
#: should finish at once; the old code sat waiting for the lock (PostgreSQL) or the busy timeout (SQLite).
HOLD_SECONDS = 45


@pytest.mark.parametrize("migrated_database", ["postgresql"], indirect=True)
def test_an_unchanged_save_racing_a_changed_one_never_fails(app, make_user):
    from abstracts import operations as ops
    from abstracts import tokens
    from registry.audit import SYSTEM
    patient = ops.create_patient({"name_last": "Racedemo", "name_first": "Olga", "date_of_birth": "19600101",
                                  "sex": "2"}, actor=SYSTEM)
    user = make_user("registrar")
    _, plain = tokens.create_token(user, "race")
    fields = {"name_last": "Racedemo", "name_first": "Olga", "date_of_birth": "19600101", "sex": "2",
              "version": patient.version}
    flushed, release = threading.Event(), threading.Event()

    def hold_the_changed_save_open(session, _context) -> None:
        if threading.current_thread().name == CHANGED:
            flushed.set()
            release.wait(HOLD_SECONDS * 2)

    answers: dict[str, int] = {}

    def save(name_first: str) -> None:
        caller = Principal("registrar", new_client(app), user, plain)
        try:
            answers[threading.current_thread().name] = caller.api(
                "PATCH", f"/api/v1/patients/{patient.id}", json={**fields, "name_first": name_first}).status_code
        except Exception:  # the test client re-raises what would be a 500
            answers[threading.current_thread().name] = 500
        finally:
            db_session.remove()

    event.listen(session_factory, "after_flush_postexec", hold_the_changed_save_open)
    try:
        changed = threading.Thread(target=save, args=("Olgaa",), name=CHANGED)
        changed.start()
        assert flushed.wait(60), "the changed save never reached its flush"
        unchanged = threading.Thread(target=save, args=("Olga",), name=UNCHANGED)
        unchanged.start()
        unchanged.join(HOLD_SECONDS)
        release.set()
        changed.join(60)
        unchanged.join(60)
    finally:
        release.set()
        event.remove(session_factory, "after_flush_postexec", hold_the_changed_save_open)
    assert sorted(answers.values()) in ([200, 200], [200, 409]), answers
    db_session.expire_all()
    stored = db_session.get(Patient, patient.id)
    assert stored.name_first == "Olgaa"
    key = db_session.scalars(select(PatientNameKey).where(PatientNameKey.patient_id == patient.id)).one()
    assert key.first_name == "olgaa"
