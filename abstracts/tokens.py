"""Personal API tokens: shown once, stored as a SHA-256 hash, with an expiry; revocable by their owner."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select

from registry.audit import log_event, operation
from registry.db import db_session
from registry.errors import InvalidInput, NotFound
from registry.models import ApiToken, Role, User
from registry.models.patient import utcnow

TOKEN_PREFIX = "crt_"
MAX_DAYS = 365
#: last_used_at is written at most this often, so API reads do not each cost a write.
TOUCH_EVERY = dt.timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.timezone.utc) if value is not None and value.tzinfo is None else value


def create_token(user: User, name: str, *, days: int = 90) -> tuple[ApiToken, str]:
    """A new token for ``user``; the plain token is returned once and never stored."""
    name = (name or "").strip()
    errors = {}
    if not name or len(name) > 80:
        errors["name"] = "give the token a name of 1-80 characters"
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = f"must be between 1 and {MAX_DAYS}"
    if errors:
        raise InvalidInput(errors)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with operation(user, "create_api_token") as session:
        token = ApiToken(user_id=user.id, name=name, token_hash=_hash(plain), prefix=plain[:12],
                         expires_at=utcnow() + dt.timedelta(days=days))
        session.add(token)
        session.flush()
        log_event(user, "create_api_token", entity="api_token", entity_id=token.id,
                  detail=f"{name}, expires {token.expires_at:%Y-%m-%d}", commit=False)
    return token, plain


def revoke_token(token_id: int, *, actor: User) -> ApiToken:
    with operation(actor, "revoke_api_token") as session:
        token = session.get(ApiToken, token_id)
        if token is None or (token.user_id != actor.id and actor.role is not Role.ADMIN):
            # one answer for both, so that trying ids does not tell which tokens exist
            raise NotFound(f"you have no API token {token_id} to revoke")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            log_event(actor, "revoke_api_token", entity="api_token", entity_id=token.id, commit=False)
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def is_usable(token: ApiToken, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return token.revoked_at is None and _aware(token.expires_at) > now


def user_for_token(plain: str) -> User | None:
    """The enabled user a valid, unexpired, unrevoked token belongs to."""
    found = token_and_user(plain)
    return found[1] if found else None


def token_and_user(plain: str) -> tuple[ApiToken, User] | None:
    """The valid, unexpired, unrevoked token and its enabled user (the token for its rate limit)."""
    if not plain or not plain.startswith(TOKEN_PREFIX):
        return None
    token = db_session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(plain)))
    now = utcnow()
    if token is None or not is_usable(token, now):
        return None
    user = db_session.get(User, token.user_id)
    if user is None or not user.is_enabled:
        return None
    last = _aware(token.last_used_at)
    if last is None or now - last > TOUCH_EVERY:
        token.last_used_at = now
        db_session.commit()
    return token, user
