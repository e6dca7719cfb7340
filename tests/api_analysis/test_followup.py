"""Follow-up over the API: the due and delinquent worklists, letters as one PDF and the CoC follow-up rates, the
Follow-up page's own queries and operations; researchers refused."""
from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from flask import jsonify

from abstracts import operations as ops
from abstracts.queries import follow_up_statement
from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import Patient
from tests.abstracting.conftest import PATIENT
from tests.annual_report.test_annual_report import _demo
from tests.api_analysis.helpers import audited

CAPABILITIES = [
    ("follow-up worklist", "GET", "/follow-up/worklist"),
    ("follow-up letters (PDF)", "POST", "/follow-up/letters"),
    ("CoC follow-up rates", "GET", "/follow-up/rates"),
]


def _patient(last: str, days_since_contact: int, vital_status: str = "1", mrn: str = "") -> Patient:
    contact = (dt.date.today() - dt.timedelta(days=days_since_contact)).strftime("%Y%m%d")
    return ops.create_patient({**PATIENT, "name_last": last, "social_security_number": None,
                               "medical_record_number": mrn or f"M-{last}", "vital_status": vital_status,
                               "date_of_last_contact": contact}, actor=SYSTEM)


@pytest.fixture
def lists(app):
    return {"due": [_patient("Duedemo", 400), _patient("Dueolderdemo", 430)],
            "delinquent": [_patient("Lostdemo", 700)],
            "neither": [_patient("Currentdemo", 60), _patient("Deaddemo", 700, vital_status="0")]}


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "letters.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_worklists_are_the_pages_queries(api, lists):
    reviewer = api("reviewer")
    for kind in ("due", "delinquent"):
        body = reviewer("GET", "/follow-up/worklist", query_string={"list": kind}).get_json()
        expected = [p.id for p in db_session.scalars(follow_up_statement(kind).order_by(
            Patient.date_of_last_contact, Patient.id))]
        assert [p["id"] for p in body["items"]] == expected == [p.id for p in reversed(lists[kind])]
        assert body["counts"] == {"due": 2, "delinquent": 1} and body["total"] == len(expected)
    first = reviewer("GET", "/follow-up/worklist", query_string={"per_page": 1}).get_json()
    assert first["pages"] == 2 and first["items"][0]["name_last"] == "Dueolderdemo"
    assert first["items"][0]["primary_sites"] == [] and first["items"][0]["follow_ups_url"].endswith("/follow-ups")
    bad = reviewer("GET", "/follow-up/worklist", query_string={"list": "lost"})
    assert bad.status_code == 422 and "list" in bad.get_json()["error"]["fields"]
    entry = audited("api_follow_up_worklist")[-1]
    assert entry.user_id == reviewer.user.id and entry.detail.startswith("due page 1")


def test_letters_for_a_list_or_named_patients(api, lists, tmp_path):
    registrar = api("registrar")
    response = registrar("POST", "/follow-up/letters", json={"list": "due"})
    assert response.status_code == 200 and response.mimetype == "application/pdf", response.get_data(as_text=True)
    text = _text(response.data, tmp_path)
    assert "Duedemo" in text and "Dueolderdemo" in text and "Lostdemo" not in text
    assert audited("follow_up_letters")[-1].detail == "api due page 1: 2 letters"
    lost = lists["delinquent"][0]
    named = registrar("POST", "/follow-up/letters", json={"patient_ids": [lost.id]})
    assert named.status_code == 200 and "Lostdemo" in _text(named.data, tmp_path)
    assert audited("follow_up_letter")[-1].patient_id == lost.id
    both = registrar("POST", "/follow-up/letters", json={"list": "due", "patient_ids": [lost.id]})
    assert both.status_code == 422 and "patient_ids" in both.get_json()["error"]["fields"]
    assert registrar("POST", "/follow-up/letters", json={"patient_ids": [99999]}).status_code == 404
    assert registrar("POST", "/follow-up/letters", json={"list": "soon"}).status_code == 422


def test_rates_are_the_pages(api, app):
    _demo(60, seed=7)
    from abstracts.followup import follow_up_rates
    body = api("registrar")("GET", "/follow-up/rates").get_json()
    expected = json.loads(jsonify(follow_up_rates()).get_data())
    for group in ("all", "recent"):
        assert body[group]["eligible"] == expected[group]["eligible"] and body[group]["current"] == \
            expected[group]["current"]
        assert body[group]["rate"] == pytest.approx(expected[group]["rate"])
    assert body["all"]["eligible"] > 0 and body["all"]["standard"] == 80 and body["recent"]["standard"] == 90
    assert body["excluded"] == expected["excluded"] and body["definition"] == expected["definition"]
    assert body["as_of"] == dt.date.today().isoformat()


def test_researchers_are_refused(api, lists):
    researcher = api("researcher")
    for _name, method, path in CAPABILITIES:
        response = researcher(method, path, **({"json": {"list": "due"}} if method == "POST" else {}))
        assert response.status_code == 403 and "Duedemo" not in response.get_data(as_text=True), path
    assert not audited("follow_up_letters")
