"""Audit trail: every change is written in the same transaction as the change itself.

Operations run inside :func:`operation`, which names the actor and the action. A flush hook
turns every insert, update and delete of an audited model into an :class:`AuditEntry` with
field-level before/after, so no operation can forget to log and no log line can outlive a
rolled-back change. Events that change nothing (login, reading a record, an export) are
written with :func:`log_event`.
"""
from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from registry.db import db_session, session_factory, transaction
from registry.models import (AuditEntry, Facility, FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus,
                             Patient, ReferenceInstall, Tumor, User)
from registry.models.patient import utcnow

AUDITED = (Patient, Tumor, FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus, User, ReferenceInstall,
           Facility)
NOT_LOGGED = {"version", "updated_at", "created_at"}
REDACTED = {"password_hash"}
#: A part created in the same flush as its owner is recorded in the owner's creation entry, not one
#: of its own: part -> (owner, the part's key to it). A first-course treatment is part of its tumor
#: (treatment items are Tumor items in NAACCR); its later changes get entries of their own.
CREATED_WITH: dict[type, tuple[type, str]] = {FirstCourseTreatment: (Tumor, "tumor_id")}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, or a named system process (``user_id`` None)."""

    user_id: int | None
    username: str

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username)


SYSTEM = Actor(None, "system")
_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)
_action: ContextVar[str | None] = ContextVar("audit_action", default=None)
_detail: ContextVar[str | None] = ContextVar("audit_detail", default=None)


class AuditLogIsAppendOnly(RuntimeError):
    pass


@contextmanager
def operation(actor: Actor | User, action: str, *, detail: str | None = None) -> Iterator[Session]:
    """Run one user action as one transaction, attributed to ``actor``; all or nothing. ``detail`` is written on
    every entry the action's changes make: what the user decided that the changed fields cannot show."""
    who = Actor.of(actor) if isinstance(actor, User) else actor
    actor_token, action_token, detail_token = _actor.set(who), _action.set(action), _detail.set(detail)
    try:
        with transaction() as session:
            yield session
    finally:
        _actor.reset(actor_token)
        _action.reset(action_token)
        _detail.reset(detail_token)


@contextmanager
def action_part(part: str) -> Iterator[None]:
    """Within an operation, name what is flushed inside as ``<action>:<part>``, so the audit trail tells what
    the registry changed on its own (e.g. sequence numbers re-proposed) apart from what the user entered."""
    outer = _action.get()
    token = _action.set(f"{outer}:{part}" if outer else part)
    try:
        yield
    finally:
        _action.reset(token)


def log_event(actor: Actor | User, action: str, *, entity: str | None = None, entity_id: Any = None,
              patient_id: int | None = None, detail: str | None = None, commit: bool = True) -> None:
    """Record an event that changes no audited row (login, a read of PHI, an export)."""
    who = Actor.of(actor) if isinstance(actor, User) else actor
    session = db_session()
    session.execute(insert(AuditEntry), [{
        "at": utcnow(), "user_id": who.user_id, "username": who.username, "action": action, "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id), "patient_id": patient_id, "detail": detail,
    }])
    if commit:
        session.commit()


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _patient_id(session: Session, obj: Any) -> int | None:
    if isinstance(obj, Patient):
        return obj.id
    if isinstance(obj, (Tumor, FollowUpContact)):
        return obj.patient_id
    if isinstance(obj, FirstCourseTreatment):
        return session.connection().scalar(select(Tumor.patient_id).where(Tumor.id == obj.tumor_id))
    if isinstance(obj, FollowUpTumorStatus):
        return session.connection().scalar(select(Tumor.patient_id).where(Tumor.id == obj.tumor_id))
    return None


def _changes(obj: Any, kind: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in NOT_LOGGED:
            continue
        history = state.attrs[key].history
        if kind == "update":
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
        elif kind == "create":
            before, after = None, getattr(obj, key)
            if after in (None, "", {}):
                continue
        else:
            before = history.deleted[0] if history.deleted else getattr(obj, key, None)
            after = None
        if key in REDACTED:
            before, after = ("***" if before else None), ("***" if after else None)
        changes[key] = [_plain(before), _plain(after)]
    return changes


def _version(session: Session, obj: Any) -> int | None:
    """Version after the change; treatment shares its tumor's version."""
    if isinstance(obj, FirstCourseTreatment):
        tumor = session.identity_map.get(inspect(Tumor).identity_key_from_primary_key((obj.tumor_id,)))
        return tumor.version if tumor is not None else None
    return getattr(obj, "version", None) if isinstance(obj, (Patient, Tumor)) else None


def _entity_id(obj: Any) -> str:
    identity = inspect(obj).identity
    if identity:
        return "/".join(str(part) for part in identity)
    return str(getattr(obj, "id", ""))


@event.listens_for(session_factory, "after_flush")
def _write_audit(session: Session, _flush_context: Any) -> None:
    rows = []
    created = {(type(obj), getattr(obj, "id", None)) for obj in session.new}
    parts: dict[tuple[type, Any], list[Any]] = {}  # (owner type, owner id) -> its parts created with it
    for obj in session.new:
        owner, key = CREATED_WITH.get(type(obj), (None, ""))
        if owner is not None and (owner, getattr(obj, key)) in created:
            parts.setdefault((owner, getattr(obj, key)), []).append(obj)
    in_owner_entry = {id(part) for found in parts.values() for part in found}
    for kind, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if not isinstance(obj, AUDITED) or (kind == "create" and id(obj) in in_owner_entry):
                continue
            changes = _changes(obj, kind)
            if kind == "create":
                for part in parts.get((type(obj), getattr(obj, "id", None)), ()):
                    key = CREATED_WITH[type(part)][1]  # the owner's own id, already in its entry
                    changes.update((name, value) for name, value in _changes(part, kind).items() if name != key)
            if not changes and kind == "update":
                continue
            actor, action = _actor.get(), _action.get()
            if actor is None:
                raise RuntimeError(f"{type(obj).__name__} changed outside an operation: use registry.audit.operation")
            rows.append({"at": utcnow(), "user_id": actor.user_id, "username": actor.username,
                         "action": f"{action}:{kind}", "entity": obj.__tablename__,
                         "entity_id": _entity_id(obj), "entity_version": _version(session, obj),
                         "patient_id": _patient_id(session, obj),
                         "changes": changes, "detail": _detail.get()})
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_change(*_args: Any) -> None:
    raise AuditLogIsAppendOnly("the audit log cannot be changed")
