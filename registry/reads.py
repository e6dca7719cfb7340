"""Audit of list and search reads: which patients a response showed, to whom, for which query.

The shared list queries (``page_of``, ``search_patients``, the API's pages, the duplicate check) pass the
records they return to :func:`note_shown`; after the view has run, one hook writes an audit row per record
shown, so "who saw patient X" is one search by patient on the audit page, for lists as for patient pages.
A search that found nothing still writes one row with its query. The query is kept with SSN digits masked.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import insert

from registry.db import db_session
from registry.models import AuditEntry, Patient
from registry.models.patient import utcnow

ACTION = "view_list"
#: Query arguments that carry SSN digits (``ssn_last4``, ``social_security_number``): stored as ``*``.
_SSN_ARGUMENT = re.compile(r"ssn|social_security", re.IGNORECASE)


def note_shown(records: Iterable[Any]) -> None:
    """Remember identified records this request is about to show (patients, tumors, suspense cases…)."""
    if not has_request_context():
        return
    noted = g.setdefault("shown_records", {})
    for record in records:
        patient_id = record.id if isinstance(record, Patient) else getattr(record, "patient_id", None)
        noted.setdefault((record.__tablename__, record.id), patient_id)


def masked_query() -> str:
    """The request's path and query, SSN digits replaced by ``*``."""
    pairs = [(key, re.sub(r"[0-9]", "*", value) if _SSN_ARGUMENT.search(key) else value)
             for key, value in request.args.items(multi=True)]
    return request.path + (f"?{urlencode(pairs)}" if pairs else "")


def _reader() -> Any:
    user = g.get("api_user")
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    return user if user is not None and user.may_see_phi else None


def _log_shown(response: Response) -> Response:
    noted = g.pop("shown_records", None)
    if noted is None or response.status_code >= 400:
        return response
    user = _reader()
    if user is None:
        return response
    at, detail = utcnow(), f"{request.method} {masked_query()} ({len(noted)} shown)"
    base = {"at": at, "user_id": user.id, "username": user.username, "action": f"{ACTION}:{request.endpoint}",
            "detail": detail}
    rows = [{**base, "entity": entity, "entity_id": str(ident), "patient_id": patient_id}
            for (entity, ident), patient_id in noted.items()]
    db_session.execute(insert(AuditEntry), rows or [{**base, "entity": None, "entity_id": None, "patient_id": None}])
    db_session.commit()
    return response


def _forget_shown(_exc: BaseException | None) -> None:
    g.pop("shown_records", None)


def install(app: Flask) -> None:
    """Log every list read the request noted, once the view has rendered it; a failed request logs nothing
    and leaves nothing noted for the next one (``g`` can outlive a request when the app context does)."""
    app.after_request(_log_shown)
    app.teardown_request(_forget_shown)
