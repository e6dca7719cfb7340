"""Import NAACCR XML (or legacy v18 flat) files: validate each record, match it, write in batches.

A record is one ``Patient`` with its tumors. It is rejected whole — nothing of it written — when
the reader found any problem in it or a value breaks the registry's own rules for a column
(code lists, patterns, partial dates); each reason goes in the report with its line. Accepted
records are matched to existing patients (rules below, in order) and their tumors to the
patient's tumors, so importing the same file twice changes nothing. Work is committed in
batches of patients, each batch one audited operation; if the database refuses a batch, its
records are retried one by one so only the offending record is rejected.
"""
from __future__ import annotations

import calendar
import csv
import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from abstracts.operations import TUMOR_SAVED
from registry.audit import Actor, log_event, operation
from registry.db import db_session
from registry.dates import MIN_YEAR
from registry.items import ItemSpec, naaccr_items
from registry.jobs import job_kind
from registry.models import AuditEntry, FirstCourseTreatment, Patient, Tumor, User, WorkflowState
from registry.models.patient import utcnow
from registry.naaccr.dictionary import Dictionary, DictionaryError, DictionaryStore
from registry.naaccr.flat import FlatReader
from registry.naaccr.reader import NaaccrError, NaaccrReader, Problem
from registry.naaccr.records import IncomingPatient, IncomingTumor, ItemMap, attributes, column_items
from staging_tables.codes import terms

#: The actor of imports run from the command line.
IMPORT_ACTOR = Actor(None, "naaccr-import")
ACTION = "naaccr_import"

#: How an incoming patient finds its existing record: the first rule whose fields are all filled
#: in decides (values compared without case or surrounding blanks).
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
#: The patient columns the rules compare.
_MATCH_COLUMNS = tuple(dict.fromkeys(name for _, fields in PATIENT_MATCH_RULES for name in fields))
REPORT_COLUMNS = ["line", "patient", "tumor", "patient_id_number", "item", "reason"]


@dataclass
class Rejection:
    """One reason a record was not imported."""

    line: int | None
    patient: int | None
    tumor: int | None
    patient_id_number: str
    item: str | None
    reason: str

    def row(self) -> list[Any]:
        return [self.line or "", self.patient or "", self.tumor or "", self.patient_id_number, self.item or "",
                self.reason]


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
    rejections: list[Rejection] = field(default_factory=list)
    fatal: Problem | None = None

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
                f"{self.tumors_updated} updated, {self.tumors_unchanged} unchanged; "
                f"{self.records_rejected} records rejected")
        return text + (f"; stopped: {self.fatal}" if self.fatal else "")

    def write_report(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_COLUMNS)
            for rejection in self.rejections:
                writer.writerow(rejection.row())
            if self.fatal is not None:
                writer.writerow([self.fatal.line or "", self.fatal.patient or "", self.fatal.tumor or "", "",
                                 self.fatal.naaccr_id or "", f"file not read further: {self.fatal.message}"])


@dataclass
class _Counts:
    patients: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    tumors: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})


class _DryRun(Exception):
    pass


class _Refused(Exception):
    def __init__(self, rejections: list[Rejection]):
        super().__init__(rejections[0].reason)
        self.rejections = rejections


def _norm(value: Any) -> str:
    return str(value or "").strip().upper()


def _key(get: Callable[[str], Any], fields: tuple[str, ...]) -> tuple[str, ...] | None:
    values = tuple(_norm(get(name)) for name in fields)
    return values if all(values) else None


Accepted = tuple[IncomingPatient, dict[str, Any], list[tuple[IncomingTumor, dict[str, Any], dict[str, Any]]]]


