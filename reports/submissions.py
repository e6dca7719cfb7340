"""NAACCR XML exports from the registry, and the submissions that record each one.

An export streams patients from the database in chunks (plain rows, not ORM objects, so memory
stays flat and it keeps pace with the writer) and writes them with the NAACCR writer, which
keeps only the items the record type allows (the dictionary's ``recordTypes``). A submission
records the file (name, SHA-256, version, record type, who, when) and every tumor it carried
with the tumor's and patient's versions at that moment; a later ``M`` (modified) submission
sends the tumors whose tumor or patient version has moved since they were last sent.
"""
from __future__ import annotations

import datetime as dt
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import exists, func, insert, or_, select
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql import ColumnElement

from registry.audit import Actor, log_event, operation
from registry.db import db_session
from registry.errors import InvalidInput, NotFound
from registry.files import sha256_of
from registry.jobs import job_kind
from registry.edits.runner import run_edits
from registry.models import (Facility, FirstCourseTreatment, Patient, Submission, SubmissionLeftOut, SubmissionTumor, Tumor, User,
                             WorkflowState)
from registry.naaccr.dictionary import RECORD_TYPES, Dictionary
from registry.naaccr.records import ItemMap, attributes, installed_dictionaries
from registry.naaccr.writer import NaaccrWriter
from staging_tables.icdo3 import installed_site_histology

#: Versions a submission may be written in (the NAACCR standard of the diagnosis year being sent).
SUBMISSION_VERSIONS = ("250", "260")
CHUNK_PATIENTS = 1000
ACTION = "naaccr_export"


#: Abstracts a submission sends: complete or reviewed (and passing every error edit, checked as it is written).
READY_STATES = (WorkflowState.COMPLETE.value, WorkflowState.REVIEWED.value)


@dataclass(frozen=True)
class LeftOut:
    """A tumor the selection named that a submission did not send, and why."""

    tumor_id: int
    patient_id_number: str
    primary_site: str | None
    date_of_diagnosis: str | None
    reason: str

    def line(self) -> str:
        return (f"left out: patient {self.patient_id_number}, {self.primary_site or 'site ?'} diagnosed "
                f"{self.date_of_diagnosis or '?'}: {self.reason}")


@dataclass
class ExportResult:
    path: str
    patients: int = 0
    tumors: int = 0
    sent: list[tuple[int, int, int]] = field(default_factory=list, repr=False)
    skipped: dict[str, int] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)


def _state(value: Any) -> str:
    return value.value if isinstance(value, WorkflowState) else str(value or "")


def screen_ready(patient: dict[str, Any], tumors: list[tuple[dict[str, Any], dict[str, Any] | None]],
                 site_histology: Any) -> tuple[list[tuple[dict, dict | None]], list[LeftOut]]:
    """The tumors of one patient a submission may send, and the others with the reason for each:
    an abstract still in progress, or one that fails an error-level edit (patient edits count for every tumor)."""
    records = [{**tumor, **(treatment or {})} for tumor, treatment in tumors]
    failures = run_edits(patient, records, site_histology=site_histology)
    errors: dict[int | None, list[str]] = {}
    for failure in failures:
        if failure.severity == "error":
            errors.setdefault(failure.tumor_index, []).append(f"{failure.edit_id} {failure.message}")
    ready, left = [], []
    for index, (tumor, treatment) in enumerate(tumors):
        reasons = []
        state = _state(tumor.get("workflow_state"))
        if state not in READY_STATES:
            reasons.append(f"abstract {state.replace('_', ' ') or 'without a state'}: only complete or reviewed "
                           "abstracts are sent")
        failing = errors.get(None, []) + errors.get(index, [])
        if failing:
            reasons.append(f"{len(failing)} error edit(s) failing: " + "; ".join(failing[:3])
                           + (" …" if len(failing) > 3 else ""))
        if reasons:
            left.append(LeftOut(tumor["id"], patient.get("patient_id_number") or "", tumor.get("primary_site"),
                                tumor.get("date_of_diagnosis"), "; ".join(reasons)[:1000]))
        else:
            ready.append((tumor, treatment))
    return ready, left


