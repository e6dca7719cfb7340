"""An administrator disables, enables, re-roles and resets accounts from the command line; each change is audited."""
from __future__ import annotations

from sqlalchemy import select

from abstracts import tokens
from registry.db import db_session
from registry.models import AuditEntry, Role, User
from tests.security.conftest import PASSWORD, csrf_of, new_client, sign_in

PHI_PAGE = "/patients"


def _users(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def _last(action: str) -> AuditEntry:
    return db_session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id.desc())).first()


def _api(client, token: str):
    return client.get("/api/v1/codes", headers={"Authorization": f"Bearer {token}"})


def _signs_in(app, username: str, password: str = PASSWORD) -> bool:
    client = new_client(app)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}).status_code == 302


def test_disabling_refuses_the_accounts_sessions_and_tokens_at_once(app, make_user):
    make_user("admin")
    user = make_user("registrar")
    browser = sign_in(app, user.username)
    _, plain = tokens.create_token(user, "script")
    assert browser.get(PHI_PAGE).status_code == 200 and _api(browser, plain).status_code == 200

    result = _users(app, "disable", user.username)
    assert result.exit_code == 0 and "disabled" in result.output, result.output
    assert browser.get(PHI_PAGE).status_code == 302
    assert _api(new_client(app), plain).status_code == 401
    assert not _signs_in(app, user.username)
    entry = _last("disable_user:update")
    assert entry.entity_id == str(user.id) and entry.changes["is_enabled"] == [True, False]

    result = _users(app, "enable", user.username)
    assert result.exit_code == 0, result.output
    assert _last("enable_user:update").changes["is_enabled"] == [False, True]
    assert _signs_in(app, user.username)
    assert browser.get(PHI_PAGE).status_code == 302  # the session ended at disabling stays ended


def test_a_new_role_applies_to_the_next_request(app, make_user):
    make_user("admin")
    user = make_user("registrar")
    browser = sign_in(app, user.username)
    assert browser.get(PHI_PAGE).status_code == 200
    result = _users(app, "set-role", user.username, "researcher")
    assert result.exit_code == 0 and "researcher" in result.output, result.output
    assert browser.get(PHI_PAGE).status_code == 403
    assert _last("set_role:update").changes["role"] == ["registrar", "researcher"]
    result = _users(app, "set-role", user.username, "janitor")
    assert result.exit_code != 0 and "janitor" in result.output
    assert db_session.get(User, user.id).role is Role.RESEARCHER


def test_a_password_reset_is_prompted_ends_sessions_and_is_audited_without_the_password(app, make_user):
    make_user("admin")
    user = make_user("reviewer")
    browser = sign_in(app, user.username)
    result = _users(app, "reset-password", user.username, input="brand-new-pass-2\nbrand-new-pass-2\n")
    assert result.exit_code == 0, result.output
    assert "brand-new-pass-2" not in repr(_last("reset_password:update").changes)
    assert _last("reset_password:update").changes["password_hash"] == ["***", "***"]
    assert browser.get(PHI_PAGE).status_code == 302
    assert not _signs_in(app, user.username, PASSWORD)
    assert _signs_in(app, user.username, "brand-new-pass-2")
    result = _users(app, "reset-password", user.username, input="short\nshort\n")
    assert result.exit_code != 0 and "password: must be at least 10 characters" in result.output


def test_bad_account_changes_name_the_field_and_change_nothing(app, make_user):
    admin = make_user("admin")
    before = db_session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    for args in (("disable", "ghost"), ("enable", "ghost"), ("set-role", "ghost", "admin"),
                 ("end-sessions", "ghost")):
        result = _users(app, *args)
        assert result.exit_code != 0 and "username: there is no account 'ghost'" in result.output, args
    # the only administrator cannot be disabled or demoted: nobody could undo it from the product
    for args in (("disable", admin.username), ("set-role", admin.username, "registrar")):
        result = _users(app, *args)
        assert result.exit_code != 0 and "only enabled admin" in result.output, args
    assert db_session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) == before
    make_user("admin", "second-admin")
    assert _users(app, "set-role", admin.username, "registrar").exit_code == 0