class Importer:
    """One import run; see :func:`import_file`."""

    def __init__(self, *, actor: Actor | User, store: DictionaryStore, user_dictionaries: Iterable[Dictionary] = (),
                 dry_run: bool = False, batch_size: int = 500, save_hooks: bool = True,
                 progress: Callable[[int, str], None] | None = None) -> None:
        self.actor = actor
        self.save_hooks = save_hooks
        self.store = store
        self.user_dictionaries = list(user_dictionaries)
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.progress = progress
        self._next_number: int | None = None
        self._attribute_ids = {(c.part, c.attribute): c.naaccr_id for c in column_items().values()}

    # -- reading -----------------------------------------------------------------------------------

    def run(self, path: str | os.PathLike[str], flat_version: str | None = None) -> ImportResult:
        result = self.result = ImportResult(Path(path).name, dry_run=self.dry_run)
        size = max(os.path.getsize(path), 1)
        with open(path, "rb") as handle:
            try:
                reader, item_map = self._open(handle, flat_version)
            except (NaaccrError, DictionaryError, ValueError) as exc:
                result.fatal = exc.problem if isinstance(exc, NaaccrError) else Problem(str(exc), code="dictionary")
                return result
            try:
                with reader:
                    batch: list[Accepted] = []
                    for patient in self._patients(reader, result):
                        incoming = item_map.incoming(patient)
                        result.patients_read += 1
                        result.tumors_read += len(incoming.tumors)
                        accepted = self._check(incoming)
                        if accepted is None:
                            result.records_rejected += 1
                            continue
                        batch.append(accepted)
                        if len(batch) >= self.batch_size:
                            self._write(batch, item_map, result)
                            batch = []
                            self._report(handle.tell() * 100 // size, result)
                    if batch:
                        self._write(batch, item_map, result)
                    result.rejections += [self._rejection(p, "") for p in reader.problems]
            finally:
                db_session.remove()
        self._report(100, result)
        return result

    def _open(self, handle: BinaryIO, flat_version: str | None) -> tuple[Any, ItemMap]:
        if flat_version:
            base = self.store.get(flat_version)
            if base is None:
                raise ValueError(f"the NAACCR {flat_version} base dictionary is not installed "
                                 "(flask --app wsgi reference install naaccr-dictionary FILE.xml)")
            reader: Any = FlatReader(handle, base, self.user_dictionaries)
            return reader, ItemMap(reader.lookup)
        reader = NaaccrReader(handle, self.store, self.user_dictionaries)
        reader.data  # noqa: B018 - reads the root, so the dictionaries are known
        return reader, ItemMap(reader.lookup)

    @staticmethod
    def _patients(reader: Any, result: ImportResult) -> Iterator[Any]:
        try:
            yield from reader
        except NaaccrError as exc:
            result.fatal = exc.problem

    def _report(self, percent: int, result: ImportResult) -> None:
        if self.progress:
            self.progress(min(int(percent), 100), f"{result.patients_read} patients read, "
                                                  f"{result.records_rejected} rejected")

    # -- checking ----------------------------------------------------------------------------------

    @staticmethod
    def _rejection(problem: Problem, patient_id: str) -> Rejection:
        return Rejection(problem.line, problem.patient, problem.tumor, patient_id, problem.naaccr_id,
                         problem.message)

    def _check(self, incoming: IncomingPatient) -> Accepted | None:
        """The record's cleaned values, or None after listing every reason to reject it."""
        patient_id = incoming.items.get("patientIdNumber", "")
        reasons = [self._rejection(problem, patient_id) for problem in incoming.problems]
        first_lines = incoming.tumors[0].item_lines if incoming.tumors else {}
        flagged = {(problem.tumor, problem.naaccr_id) for problem in incoming.problems}  # said once is enough

        def checked(model: type, part: str, values: dict[str, str], lines: dict[str, int],
                    line: int | None, tumor: int | None) -> dict[str, Any]:
            cleaned, errors = _clean(model, values)
            for attribute, message in errors.items():
                naaccr_id = self._attribute_ids.get((part, attribute), attribute)
                if (tumor, naaccr_id) in flagged:
                    continue
                reasons.append(Rejection(lines.get(naaccr_id) or first_lines.get(naaccr_id) or line,
                                         incoming.index, tumor, patient_id, naaccr_id, message))
            return cleaned

        patient_values = checked(Patient, "patient", incoming.values, incoming.item_lines, incoming.line, None)
        tumors = []
        for tumor in incoming.tumors:
            values = checked(Tumor, "tumor", tumor.values, tumor.item_lines, tumor.line, tumor.index)
            treatment = checked(FirstCourseTreatment, "treatment", tumor.treatment, tumor.item_lines, tumor.line,
                                tumor.index)
            tumors.append((tumor, values, treatment))
        if reasons:
            self.result.rejections += reasons
            return None
        return incoming, patient_values, tumors

    # -- writing -----------------------------------------------------------------------------------

    def _write(self, batch: list[Accepted], item_map: ItemMap, result: ImportResult) -> None:
        counts = _Counts()
        try:
            with operation(self.actor, ACTION) as session:
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
            result.rejections += exc.rejections
            return
        except SQLAlchemyError as exc:
            if len(batch) > 1:
                self._one_by_one(batch, item_map, result)
                return
            incoming = batch[0][0]
            result.records_rejected += 1
            result.rejections.append(Rejection(incoming.line, incoming.index, None,
                                               incoming.items.get("patientIdNumber", ""), None,
                                               f"the database refused the record: {str(exc.orig or exc)[:300]}"))
            return
        finally:
            db_session().expunge_all()
        for name, value in counts.patients.items():
            setattr(result, f"patients_{name}", getattr(result, f"patients_{name}") + value)
        for name, value in counts.tumors.items():
            setattr(result, f"tumors_{name}", getattr(result, f"tumors_{name}") + value)

    def _one_by_one(self, batch: list[Accepted], item_map: ItemMap, result: ImportResult) -> None:
        self._next_number = None
        for accepted in batch:
            self._write([accepted], item_map, result)

    def _apply(self, session: Session, batch: list[Accepted], item_map: ItemMap, counts: _Counts) -> None:
        """Match every record; new patients go in with bulk inserts, matched ones through the ORM."""
        index = self._index(session, [values for _, values, _ in batch])
        touched: list[Tumor] = []
        pending: list[tuple[Accepted, dict[str, Any]]] = []
        for accepted in batch:
            incoming, values, tumors = accepted
            patient = self._match(session, index, incoming, values)
            if isinstance(patient, _New):
                touched_ids = self._insert_new(session, pending, counts)
                touched += self._load_tumors(session, touched_ids)
                pending = []
                patient = self._reload(session, index, patient)
            if patient is None:
                values = self._numbered(session, values)
                placeholder = _New(values)
                for rule, fields in PATIENT_MATCH_RULES:
                    key = _key(values.get, fields)
                    if key:
                        index[rule].setdefault(key, []).append(placeholder)
                pending.append((accepted, values))
                continue
            changed = _assign(patient, {k: v for k, v in values.items() if k != "patient_id_number"})
            changed |= _merge(patient, "extra_items", incoming.extra)
            counts.patients["updated" if changed else "unchanged"] += 1
            if changed:
                touched.extend(patient.tumors)
            touched += self._tumors(patient, tumors, item_map, counts)
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
        who = self.actor if isinstance(self.actor, Actor) else Actor.of(self.actor)
        now = utcnow()
        blank_patient, blank_tumor, blank_treatment = (_template(part)[0] for part in ("patient", "tumor", "treatment"))
        patient_rows, patient_given = [], []
        for accepted, values in pending:
            extra = dict(accepted[0].extra)
            patient_rows.append({**blank_patient, **values, "extra_items": extra})
            patient_given.append(_given("patient", values, extra_items=extra))
        connection = session.connection()  # Core inserts: the ORM bulk path splices RETURNING rows quadratically
        patients, tumors_table = Patient.__table__, Tumor.__table__
        patient_ids = connection.execute(insert(patients).returning(patients.c.id, sort_by_parameter_order=True),
                                         patient_rows).scalars().all()
        tumor_rows, treatment_rows, owners, tumor_given, treatment_given = [], [], [], [], []
        for ((_, _, tumors), _), patient_id in zip(pending, patient_ids):
            for tumor, values, treatment in tumors:
                ssdi, extra = dict(tumor.ssdi), dict(tumor.extra)
                tumor_rows.append({**blank_tumor, **values, "patient_id": patient_id, "site_specific_items": ssdi,
                                   "extra_items": extra, "workflow_state": WorkflowState.IN_PROGRESS})
                tumor_given.append(_given("tumor", values, patient_id=patient_id, site_specific_items=ssdi,
                                          extra_items=extra, workflow_state=WorkflowState.IN_PROGRESS.value))
                treatment_rows.append({**blank_treatment, **treatment})
                treatment_given.append(_given("treatment", treatment))
                owners.append(patient_id)
        tumor_ids = connection.execute(insert(tumors_table).returning(tumors_table.c.id, sort_by_parameter_order=True),
                                       tumor_rows).scalars().all() if tumor_rows else []
        for row, given, tumor_id in zip(treatment_rows, treatment_given, tumor_ids):
            row["tumor_id"] = given["tumor_id"] = tumor_id
        if treatment_rows:
            connection.execute(insert(FirstCourseTreatment.__table__), treatment_rows)
        audit = [_audit_row(who, now, "patient", pid, pid, 1, row) for row, pid in zip(patient_given, patient_ids)]
        audit += [_audit_row(who, now, "tumor", tid, pid, 1, row)
                  for row, tid, pid in zip(tumor_given, tumor_ids, owners)]
        audit += [_audit_row(who, now, "first_course_treatment", tid, pid, 1, row)
                  for row, tid, pid in zip(treatment_given, tumor_ids, owners)]
        connection.execute(insert(AuditEntry.__table__), audit)
        counts.patients["created"] += len(patient_ids)
        counts.tumors["created"] += len(tumor_ids)
        return list(tumor_ids)

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

    def _index(self, session: Session, batch: list[dict[str, Any]]) -> dict[str, dict[tuple, list[Any]]]:
        """Existing patients any rule could match, keyed per rule, fetched at once for the batch.

        Only the matching columns are read for the candidates (a batch's dates of birth can match
        thousands of registry patients); full records are loaded for the patients a record of the
        batch actually matches. Entries are Patients, or ids of candidates no record decided on.
        """
        numbers = {v["patient_id_number"] for v in batch if v.get("patient_id_number")}
        births = {v["date_of_birth"] for v in batch if v.get("date_of_birth")}
        index: dict[str, dict[tuple, list[Any]]] = {rule: {} for rule, _ in PATIENT_MATCH_RULES}
        if not numbers and not births:
            return index
        columns = [getattr(Patient, name) for name in _MATCH_COLUMNS]
        stmt = select(Patient.id, *columns).where(or_(Patient.patient_id_number.in_(numbers),
                                                      Patient.date_of_birth.in_(births)))
        for patient_id, *keys in session.execute(stmt):
            values = dict(zip(_MATCH_COLUMNS, keys))
            for rule, fields in PATIENT_MATCH_RULES:
                key = _key(values.get, fields)
                if key:
                    index[rule].setdefault(key, []).append(patient_id)
        wanted = set()
        for values in batch:
            for rule, fields in PATIENT_MATCH_RULES:
                key = _key(values.get, fields)
                if key is not None:
                    found = index[rule].get(key, ())
                    if len(found) == 1:
                        wanted.add(found[0])
                    break
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
               values: dict[str, Any]) -> Patient | None:
        for rule, fields in PATIENT_MATCH_RULES:
            key = _key(values.get, fields)
            if key is None:
                continue
            found = index[rule].get(key, [])
            if len(found) > 1:
                raise _Refused([Rejection(incoming.line, incoming.index, None, values.get("patient_id_number") or "",
                                          None, f"matches {len(found)} registry patients by {rule}; "
                                                "resolve the duplicates first")])
            if found:
                if isinstance(found[0], int):
                    found[0] = self._patients_by_id(session, [found[0]])[found[0]]
                return found[0]
        return None

    def _tumors(self, patient: Patient, tumors: list[tuple[IncomingTumor, dict[str, Any], dict[str, Any]]],
                item_map: ItemMap, counts: _Counts) -> list[Tumor]:
        available = {tumor: item_map.record_of(patient, [tumor])["tumors"][0]["items"]
                     for tumor in patient.tumors} if patient.id is not None else {}
        touched = []
        for incoming, values, treatment in tumors:
            tumor = _match_tumor(available, incoming.items)
            if tumor is None:
                tumor = Tumor(**values, site_specific_items=dict(incoming.ssdi), extra_items=dict(incoming.extra))
                tumor.treatment = FirstCourseTreatment(**treatment)
                patient.tumors.append(tumor)
                counts.tumors["created"] += 1
                touched.append(tumor)
                continue
            del available[tumor]
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


