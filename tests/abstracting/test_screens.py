"""Work queue, spelling-tolerant search, new patient with duplicate check, casefinding, follow-up,
patient history, follow-up worklist with CoC rates and letters, API tokens on the user's page."""
import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy import func, select

from abstracts import operations as ops
from abstracts.queries import _months_ago
from abstracts.search import likely_duplicates, score_by_name, similarity
from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import load_demo_data
from registry.models import ApiToken, AuditEntry, Patient, PatientNameKey, SuspenseCase, SuspenseStatus, Tumor
from registry.models.abstracting import soundex
from tests.abstracting.conftest import PATIENT, csrf_of, form_fields


def test_soundex_and_trigram_similarity():
    assert [soundex(n) for n in ("Robert", "Rupert", "Ashcraft", "Tymczak", "Pfister", "")] == \
        ["R163", "R163", "A261", "T522", "P236", ""]
    assert similarity("hazeldemo", "hazeldemo") == 1.0
    assert similarity("hazledemo", "hazeldemo") > 0.45 > similarity("oakfake", "hazeldemo")


def test_search_finds_misspelled_names_fast_paths_and_other_criteria(client, login):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 150, seed=11)
    assert db_session.scalar(select(func.count(PatientNameKey.patient_id))) == 150
    target = db_session.scalars(select(Patient).order_by(Patient.id.desc())).first()
    last = target.name_last
    misspelled = last[0] + last[2] + last[1] + last[3:]
    assert misspelled != last
    scored = score_by_name(f"{misspelled}, {target.name_first}")
    assert scored.ids[0] == target.id or scored.scores[scored.ids[0]] == scored.scores[target.id]
    login("registrar")
    page = client.get(f"/patients?name={misspelled}, {target.name_first}").get_data(as_text=True)
    assert target.patient_id_number in page
    other_letter = "K" + last[1:] if last[0] != "K" else "C" + last[1:]
    assert target.id in score_by_name(other_letter).ids
    both = client.get(f"/patients?name={misspelled}&date_of_birth={target.date_of_birth}").get_data(as_text=True)
    assert target.patient_id_number in both and "1 patient · page 1 of 1" in both
    assert "No patient matches" in client.get("/patients?name=Qqqqzzz").get_data(as_text=True)


def test_name_keys_follow_every_change_of_a_name(app):
    patient = ops.create_patient({"name_last": "Smith", "name_first": "Ana"}, actor=SYSTEM)
    ops.update_patient(patient.id, {"name_last": "Ashcraft"}, actor=SYSTEM)
    key = db_session.get(PatientNameKey, patient.id)
    assert (key.last_key, key.last_name, key.first_name) == ("A261", "ashcraft", "ana")


def test_new_patient_shows_likely_duplicates_and_opens_the_existing_one(client, login):
    existing = ops.create_patient(PATIENT, actor=SYSTEM)
    login("registrar")
    page = client.get("/patients/new").get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "name_last": "Hazledemo", "name_first": "Ingrid",
            "date_of_birth": "1958-04-12", "sex": "2", "social_security_number": "", "medical_record_number": "",
            "confirmed": ""}
    warned = client.post("/patients/new", data=data)
    text = warned.get_data(as_text=True)
    assert warned.status_code == 200 and "Possible duplicates" in text
    assert f'href="/patients/{existing.id}"' in text and "same date of birth" in text
    assert db_session.scalar(select(func.count(Patient.id))) == 1
    again = form_fields(text)
    assert again["confirmed"] == "yes"
    created = client.post("/patients/new", data=again)
    assert created.status_code == 302
    assert db_session.scalar(select(func.count(Patient.id))) == 2
    new_id = created.headers["Location"].rsplit("/", 1)[1]
    recorded = json.loads(db_session.scalar(select(AuditEntry.detail).where(
        AuditEntry.action == "create_patient:create", AuditEntry.entity_id == new_id)))["duplicate_check"]
    assert recorded["confirmed_by"] == "the new-patient form's confirmation"
    assert recorded["candidates"] == [{"patient_id": existing.id,
                                       "reasons": ["similar name (92%)", "same date of birth"]}]
    by_ssn = likely_duplicates({"name_last": "Otherdemo", "social_security_number": "999123456"})
    assert [m.patient.id for m in by_ssn] == [existing.id] and by_ssn[0].reasons == ("same SSN",)
    fresh = client.post("/patients/new", data=data | {"name_last": "Zelkovatest", "date_of_birth": "1990",
                                                      "csrf_token": csrf_of(page)})
    assert fresh.status_code == 302