def tumor_conditions(*, diagnosis_year: int | None = None, changed_only: bool = False) -> list[ColumnElement[bool]]:
    """Which tumors an export takes (clauses over Tumor and Patient)."""
    conditions: list[ColumnElement[bool]] = []
    if diagnosis_year is not None:
        conditions.append(Tumor.date_of_diagnosis.like(f"{int(diagnosis_year):04d}%"))
    if changed_only:
        conditions.append(changed_since_sent())
    return conditions


def changed_since_sent() -> ColumnElement[bool]:
    """Tumors sent before whose tumor or patient version moved since their latest submission."""
    sent = aliased(SubmissionTumor)
    newest = (select(func.max(SubmissionTumor.submission_id)).where(SubmissionTumor.tumor_id == Tumor.id)
              .correlate(Tumor).scalar_subquery())
    return exists().where(sent.tumor_id == Tumor.id, sent.submission_id == newest,
                          or_(sent.tumor_version != Tumor.version, sent.patient_version != Patient.version))


def never_sent() -> ColumnElement[bool]:
    return ~exists().where(SubmissionTumor.tumor_id == Tumor.id)


Chunk = list[tuple[dict[str, Any], list[tuple[dict, dict | None]]]]


def _rows(conditions: list[ColumnElement[bool]]) -> Iterator[tuple[dict[str, Any], list[tuple[dict, dict]]]]:
    """Patients with their chosen tumors, as ``{attribute: value}`` rows, a chunk of patients at a time.

    On PostgreSQL the next chunk is fetched while this one is written (the server works on another
    core meanwhile); SQLite works inside this process, so there is nothing to overlap.
    """
    session = db_session()
    chunks = _chunks(session, conditions) if session.get_bind().dialect.name != "postgresql" else \
        _prefetched(session.get_bind(), conditions)
    for chunk in chunks:
        yield from chunk


def _chunks(session: Session, conditions: list[ColumnElement[bool]]) -> Iterator[Chunk]:
    patient_names = ("id", "version", "extra_items", *attributes("patient"))
    tumor_names = ("id", "patient_id", "version", "workflow_state", "extra_items", "site_specific_items",
                   *attributes("tumor"))
    treatment_names = attributes("treatment")
    patient_columns = [getattr(Patient, name) for name in patient_names]
    tumor_columns = [*(getattr(Tumor, name) for name in tumor_names), FirstCourseTreatment.tumor_id,
                     *(getattr(FirstCourseTreatment, name) for name in treatment_names)]
    split = len(tumor_names)
    connection = session.connection()  # Core rows (plain tuples): the ORM adds nothing to column reads
    last = 0
    while True:
        ids = connection.execute(select(Tumor.patient_id).join(Patient, Patient.id == Tumor.patient_id)
                                 .where(Tumor.patient_id > last, *conditions).group_by(Tumor.patient_id)
                                 .order_by(Tumor.patient_id).limit(CHUNK_PATIENTS)).scalars().all()
        if not ids:
            return
        patients = {row[0]: dict(zip(patient_names, row)) for row in
                    connection.execute(select(*patient_columns).where(Patient.id.in_(ids)))}
        tumors: dict[int, list[tuple[dict, dict | None]]] = {pid: [] for pid in ids}
        stmt = (select(*tumor_columns).join(Patient, Patient.id == Tumor.patient_id)
                .outerjoin(FirstCourseTreatment, FirstCourseTreatment.tumor_id == Tumor.id)
                .where(Tumor.patient_id.in_(ids), *conditions).order_by(Tumor.patient_id, Tumor.id))
        for row in connection.execute(stmt):
            treatment = dict(zip(treatment_names, row[split + 1:])) if row[split] is not None else None
            tumors[row[1]].append((dict(zip(tumor_names, row[:split])), treatment))
        yield [(patients[pid], tumors[pid]) for pid in ids]
        last = ids[-1]


