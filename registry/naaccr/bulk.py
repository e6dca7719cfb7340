"""Driver-level inserts for the NAACCR importer's new records.

Why this exists: an import of new patients spent most of its write time in SQLAlchemy's per-row
work (parameter processing, JSON binding, and on SQLite one statement per row for RETURNING).
Here new patients, their tumors, first-course treatment and the audit rows the flush hook would
have written go in through the DB-API connection of the session's own transaction, so the
caller's ``operation`` still commits or rolls back the whole batch:

* ids are drawn up front: PostgreSQL from the tables' serial sequences; SQLite after ``max(id)``,
  which is what SQLite itself would hand out (a writer committing the same ids in between makes
  the insert fail with ``IntegrityError``, like any refused batch);
* rows are tuples in column order, each value as the Core insert would have stored it: JSON text
  from the dialect's serializer, the timestamps and the workflow state through the columns' own
  bind processors, Python-side defaults applied (one timestamp per batch, so a record's
  ``created_at``, ``updated_at`` and audit ``at`` agree), server defaults (``version``) left to the server;
* SQLite writes with ``executemany``, PostgreSQL (psycopg 3) with ``COPY ... FROM STDIN`` in the
  binary format (each value sent as the column's type takes it, so neither side formats or parses
  text; the server still checks every value: a too-long ``varchar``, bad JSON), measured faster
  there than ``executemany`` and than the text format;
* a driver error is raised as SQLAlchemy's exception (``IntegrityError`` …), which the importer
  answers by retrying the batch record by record.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.audit import Actor
from registry.models import AuditEntry, FirstCourseTreatment, Patient, Tumor, WorkflowState
from registry.models.patient import utcnow
from registry.naaccr.records import attributes


@dataclass(slots=True)
class NewTumor:
    """A tumor of a new patient: cleaned column values, SSDIs, verbatim extras and its treatment."""

    values: dict[str, Any]
    site_specific_items: dict[str, str]
    extra_items: dict[str, str]
    treatment: dict[str, Any]


@dataclass(slots=True)
class NewPatient:
    """A patient no registry record matched, with its tumors."""

    values: dict[str, Any]
    extra_items: dict[str, str]
    tumors: list[NewTumor] = field(default_factory=list)


#: The columns written per table; every other column is nullable or has a server default
#: (``version``) or an autoincrement id (``audit_entry.id``).
PATIENT_COLUMNS = ("id", *attributes("patient"), "extra_items", "created_at", "updated_at")
TUMOR_COLUMNS = ("id", "patient_id", *attributes("tumor"), "site_specific_items", "extra_items", "workflow_state",
                 "created_at", "updated_at")
TREATMENT_COLUMNS = ("tumor_id", *attributes("treatment"))
AUDIT_COLUMNS = ("at", "user_id", "username", "action", "entity", "entity_id", "entity_version", "patient_id",
                 "changes", "detail")


def insert_new_records(session: Session, actor: Actor, action: str, patients: Sequence[NewPatient]) -> list[int]:
    """Insert ``patients`` with their tumors, treatment and ``{action}:create`` audit rows; the new tumor ids.

    The audit rows carry what the flush hook records for a created object: the id, then every
    non-blank column value in column order, then the keys and JSON items; a tumor's row ends with
    its treatment's non-blank values, as the hook folds a treatment created with its tumor in.
    """
    if not patients:
        return []
    writer = _Writer(session)
    now = utcnow()
    stamp = writer.stored(Patient.__table__.c.created_at, now)
    at = writer.stored(AuditEntry.__table__.c.at, now)
    in_progress = writer.stored(Tumor.__table__.c.workflow_state, WorkflowState.IN_PROGRESS)
    audit_state = WorkflowState.IN_PROGRESS.value
    dumps = writer.dumps
    created = f"{action}:create"
    head = (at, actor.user_id, actor.username, created)
    patient_names, tumor_names, treatment_names = (attributes(part) for part in ("patient", "tumor", "treatment"))

    empty = dumps({})
    patient_ids = writer.next_ids(Patient.__table__, len(patients))
    audit_rows: list[tuple[Any, ...]] = []
    treatment_rows: list[tuple[Any, ...]] = []

    # rows are made as the driver takes them, so PostgreSQL stores the first while the rest are made
    def patient_rows() -> Iterator[tuple[Any, ...]]:
        for patient, patient_id in zip(patients, patient_ids):
            row = list(map(patient.values.get, patient_names))
            extra = patient.extra_items
            changes = {"id": [None, patient_id], **_set(patient_names, row)}
            if extra:
                changes["extra_items"] = [None, extra]
            audit_rows.append((*head, "patient", str(patient_id), 1, patient_id, dumps(changes), None))
            yield (patient_id, *row, dumps(extra) if extra else empty, stamp, stamp)

    def tumor_rows() -> Iterator[tuple[Any, ...]]:
        ids = iter(tumor_ids)
        for patient, patient_id in zip(patients, patient_ids):
            for tumor, tumor_id in zip(patient.tumors, ids):
                row = list(map(tumor.values.get, tumor_names))
                ssdi, extra = tumor.site_specific_items, tumor.extra_items
                changes = {"id": [None, tumor_id], **_set(tumor_names, row), "patient_id": [None, patient_id]}
                if ssdi:
                    changes["site_specific_items"] = [None, ssdi]
                if extra:
                    changes["extra_items"] = [None, extra]
                changes["workflow_state"] = [None, audit_state]
                treatment = list(map(tumor.treatment.get, treatment_names))
                treatment_rows.append((tumor_id, *treatment))
                changes.update(_set(treatment_names, treatment))  # the treatment is part of the tumor's entry
                audit_rows.append((*head, "tumor", str(tumor_id), 1, patient_id, dumps(changes), None))
                yield (tumor_id, patient_id, *row, dumps(ssdi) if ssdi else empty,
                       dumps(extra) if extra else empty, in_progress, stamp, stamp)

    writer.insert(Patient.__table__, PATIENT_COLUMNS, patient_rows())
    count = sum(len(patient.tumors) for patient in patients)
    tumor_ids = writer.next_ids(Tumor.__table__, count) if count else []
    if count:
        writer.insert(Tumor.__table__, TUMOR_COLUMNS, tumor_rows())
        writer.insert(FirstCourseTreatment.__table__, TREATMENT_COLUMNS, treatment_rows)
    writer.insert(AuditEntry.__table__, AUDIT_COLUMNS, audit_rows)
    return tumor_ids


def _set(names: Sequence[str], row: list[Any]) -> dict[str, list[Any]]:
    """The flush hook's ``{column: [None, value]}`` for the non-blank values of a new row, in column order."""
    return {name: [None, value] for name, value in zip(names, row) if value}


