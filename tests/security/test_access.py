"""Every URL rule of the application, against anonymous users and every role.

The rules come from ``app.url_map``, so a new route is checked the day it is added: one that is not
classified in ``access_rules.RULES`` fails here with a message saying where to classify it.
"""
from __future__ import annotations

import pytest

from tests.security.access_rules import RULES, unclassified
from tests.security.conftest import ROLES
from tests.security.headers import assert_security_headers

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _requests(app, registry, role):
    """(endpoint, method, path) for every rule, with real ids filled in."""
    values = registry.values_for(role)
    # signing out last, so every other rule is tried while signed in
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule, r.endpoint)):
        arguments = rule.arguments - set(rule.defaults or {})
        unknown = sorted(arguments - set(values))
        assert not unknown, (f"{rule.rule}: no real value for {unknown}; add one to Registry.ids in "
                             "tests/security/conftest.py")
        built = rule.build({name: values[name] for name in arguments}, append_unknown=False)
        assert built is not None, f"cannot fill {rule.rule}: add its parameter to the registry fixture"
        for method in sorted(set(rule.methods) & set(METHODS)):
            yield rule.endpoint, method, built[1]


def _send(client, method, path, csrf, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if path.startswith("/api/") and method != "GET":
        return client.open(path, method=method, json={}, headers=headers)
    data = {"csrf_token": csrf} if method != "GET" else None
    return client.open(path, method=method, data=data, headers=headers)


def test_every_endpoint_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = unclassified(endpoints)
    assert not missing, ("these endpoints are not classified: add each to RULES in tests/security/access_rules.py "
                         f"(which roles may reach it, public, token, phi): {', '.join(missing)}")
    stale = sorted(set(RULES) - endpoints)
    assert not stale, f"RULES in tests/security/access_rules.py lists endpoints the app no longer has: {stale}"


def test_anonymous_gets_the_login_page_or_401(app, registry):
    from tests.security.conftest import csrf_of
    client = registry.anonymous
    csrf = csrf_of(client.get("/login").get_data(as_text=True))
    checked = 0
    for endpoint, method, path in _requests(app, registry, None):
        access = RULES[endpoint]
        response = _send(client, method, path, csrf)
        where = f"anonymous {method} {path} ({endpoint})"
        assert_security_headers(response, where)
        if access.public:
            assert response.status_code not in (403, 404, 500), f"{where}: {response.status_code}"
            assert not response.headers.get("Location", "").startswith("/login?"), where
        elif access.token:
            assert response.status_code == 401, f"{where}: {response.status_code}"
            assert response.is_json and response.json["error"]["code"] == "unauthorized", where
        else:
            assert response.status_code == 302, f"{where}: {response.status_code}"
            assert response.headers["Location"].startswith("/login"), where
        checked += 1
    assert checked >= len(RULES)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_what_it_may(app, registry, role):
    principal = registry.principals[role]
    checked = {"allowed": 0, "denied": 0}
    for endpoint, method, path in _requests(app, registry, role):
        access = RULES[endpoint]
        response = _send(principal.client, method, path, principal.csrf, principal.token if access.token else None)
        where = f"{role} {method} {path} ({endpoint})"
        assert response.status_code != 500, f"{where}: 500"
        assert_security_headers(response, where)
        if role in access.roles:
            assert response.status_code not in (401, 403), f"{where}: {response.status_code} but the role may"
            checked["allowed"] += 1
        else:
            assert response.status_code == access.denied, f"{where}: {response.status_code}, expected {access.denied}"
            checked["denied"] += 1
        if role == "researcher" and response.status_code < 400 and response.mimetype.startswith(("text/", "application/json")):
            body = response.get_data(as_text=True)
            leaked = sorted(i for i in registry.identifiers if i in body)
            assert not leaked, f"{where}: identified data reached a researcher: {leaked[:5]}"
    assert checked["allowed"] > 0
    if role != "admin":
        assert checked["denied"] > 0


def test_api_ignores_the_browser_session(app, registry):
    """A signed-in browser without a token gets 401 from the API: a forged cross-site request carries cookies only."""
    principal = registry.principals["registrar"]
    for endpoint, method, path in _requests(app, registry, "registrar"):
        if not RULES[endpoint].token:
            continue
        response = _send(principal.client, method, path, principal.csrf)
        assert response.status_code == 401, f"{method} {path} with the session cookie only: {response.status_code}"


def test_researcher_api_views_leave_out_identifiers(app, registry):
    researcher, registrar = registry.principals["researcher"], registry.principals["registrar"]
    patient_id = registry.ids["patient_id"]
    identified = registrar.api("GET", f"/api/v1/patients/{patient_id}").json
    deidentified = researcher.api("GET", f"/api/v1/patients/{patient_id}").json
    assert identified["name_last"] and identified["social_security_number"]
    for name in ("name_last", "name_first", "social_security_number", "medical_record_number", "patient_id_number",
                 "date_of_birth"):
        assert name not in deidentified, name
    assert len(deidentified["date_of_last_contact"]) == 4
    search = researcher.api("GET", f"/api/v1/patients?name={identified['name_last']}")
    assert search.status_code == 403
