"""The abstract printout: a PDF laid out like a paper abstract, from the page and over the API."""
from __future__ import annotations

import subprocess

from sqlalchemy import select

from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import load_demo_data
from registry.models import AuditEntry, Tumor


def _text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_the_printout_carries_the_patient_site_items_with_labels_and_text(app, client, login):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 5, seed=3)
    tumor = db_session.scalars(select(Tumor).order_by(Tumor.id)).first()
    with operation(SYSTEM, "test: items without a column") as session:
        stored = session.get(Tumor, tumor.id)
        stored.extra_items = {**(stored.extra_items or {}), "maritalStatusAtDx": "2",
                              "textDxProcPath": "Demo pathology text: invasive carcinoma (fake)."}
    login("registrar")
    response = client.get(f"/patients/{tumor.patient_id}/tumors/{tumor.id}/abstract.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(_text(response.data).split())
    patient = tumor.patient
    assert patient.name_last in text and patient.patient_id_number in text
    assert f"Primary site {tumor.primary_site}" in text
    assert "Marital Status at DX [150] 2 Married (includes common law)" in text
    assert "Demo pathology text: invasive carcinoma (fake)." in text
    for title in ("Patient demographics", "Cancer identification", "Stage and prognostic factors",
                  "First-course treatment", "Recurrence, follow-up and death", "Text documentation"):
        assert title in text
    assert db_session.scalar(select(AuditEntry.id).where(AuditEntry.action == "print_abstract",
                                                         AuditEntry.entity_id == str(tumor.id))) is not None
    assert client.get(f"/patients/{tumor.patient_id + 999}/tumors/{tumor.id}/abstract.pdf").status_code == 404


def test_the_printout_over_the_api_is_the_same_pdf_and_documented(app, client, make_user):
    from abstracts.tokens import create_token
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 3, seed=2)
    tumor = db_session.scalars(select(Tumor).order_by(Tumor.id)).first()
    _, token = create_token(make_user("registrar", "api.reg"), "tests")
    response = client.get(f"/api/v1/tumors/{tumor.id}/abstract.pdf", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert tumor.patient.name_last in _text(response.data)
    _, research = create_token(make_user("researcher", "api.res"), "tests")
    assert client.get(f"/api/v1/tumors/{tumor.id}/abstract.pdf",
                      headers={"Authorization": f"Bearer {research}"}).status_code == 403
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "application/pdf" in spec["paths"]["/tumors/{tumor_id}/abstract.pdf"]["get"]["responses"]["200"]["content"]
