"""Account changes and sign-in, each audited like any other change."""
from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from registry.audit import SYSTEM, Actor, log_event, operation
from registry.db import db_session
from registry.errors import InvalidInput
from registry.models import Role, User
from registry.models.patient import utcnow

hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15


def password_problem(password: str) -> str | None:
    """The minimum policy: long enough, not all one kind of character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if password.isdigit() or password.isalpha():
        return "must mix letters with digits or symbols"
    return None


def create_user(username: str, password: str, role: Role | str, *, full_name: str = "",
                actor: Actor | User = SYSTEM) -> User:
    errors: dict[str, str] = {}
    username = (username or "").strip()
    if not username or len(username) > 80 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        errors["username"] = "use 1-80 letters, digits, '.', '-' or '_'"
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = f"'{role}' is not a role (choose {', '.join(r.value for r in Role)})"
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if errors:
        raise InvalidInput(errors)
    with operation(actor, "create_user") as session:
        if session.scalar(select(User.id).where(User.username == username)):
            raise InvalidInput({"username": f"'{username}' already exists"})
        user = User(username=username, full_name=full_name, role=role, password_hash=hasher.hash(password))
        session.add(user)
        session.flush()
    return user


def set_password(user_id: int, password: str, *, actor: Actor | User) -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidInput({"password": problem})
    with operation(actor, "set_password") as session:
        user = session.get(User, user_id)
        user.password_hash = hasher.hash(password)
        user.failed_logins = 0
        user.locked_until = None


def authenticate(username: str, password: str) -> User | None:
    """The user when the password is right and the account is not locked; every attempt is logged."""
    session = db_session()
    user = session.scalar(select(User).where(User.username == (username or "").strip()))
    now = utcnow()
    if user is None:
        log_event(SYSTEM, "login_failed", detail=f"unknown user {username[:80]!r}")
        return None
    who = Actor.of(user)
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=dt.timezone.utc)
    if locked_until and locked_until > now:
        log_event(who, "login_refused_locked", entity="user_account", entity_id=user.id)
        return None
    try:
        hasher.verify(user.password_hash, password)
        ok = user.is_enabled
    except (VerificationError, InvalidHashError):
        ok = False
    with operation(who, "login" if ok else "login_failed"):
        if ok:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
        else:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
    if not ok and user.locked_until:
        log_event(who, "account_locked", entity="user_account", entity_id=user.id,
                  detail=f"after {user.failed_logins} failed logins, for {LOCK_MINUTES} minutes")
    return user if ok else None
