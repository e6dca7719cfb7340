"""List and search reads are audited: who, when, the query (SSN digits masked) and every patient shown."""
from __future__ import annotations

from sqlalchemy import func, select

from registry.db import db_session
from registry.models import AuditEntry, Patient, SuspenseCase


def _last_id() -> int:
    return db_session.scalar(select(func.max(AuditEntry.id))) or 0


def _since(last: int, user_id: int) -> list[AuditEntry]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.id > last, AuditEntry.user_id == user_id)))


def _patients_named_in(text: str) -> set[int]:
    """Ids of the registry's patients whose Patient ID Number [20] a page or JSON body shows."""
    return {patient.id for patient in db_session.scalars(select(Patient)) if patient.patient_id_number in text}


def test_every_list_page_logs_the_patients_it_shows(app, registry):
    from abstracts import operations as ops
    from registry.audit import SYSTEM
    from tests.abstracting.conftest import TUMOR
    registrar = registry.principals["registrar"]
    who = registrar.user.id
    a_patient = db_session.scalars(select(Patient).order_by(Patient.id)).first()
    in_progress = ops.create_tumor(a_patient.id, TUMOR, actor=SYSTEM)
    pages = ["/patients", f"/patients?name={a_patient.name_last}", "/follow-up?list=delinquent",
             "/queue/in_progress", "/queue/suspense", "/suspense", "/"]
    for path in pages:
        last = _last_id()
        response = registrar.client.get(path)
        assert response.status_code == 200, path
        entries = _since(last, who)
        assert entries, f"{path} left no audit entry"
        assert all(e.action.startswith("view_list") and e.username == registrar.user.username for e in entries)
        shown = _patients_named_in(response.get_data(as_text=True))
        logged = {e.patient_id for e in entries if e.patient_id is not None}
        assert shown <= logged, f"{path} showed patients {sorted(shown - logged)} without logging them"
        assert path.partition("?")[2] in entries[0].detail
    suspense = _since(0, who)
    case_ids = set(db_session.scalars(select(SuspenseCase.id)))
    assert {int(e.entity_id) for e in suspense if e.entity == "suspense_case"} == case_ids
    assert (str(in_progress.id), a_patient.id) in {(e.entity_id, e.patient_id) for e in suspense
                                                   if e.entity == "tumor" and "abstracts.queue" in e.action}


def test_an_api_page_logs_every_patient_id_and_an_ssn_search_its_masked_term_and_result(app, registry):
    registrar = registry.principals["registrar"]
    who = registrar.user.id
    last = _last_id()
    body = registrar.api("GET", "/api/v1/patients?per_page=200").get_json()
    ids = {item["id"] for item in body["items"]}
    assert ids and ids == {e.patient_id for e in _since(last, who) if e.patient_id is not None}

    target = db_session.scalars(select(Patient).where(Patient.social_security_number.is_not(None))
                                .order_by(Patient.id)).first()
    last4 = target.social_security_number[-4:]
    for path in (f"/api/v1/patients?ssn_last4={last4}", f"/patients?ssn_last4={last4}"):
        last = _last_id()
        response = registrar.api("GET", path) if path.startswith("/api/") else registrar.client.get(path)
        assert response.status_code == 200
        entries = _since(last, who)
        assert target.id in {e.patient_id for e in entries}, f"{path}: the patient found is not logged"
        searched = [e for e in entries if e.action.startswith("view_list")]
        assert searched and all("ssn_last4=%2A%2A%2A%2A" in e.detail and last4 not in e.detail for e in searched)

    last = _last_id()
    assert registrar.client.get("/patients?ssn_last4=0000&name=Nobodyxyz").status_code == 200
    [nothing] = _since(last, who)
    assert nothing.patient_id is None and "(0 shown)" in nothing.detail and "name=Nobodyxyz" in nothing.detail


def test_who_saw_a_patient_in_a_list_is_found_on_the_audit_page(app, registry):
    registrar, admin = registry.principals["registrar"], registry.principals["admin"]
    patient = db_session.scalars(select(Patient).order_by(Patient.id)).first()
    assert registrar.client.get(f"/patients?name={patient.name_last}").status_code == 200
    page = admin.client.get(f"/admin/audit/?patient={patient.id}&action=view_list").get_data(as_text=True)
    assert registrar.user.username in page and "view_list:abstracts.patients" in page


def test_a_researchers_de_identified_list_writes_no_patient_rows(app, registry):
    researcher = registry.principals["researcher"]
    last = _last_id()
    assert researcher.api("GET", "/api/v1/patients").status_code == 200
    assert not [e for e in _since(last, researcher.user.id) if e.action.startswith("view_list")]
