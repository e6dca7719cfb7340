"""SQL and script injection in every free-text field comes back inert: stored verbatim, rendered escaped,
searched as plain text, and the database intact."""
from __future__ import annotations

from markupsafe import escape
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import ApiToken, Patient, SuspenseCase, Tumor
from tests.abstracting.conftest import form_fields

PAYLOADS = ["<script>alert('x')</script>", "\"><img src=x onerror=alert(1)>", "'; DROP TABLE patient; --",
            "' OR '1'='1", "Robert'); DELETE FROM tumor;--", "{{7*7}}{% raw %}", "</textarea><svg onload=alert(1)>"]


def _inert(body: str, payload: str, where: str) -> None:
    if "<" in payload:
        assert payload not in body, f"{where}: the payload reached the page unescaped"
    assert str(escape(payload)) in body, f"{where}: the stored payload is not shown (escaped)"


def _intact(before: tuple[int, int]) -> None:
    db_session.expire_all()
    assert (db_session.scalar(select(func.count(Patient.id))), db_session.scalar(select(func.count(Tumor.id)))) \
        >= before


def test_payloads_are_stored_verbatim_and_rendered_escaped(app, registry):
    for payload in PAYLOADS:
        _try(registry, payload)


def _try(registry, payload: str) -> None:
    from abstracts import operations as ops
    from registry.audit import SYSTEM
    from tests.abstracting.conftest import PATIENT, TUMOR
    registrar, admin = registry.principals["registrar"], registry.principals["admin"]
    before = (db_session.scalar(select(func.count(Patient.id))), db_session.scalar(select(func.count(Tumor.id))))

    # casefinding: name and note
    response = registrar.client.post("/suspense", data={"name_last": payload[:40], "note": payload,
                                                        "source": "pathology", "csrf_token": registrar.csrf})
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert db_session.scalars(select(SuspenseCase.note).order_by(SuspenseCase.id.desc())).first() == payload
        _inert(registrar.client.get("/suspense").get_data(as_text=True), payload, "suspense list")

    # the abstract's remarks, shown on the form and in the patient's history
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, TUMOR, actor=SYSTEM)
    path = f"/patients/{patient.id}/tumors/{tumor.id}"
    fields = form_fields(registrar.client.get(path).get_data(as_text=True), "abstract-form")
    fields["remarks"] = payload
    assert registrar.client.post(path, data=fields).status_code == 302
    assert db_session.get(Tumor, tumor.id, populate_existing=True).extra_items["textRemarks"] == payload
    _inert(registrar.client.get(path).get_data(as_text=True), payload, "abstract form")
    history = registrar.client.get(f"/patients/{patient.id}").get_data(as_text=True)
    if "<" in payload:
        assert payload not in history

    # a name through the API, shown on the patient list and page; refused names are refused by field
    created = registrar.api("POST", "/api/v1/patients", json={"name_last": payload[:40], "sex": "1"})
    if created.status_code == 201:
        _inert(registrar.client.get(f"/patients/{created.json['id']}").get_data(as_text=True), payload[:40],
               "patient page")
    else:
        assert created.status_code == 422 and "name_last" in created.json["error"]["fields"]

    # an API token's name on the account page
    account = registrar.client.post("/account", data={"name": payload[:80], "days": "30", "csrf_token": registrar.csrf})
    assert db_session.scalars(select(ApiToken.name).order_by(ApiToken.id.desc())).first() == payload[:80].strip()
    _inert(account.get_data(as_text=True), payload[:80].strip(), "account page")

    # searches take the payload as plain text
    for client, url in ((registrar.client, "/patients?name="), (registrar.client, "/patients?medical_record_number="),
                        (admin.client, "/admin/audit/?user="), (admin.client, "/admin/audit/?action=")):
        response = client.get(url + payload)
        assert response.status_code == 200, url
        if "<" in payload:
            assert payload not in response.get_data(as_text=True), url
    assert registrar.api("GET", "/api/v1/patients", query_string={"name": payload}).status_code == 200
    _intact(before)
