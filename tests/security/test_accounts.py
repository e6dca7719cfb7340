"""API tokens (revoked, expired), sign-in throttling, password policy, session expiry and cookie flags."""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from sqlalchemy import select, update

from registry.auth.operations import MAX_FAILED_LOGINS, create_user, set_password
from registry.db import db_session
from registry.errors import InvalidInput
from registry.models import ApiToken, AuditEntry, User
from registry.models.patient import utcnow
from tests.security.conftest import PASSWORD, csrf_of, new_client, sign_in


def _actions(user_id=None):
    stmt = select(AuditEntry.action).order_by(AuditEntry.id)
    if user_id is not None:
        stmt = stmt.where(AuditEntry.user_id == user_id)
    return list(db_session.scalars(stmt))


def test_revoked_and_expired_tokens_are_refused(app, registry):
    from abstracts import tokens
    principal = registry.principals["registrar"]
    assert principal.api("GET", "/api/v1/patients").status_code == 200

    token, plain = tokens.create_token(principal.user, "to expire", days=1)
    registry.principals["registrar"].token = plain
    assert principal.api("GET", "/api/v1/patients").status_code == 200
    db_session.execute(update(ApiToken).where(ApiToken.id == token.id)
                       .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db_session.commit()
    refused = principal.api("GET", "/api/v1/patients")
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"

    _, plain = tokens.create_token(principal.user, "to revoke", days=30)
    principal.token = plain
    assert principal.api("GET", "/api/v1/tumors").status_code == 200
    mine = db_session.scalars(select(ApiToken).where(ApiToken.name == "to revoke",
                                                     ApiToken.user_id == principal.user.id)
                              .order_by(ApiToken.id.desc())).first()
    response = principal.client.post(f"/account/tokens/{mine.id}/revoke", data={"csrf_token": principal.csrf})
    assert response.status_code == 302
    assert principal.api("GET", "/api/v1/tumors").status_code == 401
    assert "revoke_api_token" in _actions(principal.user.id)

    # someone else's token cannot be revoked by a registrar
    other = registry.principals["reviewer"]
    principal.client.post(f"/account/tokens/{other.owned['token_id']}/revoke", data={"csrf_token": principal.csrf})
    assert db_session.get(ApiToken, other.owned['token_id']).revoked_at is None
    # a disabled account's tokens stop working
    assert other.api("GET", "/api/v1/codes").status_code == 200
    db_session.execute(update(User).where(User.id == other.user.id).values(is_enabled=False))
    db_session.commit()
    assert other.api("GET", "/api/v1/codes").status_code == 401
    # garbage and other schemes
    for header in ("Bearer crt_not-a-token", "Basic cmVnaXN0cmFyMTpjb3JyZWN0", "Bearer ", "crt_x"):
        assert principal.client.get("/api/v1/codes", headers={"Authorization": header}).status_code == 401


def _attempt(client, username, password, address="127.0.0.1"):
    token = csrf_of(client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_failures_spread_over_many_addresses_lock_the_account_and_the_lock_is_logged_and_lapses(app, make_user):
    user = make_user("reviewer")
    client = new_client(app)
    for n in range(MAX_FAILED_LOGINS):
        assert _attempt(client, user.username, "wrong-password-1", f"10.1.0.{n}").status_code == 401
    assert _attempt(client, user.username, PASSWORD, "10.2.0.1").status_code == 401
    locked = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "account_locked")).one()
    assert locked.user_id == user.id and locked.at is not None and f"{MAX_FAILED_LOGINS} failed" in locked.detail
    assert _actions(user.id)[-1] == "login_refused_locked"
    # unknown users are logged too, without creating anything
    _attempt(client, "nobody-here", "x" * 12, "10.3.0.1")
    assert db_session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "login_failed")).all()[-1] \
        == "unknown user 'nobody-here'"
    # the lock lapses after its time; then the right password works and the count starts again
    db_session.execute(update(User).where(User.id == user.id).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    db_session.commit()
    sign_in(app, user.username)
    assert db_session.get(User, user.id).failed_logins == 0
    assert _actions(user.id)[-1] == "login:update"


@pytest.mark.parametrize("password, problem", [
    ("short-1", "at least 10"), ("abcdefghijkl", "mix letters"), ("123456789012", "mix letters"), ("", "at least 10"),
])
def test_password_policy(app, password, problem):
    with pytest.raises(InvalidInput) as caught:
        create_user("someone", password, "registrar")
    assert problem in caught.value.errors["password"]
    assert db_session.scalar(select(User.id).where(User.username == "someone")) is None
    user = create_user("someone", "long-enough-1", "registrar")
    with pytest.raises(InvalidInput) as caught:
        set_password(user.id, password, actor=user)
    assert "password" in caught.value.errors
    result = app.test_cli_runner().invoke(args=["users", "create", "other", "--role", "admin", "--password", password])
    assert result.exit_code != 0 and "password" in result.output


def test_sessions_lapse_after_idle_time(app, make_user):
    user = make_user("registrar")
    client = sign_in(app, user.username)
    assert client.get("/").status_code == 200
    app.permanent_session_lifetime = dt.timedelta(seconds=1)
    time.sleep(2.2)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_cookies_are_secure_httponly_samesite_over_https(app, make_user):
    app.config["SESSION_COOKIE_SECURE"] = True
    user = make_user("admin")
    client = new_client(app)
    page = client.get("/login", base_url="https://registry.example")
    token = csrf_of(page.get_data(as_text=True))
    # over HTTPS Flask-WTF also checks that the Referer is this site
    response = client.post("/login", base_url="https://registry.example",
                           headers={"Referer": "https://registry.example/login"}, data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in session_cookie.split(";")}
    assert "secure" in flags and "httponly" in flags and flags["samesite"].lower() == "samesite=lax"
    assert "expires" in flags  # permanent: lapses with idle time, not at browser close only
    assert client.get("/", base_url="https://registry.example").status_code == 200


def test_revoking_a_token_that_does_not_exist_or_is_not_yours_answers_the_same(app, registry):
    """Otherwise trying ids would tell which tokens exist."""
    registrar, reviewer = registry.principals["registrar"], registry.principals["reviewer"]
    missing = db_session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc())) + 1000
    theirs = reviewer.owned["token_id"]
    answers = {}
    for token_id in (missing, theirs):
        response = registrar.client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": registrar.csrf})
        page = registrar.client.get(response.headers["Location"]).get_data(as_text=True)
        flashes = re.findall(r'<p class="flash ([a-z]+)" role="alert">([^<]*)</p>', page)
        answers[token_id] = (response.status_code, response.headers["Location"],
                             [(category, text.replace(str(token_id), "ID")) for category, text in flashes])
    assert answers[missing] == answers[theirs]
    assert answers[missing][2] == [("error", "you have no API token ID to revoke")]
    assert db_session.get(ApiToken, theirs).revoked_at is None
