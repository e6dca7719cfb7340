"""The audit trail: every identified read, change, export and sign-in is logged with who and when; the log
cannot be changed (not through the app, not by the ORM, not by SQL); administrators search and export it."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from registry.audit import AuditLogIsAppendOnly
from registry.db import db_session
from registry.models import AuditEntry, Job, JobStatus, Submission
from registry.models.patient import utcnow
from tests.security.access_rules import RULES
from tests.security.conftest import PASSWORD, csrf_of, new_client

ID_ARGUMENTS = {"patient_id", "tumor_id"}


def _last_id() -> int:
    return db_session.scalar(select(func.max(AuditEntry.id))) or 0


def _since(last: int) -> list[AuditEntry]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id)))


def _recent(entry: AuditEntry) -> bool:
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=dt.timezone.utc)
    return utcnow() - dt.timedelta(minutes=5) < at <= utcnow()


def test_every_read_of_an_identified_record_is_logged(app, registry):
    """Each identified GET that names a patient or tumor, and each identified API read, leaves who/when/which patient
    (read by a registrar, or by an administrator where only administrators may read it)."""
    values = registry.values_for("registrar")
    checked = []
    for rule in app.url_map.iter_rules():
        access = RULES.get(rule.endpoint)
        arguments = rule.arguments - set(rule.defaults or {})
        if access is None or not access.phi or "GET" not in rule.methods:
            continue
        if not (arguments & ID_ARGUMENTS or access.token):
            continue
        registrar = registry.principals["registrar" if "registrar" in access.roles else "admin"]
        path = rule.build({name: values[name] for name in arguments}, append_unknown=False)[1]
        last = _last_id()
        response = registrar.api("GET", path) if access.token else registrar.client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        entries = [e for e in _since(last) if e.user_id == registrar.user.id]
        assert entries, f"GET {path} ({rule.endpoint}) showed identified data but left no audit entry"
        assert all(_recent(e) and e.username == registrar.user.username for e in entries)
        if arguments & ID_ARGUMENTS:
            assert values["patient_id"] in {e.patient_id for e in entries}, f"{path}: entry names no patient"
        checked.append(rule.endpoint)
    assert {"abstracts.patient", "abstracts.abstract", "abstracts.follow_up", "followup.letter", "api.get_patient",
            "api.get_tumor", "api.get_treatment", "api.list_patients", "api.list_tumors"} <= set(checked)


def test_every_change_is_logged_with_who_when_and_what(app, registry):
    registrar, reviewer = registry.principals["registrar"], registry.principals["reviewer"]
    patient_id = registry.ids["patient_id"]
    patient = registrar.api("GET", f"/api/v1/patients/{patient_id}").json
    last = _last_id()
    response = registrar.api("PATCH", f"/api/v1/patients/{patient_id}",
                             json={"version": patient["version"], "name_first": "Changeddemo"})
    assert response.status_code == 200, response.json
    created = reviewer.api("POST", "/api/v1/patients", json={"name_last": "Newauditdemo", "sex": "2"})
    assert created.status_code == 201
    entries = _since(last)
    update = next(e for e in entries if e.action.endswith(":update") and e.entity == "patient")
    assert (update.user_id, update.patient_id) == (registrar.user.id, patient_id)
    assert update.changes["name_first"][1] == "Changeddemo" and _recent(update)
    insert = next(e for e in entries if e.action.endswith(":create") and e.entity == "patient")
    assert insert.user_id == reviewer.user.id and insert.changes["name_last"] == [None, "Newauditdemo"]
    # a refused change leaves nothing
    last = _last_id()
    refused = registrar.api("PATCH", f"/api/v1/patients/{patient_id}", json={"version": 1, "sex": "Q"})
    assert refused.status_code == 422
    assert [e for e in _since(last) if e.entity == "patient"] == []


def test_every_export_is_logged(app, registry, tmp_path):
    admin, researcher = registry.principals["admin"], registry.principals["researcher"]
    files = Path(app.config["JOB_FILES_DIR"])
    files.mkdir(parents=True, exist_ok=True)
    (files / "export.xml").write_text("<NaaccrData/>")
    job = Job(kind="naaccr-export", params={}, user_id=admin.user.id, status=JobStatus.FINISHED,
              result_file=str(files / "export.xml"))
    submission = Submission(file_name="export.xml", stored_path=str(files / "export.xml"), checksum="0" * 64,
                            naaccr_version="250", record_type="A", created_by="admin")
    db_session.add_all([job, submission])
    db_session.commit()
    exports = {
        "job_result_download": (admin, f"/jobs/{job.id}/result"),
        "naaccr_download": (admin, f"/admin/submissions/{submission.id}/download"),
        "audit_export": (admin, "/admin/audit/export.csv"),
        "survival_export": (researcher, "/survival/table.csv?measure=observed"),
        "follow_up_letter": (registry.principals["registrar"], f"/follow-up/letters/{registry.ids['patient_id']}.pdf"),
    }
    for action, (principal, path) in exports.items():
        last = _last_id()
        response = principal.client.get(path)
        response.get_data()
        if action == "survival_export" and response.status_code == 400:
            continue  # too few cases for a survival table; the page says why, nothing was exported
        assert response.status_code == 200, f"{path}: {response.status_code}"
        entries = [e for e in _since(last) if e.action == action]
        assert len(entries) == 1, f"{path}: no '{action}' audit entry"
        assert entries[0].user_id == principal.user.id and _recent(entries[0])


def test_every_sign_in_and_out_is_logged(app, make_user):
    user = make_user("reviewer")
    client = new_client(app)
    last = _last_id()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": user.username, "password": "not-the-password-1", "csrf_token": token})
    client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/account").get_data(as_text=True))})
    actions = [(e.action, e.user_id) for e in _since(last)]
    assert actions == [("login_failed:update", user.id), ("login:update", user.id), ("logout:update", user.id)]


def test_the_log_cannot_be_changed(app, registry, backend):
    """No route writes it, the ORM refuses, and the database trigger refuses UPDATE and DELETE from any client."""
    audit_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]
    assert audit_rules and all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in audit_rules)
    total = db_session.scalar(select(func.count(AuditEntry.id)))
    entry = db_session.scalars(select(AuditEntry)).first()
    entry.action = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.commit()
    db_session.rollback()
    db_session.delete(db_session.scalars(select(AuditEntry)).first())
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.commit()
    db_session.rollback()
    engine = app.extensions["registry_engine"]
    for statement in ("UPDATE audit_entry SET action = 'rewritten'", "DELETE FROM audit_entry",
                      f"DELETE FROM audit_entry WHERE id = {entry.id}"):
        with engine.connect() as conn:
            with pytest.raises(DBAPIError) as caught:
                conn.execute(text(statement))
            conn.rollback()
        assert "append-only" in str(caught.value), backend
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM audit_entry")) == total
        assert conn.scalar(text("SELECT count(*) FROM audit_entry WHERE action = 'rewritten'")) == 0


def test_administrators_search_and_export_the_log(app, registry):
    admin, registrar = registry.principals["admin"], registry.principals["registrar"]
    patient_id = registry.ids["patient_id"]
    registrar.client.get(f"/patients/{patient_id}")
    registry.principals["reviewer"].client.get(f"/patients/{patient_id}")
    page = admin.client.get(f"/admin/audit/?user={registrar.user.username}&patient={patient_id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "view_patient" in body and registrar.user.username in body
    assert registry.principals["reviewer"].user.username + "</td>" not in body
    today = dt.date.today()
    in_range = admin.client.get(f"/admin/audit/?date_from={today}&date_to={today}&action=view_patient")
    assert "2 entries" in in_range.get_data(as_text=True)
    future = admin.client.get(f"/admin/audit/?date_from={today + dt.timedelta(days=1)}")
    assert "No entry matches" in future.get_data(as_text=True)
    bad = admin.client.get("/admin/audit/?date_from=2025-13-45&patient=abc")
    text_ = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "From (YYYY-MM-DD): use a date" in text_ and "Patient (record id)" in text_

    last = _last_id()
    export = admin.client.get(f"/admin/audit/export.csv?patient={patient_id}&action=view_patient")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert {r["username"] for r in rows} == {registrar.user.username, registry.principals["reviewer"].user.username}
    assert all(r["patient_id"] == str(patient_id) and r["action"] == "view_patient" for r in rows)
    logged = [e for e in _since(last) if e.action == "audit_export"]
    assert len(logged) == 1 and logged[0].user_id == admin.user.id and f"patient={patient_id}" in logged[0].detail
    full = list(csv.DictReader(io.StringIO(admin.client.get("/admin/audit/export.csv").get_data(as_text=True))))
    # everything, including the line that records this export (written before the first byte)
    assert len(full) == db_session.scalar(select(func.count(AuditEntry.id)))
    assert full[-1]["action"] == "audit_export" and full[-1]["detail"] == "everything"
