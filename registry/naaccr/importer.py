"""Import NAACCR XML (or legacy v18 flat) files: validate each record, match it, write in batches.

A record is one ``Patient`` with its tumors. It is rejected whole — nothing of it written — when
the reader found any problem in it or a value breaks the registry's own rules for a column
(code lists, patterns, partial dates); each reason goes in the report with its line. Accepted
records are matched to existing patients (rules below, in order) and their tumors to the
patient's tumors, so importing the same file twice changes nothing. Work is committed in
batches of patients, each batch one audited operation; if the database refuses a batch, its
records are retried one by one so only the offending record is rejected.

On PostgreSQL a batch commits without waiting for its write-ahead log to reach the disk
(``synchronous_commit`` off for that transaction only: still all or nothing, and seen by others
at once); the import's closing audit entry commits normally, which puts every batch before it on
disk too. A server crash in the middle of an import can so lose the last fraction of a second of
batches; the import has failed then, and running it again adds what is missing (matching).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import ARRAY, String, and_, any_, bindparam, false, func, or_, select, text, tuple_, union
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from abstracts.operations import TUMOR_SAVED
from registry.audit import Actor, log_event, operation
from registry.csv_safety import SafeWriter
from registry.db import db_session, json_text
from registry.jobs import job_kind
from registry.models import FirstCourseTreatment, Patient, Tumor, User
from registry.models.patient import utcnow
from registry.naaccr.bulk import NewPatient, NewTumor, insert_new_records
from registry.naaccr.dictionary import Dictionary, DictionaryStore
from registry.naaccr.intake import (Accepted, Batch, IntakeFailed, Opened, RecordIntake, Rejection,
                                    fewer_collections, read_batches, read_in_helper)
from registry.naaccr.primaries import SAME_PRIMARY, earlier_diagnosis, same_primary
from registry.naaccr.reader import Problem
from registry.naaccr.records import IncomingPatient, IncomingTumor, ItemMap
from staging_tables.multiple_primaries.reference import installed_hematopoietic
from staging_tables.multiple_primaries.tables import HematoSource

#: The actor of imports run from the command line.
IMPORT_ACTOR = Actor(None, "naaccr-import")
ACTION = "naaccr_import"

#: How an incoming patient finds its existing record: the rules are tried in order, skipping those
#: whose fields the record leaves blank, and the first that finds a patient decides (values
#: compared without case or surrounding blanks). A patient whose known Social Security Number
#: differs from the record's is another person, whatever else agrees (999999999 is "unknown").
PATIENT_MATCH_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("patient id number", ("patient_id_number",)),
    ("social security number and date of birth", ("social_security_number", "date_of_birth")),
    ("name and date of birth", ("name_last", "name_first", "date_of_birth")),
]
#: How an incoming tumor finds the same primary among its patient's tumors (naaccrIds, first rule that applies).
TUMOR_MATCH_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("site, histology and date of diagnosis", ("primarySite", "histologicTypeIcdO3", "dateOfDiagnosis")),
    ("hospital sequence number and site", ("sequenceNumberHospital", "primarySite")),
    ("central sequence number and site", ("sequenceNumberCentral", "primarySite")),
]
#: The items of a read record the writer still needs (its columns come as cleaned values).
_MATCH_ITEMS = ("patientIdNumber", *dict.fromkeys(name for _, fields in TUMOR_MATCH_RULES for name in fields))
#: The patient columns the rules compare.
_MATCH_COLUMNS = tuple(dict.fromkeys(name for _, fields in PATIENT_MATCH_RULES for name in fields))
#: Rows an import keeps for its report (rejections and multiple-primary notes); the rest are counted, and the
#: report ends with a line saying how many were left out (a hostile file cannot make a report of gigabytes).
MAX_REPORT_ROWS = 10_000
REPORT_COLUMNS = ["line", "patient", "tumor", "patient_id_number", "item", "reason", "outcome", "rule_step"]
#: The ``outcome`` of a rejected record's rows (the other outcomes are in :mod:`registry.naaccr.primaries`).
REJECTED = "rejected"
#: Files at least this big are read and checked in a helper process while this one writes
#: (below it, starting the helper costs more than it saves).
PARALLEL_FROM_BYTES = 4_000_000
#: On PostgreSQL, refresh the planner's statistics once an import has added this many patients
#: and at least as many as the registry had (see ``Importer._refresh_statistics``).
STATISTICS_EVERY = 5_000
#: What is analyzed (see ``Importer._refresh_statistics``): the columns matching looks patients up by
#: through their indexes (the other match columns are only tested on the rows found), and those an
#: export joins and selects tumors on.
PATIENT_STATISTICS = "ANALYZE patient (patient_id_number, date_of_birth)"
TUMOR_STATISTICS = "ANALYZE tumor (id, patient_id, date_of_diagnosis), first_course_treatment (tumor_id)"


@dataclass
class ImportResult:
    file_name: str
    dry_run: bool = False
    patients_read: int = 0
    tumors_read: int = 0
    patients_created: int = 0
    patients_updated: int = 0
    patients_unchanged: int = 0
    tumors_created: int = 0
    tumors_updated: int = 0
    tumors_unchanged: int = 0
    records_rejected: int = 0
    #: tumors matched to a stored tumor by the multiple-primary rules (counted in updated or unchanged too)
    tumors_same_primary: int = 0
    #: tumors imported as new that the rules found doubtful (counted in new too), listed for a registrar
    tumors_to_review: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    #: one row per tumor the multiple-primary rules matched or left for review
    primary_notes: list[PrimaryNote] = field(default_factory=list)
    fatal: Problem | None = None
    #: batches the helper process left unchecked and this process checked (how the work was shared)
    batches_checked_here: int = 0
    #: report rows kept at most (``rejections`` and ``primary_notes`` together), and those left out
    max_report_rows: int = MAX_REPORT_ROWS
    report_rows_left_out: int = 0

    def add_rejections(self, rejections: list[Rejection]) -> None:
        """Keep ``rejections`` for the report while there is room; count the rest."""
        self.rejections += self._room_for(rejections)

    def add_notes(self, notes: list[PrimaryNote]) -> None:
        """Keep multiple-primary ``notes`` for the report while there is room; count the rest."""
        self.primary_notes += self._room_for(notes)

    def _room_for(self, rows: list[Any]) -> list[Any]:
        room = max(self.max_report_rows - len(self.rejections) - len(self.primary_notes), 0)
        self.report_rows_left_out += max(len(rows) - room, 0)
        return rows[:room]

    @property
    def status(self) -> str:
        """``unreadable`` (stopped), ``rejected`` (some records refused) or ``ok``; CLI exits 2, 1, 0."""
        if self.fatal is not None:
            return "unreadable"
        return "rejected" if self.records_rejected else "ok"

    def summary(self) -> str:
        what = "would import" if self.dry_run else "imported"
        text = (f"{self.file_name}: read {self.patients_read} patients / {self.tumors_read} tumors; {what}: "
                f"patients {self.patients_created} new, {self.patients_updated} updated, "
                f"{self.patients_unchanged} unchanged; tumors {self.tumors_created} new, "
                f"{self.tumors_updated} updated, {self.tumors_unchanged} unchanged, "
                f"{self.tumors_same_primary} matched as the same primary by the multiple-primary rules, "
                f"{self.tumors_to_review} new to review; "
                f"{self.records_rejected} records rejected")
        if self.report_rows_left_out:
            text += f" ({self.report_rows_left_out} report rows left out)"
        return text + (f"; stopped: {self.fatal}" if self.fatal else "")

    def write_report(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = SafeWriter(handle)
            writer.writerow(REPORT_COLUMNS)
            for rejection in self.rejections:
                writer.writerow([*rejection.row(), REJECTED, ""])
            for note in self.primary_notes:
                writer.writerow(note.row())
            if self.fatal is not None:
                writer.writerow([self.fatal.line or "", self.fatal.patient or "", self.fatal.tumor or "", "",
                                 self.fatal.naaccr_id or "", f"file not read further: {self.fatal.message}",
                                 REJECTED, ""])
            if self.report_rows_left_out:
                writer.writerow(["", "", "", "", "", f"{self.report_rows_left_out} more rows left out: the report "
                                 f"keeps at most {self.max_report_rows}; the counts of the summary are complete",
                                 "", ""])


@dataclass
class PrimaryNote:
    """A report row for a tumor the multiple-primary rules matched to a stored tumor or left for review."""

    line: int | None
    patient: int
    tumor: int
    patient_id_number: str
    reason: str
    outcome: str
    rule_step: str

    def row(self) -> list[Any]:
        return [self.line or "", self.patient, self.tumor, self.patient_id_number, "", self.reason, self.outcome,
                self.rule_step]


@dataclass
class _Counts:
    patients: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    tumors: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    notes: list[PrimaryNote] = field(default_factory=list)


class _DryRun(Exception):
    pass


class _Refused(Exception):
    def __init__(self, rejections: list[Rejection]):
        super().__init__(rejections[0].reason)
        self.rejections = rejections


def _norm(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else str(value or "").strip().upper()


def _known_ssn(value: Any) -> str:
    """The SSN when one is known ('' when blank or 999999999, NAACCR's "unknown")."""
    text = _norm(value)
    return "" if text in ("", "999999999") else text


def _rule_keys(values: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """(rule, key) for every patient rule whose fields ``values`` fills in, in rule order."""
    keys = []
    for rule, fields in PATIENT_MATCH_RULES:
        key = tuple([_norm(values.get(name)) for name in fields])
        if all(key):
            keys.append((rule, key))
    return keys


def _key(get: Callable[[str], Any], fields: tuple[str, ...]) -> tuple[str, ...] | None:
    values = tuple(_norm(get(name)) for name in fields)
    return values if all(values) else None


_LOWER_ASCII = "abcdefghijklmnopqrstuvwxyz"


def _ascii_fold(column: Any, dialect: str) -> Any:
    """``column`` without surrounding spaces and with a-z upper-cased, in SQL: ``_norm`` of printable ASCII.

    SQLite's upper() and trim() touch only ASCII letters and spaces; PostgreSQL's upper() follows
    the locale (Turkish i), so there a-z are translated.
    """
    if dialect == "postgresql":
        return func.translate(func.btrim(column), _LOWER_ASCII, _LOWER_ASCII.upper())
    return func.upper(func.trim(column))


def _holds_any(column: Any, characters: str, dialect: str) -> Any:
    """True in SQL when ``column`` holds a character of ``characters`` (a bracket expression, ``[^0-9]``)."""
    if dialect == "postgresql":
        return column.op("~")(characters)
    return column.op("GLOB")(f"*{characters}*")


def _one_of(expression: Any, values: set[str], dialect: str, *, indexed: bool = False) -> Any:
    """``expression IN values``, with the values as one parameter so the statement's text is the same every batch.

    PostgreSQL: one array parameter (psycopg and the server take a thousand values several times
    faster so); an indexed column is looked up with ``= ANY(array)``, other expressions are tested
    against the array's values hashed (``IN (SELECT unnest(array))``), also in the generic plan the
    server switches to for a statement prepared anew every batch, where ``= ANY`` would compare each
    value in turn. SQLite: one JSON array (``IN (SELECT value FROM json_each(?))``, which still uses
    the column's index): with a placeholder per value every batch was a new statement, and each
    prepared one (kept in the driver's statement cache) held about a megabyte.
    """
    if dialect == "postgresql":
        array = bindparam(None, list(values), type_=ARRAY(String))
        return expression == any_(array) if indexed else expression.in_(select(func.unnest(array)))
    if dialect == "sqlite":
        return expression.in_(select(_json_rows(sorted(values)).c.value))
    return expression.in_(values)


def _json_rows(values: list[Any]) -> Any:
    """SQLite's ``json_each`` of ``values`` bound as one JSON parameter (a table with a ``value`` column)."""
    return func.json_each(bindparam(None, json_text(values), type_=String)).table_valued("value")


def _candidates(table: Any, dialect: str, numbers: set[str], births: set[str],
                keys: dict[str, set[tuple[str, ...]]]) -> Any:
    """The query of the registry patients ``Importer._index`` could key under some rule (id, match columns).

    ``keys`` are the batch's own keys per rule. A patient comes by its Patient ID Number, or by its
    date of birth when its other fields of a rule, as ``_norm`` has them, may equal those of one of
    the rule's keys. In SQL that is judged only where it is exact, and every other value comes for
    the gates in Python to decide, as before: a value of digits 0-9 only is its own ``_norm`` (the
    digit columns); for the others, trimming spaces and upper-casing a-z is ``_norm`` of a value of
    printable ASCII (' '..'~'), and a value with any other character (non-ASCII letters, tabs)
    comes whatever it holds. Patients left out could only be keyed under keys no record of the
    batch has, which nothing looks up. Other databases get every patient of those dates.
    """
    columns = (table.c.id, *(table.c[name] for name in _MATCH_COLUMNS))
    if dialect not in ("sqlite", "postgresql"):
        return select(*columns).where(or_(table.c.patient_id_number.in_(numbers), table.c.date_of_birth.in_(births)))
    agreeing = []
    for rule, fields in reversed(PATIENT_MATCH_RULES):  # names first: where names repeat, most often true
        compared = [name for name in fields if name != "date_of_birth"]
        wanted = {tuple(key[fields.index(name)] for name in compared) for key in keys[rule]}
        if not wanted:
            continue
        if len(compared) == 1 and table.c[compared[0]].info.get("kind") == "digits":
            column = table.c[compared[0]]
            gate = {key[0] for key in wanted}
            if column is not table.c.patient_id_number or not gate <= numbers:  # else: they come by number
                agreeing.append(_one_of(column, gate, dialect))
            agreeing.append(_holds_any(column, "[^0-9]", dialect))
            continue
        folded = [_ascii_fold(table.c[name], dialect) for name in compared]
        agreeing.append(_tuple_of(folded, wanted, dialect))
        agreeing += [_holds_any(table.c[name], "[^ -~]", dialect) for name in compared]
    wanted = [_one_of(table.c.patient_id_number, numbers, dialect, indexed=True)] if numbers else []
    if births and agreeing:
        wanted.append(and_(_one_of(table.c.date_of_birth, births, dialect, indexed=True), or_(*agreeing)))
    if dialect == "postgresql" and len(wanted) == 2:
        # a scan of one index each: as one OR, the server tests every row again against both arrays,
        # value by value in a generic plan (UNION drops the patients both bring)
        return union(*(select(*columns).where(condition) for condition in wanted))
    return select(*columns).where(or_(*wanted) if wanted else false())


def _tuple_of(expressions: list[Any], values: set[tuple[str, ...]], dialect: str) -> Any:
    """``(expressions) IN values``, the values bound one parameter a position as in :func:`_one_of`."""
    if len(expressions) == 1:
        return _one_of(expressions[0], {value[0] for value in values}, dialect)
    ordered = sorted(values)
    if dialect == "postgresql":
        arrays = [func.unnest(bindparam(None, [value[i] for value in ordered], type_=ARRAY(String)))
                  for i in range(len(expressions))]
        return tuple_(*expressions).in_(select(*arrays))
    if dialect == "sqlite":
        rows = _json_rows([list(value) for value in ordered])
        return tuple_(*expressions).in_(select(*(func.json_extract(rows.c.value, f"$[{i}]")
                                                 for i in range(len(expressions)))))
    return tuple_(*expressions).in_(ordered)


class Importer:
    """One import run; see :func:`import_file`."""

    def __init__(self, *, actor: Actor | User, store: DictionaryStore, user_dictionaries: Iterable[Dictionary] = (),
                 dry_run: bool = False, batch_size: int = 500, save_hooks: bool = True,
                 progress: Callable[[int, str], None] | None = None, parallel: bool | None = None,
                 max_report_rows: int = MAX_REPORT_ROWS, relaxed: bool = False) -> None:
        # Who imports, as a value: a User row would be expired by each batch's commit or rollback and detached by
        # the batch's clean-up, so reading its id for the next batch (or the closing entry) would fail.
        self.actor = actor if isinstance(actor, Actor) else Actor.of(actor)
        self.relaxed = relaxed
        self.max_report_rows = max_report_rows
        self.parallel = parallel
        self.save_hooks = save_hooks
        self.store = store
        self.user_dictionaries = list(user_dictionaries)
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.progress = progress
        self._next_number: int | None = None
        self._candidate_ssn: dict[int, str] = {}
        self._analyzed_at: int | None = None
        self._created_since = 0
        self._tumors_grew = False
        self._mp_tables: HematoSource | None = _UNSET

    # -- reading ---------------------------------------------------------------------------------------

    def run(self, path: str | os.PathLike[str], flat_version: str | None = None) -> ImportResult:
        with fewer_collections():
            return self._run(path, flat_version)

    def _run(self, path: str | os.PathLike[str], flat_version: str | None) -> ImportResult:
        result = self.result = ImportResult(Path(path).name, dry_run=self.dry_run, max_report_rows=self.max_report_rows)
        size = max(os.path.getsize(path), 1)
        parallel = self.parallel if self.parallel is not None else size >= PARALLEL_FROM_BYTES
        read = read_in_helper if parallel else read_batches
        messages = read(path, store=self.store, user_dictionaries=self.user_dictionaries, flat_version=flat_version,
                        batch_size=self.batch_size, keep_items=_MATCH_ITEMS, relaxed=self.relaxed)
        item_map: ItemMap | None = None
        intake: RecordIntake | None = None
        try:
            for message in messages:
                if isinstance(message, Opened):
                    intake = RecordIntake(message.lookup, _MATCH_ITEMS)
                    item_map = intake.item_map
                elif isinstance(message, Batch):
                    if message.deferred and intake is not None:  # the helper left this batch to be checked here
                        intake.settle(message)
                        result.batches_checked_here += 1
                    result.patients_read += message.patients_read
                    result.tumors_read += message.tumors_read
                    result.records_rejected += message.records_rejected
                    result.add_rejections(message.rejections)
                    if message.records and item_map is not None:
                        self._write(message.records, item_map, result)
                    self._report(message.position * 100 // size, result)
                else:
                    result.add_rejections(message.rejections)
                    result.fatal = message.fatal
        except IntakeFailed as exc:  # like a file that breaks off: what was written stays, the rest is not read
            result.fatal = Problem(f"reading stopped after {result.patients_read} patients: "
                                   f"{str(exc).strip().splitlines()[-1]}", code="unreadable")
        finally:
            messages.close()
            db_session.remove()
        self._refresh_record_statistics()
        if result.fatal is None or item_map is not None:
            self._report(100, result)
        return result

    def _report(self, percent: int, result: ImportResult) -> None:
        if self.progress:
            self.progress(min(int(percent), 100), f"{result.patients_read} patients read, "
                                                  f"{result.records_rejected} rejected")

    # -- writing -----------------------------------------------------------------------------------

    def _write(self, batch: list[Accepted], item_map: ItemMap, result: ImportResult) -> None:
        counts = _Counts()
        try:
            with operation(self.actor, ACTION) as session:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SET LOCAL synchronous_commit TO off"))
                self._apply(session, batch, item_map, counts)
                if self.dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except _Refused as exc:
            if len(batch) > 1:
                self._one_by_one(batch, item_map, result)
                return
            result.records_rejected += 1
            result.add_rejections(exc.rejections)
            return
        except SQLAlchemyError as exc:
            if len(batch) > 1:
                self._one_by_one(batch, item_map, result)
                return
            incoming = batch[0][0]
            result.records_rejected += 1
            result.add_rejections([Rejection(incoming.line, incoming.index, None,
                                             incoming.items.get("patientIdNumber", ""), None,
                                             f"the database refused the record: "
                                             f"{str(getattr(exc, 'orig', None) or exc)[:300]}")])
            return
        finally:
            db_session().expunge_all()
        self._refresh_statistics(counts.patients["created"])
        for name, value in counts.patients.items():
            setattr(result, f"patients_{name}", getattr(result, f"patients_{name}") + value)
        for name, value in counts.tumors.items():
            setattr(result, f"tumors_{name}", getattr(result, f"tumors_{name}") + value)
        result.add_notes(counts.notes)
        result.tumors_same_primary += sum(note.outcome == SAME_PRIMARY for note in counts.notes)
        result.tumors_to_review += sum(note.outcome != SAME_PRIMARY for note in counts.notes)

    def _refresh_statistics(self, created: int) -> None:
        """On PostgreSQL, ANALYZE the patient table each time an import has about doubled it.

        The planner's row counts come from statistics that autovacuum refreshes only now and then;
        a big import into a small registry would otherwise match every batch with plans made for
        the near-empty table it started with (sequential scans instead of the indexes). Matching
        reads only the patient table; the tumor tables are analyzed once, when the import ends
        (:meth:`_refresh_record_statistics`), for what is run on them next (an export). Only the
        columns those queries look up are analyzed (the row counts come with any ANALYZE): the
        other columns' statistics are autovacuum's to refresh, as after any large change.
        """
        if self.dry_run or not created or db_session().get_bind().dialect.name != "postgresql":
            return
        if self._analyzed_at is None:
            self._analyzed_at = db_session.scalar(select(func.count(Patient.id))) - created
            self._created_since = 0
        self._created_since += created
        if self._created_since < max(STATISTICS_EVERY, self._analyzed_at):
            return
        with operation(self.actor, ACTION) as session:
            session.execute(text(PATIENT_STATISTICS))
        self._analyzed_at += self._created_since
        self._created_since = 0
        self._tumors_grew = True

    def _refresh_record_statistics(self) -> None:
        """After an import that doubled the registry (patient statistics were refreshed), the tumor tables' too."""
        if self._tumors_grew:
            self._tumors_grew = False
            with operation(self.actor, ACTION) as session:
                session.execute(text(TUMOR_STATISTICS))

    def _one_by_one(self, batch: list[Accepted], item_map: ItemMap, result: ImportResult) -> None:
        self._next_number = None
        for accepted in batch:
            self._write([accepted], item_map, result)

    def _apply(self, session: Session, batch: list[Accepted], item_map: ItemMap, counts: _Counts) -> None:
        """Match every record; new patients go in with bulk inserts, matched ones through the ORM."""
        record_keys = [_rule_keys(values) for _, values, _ in batch]
        index = self._index(session, [values for _, values, _ in batch], record_keys)
        touched: list[Tumor] = []
        pending: list[tuple[Accepted, dict[str, Any]]] = []
        for accepted, keys in zip(batch, record_keys):
            incoming, values, tumors = accepted
            patient = self._match(session, index, incoming, values, keys)
            if isinstance(patient, _New):
                touched_ids = self._insert_new(session, pending, counts)
                touched += self._load_tumors(session, touched_ids)
                pending = []
                patient = self._reload(session, index, patient)
            if patient is None:
                numbered = self._numbered(session, values)
                placeholder = _New(numbered)
                for rule, key in keys if numbered is values else _rule_keys(numbered):
                    index[rule].setdefault(key, []).append(placeholder)
                values = numbered
                pending.append((accepted, values))
                continue
            changed = _assign(patient, {k: v for k, v in values.items() if k != "patient_id_number"})
            changed |= _merge(patient, "extra_items", incoming.extra)
            counts.patients["updated" if changed else "unchanged"] += 1
            if changed:
                touched.extend(patient.tumors)
            touched += self._tumors(patient, incoming, tumors, item_map, counts)
        session.flush()
        touched += self._load_tumors(session, self._insert_new(session, pending, counts))
        if self.save_hooks and TUMOR_SAVED:
            for tumor in dict.fromkeys(touched):
                for hook in TUMOR_SAVED:
                    hook(session, tumor)
            session.flush()

    def _numbered(self, session: Session, values: dict[str, Any]) -> dict[str, Any]:
        """A new patient keeps the file's Patient ID Number, or gets the registry's next one."""
        if values.get("patient_id_number"):
            return values
        if self._next_number is None:
            highest = session.scalar(select(func.max(Patient.patient_id_number)))
            self._next_number = int(highest or 0) + 1
        number = f"{self._next_number:08d}"
        self._next_number += 1
        return {**values, "patient_id_number": number}

    def _insert_new(self, session: Session, pending: list[tuple[Accepted, dict[str, Any]]],
                    counts: _Counts) -> list[int]:
        """Bulk-insert new patients, tumors and treatment, with the audit rows the flush hook would write."""
        if not pending:
            return []
        who = self.actor
        patients = [NewPatient(values, incoming.extra, [NewTumor(tumor_values, tumor.ssdi, tumor.extra, treatment)
                                                        for tumor, tumor_values, treatment in tumors])
                    for (incoming, _, tumors), values in pending]
        tumor_ids = insert_new_records(session, who, ACTION, patients)
        counts.patients["created"] += len(patients)
        counts.tumors["created"] += len(tumor_ids)
        return tumor_ids

    def _load_tumors(self, session: Session, tumor_ids: list[int]) -> list[Tumor]:
        """ORM tumors for the save hooks (only when hooks are registered)."""
        if not tumor_ids or not (self.save_hooks and TUMOR_SAVED):
            return []
        tumors: list[Tumor] = []
        for start in range(0, len(tumor_ids), 500):
            chunk = tumor_ids[start:start + 500]
            tumors += session.scalars(select(Tumor).where(Tumor.id.in_(chunk))
                                      .options(selectinload(Tumor.treatment), selectinload(Tumor.patient)))
        return tumors

    def _reload(self, session: Session, index: dict[str, dict[tuple, list[Any]]], placeholder: _New) -> Patient:
        """A record repeating a patient inserted earlier in this batch: continue with the stored patient."""
        patient = session.scalars(select(Patient).where(
            Patient.patient_id_number == placeholder.values["patient_id_number"])
            .options(selectinload(Patient.tumors).selectinload(Tumor.treatment))).one()
        for entries in index.values():
            for found in entries.values():
                found[:] = [patient if entry is placeholder else entry for entry in found]
        return patient

    def _index(self, session: Session, batch: list[dict[str, Any]],
               record_keys: list[list[tuple[str, tuple[str, ...]]]]) -> dict[str, dict[tuple, list[Any]]]:
        """Existing patients any rule could match, keyed per rule, fetched at once for the batch.

        Only the matching columns are read for the candidates (a batch's dates of birth can match
        thousands of registry patients), and a candidate's keys are built only when the first field
        of a rule agrees with some record of the batch (the query already leaves out most that do
        not, see :func:`_candidates`); full records are loaded for the patients a record of the
        batch actually matches. Entries are Patients, or ids of candidates no record decided on.
        """
        numbers = {v["patient_id_number"] for v in batch if v.get("patient_id_number")}
        births = {v["date_of_birth"] for v in batch if v.get("date_of_birth")}
        index: dict[str, dict[tuple, list[Any]]] = {rule: {} for rule, _ in PATIENT_MATCH_RULES}
        if not numbers and not births:
            return index
        batch_keys = {rule: {key for keys in record_keys for name, key in keys if name == rule}
                      for rule, _ in PATIENT_MATCH_RULES}
        gates = {rule: {key[0] for key in found} for rule, found in batch_keys.items()}
        positions = [(rule, [_MATCH_COLUMNS.index(name) for name in fields], gates[rule])
                     for rule, fields in PATIENT_MATCH_RULES]
        stmt = _candidates(Patient.__table__, session.get_bind().dialect.name, numbers, births, batch_keys)
        ssn = _MATCH_COLUMNS.index("social_security_number")
        self._candidate_ssn = {}
        normed: dict[Any, str] = {}  # names and birth dates repeat across candidates: normalise each once

        def norm(value: Any) -> str:
            found = normed.get(value)
            if found is None:
                found = normed[value] = _norm(value)
            return found

        for patient_id, *raw in session.connection().execute(stmt).all():
            for rule, fields, gate in positions:
                if norm(raw[fields[0]]) in gate:
                    key = tuple([norm(raw[field]) for field in fields])
                    if all(key):
                        index[rule].setdefault(key, []).append(patient_id)
                        self._candidate_ssn[patient_id] = _known_ssn(raw[ssn])
        wanted = set()
        for keys in record_keys:
            if keys:
                found = index[keys[0][0]].get(keys[0][1], ())
                if len(found) == 1:
                    wanted.add(found[0])
        loaded = self._patients_by_id(session, wanted)
        for entries in index.values():
            for found in entries.values():
                found[:] = [loaded.get(entry, entry) for entry in found]
        return index

    @staticmethod
    def _patients_by_id(session: Session, ids: Iterable[int]) -> dict[int, Patient]:
        ordered = sorted(ids)
        loaded: dict[int, Patient] = {}
        for start in range(0, len(ordered), 500):
            stmt = (select(Patient).where(Patient.id.in_(ordered[start:start + 500]))
                    .options(selectinload(Patient.tumors).selectinload(Tumor.treatment)))
            loaded.update((patient.id, patient) for patient in session.scalars(stmt))
        return loaded

    def _match(self, session: Session, index: dict[str, dict[tuple, list[Any]]], incoming: IncomingPatient,
               values: dict[str, Any], keys: list[tuple[str, tuple[str, ...]]]) -> Patient | None:
        for rule, key in keys:
            found = index[rule].get(key, [])
            ssn = _known_ssn(values.get("social_security_number"))
            agreeing = [position for position, entry in enumerate(found)
                        if not ssn or self._ssn_of(entry) in (ssn, "")]  # two known SSNs that differ: two people
            if len(agreeing) > 1:
                raise _Refused([Rejection(incoming.line, incoming.index, None, values.get("patient_id_number") or "",
                                          None, f"matches {len(agreeing)} registry patients by {rule}; "
                                                "resolve the duplicates first")])
            if agreeing:
                position = agreeing[0]
                if isinstance(found[position], int):
                    found[position] = self._patients_by_id(session, [found[position]])[found[position]]
                return found[position]
        return None

    def _ssn_of(self, entry: Any) -> str:
        if isinstance(entry, int):
            return self._candidate_ssn.get(entry, "")
        values = entry.values if isinstance(entry, _New) else {"social_security_number": entry.social_security_number}
        return _known_ssn(values.get("social_security_number"))

    def _tumors(self, patient: Patient, record: IncomingPatient,
                tumors: list[tuple[IncomingTumor, dict[str, Any], dict[str, Any]]],
                item_map: ItemMap, counts: _Counts) -> list[Tumor]:
        """Match each incoming tumor to a stored one by the keys, then the rest by the multiple-primary rules.

        The keys go first for every tumor of the record, so a tumor the keys find is never taken by
        the rules for another; the rules run only for a tumor the keys left unmatched, of a patient
        with stored tumors, and compare it with every stored tumor (one another tumor of the record
        took is for review, see :func:`registry.naaccr.primaries.same_primary`).
        """
        available = {tumor: item_map.record_of(patient, [tumor])["tumors"][0]["items"]
                     for tumor in patient.tumors} if patient.id is not None else {}
        stored = list(available)
        found: list[Tumor | None] = []
        for incoming, _, _ in tumors:
            tumor = _match_tumor(available, incoming.items)
            if tumor is not None:
                del available[tumor]
            found.append(tumor)
        taken = {tumor for tumor in found if tumor is not None}
        touched = []
        for (incoming, values, treatment), tumor in zip(tumors, found):
            if tumor is None and stored:
                decision = same_primary(values, stored, taken, self._hematopoietic())
                if decision.outcome:
                    counts.notes.append(PrimaryNote(incoming.line, record.index, incoming.index,
                                                    record.items.get("patientIdNumber", ""), decision.reason,
                                                    decision.outcome, decision.step))
                tumor = decision.tumor
                if tumor is not None:
                    taken.add(tumor)
                    values = {**values, "date_of_diagnosis": earlier_diagnosis(tumor.date_of_diagnosis,
                                                                               values.get("date_of_diagnosis"))}
            if tumor is None:
                tumor = Tumor(**values, site_specific_items=dict(incoming.ssdi), extra_items=dict(incoming.extra))
                tumor.treatment = FirstCourseTreatment(**treatment)
                patient.tumors.append(tumor)
                counts.tumors["created"] += 1
                touched.append(tumor)
                continue
            changed = _assign(tumor, values)
            changed |= _merge(tumor, "site_specific_items", incoming.ssdi)
            changed |= _merge(tumor, "extra_items", incoming.extra)
            if tumor.treatment is None:
                tumor.treatment = FirstCourseTreatment()
                changed = True
            if _assign(tumor.treatment, treatment):
                changed = True
                tumor.updated_at = utcnow()
            counts.tumors["updated" if changed else "unchanged"] += 1
            if changed:
                touched.append(tumor)
        return touched

    def _hematopoietic(self) -> HematoSource | None:
        """The installed hematopoietic tables for the rules, looked up on the first comparison of the run."""
        if self._mp_tables is _UNSET:
            self._mp_tables = installed_hematopoietic()
        return self._mp_tables


_UNSET: Any = object()


class _New:
    """A patient of this batch that is not inserted yet (bulk insert at the end of the batch)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _merge(obj: Any, name: str, incoming: dict[str, str]) -> bool:
    current = getattr(obj, name) or {}
    merged = {**current, **incoming}
    if merged == current:
        return False
    setattr(obj, name, merged)
    return True


def _match_tumor(available: dict[Tumor, dict[str, str]], items: dict[str, str]) -> Tumor | None:
    for _rule, fields in TUMOR_MATCH_RULES:
        wanted = _key(items.get, fields)
        if wanted is None:
            continue
        found = [tumor for tumor, have in available.items() if _key(have.get, fields) == wanted]
        if len(found) == 1:
            return found[0]
    return None


def import_file(path: str | os.PathLike[str], *, actor: Actor | User, store: DictionaryStore,
                user_dictionaries: Iterable[Dictionary] = (), dry_run: bool = False,
                flat_version: str | None = None, report: str | os.PathLike[str] | None = None,
                batch_size: int = 500, save_hooks: bool = True,
                progress: Callable[[int, str], None] | None = None, parallel: bool | None = None,
                max_report_rows: int = MAX_REPORT_ROWS, relaxed: bool = False) -> ImportResult:
    """Import ``path`` (NAACCR XML, ``.gz`` or not; a flat file with ``flat_version``) and log the run.

    A file whose NaaccrData element breaks the NAACCR XML rules is not imported at all, as ``naaccr validate``
    calls it invalid; ``relaxed`` accepts what a relaxed reader may (no namespace, own attributes without one).

    ``save_hooks=False`` skips what the registry derives on every save (stage, survival time, edit
    status) and keeps the file's derived values; for bulk loads followed by a batch derivation.
    ``parallel`` reads and checks the file in a helper process while this one writes (default:
    for files of :data:`PARALLEL_FROM_BYTES` or more). The report keeps at most ``max_report_rows`` rows.
    """
    actor = actor if isinstance(actor, Actor) else Actor.of(actor)
    importer = Importer(actor=actor, store=store, user_dictionaries=user_dictionaries, dry_run=dry_run,
                        batch_size=batch_size, save_hooks=save_hooks, progress=progress, parallel=parallel,
                        max_report_rows=max_report_rows, relaxed=relaxed)
    result = importer.run(path, flat_version)
    if report is not None:
        result.write_report(report)
    log_event(importer.actor, ACTION + (":dry_run" if dry_run else ""), detail=result.summary()[:2000])
    return result


@job_kind("naaccr-import")
def import_job(progress: Callable[[int, str], None], path: str, file_name: str | None = None,
               user_id: int | None = None, dry_run: bool = False, dictionaries: list[str] | None = None,
               flat_version: str | None = None, relaxed: bool = False) -> str:
    """Job kind ``naaccr-import``: imports an uploaded file; the result is the report (CSV) of rejected
    records and of the tumors the multiple-primary rules matched or left for review."""
    from registry.naaccr.dictionary import load_dictionary
    from registry.naaccr.records import installed_dictionaries
    store, users = installed_dictionaries()
    users += [load_dictionary(extra) for extra in dictionaries or ()]
    user = db_session.get(User, user_id) if user_id else None
    report = Path(path).with_name(Path(path).stem + "-report.csv")
    result = import_file(path, actor=user or IMPORT_ACTOR, store=store, user_dictionaries=users, dry_run=dry_run,
                         flat_version=flat_version, report=report, progress=progress, relaxed=relaxed,
                         max_report_rows=int(current_app.config.get("IMPORT_REPORT_MAX_ROWS", MAX_REPORT_ROWS)))
    progress(100, result.summary().replace(Path(path).name, file_name or Path(path).name, 1))
    return str(report)
