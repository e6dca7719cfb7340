"""Sign-in tells nothing about accounts, and an attacker cannot lock a real user out from elsewhere."""
from __future__ import annotations

import datetime as dt
import re

from argon2 import PasswordHasher
from sqlalchemy import select, update

from registry.auth import operations
from registry.auth.operations import (ADDRESS_FIRST_HOLD, ADDRESS_FORGETS_AFTER, ADDRESS_FREE_FAILURES,
                                      MAX_FAILED_LOGINS)
from registry.db import db_session
from registry.models import AuditEntry, LoginThrottle, User
from registry.models.patient import utcnow
from tests.security.conftest import PASSWORD, csrf_of, new_client

ATTACKER = "10.66.0.1"
ELSEWHERE = "10.77.0.1"


def _attempt(client, username: str, password: str, address: str = ATTACKER):
    token = csrf_of(client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _page_without(response, username: str) -> str:
    """The answer with what legitimately differs (the CSRF token, the name typed in) blanked out."""
    page = response.get_data(as_text=True)
    page = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', 'name="csrf_token"', page)
    return page.replace(f'value="{username}"', 'value=""')


def _hold(address: str, until: dt.datetime) -> None:
    db_session.execute(update(LoginThrottle).where(LoginThrottle.address == address).values(held_until=until))
    db_session.commit()


def test_every_refusal_costs_one_password_check_and_gets_the_same_answer(app, make_user, monkeypatch):
    """Unknown name, wrong password, locked, disabled or held-back address: one argon2 verify each, one reply."""
    real_verify = PasswordHasher.verify
    calls: list[str] = []

    def counting_verify(hasher: PasswordHasher, hash_: str, password: str) -> bool:
        calls.append(hash_)
        return real_verify(hasher, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    wrong = make_user("registrar", "wrongpw")
    locked = make_user("registrar", "lockedone")
    disabled = make_user("registrar", "disabledone")
    held = make_user("registrar", "heldone")
    db_session.execute(update(User).where(User.id == locked.id).values(locked_until=utcnow() + dt.timedelta(minutes=5)))
    db_session.execute(update(User).where(User.id == disabled.id).values(is_enabled=False))
    db_session.add(LoginThrottle(address="10.9.9.9", failures=ADDRESS_FREE_FAILURES, last_failure_at=utcnow(),
                                 held_until=utcnow() + dt.timedelta(minutes=5)))
    db_session.commit()
    cases = {
        "unknown user": ("nobody-at-all", PASSWORD, ATTACKER),
        "wrong password": (wrong.username, "not-the-password-1", ATTACKER),
        "locked, right password": (locked.username, PASSWORD, ATTACKER),
        "locked, wrong password": (locked.username, "not-the-password-1", ATTACKER),
        "disabled, right password": (disabled.username, PASSWORD, ATTACKER),
        "held-back address, right password": (held.username, PASSWORD, "10.9.9.9"),
    }
    client = new_client(app)
    answers = {}
    for case, (username, password, address) in cases.items():
        calls.clear()
        response = _attempt(client, username, password, address)
        assert response.status_code == 401, case
        assert len(calls) == 1, f"{case}: {len(calls)} password verifications"
        answers[case] = _page_without(response, username)
    assert "Wrong username or password" in answers["unknown user"]
    for case, page in answers.items():
        assert page == answers["unknown user"], f"{case} answers differently from an unknown user"
    # the stand-in hash for unknown names is as costly as a real one: same algorithm and parameters
    assert _cost(operations._stand_in_hash()) == _cost(db_session.get(User, wrong.id).password_hash)


def _cost(argon2_hash: str) -> str:
    return "$".join(argon2_hash.split("$")[:4])


def test_an_attacker_cannot_lock_a_user_out_from_elsewhere(app, make_user):
    admin = make_user("admin")
    client = new_client(app)
    for _ in range(ADDRESS_FREE_FAILURES + 5):
        assert _attempt(client, admin.username, "guessing-123").status_code == 401
    # the attacker's address is held back, even with the right password ...
    assert _attempt(client, admin.username, PASSWORD).status_code == 401
    assert "login_refused_throttled" in db_session.scalars(select(AuditEntry.action)).all()
    # ... but the administrator, from their own address, signs in
    assert _attempt(new_client(app), admin.username, PASSWORD, ELSEWHERE).status_code == 302
    assert db_session.get(User, admin.id).locked_until is None
    # attempts while held back do not count against the account
    assert db_session.get(User, admin.id).failed_logins == 0


def _throttle() -> LoginThrottle:
    return db_session.get(LoginThrottle, ATTACKER)


def test_the_hold_on_an_address_doubles_with_each_failure_and_is_forgotten_later(app, make_user):
    user = make_user("registrar")
    client = new_client(app)
    for _ in range(ADDRESS_FREE_FAILURES - 1):
        _attempt(client, user.username, "guessing-123")
    assert _throttle().held_until is None
    _attempt(client, "someone-else", "guessing-123")  # unknown names count against the address too
    first = _throttle().held_until - _throttle().last_failure_at
    assert first == ADDRESS_FIRST_HOLD
    _hold(ATTACKER, utcnow() - dt.timedelta(seconds=1))
    _attempt(client, user.username, "guessing-123")
    assert _throttle().held_until - _throttle().last_failure_at == 2 * first
    # an hour without failures and the address starts afresh
    db_session.execute(update(LoginThrottle).where(LoginThrottle.address == ATTACKER).values(
        held_until=None, last_failure_at=utcnow() - ADDRESS_FORGETS_AFTER - dt.timedelta(seconds=1)))
    db_session.commit()
    _attempt(client, user.username, "guessing-123")
    assert _throttle().failures == 1 and _throttle().held_until is None
    assert _attempt(client, user.username, PASSWORD).status_code == 302


def test_the_client_address_comes_from_the_proxy_only_when_configured(app, database_url, tmp_path, make_user):
    from registry.app import create_app
    from registry.db import bind
    user = make_user("registrar")

    def fail_from(application, forwarded_for: str) -> None:
        client = new_client(application)
        token = csrf_of(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"username": user.username, "password": "guessing-123", "csrf_token": token},
                    headers={"X-Forwarded-For": forwarded_for})

    # by default a client cannot choose its own address with the header
    fail_from(app, "198.51.100.7")
    assert db_session.get(LoginThrottle, "198.51.100.7") is None
    assert db_session.get(LoginThrottle, "127.0.0.1").failures == 1
    proxied = create_app({"DATABASE_URL": database_url, "TESTING": True, "REDIS_URL": None,
                          "JOB_FILES_DIR": str(tmp_path), "TRUSTED_PROXY_HOPS": 1})
    try:
        fail_from(proxied, "203.0.113.9")
        assert db_session.get(LoginThrottle, "203.0.113.9").failures == 1
    finally:
        bind(app.extensions["registry_engine"])
        proxied.extensions["registry_engine"].dispose()
