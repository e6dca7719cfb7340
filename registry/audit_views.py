"""Administrator pages over the audit trail: search by user, patient, action and date range; export as CSV.

The trail is read here and never changed (there is no route that writes it except the export's own
log line). An export is itself an audited event, so who took a copy of the trail, and which part, is
on the trail too.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import Select, func, select

from registry.audit import log_event
from registry.auth import roles_required
from registry.csv_safety import SafeWriter
from registry.db import db_session
from registry.models import AuditEntry, Role

blueprint = Blueprint("audit", __name__, url_prefix="/admin/audit", template_folder="templates")

PER_PAGE = 100
CSV_COLUMNS = ("id", "at", "username", "user_id", "action", "entity", "entity_id", "entity_version", "patient_id",
               "changes", "detail")
#: The search fields as (query argument, label); the page and the export take the same arguments.
FILTERS = (("user", "User"), ("patient", "Patient (record id)"), ("action", "Action starts with"),
           ("date_from", "From (YYYY-MM-DD)"), ("date_to", "To (YYYY-MM-DD, inclusive)"))


@dataclass
class AuditSearch:
    user: str = ""
    patient: int | None = None
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_args(cls, args: dict[str, str]) -> tuple[AuditSearch, dict[str, str]]:
        """The search and a message per field that could not be read."""
        errors: dict[str, str] = {}
        search = cls(user=args.get("user", "").strip()[:80], action=args.get("action", "").strip()[:80])
        patient = args.get("patient", "").strip()
        if patient:
            if patient.isdigit() and len(patient) <= 12:
                search.patient = int(patient)
            else:
                errors["patient"] = "a patient record id is a whole number, e.g. 42"
        for name in ("date_from", "date_to"):
            text = args.get(name, "").strip()
            if text:
                try:
                    setattr(search, name, dt.date.fromisoformat(text[:10]) if len(text) == 10 else None)
                    if getattr(search, name) is None:
                        raise ValueError
                except ValueError:
                    errors[name] = "use a date as YYYY-MM-DD, e.g. 2025-03-01"
        if search.date_from and search.date_to and search.date_from > search.date_to:
            errors["date_to"] = "must not be before the start date"
        return search, errors

    def statement(self) -> Select:
        stmt = select(AuditEntry)
        if self.user:
            stmt = stmt.where(AuditEntry.username == self.user)
        if self.patient is not None:
            stmt = stmt.where(AuditEntry.patient_id == self.patient)
        if self.action:
            stmt = stmt.where(AuditEntry.action.startswith(self.action, autoescape=True))
        if self.date_from:
            stmt = stmt.where(AuditEntry.at >= _start_of(self.date_from))
        if self.date_to:
            stmt = stmt.where(AuditEntry.at < _start_of(self.date_to + dt.timedelta(days=1)))
        return stmt

    def describe(self) -> str:
        parts = [f"{name}={value}" for name, value in (("user", self.user), ("patient", self.patient),
                 ("action", self.action), ("from", self.date_from), ("to", self.date_to)) if value not in ("", None)]
        return ", ".join(parts) or "everything"


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)


def _query() -> dict[str, str]:
    return {name: request.args.get(name, "") for name, _ in FILTERS if request.args.get(name, "")}


@blueprint.route("/")
@roles_required(Role.ADMIN)
def search() -> tuple[str, int]:
    criteria, errors = AuditSearch.from_args(request.args)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = [], 0
    if not errors:
        stmt = criteria.statement()
        total = int(db_session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = list(db_session.scalars(stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * PER_PAGE)
                                       .limit(PER_PAGE)))
    query = _query()
    return render_template("audit/search.html", rows=rows, total=total, page=page,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), filters=FILTERS, args=request.args,
                           errors=errors, query=query,
                           export_url=url_for("audit.export", **query)), (422 if errors else 200)


@blueprint.route("/export.csv")
@roles_required(Role.ADMIN)
def export() -> Response | tuple[str, int]:
    """Every matching entry, oldest first; the export is logged before the first byte is sent."""
    criteria, errors = AuditSearch.from_args(request.args)
    if errors:
        return search()
    log_event(current_user._get_current_object(), "audit_export", detail=criteria.describe())
    stmt = criteria.statement().order_by(AuditEntry.id).execution_options(yield_per=1000)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(CSV_COLUMNS)
        for entry in db_session.scalars(stmt):
            writer.writerow([entry.id, entry.at.isoformat(), entry.username, entry.user_id or "", entry.action,
                             entry.entity or "", entry.entity_id or "", entry.entity_version or "",
                             entry.patient_id or "", json.dumps(entry.changes, sort_keys=True) if entry.changes else "",
                             entry.detail or ""])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})