@functools.cache
def _specs(model: type) -> dict[str, ItemSpec]:
    return naaccr_items(model)


def _accept_date(spec: ItemSpec) -> Callable[[str], bool]:
    def accept(text: str) -> bool:
        size = len(text)
        if size not in (4, 6, 8) or not (text.isascii() and text.isdigit()) or int(text[:4]) < MIN_YEAR:
            return False
        if size == 4:
            return True
        month = int(text[4:6])
        if not 1 <= month <= 12:
            return False
        return size == 6 or 1 <= int(text[6:]) <= (28 if text[6:] <= "28" else
                                                   calendar.monthrange(int(text[:4]), month)[1])
    return accept


def _accept_code(spec: ItemSpec) -> Callable[[str], bool]:
    return frozenset(terms(spec.code_list or "")).__contains__


def _accept_pattern(spec: ItemSpec) -> Callable[[str], bool]:
    match = re.compile(spec.pattern or "").fullmatch
    return lambda text: match(text) is not None


#: Per item kind, a test that accepts only values ``ItemSpec.problem`` accepts (anything else is
#: asked of ``ItemSpec.problem`` itself, so the verdict and the message are the form's).
_ACCEPT: dict[str, Callable[[ItemSpec], Callable[[str], bool] | None]] = {
    "text": lambda spec: None,
    "digits": lambda spec: str.isdigit,
    "code": _accept_code,
    "pattern": _accept_pattern,
    "date": _accept_date,
}


