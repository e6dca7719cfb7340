"""Helpers of the API capability tests: waiting for a job the API started, and reading what it answered."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry, Job
from tests.naaccr_io.conftest import dictionaries, install_dictionaries, reference_store
from tests.staging_product.conftest import install, store
from tests.jobs import ended as wait

#: The fixtures these tests share with the NAACCR and staging tests: their dictionaries and bundle installs.
__all__ = ["dictionaries", "install_dictionaries", "reference_store", "install", "store"]


def started(response: Any) -> Job:
    """The job a 202 answer started, once it has ended; checks the answer's shape on the way."""
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert response.headers["Location"] == body["url"] == f"/api/v1/jobs/{body['id']}"
    assert body["status"] in ("queued", "running", "finished", "failed")
    return wait(body["id"])


def audited(action: str, **where: Any) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, name) == value)
    return list(db_session.scalars(stmt.order_by(AuditEntry.id)))


def refused(response: Any) -> None:
    """A 403 in the API's error shape."""
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "not_allowed"
