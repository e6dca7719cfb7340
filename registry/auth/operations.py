"""Account changes and sign-in, each audited like any other change."""
from __future__ import annotations

import datetime as dt
import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.audit import SYSTEM, Actor, log_event, operation
from registry.db import db_session, transaction
from registry.errors import InvalidInput
from registry.models import LoginThrottle, Role, User
from registry.models.patient import utcnow

hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
#: The account lock stops guessing spread over many addresses; it is set high because anyone can trip it.
MAX_FAILED_LOGINS = 20
LOCK_MINUTES = 15
#: Failures one client address may make before each further one holds it back, doubling from the first
#: hold up to the longest; the count starts again after an hour without failures from that address.
ADDRESS_FREE_FAILURES = 10
ADDRESS_FIRST_HOLD = dt.timedelta(minutes=1)
ADDRESS_MAX_HOLD = dt.timedelta(minutes=15)
ADDRESS_FORGETS_AFTER = dt.timedelta(hours=1)


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


def _user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise InvalidInput({"username": f"there is no account '{username}'"})
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave the registry with no enabled administrator to undo it."""
    others = session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.is_enabled.is_(True),
                                                               User.id != user.id))
    if user.role is Role.ADMIN and user.is_enabled and not others:
        raise InvalidInput({"username": f"'{user.username}' is the only enabled admin; "
                                        "make another admin first"})


def _replace_password(user: User, password: str) -> None:
    user.password_hash = hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_generation += 1


def set_password(user_id: int, password: str, *, actor: Actor | User) -> None:
    """A new password; it also ends the account's sessions, which may have been opened with the old one."""
    problem = password_problem(password)
    if problem:
        raise InvalidInput({"password": problem})
    with operation(actor, "set_password") as session:
        _replace_password(session.get(User, user_id), password)


def reset_password(username: str, password: str, *, actor: Actor | User) -> User:
    """An administrator sets a new password for ``username`` (a forgotten or leaked one)."""
    problem = password_problem(password)
    if problem:
        raise InvalidInput({"password": problem})
    with operation(actor, "reset_password") as session:
        user = _user_named(session, username)
        _replace_password(user, password)
    return user


def disable_user(username: str, *, actor: Actor | User) -> User:
    """Stop an account: its sessions end and its API tokens are refused from the next request on."""
    with operation(actor, "disable_user") as session:
        user = _user_named(session, username)
        _keep_an_admin(session, user)
        user.is_enabled = False
        user.session_generation += 1
    return user


def enable_user(username: str, *, actor: Actor | User) -> User:
    """Let a disabled account sign in again; its count of failed sign-ins starts afresh."""
    with operation(actor, "enable_user") as session:
        user = _user_named(session, username)
        user.is_enabled = True
        user.failed_logins = 0
        user.locked_until = None
    return user


def set_role(username: str, role: Role | str, *, actor: Actor | User) -> User:
    """Change what an account may do; the role is read afresh on every request, so it applies at once."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput({"role": f"'{role}' is not a role (choose {', '.join(r.value for r in Role)})"}) from None
    with operation(actor, "set_role") as session:
        user = _user_named(session, username)
        if role is not Role.ADMIN:
            _keep_an_admin(session, user)
        user.role = role
    return user


def end_sessions(username: str, *, actor: Actor | User) -> User:
    """Sign an account out everywhere (a lost laptop, a stolen cookie); API tokens are revoked separately."""
    with operation(actor, "end_sessions") as session:
        user = _user_named(session, username)
        user.session_generation += 1
    return user


def sign_out(user: User) -> None:
    """Signing out ends every session of the account, so a copy of the cookie taken earlier dies too."""
    with operation(user, "logout") as session:
        session.get(User, user.id).session_generation += 1
def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.timezone.utc) if value is not None and value.tzinfo is None else value


@functools.cache
def _stand_in_hash() -> str:
    """A hash of a random password, verified for unknown names so that they cost what a real account costs."""
    return hasher.hash(secrets.token_urlsafe(16))


def _count_address_failure(address: str, now: dt.datetime) -> None:
    """One more failure from ``address``; past the free allowance each one doubles the wait, up to a cap.

    Its own transaction, tried twice: two first failures from one address at the same moment both insert.
    """
    for attempt in (1, 2):
        try:
            with transaction() as session:
                throttle = session.get(LoginThrottle, address)
                if throttle is None:
                    throttle = LoginThrottle(address=address, failures=0, last_failure_at=now)
                    session.add(throttle)
                elif now - _aware(throttle.last_failure_at) > ADDRESS_FORGETS_AFTER:
                    throttle.failures = 0
                throttle.failures += 1
                throttle.last_failure_at = now
                over = throttle.failures - ADDRESS_FREE_FAILURES
                if over >= 0:
                    throttle.held_until = now + min(ADDRESS_FIRST_HOLD * 2 ** min(over, 10), ADDRESS_MAX_HOLD)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def authenticate(username: str, password: str, *, address: str) -> User | None:
    """The user when the password is right and neither the account nor the client address is held back.

    Every attempt costs one argon2 verification and gets the same answer, so neither the time taken nor
    the reply tells whether a name exists, is locked, is disabled or comes from a held-back address.
    Every attempt is logged.
    """
    session = db_session()
    now = utcnow()
    name = (username or "").strip()
    user = session.scalar(select(User).where(User.username == name))
    throttle = session.get(LoginThrottle, address)
    held = throttle is not None and throttle.held_until is not None and _aware(throttle.held_until) > now
    locked = user is not None and user.locked_until is not None and _aware(user.locked_until) > now
    try:
        hasher.verify(user.password_hash if user is not None else _stand_in_hash(), password)
        right = user is not None
    except (VerificationError, InvalidHashError):
        right = False
    who = Actor.of(user) if user is not None else SYSTEM
    if held:
        log_event(who, "login_refused_throttled", entity="user_account" if user else None,
                  entity_id=user.id if user else None,
                  detail=f"from {address} until {_aware(throttle.held_until):%H:%M:%S} UTC")
        return None
    if locked:
        log_event(who, "login_refused_locked", entity="user_account", entity_id=user.id)
        return None
    if right and user.is_enabled:
        with operation(who, "login"):
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
        return user
    _count_address_failure(address, now)
    if user is None:
        log_event(SYSTEM, "login_failed", detail=f"unknown user {name[:80]!r}")
        return None
    with operation(who, "login_failed"):
        if user.locked_until is not None:  # the lock lapsed: count afresh
            user.failed_logins = 0
            user.locked_until = None
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
    if user.locked_until:
        log_event(who, "account_locked", entity="user_account", entity_id=user.id,
                  detail=f"after {user.failed_logins} failed logins, for {LOCK_MINUTES} minutes")
    return None
