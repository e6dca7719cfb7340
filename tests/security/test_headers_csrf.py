"""Security headers on every kind of response, and CSRF on every state-changing form."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from registry.db import db_session
from registry.models import AuditEntry, Job, JobStatus, Patient, SuspenseCase, Tumor
from tests.security.access_rules import RULES
from tests.security.headers import assert_security_headers

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _counts() -> tuple[int, ...]:
    return tuple(db_session.scalar(select(func.count()).select_from(model))
                 for model in (AuditEntry, Patient, Tumor, SuspenseCase, Job))


def _state_changing_rules(app, registry, role):
    values = registry.values_for(role)
    for rule in app.url_map.iter_rules():
        methods = sorted(set(rule.methods) & STATE_CHANGING)
        if not methods:
            continue
        arguments = rule.arguments - set(rule.defaults or {})
        path = rule.build({name: values[name] for name in arguments}, append_unknown=False)[1]
        for method in methods:
            yield rule.endpoint, method, path


def _finished_export(app, admin, name: str) -> Job:
    """A finished export job of ``admin`` whose result file is in the job files folder."""
    files = Path(app.config["JOB_FILES_DIR"])
    files.mkdir(parents=True, exist_ok=True)
    (files / name).write_text("a,b\n1,2\n")
    job = Job(kind="naaccr-export", params={}, user_id=admin.user.id, status=JobStatus.FINISHED,
              result_file=str(files / name))
    db_session.add(job)
    db_session.commit()
    return job


def test_every_response_type_carries_the_security_headers(app, registry):
    admin = registry.principals["admin"]
    job = _finished_export(app, admin, "result.csv")
    anonymous = registry.anonymous
    responses = {
        "HTML page": anonymous.get("/login"),
        "JSON document": anonymous.get("/api/v1/openapi.json"),
        "API JSON": admin.api("GET", "/api/v1/codes"),
        "API error 401": anonymous.get("/api/v1/patients"),
        "API error 404": admin.api("GET", "/api/v1/patients/999999"),
        "API error 422": admin.api("POST", "/api/v1/patients", json={"sex": "Q"}),
        "static file": anonymous.get("/static/app.css"),
        "file download": admin.client.get(f"/jobs/{job.id}/result"),
        "redirect": anonymous.get("/"),
        "error 404": admin.client.get("/no/such/page"),
        "error 403": registry.principals["researcher"].client.get("/patients"),
        "error 405": admin.client.get("/logout"),
        "error 400 (CSRF)": admin.client.post("/account"),
        "image": admin.client.get("/survival/chart.svg?measure=observed"),
    }
    assert responses["file download"].status_code == 200 and responses["file download"].data == b"a,b\n1,2\n"
    assert responses["static file"].mimetype == "text/css"
    for kind, response in responses.items():
        assert_security_headers(response, f"{kind} ({response.status_code} {response.mimetype})")


def test_every_state_changing_form_needs_the_csrf_token(app, registry):
    """Each non-API rule taking POST/PUT/PATCH/DELETE, without a token or with a forged one: 400, nothing changes."""
    before = _counts()
    checked = []
    for endpoint, method, path in _state_changing_rules(app, registry, "admin"):
        access = RULES.get(endpoint)  # an unclassified endpoint fails test_every_endpoint_is_classified
        if access is None or access.token:
            continue
        role = "registrar" if "registrar" in access.roles else sorted(access.roles)[0]
        client = registry.anonymous if access.public else registry.principals[role].client
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": registry.principals["reviewer"].csrf}):
            response = client.open(path, method=method, data=data)
            assert response.status_code == 400, f"{method} {path} ({endpoint}) with {data}: {response.status_code}"
            assert "security token was missing or too old" in response.get_data(as_text=True), (method, path)
        checked.append(endpoint)
    assert _counts() == before, "a request without a valid CSRF token changed something"
    assert {"auth.login", "auth.logout", "abstracts.abstract", "abstracts.new_patient", "abstracts.workflow",
            "abstracts.follow_up", "abstracts.revoke_token", "staging.rederive"} <= set(checked)


def test_the_api_changes_nothing_for_a_cookie_only_request(app, registry):
    """The API is exempt from CSRF because it never trusts the session cookie: a cross-site JSON post is 401."""
    registrar = registry.principals["registrar"]
    before = _counts()
    writes = [(e, m, p) for e, m, p in _state_changing_rules(app, registry, "registrar") if e.startswith("api.")]
    assert len(writes) >= 7
    body = {"name_last": "Forgeddemo", "sex": "1", "version": 1, "state": "complete",
            "date_of_contact": "20250101", "patient": {}, "tumor": {}}
    for endpoint, method, path in writes:
        for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
            response = registrar.client.open(path, method=method, data=str(body).replace("'", '"'),
                                             content_type=content_type)
            assert response.status_code == 401, f"{method} {path} ({endpoint}) as {content_type}: {response.status_code}"
    assert _counts() == before
    # with the token (not a cookie) the same write goes through: the token is the authentication
    created = registrar.api("POST", "/api/v1/patients", json={"name_last": "Tokendemo", "sex": "1"})
    assert created.status_code == 201, created.json


def test_every_response_to_a_signed_in_user_or_token_forbids_caching(app, registry):
    """Pages, API JSON, letters, exports and job files may name patients: browsers and proxies keep no copy."""
    admin = registry.principals["admin"]
    patient_id = registry.ids["patient_id"]
    job = _finished_export(app, admin, "export.csv")
    responses = {
        "patient page": admin.client.get(f"/patients/{patient_id}"),
        "API patient": admin.api("GET", f"/api/v1/patients/{patient_id}"),
        "follow-up letter PDF": admin.client.get(f"/follow-up/letters/{patient_id}.pdf"),
        "audit export": admin.client.get("/admin/audit/export.csv"),
        "job result file": admin.client.get(f"/jobs/{job.id}/result"),
        "API error": admin.api("GET", "/api/v1/patients/999999"),
        "error page": admin.client.get("/no/such/page"),
    }
    for kind, response in responses.items():
        response.get_data()  # read streamed bodies to their end
        assert response.status_code == (404 if "error" in kind else 200), f"{kind}: {response.status_code}"
        assert response.headers.get("Cache-Control") == "no-store", f"{kind}: {response.headers.get('Cache-Control')}"
    assert responses["job result file"].data == b"a,b\n1,2\n"
    # what anyone may fetch without signing in stays cacheable
    assert "no-store" not in registry.anonymous.get("/static/app.css").headers.get("Cache-Control", "")
