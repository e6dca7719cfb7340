"""Sign-in, roles, CSRF, headers, and the patient list with search and paging."""
import re

from sqlalchemy import select

from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import load_demo_data
from registry.models import AuditEntry, Patient


def _token(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)


def test_anonymous_users_are_sent_to_the_login_page(client):
    for path in ("/", "/patients", "/patients/1", "/jobs/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user("registrar")
    response = client.post("/login", data={"username": "registrar1", "password": "correct-horse-9"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_repeated_wrong_passwords_hold_the_address_back_and_are_logged(client, make_user):
    from registry.auth.operations import ADDRESS_FREE_FAILURES
    make_user("registrar")
    for _ in range(ADDRESS_FREE_FAILURES):
        response = client.post("/login", data={"username": "registrar1", "password": "wrong-password-1",
                                               "csrf_token": _token(client)})
        assert response.status_code == 401 and "Wrong username or password" in response.get_data(as_text=True)
    response = client.post("/login", data={"username": "registrar1", "password": "correct-horse-9",
                                           "csrf_token": _token(client)})
    assert response.status_code == 401
    actions = list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("login_failed:update") == ADDRESS_FREE_FAILURES
    assert "account_locked" not in actions and actions[-1] == "login_refused_throttled"


def test_session_is_permanent_so_it_expires_after_idle_time(app, client, login):
    login("registrar")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None and cookie.http_only
    assert app.permanent_session_lifetime.total_seconds() == app.config["SESSION_IDLE_MINUTES"] * 60


def test_security_headers_on_every_response(client):
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_researchers_never_reach_identified_patients(client, login):
    login("researcher")
    assert client.get("/").status_code == 200
    assert client.get("/patients").status_code == 403
    assert client.get("/patients/1").status_code == 403


def test_patient_list_searches_and_pages(app, client, login):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 120, seed=5)
    login("registrar")
    page = client.get("/patients").get_data(as_text=True)
    assert "120 patients · page 1 of 3" in page
    assert page.count("<tr><td><a href=") + page.count('<td><a href="/patients/') >= 50
    assert 'rel="next"' in page and 'rel="prev"' not in page
    last = client.get("/patients?page=3").get_data(as_text=True)
    assert "page 3 of 3" in last and 'rel="next"' not in last

    target = db_session.scalars(select(Patient).order_by(Patient.id.desc())).first()
    found = client.get(f"/patients?name={target.name_last},{target.name_first}").get_data(as_text=True)
    assert target.patient_id_number in found
    by_mrn = client.get(f"/patients?medical_record_number={target.medical_record_number}").get_data(as_text=True)
    assert "1 patient · page 1 of 1" in by_mrn and target.patient_id_number in by_mrn
    by_ssn = client.get(f"/patients?ssn_last4={target.social_security_number[-4:]}").get_data(as_text=True)
    assert target.patient_id_number in by_ssn
    assert "No patient matches" in client.get("/patients?name=Nobody-like-this").get_data(as_text=True)


def test_patient_search_reads_what_the_form_accepts_and_says_what_it_cannot(app, client, login):
    """Issue 20.10: US and ISO dates, MRNs in any case, a whole SSN with dashes; an unreadable query is named."""
    import html
    from urllib.parse import quote
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 30, seed=8)
    target = db_session.scalars(select(Patient).where(Patient.medical_record_number.is_not(None),
                                                      Patient.date_of_birth.like("________"))
                                .order_by(Patient.id)).first()
    with operation(SYSTEM, "test: a lower-case-able MRN") as session:
        session.get(Patient, target.id).medical_record_number = "MRN-AB12"
    login("registrar")
    dob = target.date_of_birth
    us = f"{dob[4:6]}/{dob[6:]}/{dob[:4]}"
    for query in (f"date_of_birth={quote(us)}", f"date_of_birth={dob[:4]}-{dob[4:6]}-{dob[6:]}",
                  "medical_record_number=mrn-ab12",
                  f"ssn_last4={target.social_security_number[:3]}-{target.social_security_number[3:5]}-"
                  f"{target.social_security_number[5:]}"):
        page = client.get(f"/patients?{query}").get_data(as_text=True)
        assert target.patient_id_number in page, query
        assert 'class="flash error"' not in page, query
    for query, field, typed in (("date_of_birth=31%2F31%2F1947", "date_of_birth", "31/31/1947"),
                                ("ssn_last4=12-345", "ssn_last4", "12-345")):
        page = html.unescape(client.get(f"/patients?{query}").get_data(as_text=True))
        assert f'id="problem-{field}"' in page and f"'{typed}' cannot be read" in page, query
        assert "0 patients" in page
    assert 'maxlength="11"' in client.get("/patients").get_data(as_text=True)


def test_reading_a_patient_is_audited(app, client, login):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 3, seed=2)
    user = login("reviewer")
    response = client.get("/patients/2")
    assert response.status_code == 200
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "view_patient")).one()
    assert (entry.user_id, entry.patient_id) == (user.id, 2)
    assert client.get("/patients/999").status_code == 404


def test_logout_needs_a_post_with_token(client, login):
    login("admin")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    response = client.post("/logout", data={"csrf_token": _token(client, "/")})
    assert response.status_code == 302 and client.get("/").status_code == 302
