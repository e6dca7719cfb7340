"""What the API tests of analysis share: waiting for a job, and the audit entries of an action."""
from __future__ import annotations

from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry
from tests.jobs import ended as wait

__all__ = ["audited", "wait"]


def audited(action: str) -> list[AuditEntry]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