def test_work_queue_counts_and_lists(client, login, patient_with_tumor, make_user):
    patient, tumor = patient_with_tumor
    other = ops.create_tumor(patient.id, {"primary_site": "C619", "date_of_diagnosis": "1940"}, actor=SYSTEM)
    ops.set_workflow_state(tumor.id, "complete", actor=make_user("registrar", "r2"))
    ops.update_patient(patient.id, {"date_of_last_contact": _months_ago(dt.date.today(), 13)}, actor=SYSTEM)
    from abstracts.casefinding import add_suspense_case
    add_suspense_case({"name_last": "Poplarmock", "source": "pathology", "primary_site": "C34.1"}, actor=SYSTEM)
    login("registrar")
    page = client.get("/").get_data(as_text=True)
    for name, expected in (("in_progress", 1), ("edit_errors", 1), ("awaiting_review", 1),
                           ("follow_ups_due", 1), ("suspense", 1), ("returned", 0)):
        card = re.search(rf'id="queue-{name}"[^>]*>\s*<div class="count">(\d+)</div>', page)
        assert card and int(card.group(1)) == expected, name
    assert client.get("/queue/edit_errors").get_data(as_text=True).count(f"/tumors/{other.id}") == 1
    assert client.get("/queue/nothing").status_code == 404


def test_casefinding_abstract_or_not_reportable(client, login):
    login("registrar")
    page = client.get("/suspense").get_data(as_text=True)
    token = csrf_of(page)
    base = {"csrf_token": token, "name_first": "Olga", "date_of_birth": "1961-02", "medical_record_number": "",
            "date_found": "2025-05-02", "source": "pathology", "note": "path report"}
    bad = client.post("/suspense", data=base | {"name_last": "", "primary_site": "C99.9"})
    assert bad.status_code == 422
    assert "give a last name or a medical record number" in bad.get_data(as_text=True)
    assert client.post("/suspense", data=base | {"name_last": "Cedarsynth", "primary_site": "C50.9"}).status_code == 200
    assert client.post("/suspense", data=base | {"name_last": "Elmfake", "primary_site": ""}).status_code == 200
    first, second = db_session.scalars(select(SuspenseCase).order_by(SuspenseCase.id)).all()
    assert (first.primary_site, first.date_of_birth, first.date_found) == ("C509", "196102", "20250502")
    started = client.post(f"/suspense/{first.id}/abstract", data={"csrf_token": token})
    assert started.status_code == 302 and "/tumors/" in started.headers["Location"]
    tumor = db_session.scalars(select(Tumor)).one()
    assert tumor.primary_site == "C509" and tumor.patient.name_last == "Cedarsynth"
    no_reason = client.post(f"/suspense/{second.id}/not-reportable", data={"csrf_token": token, "reason": ""},
                            follow_redirects=True)
    assert "Say why the case is not reportable" in no_reason.get_data(as_text=True)
    client.post(f"/suspense/{second.id}/not-reportable", data={"csrf_token": token, "reason": "benign skin lesion"})
    db_session.expire_all()
    assert db_session.get(SuspenseCase, second.id).status is SuspenseStatus.NOT_REPORTABLE
    listed = client.get("/suspense?status=not_reportable").get_data(as_text=True)
    assert "benign skin lesion" in listed
    again = client.post(f"/suspense/{second.id}/abstract", data={"csrf_token": token}, follow_redirects=True)
    assert "already not reportable" in again.get_data(as_text=True)


def test_follow_up_entry_moves_last_contact_and_tumor_status(client, login, patient_with_tumor):
    patient, tumor = patient_with_tumor
    login("registrar")
    page = client.get(f"/patients/{patient.id}/follow-up").get_data(as_text=True)
    assert f"Cancer status [1770], {tumor.described}</label>" in page  # issue 20.12: no database ids
    data = {"csrf_token": csrf_of(page), "date_of_contact": "2026-02", "vital_status": "1", "follow_up_source": "2",
            "next_follow_up_due": "2027-02", f"cancer_status_{tumor.id}": "1"}
    bad = client.post(f"/patients/{patient.id}/follow-up", data=data | {"vital_status": "5"})
    assert bad.status_code == 422 and "Vital Status [1760]" in bad.get_data(as_text=True)
    assert client.post(f"/patients/{patient.id}/follow-up", data=data).status_code == 302
    db_session.expire_all()
    stored = db_session.get(Patient, patient.id)
    assert stored.date_of_last_contact == "202602"
    assert stored.follow_ups[-1].tumor_statuses[0].cancer_status == "1"


def test_patient_page_shows_tumors_follow_up_and_audit_history(client, login, patient_with_tumor):
    patient, tumor = patient_with_tumor
    ops.update_patient(patient.id, {"name_middle": "Q"}, actor=SYSTEM)
    login("reviewer")
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "History" in page and 'Middle name [2250]</span>: blank → Q' in page and "added an abstract" in page
    assert f"/patients/{patient.id}/tumors/{tumor.id}" in page
    assert "Invasive carcinoma of no special type" in page


