"""Data use agreements: recorded and revoked by administrators, logged as events."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from registry.audit import Actor, log_event, operation
from registry.db import db_session
from registry.errors import InvalidInput, NotFound
from registry.models import DataUseAgreement, Role, User
from registry.models.patient import utcnow


def add_agreement(username: str, project: str, expires: str | dt.date, *, actor: Actor | User) -> DataUseAgreement:
    """Record that ``username`` may receive limited data sets for ``project`` until ``expires`` (inclusive)."""
    errors = {}
    user = db_session.scalar(select(User).where(User.username == username))
    if user is None:
        errors["user"] = f"there is no account named {username!r}"
    elif user.role not in (Role.RESEARCHER, Role.ADMIN):
        errors["user"] = f"{username} is a {user.role.value}; agreements are for researchers"
    if not project.strip():
        errors["project"] = "name the project the data are for"
    try:
        day = expires if isinstance(expires, dt.date) else dt.date.fromisoformat(str(expires).strip())
    except ValueError:
        errors["expires"] = f"{expires!r} is not a date like 2027-12-31"
    else:
        if day < dt.date.today():
            errors["expires"] = f"{day.isoformat()} is in the past"
    if errors:
        raise InvalidInput(errors)
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    with operation(who, "data_use_agreement") as session:
        agreement = DataUseAgreement(user_id=user.id, project=project.strip(), expires_on=day,
                                     recorded_by=who.username)
        session.add(agreement)
        session.flush()
        log_event(who, "data_use_agreement_add", entity="data_use_agreement", entity_id=agreement.id, commit=False,
                  detail=f"{username}: {agreement.project} until {day.isoformat()}")
    return agreement


def revoke_agreement(agreement_id: int, *, actor: Actor | User) -> DataUseAgreement:
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    with operation(who, "data_use_agreement") as session:
        agreement = session.get(DataUseAgreement, agreement_id)
        if agreement is None:
            raise NotFound(f"there is no data use agreement {agreement_id}")
        agreement.revoked_at = agreement.revoked_at or utcnow()
        log_event(who, "data_use_agreement_revoke", entity="data_use_agreement", entity_id=agreement.id,
                  commit=False, detail=agreement.project)
    return agreement


def agreements(user: User | None = None) -> list[DataUseAgreement]:
    stmt = select(DataUseAgreement).order_by(DataUseAgreement.id.desc())
    if user is not None:
        stmt = stmt.where(DataUseAgreement.user_id == user.id)
    return list(db_session.scalars(stmt))


def valid_agreements(user: User, today: dt.date | None = None) -> list[DataUseAgreement]:
    today = today or dt.date.today()
    return [a for a in agreements(user) if a.valid_on(today)]