@functools.cache
def _column_checks(model: type) -> dict[str, tuple[ItemSpec, Callable[[str], bool] | None]]:
    return {name: (spec, _ACCEPT[spec.kind](spec)) for name, spec in _specs(model).items()}


def _clean(model: type, values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """What ``abstracts.operations.clean`` does for item columns (derived items allowed: they come from
    the sending registry), with each column's check compiled once instead of per record."""
    checks = _column_checks(model)
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        text = value.strip()
        if text:
            spec, accept = checks[name]
            if len(text) > spec.length or (accept is not None and not accept(text)):
                problem = spec.problem(text)
                if problem:
                    errors[name] = problem
            cleaned[name] = text
        else:
            cleaned[name] = None
    return cleaned, errors


class _New:
    """A patient of this batch that is not inserted yet (bulk insert at the end of the batch)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values


def _audit_row(who: Actor, now: Any, entity: str, entity_id: int, patient_id: int, version: int,
               row: dict[str, Any]) -> dict[str, Any]:
    """The row the audit flush hook writes for a created record, for records inserted in bulk.

    ``row`` is what :func:`_given` returns: the columns the record sets, as plain values, in
    column order (no ``version``/timestamps, which the hook leaves out; blanks are left out too).
    """
    changes = {"id": [None, entity_id]} if entity != "first_course_treatment" else {}
    for key, value in row.items():
        if value:
            changes[key] = [None, value]
    return {"at": now, "user_id": who.user_id, "username": who.username, "action": f"{ACTION}:create",
            "entity": entity, "entity_id": str(entity_id), "entity_version": version, "patient_id": patient_id,
            "changes": changes, "detail": None}


@functools.cache
def _template(part: str) -> tuple[dict[str, None], dict[str, int]]:
    """An all-blank row of a record part's item columns, and each column's position in it."""
    names = attributes(part)
    return dict.fromkeys(names), {name: position for position, name in enumerate(names)}


def _given(part: str, values: dict[str, Any], **more: Any) -> dict[str, Any]:
    """The non-blank ``values`` in column order, then ``more``: what an audit row records."""
    position = _template(part)[1]
    given = {name: values[name] for name in sorted((k for k, v in values.items() if v), key=position.__getitem__)}
    given.update(more)
    return given


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
                progress: Callable[[int, str], None] | None = None) -> ImportResult:
    """Import ``path`` (NAACCR XML, ``.gz`` or not; a flat file with ``flat_version``) and log the run.

    ``save_hooks=False`` skips what the registry derives on every save (stage, survival time, edit
    status) and keeps the file's derived values; for bulk loads followed by a batch derivation.
    """
    importer = Importer(actor=actor, store=store, user_dictionaries=user_dictionaries, dry_run=dry_run,
                        batch_size=batch_size, save_hooks=save_hooks, progress=progress)
    result = importer.run(path, flat_version)
    if report is not None:
        result.write_report(report)
    log_event(actor, ACTION + (":dry_run" if dry_run else ""), detail=result.summary()[:2000])
    return result


@job_kind("naaccr-import")
def import_job(progress: Callable[[int, str], None], path: str, file_name: str | None = None,
               user_id: int | None = None, dry_run: bool = False, dictionaries: list[str] | None = None,
               flat_version: str | None = None) -> str:
    """Job kind ``naaccr-import``: imports an uploaded file; the result is the reject report (CSV)."""
    from registry.naaccr.dictionary import load_dictionary
    from registry.naaccr.records import installed_dictionaries
    store, users = installed_dictionaries()
    users += [load_dictionary(extra) for extra in dictionaries or ()]
    user = db_session.get(User, user_id) if user_id else None
    report = Path(path).with_name(Path(path).stem + "-report.csv")
    result = import_file(path, actor=user or IMPORT_ACTOR, store=store, user_dictionaries=users, dry_run=dry_run,
                         flat_version=flat_version, report=report, progress=progress)
    progress(100, result.summary().replace(Path(path).name, file_name or Path(path).name, 1))
    return str(report)