#: PostgreSQL column types (as SQLAlchemy writes them in DDL) -> the type whose binary form the
#: bulk insert sends: varchar, text and json values all travel as their text.
_COPY_TYPES = {"VARCHAR": "text", "TEXT": "text", "JSON": "text", "JSONB": "jsonb", "INTEGER": "int4", "BIGINT": "int8",
               "SMALLINT": "int2", "BOOLEAN": "bool", "TIMESTAMP WITH TIME ZONE": "timestamptz",
               "TIMESTAMP WITHOUT TIME ZONE": "timestamp", "DATE": "date"}


def _as_is(text: str) -> str:
    return text


def copy_type(ddl_type: str) -> str:
    """The binary COPY type for a column of ``ddl_type`` (``VARCHAR(4)``, ``INTEGER`` …); ValueError for others."""
    base = ddl_type.split("(", 1)[0].strip().upper()
    try:
        return _COPY_TYPES[base]
    except KeyError:
        raise ValueError(f"no binary COPY type for a {ddl_type} column") from None


@functools.cache
def _copy_types(table: Table, columns: tuple[str, ...], dialect: Dialect) -> list[str]:
    return [copy_type(table.c[name].type.compile(dialect=dialect)) for name in columns]


class _Writer:
    """The session's DB-API connection, with what is needed to store values as SQLAlchemy would."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect: Dialect = connection.dialect
        self.driver = connection.connection.driver_connection
        self.postgresql = self.dialect.name == "postgresql"
        self.dumps: Callable[[Any], str] = getattr(self.dialect, "_json_serializer", None) or json.dumps

    def stored(self, column: Any, value: Any) -> Any:
        """``value`` as the column's bind processor hands it to the driver (once per batch, not per row)."""
        process = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process(value) if process is not None else value

    def next_ids(self, table: Table, count: int) -> list[int]:
        if self.postgresql:
            statement = "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"
            with self._errors(statement), self.driver.cursor() as cursor:
                cursor.execute(statement, (table.name, count))
                return [row[0] for row in cursor.fetchall()]
        statement = f"SELECT coalesce(max(id), 0) FROM {self._quote(table.name)}"
        with self._errors(statement):
            cursor = self.driver.cursor()
            try:
                highest = cursor.execute(statement).fetchone()[0]
            finally:
                cursor.close()
        return list(range(highest + 1, highest + 1 + count))

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        names = ", ".join(self._quote(name) for name in columns)
        if self.postgresql:
            statement = f"COPY {self._quote(table.name)} ({names}) FROM STDIN (FORMAT BINARY)"
            types = _copy_types(table, tuple(columns), self.dialect)
            json_at = [i for i, name in enumerate(types) if name == "jsonb"]
            with self._errors(statement), self.driver.cursor() as cursor, cursor.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    if json_at:  # JSON text made once per batch: sent as it is, not encoded again
                        row = list(row)
                        for i in json_at:
                            row[i] = Jsonb(row[i], dumps=_as_is) if row[i] is not None else None
                    copy.write_row(row)
            return
        statement = f"INSERT INTO {self._quote(table.name)} ({names}) VALUES ({', '.join('?' * len(columns))})"
        with self._errors(statement):
            cursor = self.driver.cursor()
            try:
                cursor.executemany(statement, rows)
            finally:
                cursor.close()

    def _quote(self, name: str) -> str:
        return self.dialect.identifier_preparer.quote(name)

    @contextmanager
    def _errors(self, statement: str) -> Iterator[None]:
        """Driver errors as SQLAlchemy's (``IntegrityError``, ``OperationalError`` …), as Core would raise them."""
        base = self.dialect.loaded_dbapi.Error
        try:
            yield
        except base as exc:
            raise DBAPIError.instance(statement, None, exc, base, dialect=self.dialect) from exc
