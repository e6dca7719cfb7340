"""Taking pathology reports and FHIR bundles into the suspense queue.

Every message is read and screened before anything is written; a message that cannot be read is
refused with the reason and the others go on. What is stored for a report — the document as received,
what was read, the screening, the patient match and the suggested codes — goes in one audited
operation with its suspense case. Reports are grouped: a corrected report (OBR-25 = C) replaces the
earlier one with the same accession number in its case, and re-opens that case when it was already
closed (see :func:`_reopen`); another report on the same patient and site group joins the open case
that has them. A report screened non-reportable is kept on a case closed as
not reportable, so it stays searchable.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, or_, select

from abstracts.epath.coding import check_codings, installed_icdo3_paths
from abstracts.epath.hl7v2 import (MalformedMessage, RawMessage, normalise, parse_message, read_messages,
                                   split_messages)
from abstracts.epath.report import PathologyReport
from abstracts.epath.screening import ScreeningResult, screen
from abstracts.epath.suggest import Suggestion, suggest
from abstracts.epath.valueset import installed_value_set, reportable_codes, value_set
from registry.audit import Actor, operation
from registry.db import db_session
from registry.errors import InvalidInput
from registry.models import AuditEntry, CasefindingReport, Patient, SuspenseCase, SuspenseStatus, User
from registry.models.abstracting import fold
from registry.models.patient import utcnow

#: Reports stored per transaction when a file holds many (each report still all-or-nothing with its case).
CHUNK = 500
#: Messages from which a file is parsed by helper processes.
PARALLEL_FROM = 1000
SOURCE_OF_FORMAT = {"hl7v2": "epath_hl7", "fhir": "epath_fhir"}
NOT_REPORTABLE_REASON = "screened non-reportable: no positive keyword survived"
#: How a case re-opened by a corrected report is flagged in the suspense list.
CORRECTED_AFTER_CLOSING = "corrected report after closing"
#: SSNs that say "unknown" (NAACCR item 2320), never a patient's.
PLACEHOLDER_SSNS = frozenset({"999999999", "000000000"})


@dataclass
class Document:
    """One message or bundle of the input: its label, its text, and the report read or the refusal."""

    label: str
    text: str
    report: PathologyReport | None = None
    error: str | None = None
    control_id: str | None = None


@dataclass
class Taken:
    label: str
    case_id: int
    report_id: int
    reportable: bool
    grouped: str  # "new case", "joined case", "replaced report N"
    control_id: str | None = None


@dataclass
class IntakeResult:
    taken: list[Taken] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        reportable = sum(1 for t in self.taken if t.reportable)
        return (f"{len(self.taken)} report(s) taken in ({reportable} reportable, "
                f"{len(self.taken) - reportable} not), {len(self.refused)} refused")

    def as_json(self) -> dict[str, Any]:
        return {"taken": [t.__dict__ for t in self.taken],
                "refused": [{"message": label, "reason": reason} for label, reason in self.refused],
                "summary": self.summary()}


def detect_format(data: str | bytes) -> str:
    """'hl7v2' or 'fhir' from the first characters; anything else is refused."""
    head = (data[:200].decode("utf-8", errors="replace") if isinstance(data, bytes) else data[:200])
    head = head.lstrip("\ufeff\x0b \t\r\n")
    if head.startswith(("MSH", "FHS", "BHS")):
        return "hl7v2"
    if head.startswith(("{", "<")):
        return "fhir"
    raise InvalidInput({"document": "neither an HL7 v2 message (MSH, FHS or BHS first) nor a FHIR resource "
                                    "(JSON or XML)"})


def read_documents(data: str | bytes, source: str) -> list[Document]:
    """Every message (HL7 v2) or the one bundle (FHIR) of ``data``, read or refused."""
    if detect_format(data) == "fhir":
        from abstracts.epath.fhir import UnreadableBundle, read_bundle  # pydantic models: loaded when needed
        text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
        try:
            report = read_bundle(text)
            return [Document(source, text, report, control_id=report.message_id)]
        except UnreadableBundle as exc:
            return [Document(source, text, error=str(exc))]
    documents = []
    try:
        for raw, outcome in read_messages(data):
            label = f"{source} {raw.label}"
            if isinstance(outcome, MalformedMessage):
                documents.append(Document(label, raw.text, error=outcome.problem, control_id=raw.control_id))
            else:
                documents.append(Document(label, raw.text, outcome, control_id=raw.control_id))
    except MalformedMessage as exc:
        documents.append(Document(source, normalise(data), error=str(exc)))
    return documents


def identity_key(report: PathologyReport) -> str:
    """Who the report is about, as grouping compares it: MRN, else SSN, else folded name and birth date."""
    who = report.patient
    if who.medical_record_number:
        return f"mrn:{who.medical_record_number.strip().upper()}"
    if who.social_security_number and who.social_security_number not in PLACEHOLDER_SSNS:
        return f"ssn:{who.social_security_number}"
    return f"name:{fold(who.name_last)}:{fold(who.name_first)}:{who.date_of_birth or ''}"


def group_key(report: PathologyReport, suggestions: list[Suggestion]) -> str:
    site = next((s.code for s in suggestions if s.item == "site"), None)
    return f"{identity_key(report)}|{site[:3] if site else '?'}"[:120]


def match_patient(report: PathologyReport) -> dict[str, Any]:
    """The registry's patient this report is about, found as the duplicate check finds one: the same MRN or
    SSN, or the same date of birth with a similar name (the search's name similarity) — 'matched' when
    one is certain, 'possible' for weaker candidates, 'new' when none. One query for all three keys."""
    who = report.patient
    ssn = _ssn(report)
    keys = [column == value for column, value in ((Patient.medical_record_number, who.medical_record_number),
                                                  (Patient.social_security_number, ssn),
                                                  (Patient.date_of_birth, who.date_of_birth)) if value]
    if not keys:
        return {"status": "new", "patient_id": None, "reasons": [], "candidates": []}
    rows = db_session.execute(select(*MATCH_COLUMNS).where(or_(*keys)).order_by(Patient.id).limit(50)).all()
    return match_among(report, rows)


MATCH_COLUMNS = (Patient.id, Patient.medical_record_number, Patient.social_security_number, Patient.date_of_birth,
                 Patient.name_last, Patient.name_first)


def _ssn(report: PathologyReport) -> str | None:
    ssn = report.patient.social_security_number
    return ssn if ssn and ssn not in PLACEHOLDER_SSNS else None


def match_among(report: PathologyReport, rows: Iterable[Any]) -> dict[str, Any]:
    """The match of ``report`` among candidate patient rows (:data:`MATCH_COLUMNS`). A stored SSN that differs
    from the report's keeps a same-name, same-birth-date patient a candidate to confirm: twins and namesakes
    share both, and a wrong match files a report on another person's record."""
    from abstracts.search import similarity
    who = report.patient
    ssn = _ssn(report)
    last, first = fold(who.name_last), fold(who.name_first)
    candidates = []
    for pid, mrn, stored_ssn, born, name_last, name_first in rows:
        reasons, score = [], 0.0
        if who.medical_record_number and mrn == who.medical_record_number:
            reasons.append("same medical record number")
            score = 1.0
        if ssn and stored_ssn == ssn:
            reasons.append("same SSN")
            score = 1.0
        elif ssn and stored_ssn and stored_ssn not in PLACEHOLDER_SSNS:
            reasons.append("different SSN")
        name_score = 0.7 * similarity(last, fold(name_last)) + 0.3 * (similarity(first, fold(name_first))
                                                                       if first else 1.0)
        if who.date_of_birth and born == who.date_of_birth:
            reasons.append("same date of birth")
            if name_score >= 0.8:
                reasons.append(f"similar name ({name_score:.0%})")
        score = max(score, name_score)
        candidates.append({"patient_id": pid, "score": round(score, 3), "reasons": reasons})
    candidates.sort(key=lambda c: (-len(c["reasons"]), -c["score"], c["patient_id"]))
    for candidate in candidates:
        reasons = candidate["reasons"]
        if "same medical record number" in reasons or "same SSN" in reasons or (
                "same date of birth" in reasons and any(r.startswith("similar name") for r in reasons)
                and candidate["score"] >= 0.9 and "different SSN" not in reasons):
            return {"status": "matched", "patient_id": candidate["patient_id"], "reasons": reasons,
                    "candidates": candidates[:5]}
    listed = [c for c in candidates if c["score"] >= 0.5][:5]
    return {"status": "possible" if listed else "new", "patient_id": None, "reasons": [], "candidates": listed}


def _note(report: PathologyReport, screening: ScreeningResult, suggestions: list[Suggestion]) -> str:
    positives = sorted({m.text.lower() for m in screening.keywords("Positive", surviving=True)})
    codes = ", ".join(f"{s.item} {s.code}" for s in suggestions if s.item in {"site", "histology"})
    what = report.report_type or ("HL7 v2 pathology report" if report.format == "hl7v2" else "FHIR bundle")
    left_out = sum(1 for answer in report.synoptic if answer.left_out)
    unknown = f"; {left_out} coded value(s) not in their code list, left out (see the report)" if left_out else ""
    return (f"{what}{' ' + report.accession if report.accession else ''}: {screening.result.lower()}"
            f"{' (' + ', '.join(positives[:8]) + ')' if positives else ''}{'; ' + codes if codes else ''}"
            f"{unknown}")[:2000]


@dataclass
class _Prepared:
    document: Document
    report: PathologyReport
    screening: ScreeningResult
    suggestions: list[Suggestion]
    key: str
    stored: dict[str, Any] = field(default_factory=dict)  # the JSON columns, made where the report was read
    reportable: bool = False  # a positive keyword survived, or a code of the reportability value set
    match: dict[str, Any] = field(default_factory=dict)


def _prepare(document: Document, keywords: str | None = None, codes: str | None = None,
             icdo3_paths: dict[str, str | None] | None = None) -> _Prepared:
    """Check the report's coded answers against their code lists, screen its text (and its codes, when a
    reportability value set is installed) and suggest codes."""
    report = document.report
    assert report is not None
    check_codings(report, document.label, icdo3_paths or {})
    screening = screen(report.text, keywords)
    suggestions = suggest(report, screening)
    coded = reportable_codes(report, value_set(codes)) if codes and report.coded else []
    stored = {"content": report.as_json(),
              "screening": screening.as_json() | {"cancelled": [i for i, m in enumerate(screening.matches)
                                                                if m.cancelled], "codes": coded},
              "suggestions": [s.as_json() for s in suggestions], "report_text": report.text}
    return _Prepared(document, report, screening, suggestions, group_key(report, suggestions), stored,
                     reportable=screening.reportable or bool(coded))


def _candidates(session: Any, prepared: list[_Prepared]) -> dict[tuple[str, str], list[Any]]:
    """Patients sharing an MRN, SSN or birth date with any report of the chunk, in one query, by key."""
    wanted = {"mrn": {p.report.patient.medical_record_number for p in prepared} - {None},
              "ssn": {_ssn(p.report) for p in prepared} - {None},
              "dob": {p.report.patient.date_of_birth for p in prepared} - {None}}
    columns = {"mrn": Patient.medical_record_number, "ssn": Patient.social_security_number,
               "dob": Patient.date_of_birth}
    conditions = [columns[name].in_(values) for name, values in wanted.items() if values]
    found: dict[tuple[str, str], list[Any]] = {}
    if not conditions:
        return found
    for row in session.execute(select(*MATCH_COLUMNS).where(or_(*conditions)).order_by(Patient.id)):
        for name, value in (("mrn", row[1]), ("ssn", row[2]), ("dob", row[3])):
            if value and value in wanted[name]:
                found.setdefault((name, value), []).append(row)
    return found


def _store_chunk(session: Any, prepared: list[_Prepared], actor: Actor | User, source: str) -> list[Taken]:
    """Store a chunk of screened reports: a few queries for the whole chunk, then the inserts in batches."""
    candidates = _candidates(session, prepared)
    for item in prepared:
        who = item.report.patient
        rows = {row[0]: row for key in (("mrn", who.medical_record_number), ("ssn", _ssn(item.report)),
                                        ("dob", who.date_of_birth)) for row in candidates.get(key, [])}
        item.match = match_among(item.report, list(rows.values())[:50])
    keys = {p.key for p in prepared}
    open_cases: dict[str, int] = {}
    for key, case_id in session.execute(
            select(CasefindingReport.group_key, CasefindingReport.suspense_case_id)
            .join(SuspenseCase, SuspenseCase.id == CasefindingReport.suspense_case_id)
            .where(CasefindingReport.group_key.in_(keys), SuspenseCase.status == SuspenseStatus.OPEN)
            .order_by(CasefindingReport.id)):
        open_cases[key] = case_id
    corrected = {p.report.accession for p in prepared if p.report.status == "C" and p.report.accession}
    earlier_reports: dict[tuple[str, str], list[CasefindingReport]] = {}
    if corrected:
        for row in session.scalars(select(CasefindingReport).where(
                CasefindingReport.accession.in_(corrected), CasefindingReport.superseded_by_id.is_(None))
                .order_by(CasefindingReport.id)):
            earlier_reports.setdefault((row.format, row.accession), []).append(row)
    known_cases = {c.id: c for c in session.scalars(select(SuspenseCase).where(SuspenseCase.id.in_(
        set(open_cases.values()) | {r.suspense_case_id for rows in earlier_reports.values() for r in rows})))}
    who = actor.id if isinstance(actor, User) else actor.user_id
    placed: list[tuple[_Prepared, SuspenseCase | int, str, list[CasefindingReport]]] = []
    reopened: list[SuspenseCase] = []
    new_open: dict[str, SuspenseCase] = {}
    with session.no_autoflush:
        for item in prepared:
            report, site = item.report, next((s.code for s in item.suggestions if s.item == "site"), None)
            replaced = earlier_reports.pop((report.format, report.accession), []) if report.status == "C" else []
            target: SuspenseCase | int | None = None
            grouped = "new case"
            if replaced:
                target, grouped = replaced[-1].suspense_case_id, "replaced report " + ", ".join(str(r.id) for r in replaced)
                if _reopen(known_cases[target], item):
                    grouped += "; case re-opened"
                    reopened.append(known_cases[target])
            elif item.key in new_open:
                target, grouped = new_open[item.key], "joined case"
            elif item.key in open_cases:
                target, grouped = open_cases[item.key], "joined case"
            if target is None:
                case = SuspenseCase(name_last=(who_is := report.patient).name_last and who_is.name_last[:40],
                                    name_first=who_is.name_first and who_is.name_first[:40],
                                    date_of_birth=who_is.date_of_birth, medical_record_number=who_is.medical_record_number,
                                    primary_site=site, date_found=report.collection_date or report.report_date,
                                    source=SOURCE_OF_FORMAT[report.format],
                                    note=_note(report, item.screening, item.suggestions),
                                    patient_id=item.match["patient_id"], created_by_id=who)
                if not item.reportable:
                    case.status, case.reason = SuspenseStatus.NOT_REPORTABLE, NOT_REPORTABLE_REASON
                    case.resolved_at = utcnow()
                else:
                    new_open[item.key] = case
                session.add(case)
                target = case
            elif item.reportable:
                case = target if isinstance(target, SuspenseCase) else known_cases[target]
                if case.status is SuspenseStatus.OPEN:
                    case.primary_site = case.primary_site or site
                    case.patient_id = case.patient_id or item.match["patient_id"]
            placed.append((item, target, grouped, replaced))
    session.flush()  # the new cases get their ids, inserted together
    rows = []
    for item, target, _grouped, _replaced in placed:
        report = item.report
        case_id = target.id if isinstance(target, SuspenseCase) else target
        rows.append(CasefindingReport(
            suspense_case_id=case_id, format=report.format, received_from=source[:200],
            message_id=report.message_id and report.message_id[:100],
            accession=report.accession and report.accession[:100],
            report_status=report.status if report.status in {"F", "C", "P"} else "F",
            document=item.document.text, reportable=item.reportable, match=item.match, **item.stored,
            patient_id=item.match["patient_id"], group_key=item.key, received_by_id=who))
    session.add_all(rows)
    session.flush()
    taken, events = [], []
    for (item, target, grouped, replaced), row in zip(placed, rows):
        for earlier in replaced:
            earlier.superseded_by_id = row.id
        taken.append(Taken(item.document.label, row.suspense_case_id, row.id, item.reportable, grouped,
                           item.document.control_id))
        events.append({"entity_id": str(row.suspense_case_id), "patient_id": item.match["patient_id"],
                       "detail": f"{item.document.label[:200]}: report {row.id}, {item.screening.result}, {grouped}"})
    audit_events(actor, "casefinding_intake", "suspense_case", events)
    audit_events(actor, "casefinding_reopened", "suspense_case",
                 [{"entity_id": str(case.id), "patient_id": case.patient_id, "detail": case.reason} for case in reopened])
    return taken


def _reopen(case: SuspenseCase, item: _Prepared) -> bool:
    """Bring a closed case back to the open list when a corrected report changes what was decided on it.

    An abstracted case always comes back (the abstract was coded from the report now replaced, and an
    amendment to a benign diagnosis matters most); a case closed as not reportable comes back when the
    correction is reportable. The reason says so in the suspense list; the tumor stays linked, so
    *Abstract it* opens the same abstract rather than starting a second one."""
    if case.status is SuspenseStatus.OPEN or (case.status is SuspenseStatus.NOT_REPORTABLE and not item.reportable):
        return False
    report = item.report
    which = " ".join(filter(None, (report.accession, f"(message {report.message_id})" if report.message_id else "")))
    if case.status is SuspenseStatus.ABSTRACTED:
        closed = "abstracted; check the abstract against it"
    else:
        closed = f"closed as not reportable ({case.reason})" if case.reason else "closed as not reportable"
    case.reason = f"{CORRECTED_AFTER_CLOSING}: {which or 'a report'} received after the case was {closed}"[:2000]
    case.status, case.resolved_by_id, case.resolved_at = SuspenseStatus.OPEN, None, None
    return True


def audit_events(actor: Actor | User, action: str, entity: str, events: list[dict[str, Any]]) -> None:
    """Several :func:`registry.audit.log_event` entries written as one insert, in the current transaction."""
    if not events:
        return
    who = Actor.of(actor) if isinstance(actor, User) else actor
    now = utcnow()
    db_session.execute(insert(AuditEntry), [{"at": now, "user_id": who.user_id, "username": who.username,
                                             "action": action, "entity": entity, **event} for event in events])


def store_documents(documents: Iterable[Document | _Prepared], *, actor: Actor | User, source: str,
                    progress: Callable[[int, str], None] | None = None, chunk: int = CHUNK) -> IntakeResult:
    """Store every readable document (``chunk`` per transaction); refused ones are listed with the reason."""
    result = IntakeResult()
    pending = list(documents)
    result.refused = [(d.label, d.error or "unreadable") for d in pending
                      if isinstance(d, Document) and d.report is None]
    keywords, codes, icdo3_paths = _keywords_path(), _codes_path(), installed_icdo3_paths()
    readable = [d if isinstance(d, _Prepared) else _prepare(d, keywords, codes, icdo3_paths) for d in pending
                if isinstance(d, _Prepared) or d.report is not None]
    for start in range(0, len(readable), chunk):
        with operation(actor, "casefinding_intake") as session:
            result.taken += _store_chunk(session, readable[start:start + chunk], actor, source)
        if progress is not None:
            done = min(start + chunk, len(readable))
            progress(int(100 * done / max(1, len(readable))), f"{done} of {len(readable)} reports stored")
    return result


def _keywords_path() -> str:
    from abstracts.epath.screening import DEFAULT_KEYWORDS, installed_keywords
    return str(installed_keywords() or DEFAULT_KEYWORDS)


def _codes_path() -> str | None:
    found = installed_value_set()
    return str(found) if found else None


def read_and_prepare(raws: list[RawMessage], source: str, keywords: str, codes: str | None = None,
                     icdo3_paths: dict[str, str | None] | None = None) -> list[Document | _Prepared]:
    """Parse and screen messages (what helper processes do for large files): a screened report, or the
    document refused with its reason."""
    out: list[Document | _Prepared] = []
    for raw in raws:
        try:
            report = parse_message(raw)
        except MalformedMessage as exc:
            out.append(Document(f"{source} {exc.where}", raw.text, error=exc.problem, control_id=exc.control_id))
            continue
        named = RawMessage(raw.number, report.message_id, raw.text)
        out.append(_prepare(Document(f"{source} {named.label}", raw.text, report, control_id=report.message_id),
                            keywords, codes, icdo3_paths))
    return out


def take_in(data: str | bytes, *, actor: Actor | User, source: str,
            progress: Callable[[int, str], None] | None = None) -> IntakeResult:
    """Read, screen, match and store everything in ``data`` (an HL7 v2 file or payload, or a FHIR bundle).

    A file of :data:`PARALLEL_FROM` messages or more is parsed and screened by helper processes, a chunk
    at a time, while this process stores the chunks already read (parsing is the slow part)."""
    if detect_format(data) == "hl7v2" and (os.cpu_count() or 1) > 1:
        try:
            raws = split_messages(data, lazy=True)
        except MalformedMessage as exc:
            return IntakeResult(refused=[(source, str(exc))])
        if len(raws) >= PARALLEL_FROM:
            return _take_in_parallel(raws, actor=actor, source=source, progress=progress)
    return store_documents(read_documents(data, source), actor=actor, source=source, progress=progress)


def _take_in_parallel(raws: list[RawMessage], *, actor: Actor | User, source: str,
                      progress: Callable[[int, str], None] | None) -> IntakeResult:
    keywords, codes, icdo3_paths = _keywords_path(), _codes_path(), installed_icdo3_paths()
    light = [RawMessage(r.number, r.control_id, r.text) for r in raws]
    result = IntakeResult()
    workers = min(2, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(read_and_prepare, light[i:i + CHUNK], source, keywords, codes, icdo3_paths)
                   for i in range(0, len(light), CHUNK)]
        for number, future in enumerate(futures, 1):
            part = store_documents(future.result(), actor=actor, source=source)
            result.taken += part.taken
            result.refused += part.refused
            if progress is not None:
                done = min(number * CHUNK, len(light))
                progress(int(100 * number / len(futures)), f"{done} of {len(light)} messages read and stored")
    return result