def _prefetched(engine: Any, conditions: list[ColumnElement[bool]]) -> Iterator[Chunk]:
    """:func:`_chunks` read by a thread with its own session, at most two chunks ahead of the writer."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()
    done = object()

    def fetch() -> None:
        try:
            with Session(bind=engine) as session:
                for chunk in _chunks(session, conditions):
                    while not stop.is_set():
                        try:
                            handoff.put(chunk, timeout=0.5)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            handoff.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the writer, which raises it
            handoff.put(exc)

    reader = threading.Thread(target=fetch, name="export-prefetch", daemon=True)
    reader.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():
            try:
                handoff.get(timeout=0.1)
            except queue.Empty:
                pass
        reader.join()


def count_tumors(conditions: list[ColumnElement[bool]]) -> int:
    return db_session.scalar(select(func.count(Tumor.id)).join(Patient, Patient.id == Tumor.patient_id)
                             .where(*conditions)) or 0


def facility_items() -> dict[str, str]:
    """The facility's NAACCR items an exported tumor carries when its abstract does not hold its own."""
    facility = db_session.get(Facility, 1)
    if facility is None:
        return {}
    values = {"reportingFacility": facility.reporting_facility, "npiReportingFacility": facility.npi_reporting_facility,
              "archiveFin": facility.archive_fin}
    return {naaccr_id: value for naaccr_id, value in values.items() if value}