def test_follow_up_worklist_rates_and_letters(client, login, patient_with_tumor):
    patient, tumor = patient_with_tumor
    today = dt.date.today()
    ops.update_patient(patient.id, {"date_of_last_contact": _months_ago(today, 16)}, actor=SYSTEM)
    current = ops.create_patient(PATIENT | {"name_last": "Larchtest", "social_security_number": None,
                                            "date_of_last_contact": _months_ago(today, 2)}, actor=SYSTEM)
    ops.create_tumor(current.id, {"primary_site": "C619", "histology": "8140", "behavior": "3", "class_of_case": "14",
                                  "date_of_diagnosis": f"{today.year - 1}0105"}, actor=SYSTEM)
    ops.create_tumor(current.id, {"primary_site": "C530", "histology": "8070", "behavior": "2", "class_of_case": "14",
                                  "date_of_diagnosis": f"{today.year - 1}0105"}, actor=SYSTEM)
    login("registrar")
    delinquent = client.get("/follow-up?list=delinquent").get_data(as_text=True)
    assert patient.display_name in delinquent and "Larchtest" not in delinquent
    assert patient.display_name not in client.get("/follow-up?list=due").get_data(as_text=True)
    rates = re.search(r'<table class="compact" id="rates">(.*?)</table>', delinquent, re.S).group(1)
    assert "<td>2</td><td>1</td>" in rates and "50.0 %" in rates
    assert "in situ cervix 1" in delinquent
    pdf = client.get(f"/follow-up/letters/{patient.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    batch = client.get("/follow-up/letters.pdf?list=delinquent")
    assert batch.status_code == 200 and batch.data.startswith(b"%PDF")


def test_api_tokens_are_created_shown_once_stored_hashed_and_revoked(client, login):
    user = login("researcher")
    page = client.get("/account").get_data(as_text=True)
    created = client.post("/account", data={"csrf_token": csrf_of(page), "name": "laptop", "days": "30"})
    text = created.get_data(as_text=True)
    token = re.search(r'<code id="new-token">([^<]+)</code>', text).group(1)
    stored = db_session.scalars(select(ApiToken)).one()
    assert stored.user_id == user.id and token not in stored.token_hash and len(stored.token_hash) == 64
    assert token not in client.get("/account").get_data(as_text=True)
    assert client.get("/api/v1/tumors", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.post(f"/account/tokens/{stored.id}/revoke", data={"csrf_token": csrf_of(text)})
    assert client.get("/api/v1/tumors", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "revoked" in client.get("/account").get_data(as_text=True)


def test_patient_history_reads_in_the_registrars_words_with_the_ssn_masked(client, login, patient_with_tumor):
    """Item labels with their numbers, the tumor as registrars know it, local time with its zone, and the
    SSN masked in the facts and the trail until the reader reveals it, which the trail then records."""
    patient, tumor = patient_with_tumor
    ops.update_tumor(tumor.id, {"primary_site": "C505",
                                "extra_items": {**(tumor.extra_items or {}), "tumorSizeSummary": "012"}}, actor=SYSTEM)
    ops.update_patient(patient.id, {"social_security_number": "999123457"}, actor=SYSTEM)
    login("registrar")
    page = html.unescape(client.get(f"/patients/{patient.id}").get_data(as_text=True))
    history = page[page.index("<h2>History</h2>"):]
    assert "Primary Site [400]</span>: C504 → C505" in history
    assert "Tumor Size Summary [756]</span>: 015 → 012" in history
    assert "<td>changed the abstract</td>" in history and "abstract C50.5 8500/3 right, diagnosed" in history
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d [A-Z+\-0-9]+</td>", history)
    assert "999123456" not in page and "999123457" not in page
    assert "***-**-3456 → ***-**-3457" in history and "***-**-3457" in page[:page.index("<h2>History</h2>")]
    assert "extra_items" not in history and "{" not in history.split("</table>")[0].split("<tbody>")[1]

    revealed = html.unescape(client.get(f"/patients/{patient.id}?reveal=ssn").get_data(as_text=True))
    assert '<dd id="ssn">999123457</dd>' in revealed and "999123456 → 999123457" in revealed
    again = html.unescape(client.get(f"/patients/{patient.id}").get_data(as_text=True))
    assert "revealed the Social Security Number" in again and "999123457" not in again


def test_times_show_in_the_configured_zone():
    import datetime as dt
    from registry.dates import display_time, display_zone
    stored = dt.datetime(2026, 1, 15, 18, 30)  # UTC, as SQLite hands it back without its zone
    assert display_time(stored, display_zone("America/Chicago")) == "2026-01-15 12:30 CST"
    assert display_time(stored.replace(tzinfo=dt.timezone.utc), display_zone("America/New_York")) == \
        "2026-01-15 13:30 EST"
    with pytest.raises(ValueError, match="REGISTRY_TIMEZONE 'Mars/Olympus' is not a time zone"):
        display_zone("Mars/Olympus")
