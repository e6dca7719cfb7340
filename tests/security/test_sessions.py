"""Sessions end at sign-out, after an absolute lifetime and when an administrator ends them; CSRF rotates at sign-in."""
from __future__ import annotations

from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry
from tests.security.conftest import csrf_of, new_client, sign_in

PHI_PAGE = "/patients"


def _replay(app, cookie: str):
    """A second browser holding a copy of a session cookie (as a thief would)."""
    thief = new_client(app)
    thief.set_cookie("session", cookie)
    return thief


def _entries(action: str) -> list[AuditEntry]:
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_a_cookie_saved_before_sign_out_is_refused_after_it(app, make_user):
    user = make_user("registrar")
    client = sign_in(app, user.username)
    assert client.get(PHI_PAGE).status_code == 200
    saved = client.get_cookie("session").value
    thief = _replay(app, saved)
    assert thief.get(PHI_PAGE).status_code == 200
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/account").get_data(as_text=True))})
    for browser in (client, _replay(app, saved), thief):
        response = browser.get(PHI_PAGE)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    logout = _entries("logout:update")[-1]
    assert logout.user_id == user.id and "session_generation" in logout.changes
    # signing in again gives a working session; the old cookie stays dead
    fresh = sign_in(app, user.username)
    assert fresh.get(PHI_PAGE).status_code == 200
    assert _replay(app, saved).get(PHI_PAGE).status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, make_user):
    assert app.config["SESSION_MAX_HOURS"] == 12
    user = make_user("registrar")
    client = sign_in(app, user.username)
    with client.session_transaction() as session:
        session["signed_in_at"] -= 11 * 3600
    assert client.get(PHI_PAGE).status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] -= 3600 + 1
    response = client.get(PHI_PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # activity does not stretch it: the refused session is gone, not renewed
    with client.session_transaction() as session:
        assert "_user_id" not in session and "signed_in_at" not in session


def test_a_session_without_the_sign_in_marks_is_refused(app, make_user):
    """A cookie from before this release (no generation, no sign-in time) does not count as signed in."""
    user = make_user("registrar")
    client = sign_in(app, user.username)
    with client.session_transaction() as session:
        del session["generation"]
    assert client.get(PHI_PAGE).status_code == 302
    client = sign_in(app, user.username)
    with client.session_transaction() as session:
        session["signed_in_at"] = "yesterday"
    assert client.get(PHI_PAGE).status_code == 302


def test_an_administrator_ends_every_session_of_a_user(app, make_user):
    user = make_user("registrar")
    other = make_user("reviewer")
    laptop, phone, bystander = sign_in(app, user.username), sign_in(app, user.username), sign_in(app, other.username)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "end-sessions", user.username])
    assert result.exit_code == 0, result.output
    assert laptop.get(PHI_PAGE).status_code == 302 and phone.get(PHI_PAGE).status_code == 302
    assert bystander.get(PHI_PAGE).status_code == 200
    entry = _entries("end_sessions:update")[-1]
    assert entry.entity_id == str(user.id) and entry.username == "system"
    assert sign_in(app, user.username).get(PHI_PAGE).status_code == 200
    result = runner.invoke(args=["users", "end-sessions", "no-such-user"])
    assert result.exit_code != 0 and "username: there is no account 'no-such-user'" in result.output


def test_the_csrf_token_changes_at_sign_in(app, make_user):
    user = make_user("registrar")
    client = new_client(app)
    before = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": user.username, "password": "correct-horse-9",
                                           "csrf_token": before})
    assert response.status_code == 302
    after = csrf_of(client.get("/account").get_data(as_text=True))
    assert after != before
    # the token an anonymous visitor (or someone who planted it) had no longer works
    assert client.post("/account", data={"csrf_token": before, "name": "t", "days": "30"}).status_code == 400
    assert client.post("/account", data={"csrf_token": after, "name": "t", "days": "30"}).status_code == 200