def export_file(target: str | os.PathLike[str], dictionary: Dictionary, record_type: str = "A", *,
                user_dictionaries: Iterable[Dictionary] = (), diagnosis_year: int | None = None,
                changed_only: bool = False, compress: bool | None = None, allow_any_version: bool = False,
                ready_only: bool = False, progress: Callable[[int, str], None] | None = None) -> ExportResult:
    """Stream the chosen tumors (all, one diagnosis year, or those changed since sent) into ``target``;
    ``ready_only`` sends only complete or reviewed abstracts passing every error edit and lists the others."""
    conditions = tumor_conditions(diagnosis_year=diagnosis_year, changed_only=changed_only)
    total = count_tumors(conditions) if progress else 0
    result = ExportResult(os.fspath(target))
    root_items = {"recordType": record_type, "naaccrRecordVersion": dictionary.naaccr_version or ""}
    with NaaccrWriter(target, dictionary, record_type, user_dictionaries, compress=compress,
                      root_items=root_items, allow_any_version=allow_any_version) as writer:
        item_map = ItemMap(writer.lookup)
        site_histology = installed_site_histology() if ready_only else None
        defaults = facility_items()
        for patient, tumors in _rows(conditions):
            if ready_only:
                tumors, left = screen_ready(patient, tumors, site_histology)
                result.left_out += left
                if not tumors:
                    continue
            record = item_map.record(patient, tumors)
            if defaults:
                for tumor_record in record["tumors"]:
                    for naaccr_id, value in defaults.items():
                        tumor_record["items"].setdefault(naaccr_id, value)
            writer.write_patient(record)
            result.sent += [(tumor["id"], tumor["version"], patient["version"]) for tumor, _ in tumors]
            if progress and writer.patients % CHUNK_PATIENTS == 0:
                progress(len(result.sent) * 99 // max(total, 1), f"{len(result.sent)} of {total} tumors written")
    result.patients, result.tumors, result.skipped = writer.patients, writer.tumors, dict(writer.skipped)
    return result


def create_submission(output: str | os.PathLike[str], *, version: str = "250", record_type: str = "A",
                      diagnosis_year: int | None = None, actor: Actor | User, include_incomplete: bool = False,
                      progress: Callable[[int, str], None] | None = None) -> Submission:
    """Export to ``output`` (gzip when it ends in ``.gz``) and record the submission; ``M`` sends changed tumors.

    Only complete or reviewed abstracts that pass every error edit are sent; the others are recorded on the
    submission with the reason. ``include_incomplete`` (test files) sends them all and says so on the submission."""
    errors = {}
    if str(version) not in SUBMISSION_VERSIONS:
        errors["version"] = f"must be one of {', '.join(SUBMISSION_VERSIONS)}, not {version!r}"
    if record_type not in RECORD_TYPES:
        errors["record_type"] = f"must be one of {', '.join(RECORD_TYPES)}, not {record_type!r}"
    if errors:
        raise InvalidInput(errors)
    store, users = installed_dictionaries()
    dictionary = store.get(str(version))
    if dictionary is None:
        raise NotFound(f"the NAACCR {version} base dictionary is not installed "
                       f"(flask --app wsgi reference install naaccr-dictionary naaccr-dictionary-{version}.xml)")
    target = Path(output)
    partial = target.with_name(target.name + ".part")
    try:
        result = export_file(partial, dictionary, record_type, user_dictionaries=users, diagnosis_year=diagnosis_year,
                             changed_only=record_type == "M", compress=target.name.endswith(".gz"),
                             ready_only=not include_incomplete, progress=progress)
        checksum = sha256_of(partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    with operation(who, ACTION) as session:
        submission = Submission(file_name=target.name, stored_path=str(target.resolve()), checksum=checksum,
                                naaccr_version=str(version), record_type=record_type, diagnosis_year=diagnosis_year,
                                patient_count=result.patients, tumor_count=result.tumors,
                                include_incomplete=include_incomplete, left_out_count=len(result.left_out),
                                created_by_id=who.user_id, created_by=who.username)
        session.add(submission)
        session.flush()
        left = [{"submission_id": submission.id, "tumor_id": item.tumor_id, "patient_id_number": item.patient_id_number,
                 "primary_site": item.primary_site, "date_of_diagnosis": item.date_of_diagnosis, "reason": item.reason}
                for item in result.left_out]
        for start in range(0, len(left), 5000):
            session.execute(insert(SubmissionLeftOut), left[start:start + 5000])
        rows = [{"submission_id": submission.id, "tumor_id": tumor_id, "tumor_version": tumor_version,
                 "patient_version": patient_version} for tumor_id, tumor_version, patient_version in result.sent]
        for start in range(0, len(rows), 5000):
            session.execute(insert(SubmissionTumor), rows[start:start + 5000])
        log_event(who, ACTION, entity="submission", entity_id=submission.id, commit=False,
                  detail=f"{target.name}: NAACCR {version} record type {record_type}, {result.patients} patients, "
                         f"{result.tumors} tumors, {len(result.left_out)} left out"
                         f"{' (incomplete abstracts included: a test file)' if include_incomplete else ''}, "
                         f"sha256 {checksum}")
    if progress:
        progress(100, f"{result.tumors} tumors of {result.patients} patients written to {target.name}; "
                      f"{len(result.left_out)} left out (listed on the submission)")
    return submission


def submissions(limit: int = 100) -> list[Submission]:
    return list(db_session.scalars(select(Submission).order_by(Submission.id.desc()).limit(limit)))


def changes_since_last() -> dict[str, Any]:
    """What the next submissions would carry: tumors changed since sent, and tumors never sent."""
    changed = tumor_conditions(changed_only=True)
    fresh = [never_sent()]
    sample = (select(Tumor).join(Patient, Patient.id == Tumor.patient_id).where(*changed).order_by(Tumor.id)
              .options(selectinload(Tumor.patient)).limit(50))
    return {"last": db_session.scalar(select(Submission).order_by(Submission.id.desc()).limit(1)),
            "changed": count_tumors(changed), "never_sent": count_tumors(fresh),
            "changed_tumors": db_session.scalars(sample).all()}


@job_kind("naaccr-export")
def export_job(progress: Callable[[int, str], None], version: str = "250", record_type: str = "A",
               diagnosis_year: int | None = None, user_id: int | None = None, include_incomplete: bool = False) -> str:
    """Job kind ``naaccr-export``: a submission file under the job files folder, recorded as a submission."""
    user = db_session.get(User, user_id) if user_id else None
    folder = Path(current_app.config["JOB_FILES_DIR"]) / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    year = f"-{diagnosis_year}" if diagnosis_year else ""
    output = folder / f"naaccr-{version}-{record_type}{year}-{stamp}.xml.gz"
    submission = create_submission(output, version=version, record_type=record_type, diagnosis_year=diagnosis_year,
                                   actor=user or Actor(None, "naaccr-export"), include_incomplete=include_incomplete,
                                   progress=progress)
    return submission.stored_path
