"""Read-only queries the pages, API and reports share."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import re

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import contains_eager, defer, joinedload
from sqlalchemy.sql.util import find_tables

from abstracts.forms import to_naaccr_date
from abstracts.search import score_by_name
from registry.dates import date_problem
from registry.db import db_session
from registry.models import (AbstractEditStatus, AuditEntry, Patient, SuspenseCase, SuspenseStatus, Tumor,
                             WorkflowState)
from registry.reads import note_shown


@dataclass(frozen=True)
class PatientSearch:
    """Search criteria as typed: dates in any format the abstract form accepts, MRNs in any case, an SSN
    whole (with or without dashes) or its last four digits. :meth:`problems` says what cannot be read."""

    name: str = ""
    date_of_birth: str = ""
    medical_record_number: str = ""
    patient_id_number: str = ""
    ssn_last4: str = ""

    @property
    def birth_date(self) -> str | None:
        """The date of birth as NAACCR writes it (CCYY, CCYYMM or CCYYMMDD), or None when unreadable."""
        value = to_naaccr_date(self.date_of_birth)
        return value if re.fullmatch(r"\d{4}(\d{2}){0,2}", value) and not date_problem(value) else None

    @property
    def ssn_digits(self) -> str:
        return re.sub(r"[\s-]", "", self.ssn_last4)

    def problems(self) -> dict[str, str]:
        """``{criterion: why it cannot be read}``; such a criterion matches nothing."""
        out = {}
        if self.date_of_birth.strip() and self.birth_date is None:
            out["date_of_birth"] = (f"Date of birth '{self.date_of_birth.strip()}' cannot be read: type it as "
                                    "1947-07-21, 07/21/1947 or 19470721 (or 1947-07, 1947 when part is unknown)")
        digits = self.ssn_digits
        if digits and not (digits.isdigit() and len(digits) in (4, 9)):
            out["ssn_last4"] = (f"SSN '{self.ssn_last4.strip()}' cannot be read: type all nine digits "
                                "(123-45-6789 or 123456789) or the last four (6789)")
        pid = self.patient_id_number.strip()
        if pid and not (pid.isdigit() and len(pid) <= 8):
            out["patient_id_number"] = f"Patient ID '{pid}' cannot be read: it is up to 8 digits, e.g. 00012345"
        return out

    def statement(self) -> Select:
        """Patients matching every criterion except the name (names are matched by :func:`score_by_name`)."""
        stmt = select(Patient)
        problems = self.problems()
        if problems:
            return stmt.where(false())
        birth = self.birth_date
        if birth:
            stmt = stmt.where(Patient.date_of_birth == birth if len(birth) == 8
                              else Patient.date_of_birth.startswith(birth, autoescape=True))
        mrn = self.medical_record_number.strip()
        if mrn:
            stmt = stmt.where(or_(Patient.medical_record_number == mrn,
                                  func.upper(Patient.medical_record_number) == mrn.upper()))
        if self.patient_id_number.strip():
            stmt = stmt.where(Patient.patient_id_number == self.patient_id_number.strip().zfill(8))
        digits = self.ssn_digits
        if len(digits) == 9:
            stmt = stmt.where(Patient.social_security_number == digits)
        elif digits:
            stmt = stmt.where(Patient.social_security_number.endswith(digits, autoescape=True))
        return stmt

    @property
    def has_other_criteria(self) -> bool:
        return any(getattr(self, f).strip() for f in ("date_of_birth", "medical_record_number", "patient_id_number",
                                                      "ssn_last4"))


def search_patients(criteria: PatientSearch, *, page: int = 1, per_page: int = 50) -> tuple[list[Patient], int]:
    """One page of matching patients and the number of matches: by name similarity (best first) when a
    name is given, else by name then id."""
    stmt = criteria.statement()
    if criteria.problems():
        return [], 0
    if criteria.name.strip():
        base = stmt.with_only_columns(Patient.id) if criteria.has_other_criteria else None
        scored = score_by_name(criteria.name, base)
        ids = scored.ids[(page - 1) * per_page: page * per_page]
        found = {p.id: p for p in db_session.scalars(select(Patient).where(Patient.id.in_(ids)))} if ids else {}
        note_shown(found.values())
        return [found[i] for i in ids], len(scored.ids)
    total = db_session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db_session.scalars(stmt.order_by(Patient.name_last, Patient.name_first, Patient.id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    note_shown(rows)
    return list(rows), int(total or 0)


def workflow_counts() -> dict[str, int]:
    """Number of abstracts in each workflow state."""
    counts = dict(db_session.execute(select(Tumor.workflow_state, func.count()).group_by(Tumor.workflow_state)).all())
    return {state.value: int(counts.get(state, 0)) for state in WorkflowState}


def registry_totals() -> dict[str, int]:
    patients, deceased = db_session.execute(select(func.count(Patient.id),
                                                   func.count(Patient.id).filter(Patient.vital_status == "0"))).one()
    return {"patients": int(patients), "tumors": int(db_session.scalar(select(func.count(Tumor.id))) or 0),
            "deceased": int(deceased)}


def tumor_counts_by_patient(patient_ids: list[int]) -> dict[int, int]:
    if not patient_ids:
        return {}
    rows = db_session.execute(select(Tumor.patient_id, func.count()).where(Tumor.patient_id.in_(patient_ids))
                              .group_by(Tumor.patient_id))
    return {pid: int(n) for pid, n in rows}




def _months_ago(today: dt.date, months: int) -> str:
    """``today`` minus whole months as CCYYMMDD (the day clipped to the month's length)."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return f"{year:04d}{month + 1:02d}{day:02d}"


#: Follow-up is due this many months after the last contact, and delinquent after the second figure.
FOLLOW_UP_DUE_MONTHS, FOLLOW_UP_DELINQUENT_MONTHS = 12, 15


def follow_up_statement(kind: str, today: dt.date | None = None) -> Select:
    """Living patients whose last contact is 12-15 months ago (``due``) or older (``delinquent``).

    A partial date counts from its first possible day (``2024`` as 2024-01-01), so letters go out early
    rather than late; NAACCR strings compare in date order for that reading.
    """
    today = today or dt.date.today()
    due, delinquent = _months_ago(today, FOLLOW_UP_DUE_MONTHS), _months_ago(today, FOLLOW_UP_DELINQUENT_MONTHS)
    stmt = select(Patient).where(Patient.vital_status == "1", Patient.date_of_last_contact.is_not(None))
    if kind == "due":
        return stmt.where(Patient.date_of_last_contact < due, Patient.date_of_last_contact >= delinquent)
    if kind == "delinquent":
        return stmt.where(Patient.date_of_last_contact < delinquent)
    raise ValueError(f"unknown follow-up list {kind!r}")


def count(stmt: Select) -> int:
    return int(db_session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def page_of(stmt: Select, page: int, per_page: int) -> list:
    """One page of a list; its records are noted as shown (the request's read is audited with their patients).

    A page of abstracts brings their patients and assignees in the same statement, not one more per row; the
    item stores (JSON of a few kilobytes a record, which no abstract list shows) stay in the database. Lists of
    patients keep theirs: follow-up letters print addresses from them."""
    entity = stmt.column_descriptions[0].get("entity") if stmt.column_descriptions else None
    if entity is Tumor:
        stmt = stmt.options(defer(Tumor.site_specific_items), defer(Tumor.extra_items), joinedload(Tumor.assigned_to))
        if Patient.__table__ not in {table for from_ in stmt.get_final_froms() for table in find_tables(from_)}:
            stmt = stmt.options(joinedload(Tumor.patient).defer(Patient.extra_items))
    rows = list(db_session.scalars(stmt.offset((page - 1) * per_page).limit(per_page)))
    note_shown(rows)
    return rows


QUEUES = ("assigned_to_me", "in_progress", "returned", "edit_errors", "awaiting_review", "follow_ups_due", "suspense")
#: The queues that list abstracts (the others list patients or suspense cases).
TUMOR_QUEUES = ("assigned_to_me", "in_progress", "returned", "edit_errors", "awaiting_review")
#: Each role's home page leads with its own work: a reviewer's with what awaits review.
QUEUE_ORDER = {"reviewer": ("awaiting_review", "edit_errors", "returned", "in_progress", "follow_ups_due", "suspense",
                            "assigned_to_me")}
#: Sortable columns of the abstract queues: name -> the column (the patient's name sorts by last, first).
SORTS = {"patient": (Patient.name_last, Patient.name_first), "site": (Tumor.primary_site,),
         "diagnosed": (Tumor.date_of_diagnosis,), "state": (Tumor.workflow_state,),
         "assigned": (Tumor.assigned_to_id,), "updated": (Tumor.updated_at,)}
#: Who the abstract queues show: everyone's, the reader's own, or those no one holds.
ASSIGNMENT_FILTERS = ("all", "mine", "unassigned")


@dataclass(frozen=True)
class QueueView:
    """How one reader looks at a queue: sort column and direction, and whose abstracts."""
    sort: str = ""
    descending: bool = False
    show: str = "all"

    @classmethod
    def from_args(cls, args: dict[str, str]) -> QueueView:
        """Unknown sort columns or filters fall back to the queue's own order, never an error page."""
        sort = args.get("sort", "")
        show = args.get("show", "all")
        return cls(sort if sort in SORTS else "", args.get("dir") == "desc",
                   show if show in ASSIGNMENT_FILTERS else "all")


def queue_statement(name: str, *, user_id: int | None = None, view: QueueView = QueueView()) -> Select:
    """The rows behind each work-queue card (tumors, patients or suspense cases), for the reader ``user_id``."""
    if name in TUMOR_QUEUES:
        stmt = _tumor_queue(name, user_id)
        if view.show == "mine":
            stmt = stmt.where(Tumor.assigned_to_id == user_id)
        elif view.show == "unassigned":
            stmt = stmt.where(Tumor.assigned_to_id.is_(None))
        if view.sort:
            if view.sort == "patient":  # the join that sorts also brings each abstract's patient
                stmt = stmt.join(Tumor.patient).options(contains_eager(Tumor.patient).defer(Patient.extra_items))
            columns = SORTS[view.sort]
            stmt = stmt.order_by(None).order_by(*(c.desc() if view.descending else c.asc() for c in columns),
                                                Tumor.id)
        return stmt
    if name == "follow_ups_due":
        return follow_up_statement("due").order_by(Patient.date_of_last_contact)
    if name == "suspense":
        return select(SuspenseCase).where(SuspenseCase.status == SuspenseStatus.OPEN).order_by(SuspenseCase.id)
    raise KeyError(name)


def _tumor_queue(name: str, user_id: int | None) -> Select:
    if name == "assigned_to_me":
        return (select(Tumor).where(Tumor.assigned_to_id == user_id,
                                    Tumor.workflow_state == WorkflowState.IN_PROGRESS)
                .order_by(Tumor.updated_at.desc()))
    if name == "in_progress":
        return select(Tumor).where(Tumor.workflow_state == WorkflowState.IN_PROGRESS).order_by(Tumor.updated_at.desc())
    if name == "returned":
        return select(Tumor).where(Tumor.workflow_state == WorkflowState.IN_PROGRESS,
                                   Tumor.workflow_comment.is_not(None)).order_by(Tumor.updated_at.desc())
    if name == "edit_errors":
        return (select(Tumor).join(AbstractEditStatus, AbstractEditStatus.tumor_id == Tumor.id)
                .where(AbstractEditStatus.errors > 0, Tumor.workflow_state != WorkflowState.REVIEWED)
                .order_by(AbstractEditStatus.checked_at.desc()))
    return select(Tumor).where(Tumor.workflow_state == WorkflowState.COMPLETE).order_by(Tumor.updated_at)


def queue_counts(user_id: int | None) -> dict[str, int]:
    """How many rows each work queue holds, in three statements: one grouped count over the abstracts that are
    not yet reviewed (the abstract queues; the index on workflow state keeps reviewed ones unread), one over the
    follow-ups due, one over open suspense cases. Each count is what :func:`count` of the queue's statement
    gives."""
    open_ = Tumor.workflow_state == WorkflowState.IN_PROGRESS
    row = db_session.execute(
        select(func.count().filter(open_, Tumor.assigned_to_id == user_id),
               func.count().filter(open_),
               func.count().filter(open_, Tumor.workflow_comment.is_not(None)),
               func.count().filter(AbstractEditStatus.errors > 0),
               func.count().filter(Tumor.workflow_state == WorkflowState.COMPLETE))
        .outerjoin(AbstractEditStatus, AbstractEditStatus.tumor_id == Tumor.id)
        .where(Tumor.workflow_state.in_([WorkflowState.IN_PROGRESS, WorkflowState.COMPLETE]))).one()
    counts = dict(zip(TUMOR_QUEUES, (int(n) for n in row)))
    counts["follow_ups_due"] = count(queue_statement("follow_ups_due"))
    counts["suspense"] = count(queue_statement("suspense"))
    return counts


def work_queue(user_id: int, role: str, sample: int = 8) -> dict[str, tuple[int, list]]:
    """``{queue: (count, first rows)}`` for the home page, in the order that leads with the role's work; an empty
    queue costs no statement beyond its count."""
    order = QUEUE_ORDER.get(role, QUEUES)
    counts = queue_counts(user_id)
    return {name: (counts[name], page_of(queue_statement(name, user_id=user_id), 1, sample) if counts[name] else [])
            for name in order}


def audit_history(patient_id: int, limit: int = 200) -> list[AuditEntry]:
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.patient_id == patient_id)
                                   .order_by(AuditEntry.id.desc()).limit(limit)))
