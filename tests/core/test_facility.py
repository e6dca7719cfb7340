"""Facility settings: validated, audited, and used on follow-up letters and NAACCR exports (issue 22.4)."""
from __future__ import annotations

import html
import re
import subprocess

import pytest
from sqlalchemy import select

from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import load_demo_data
from registry.errors import InvalidInput
from registry.facility import npi_problem, update_facility
from registry.models import AuditEntry, Facility, Tumor, WorkflowState
from registry.naaccr.records import installed_dictionaries
from reports.submissions import create_submission
from tests.naaccr_io.helpers import file_items

GOOD = {"name": "Springfield Demo Hospital", "reporting_facility": "0006543210", "npi_reporting_facility": "1234567893",
        "address_city": "Springfield-Demo", "address_state": "IL", "registry_contact": "R. Egistrar (fake)"}


@pytest.mark.parametrize("npi, ok", [("1234567893", True), ("1234567890", False), ("123456789", False),
                                     ("12345678AB", False)])
def test_npi_check_digit(npi, ok):
    assert (npi_problem(npi) is None) is ok


def test_settings_are_validated_and_audited(app):
    with pytest.raises(InvalidInput) as refused:
        update_facility({**GOOD, "npi_reporting_facility": "1234567890", "address_state": "il"}, actor=SYSTEM)
    assert set(refused.value.errors) == {"npi_reporting_facility", "address_state"}
    assert "check digit" in refused.value.errors["npi_reporting_facility"]
    assert db_session.get(Facility, 1) is None
    update_facility(GOOD, actor=SYSTEM)
    assert db_session.get(Facility, 1).npi_reporting_facility == "1234567893"
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action.like("update_facility%"))).one()
    assert entry.entity == "facility" and entry.changes["name"][1] == GOOD["name"]


def test_the_admin_page_saves_and_names_bad_fields(app, client, login):
    login("admin")
    page = client.get("/admin/facility").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    bad = client.post("/admin/facility", data={**GOOD, "npi_reporting_facility": "1234567890",
                                               "csrf_token": token.group(1)})
    assert bad.status_code == 422 and "check digit" in html.unescape(bad.get_data(as_text=True))
    good = client.post("/admin/facility", data={**GOOD, "csrf_token": token.group(1)})
    assert good.status_code == 302
    assert "Springfield Demo Hospital" in client.get("/admin/facility").get_data(as_text=True)


def test_letters_and_exports_name_the_facility(app, client, login, tmp_path):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 6, seed=4)
        for tumor in session.scalars(select(Tumor)):
            tumor.workflow_state = WorkflowState.REVIEWED
            tumor.extra_items = {k: v for k, v in (tumor.extra_items or {}).items()
                                 if k not in ("reportingFacility", "npiReportingFacility")}
    update_facility(GOOD, actor=SYSTEM)
    create_submission(tmp_path / "a.xml", version="260", record_type="A", actor=SYSTEM, include_incomplete=True)
    store, _ = installed_dictionaries()
    tumors = [t for _, ts in file_items(tmp_path / "a.xml", store) for t in ts]
    assert tumors and all(t["reportingFacility"] == "0006543210" and t["npiReportingFacility"] == "1234567893"
                          for t in tumors)
    login("registrar")
    patient_id = db_session.scalars(select(Tumor.patient_id)).first()
    letter = client.get(f"/follow-up/letters/{patient_id}.pdf")
    text = subprocess.run(["pdftotext", "-", "-"], input=letter.data, capture_output=True, check=True).stdout.decode()
    assert "Springfield Demo Hospital" in text and "R. Egistrar (fake)" in text
