"""User accounts over the API (issue 24): the Users page's operations — create, change role, disable and
enable, reset the password, end sessions — administrators only, each audited by its operation."""
from __future__ import annotations

from sqlalchemy import select

from registry.auth.operations import authenticate
from registry.db import db_session
from registry.models import Role, User
from tests.api_capabilities.conftest import audited, refused

CAPABILITIES = [
    ("list the accounts", "GET", "/users"),
    ("create an account", "POST", "/users"),
    ("see an account", "GET", "/users/{user_id}"),
    ("change an account's role or state", "PATCH", "/users/{user_id}"),
    ("reset an account's password", "POST", "/users/{user_id}/password-reset"),
    ("end an account's sessions", "POST", "/users/{user_id}/sessions/end"),
]


def _user(name: str) -> User:
    db_session.expire_all()
    return db_session.scalars(select(User).where(User.username == name)).one()


def test_an_admin_creates_and_manages_an_account(api):
    admin = api("admin")
    created = admin("POST", "/users", json={"username": "new.registrar", "full_name": "New Registrar",
                                           "role": "registrar", "password": "first-pass-42"})
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert "password" not in body and (body["role"], body["enabled"]) == ("registrar", True)
    assert created.headers["Location"] == f"/api/v1/users/{body['id']}"
    assert admin("GET", f"/users/{body['id']}").get_json()["username"] == "new.registrar"
    assert audited("create_user:create", user_id=admin.user.id)
    listed = admin("GET", "/users").get_json()
    assert "new.registrar" in {u["username"] for u in listed["items"]} and listed["total"] == 2

    changed = admin("PATCH", f"/users/{body['id']}", json={"role": "reviewer", "enabled": False}).get_json()
    assert (changed["role"], changed["enabled"]) == ("reviewer", False)
    account = _user("new.registrar")
    assert (account.role, account.is_enabled) == (Role.REVIEWER, False)
    assert audited("set_role:update", user_id=admin.user.id) and audited("disable_user:update")
    assert admin("PATCH", f"/users/{body['id']}", json={"enabled": True}).get_json()["enabled"] is True
    assert audited("enable_user:update")

    reset = admin("POST", f"/users/{body['id']}/password-reset", json={"password": "second-pass-42"})
    assert reset.status_code == 200 and audited("reset_password:update")
    assert authenticate("new.registrar", "second-pass-42", address="127.0.0.1") is not None
    generation = _user("new.registrar").session_generation
    ended = admin("POST", f"/users/{body['id']}/sessions/end")
    assert ended.status_code == 200 and _user("new.registrar").session_generation == generation + 1
    assert audited("end_sessions:update")


def test_a_disabled_account_s_token_is_refused(api):
    admin = api("admin")
    registrar = api("registrar", "token.holder")
    assert registrar("GET", "/tumors").status_code == 200
    admin("PATCH", f"/users/{registrar.user.id}", json={"enabled": False})
    assert registrar("GET", "/tumors").status_code == 401


def test_mistakes_are_named_and_nothing_changes(api):
    admin = api("admin")
    bad = admin("POST", "/users", json={"username": "bad name!", "role": "wizard", "password": "short"})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"username", "role", "password"}
    taken = admin("POST", "/users", json={"username": admin.user.username, "role": "admin",
                                          "password": "first-pass-42"})
    assert taken.status_code == 422 and "already exists" in taken.get_json()["error"]["fields"]["username"]
    nothing = admin("PATCH", f"/users/{admin.user.id}", json={})
    assert nothing.status_code == 422 and set(nothing.get_json()["error"]["fields"]) == {"role", "enabled"}
    last_admin = admin("PATCH", f"/users/{admin.user.id}", json={"role": "registrar"})
    assert last_admin.status_code == 422 and _user(admin.user.username).role is Role.ADMIN
    weak = admin("POST", f"/users/{admin.user.id}/password-reset", json={"password": "12345678901"})
    assert weak.status_code == 422 and "password" in weak.get_json()["error"]["fields"]
    assert admin("PATCH", "/users/9999", json={"enabled": False}).status_code == 404
    assert not audited("set_role:update") and not audited("reset_password:update")


def test_other_roles_are_refused(api):
    target = api("registrar", "target.user").user
    for role in ("registrar", "reviewer", "researcher"):
        call = api(role)
        refused(call("GET", "/users"))
        refused(call("POST", "/users", json={"username": "x.y", "role": "admin", "password": "first-pass-42"}))
        refused(call("GET", f"/users/{target.id}"))
        refused(call("PATCH", f"/users/{target.id}", json={"role": "admin"}))
        refused(call("POST", f"/users/{target.id}/password-reset", json={"password": "first-pass-42"}))
        refused(call("POST", f"/users/{target.id}/sessions/end"))
    assert _user("target.user").role is Role.REGISTRAR and not audited("end_sessions:update")
