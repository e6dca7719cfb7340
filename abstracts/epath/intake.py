"""Taking pathology reports and FHIR bundles into the suspense queue.

Every message is read and screened before anything is written; a message that cannot be read is
refused with the reason and the others go on. What is stored for a report — the document as received,
what was read, the screening, the patient match and the suggested codes — goes in one audited
operation with its suspense case. Reports are grouped: a corrected report (OBR-25 = C) replaces the
earlier one with the same accession number in its case; another report on the same patient and site
group joins the open case that has them. A report screened non-reportable is kept on a case closed as
not reportable, so it stays searchable.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from abstracts.epath.fhir import UnreadableBundle, read_bundle
from abstracts.epath.hl7v2 import MalformedMessage, normalise, read_messages
from abstracts.epath.report import PathologyReport
from abstracts.epath.screening import ScreeningResult, screen
from abstracts.epath.suggest import Suggestion, suggest
from registry.audit import Actor, log_event, operation
from registry.db import db_session
from registry.errors import InvalidInput
from registry.models import CasefindingReport, Patient, SuspenseCase, SuspenseStatus, User
from registry.models.abstracting import fold
from registry.models.patient import utcnow

#: Reports stored per transaction when a file holds many (each report still all-or-nothing with its case).
CHUNK = 500
SOURCE_OF_FORMAT = {"hl7v2": "epath_hl7", "fhir": "epath_fhir"}
NOT_REPORTABLE_REASON = "screened non-reportable: no positive keyword survived"


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
    if who.social_security_number and who.social_security_number not in {"999999999", "000000000"}:
        return f"ssn:{who.social_security_number}"
    return f"name:{fold(who.name_last)}:{fold(who.name_first)}:{who.date_of_birth or ''}"


def group_key(report: PathologyReport, suggestions: list[Suggestion]) -> str:
    site = next((s.code for s in suggestions if s.item == "site"), None)
    return f"{identity_key(report)}|{site[:3] if site else '?'}"[:120]


def match_patient(report: PathologyReport) -> dict[str, Any]:
    """The registry's patient this report is about: same MRN, else the duplicate check's candidates (same
    SSN, or same birth date with a similar name) — 'matched' when one is certain, 'possible' otherwise,
    'new' when none."""
    from abstracts.search import likely_duplicates
    who = report.patient
    if who.medical_record_number:
        found = db_session.scalar(select(Patient.id).where(Patient.medical_record_number == who.medical_record_number))
        if found:
            return {"status": "matched", "patient_id": found, "reasons": ["same medical record number"],
                    "candidates": []}
    candidates = likely_duplicates({"name_last": who.name_last, "name_first": who.name_first,
                                    "date_of_birth": who.date_of_birth,
                                    "social_security_number": who.social_security_number}, limit=5)
    listed = [{"patient_id": c.patient.id, "score": round(c.score, 3), "reasons": list(c.reasons)}
              for c in candidates]
    for candidate in candidates:
        certain = "same SSN" in candidate.reasons or (
            "same date of birth" in candidate.reasons and any(r.startswith("similar name") for r in candidate.reasons)
            and candidate.score >= 0.9)
        if certain:
            return {"status": "matched", "patient_id": candidate.patient.id, "reasons": list(candidate.reasons),
                    "candidates": listed}
    return {"status": "possible" if listed else "new", "patient_id": None, "reasons": [], "candidates": listed}


def _note(report: PathologyReport, screening: ScreeningResult, suggestions: list[Suggestion]) -> str:
    positives = sorted({m.text.lower() for m in screening.keywords("Positive", surviving=True)})
    codes = ", ".join(f"{s.item} {s.code}" for s in suggestions if s.item in {"site", "histology"})
    what = report.report_type or ("HL7 v2 pathology report" if report.format == "hl7v2" else "FHIR bundle")
    return (f"{what}{' ' + report.accession if report.accession else ''}: {screening.result.lower()}"
            f"{' (' + ', '.join(positives[:8]) + ')' if positives else ''}{'; ' + codes if codes else ''}")[:2000]


def _store(session: Any, document: Document, actor: Actor | User, source: str) -> Taken:
    report = document.report
    assert report is not None
    screening = screen(report.text)
    suggestions = suggest(report, screening)
    match = match_patient(report)
    key = group_key(report, suggestions)
    who = actor.id if isinstance(actor, User) else actor.user_id
    case = None
    grouped = "new case"
    replaced: list[CasefindingReport] = []
    if report.status == "C" and report.accession:
        replaced = list(session.scalars(select(CasefindingReport).where(
            CasefindingReport.accession == report.accession, CasefindingReport.format == report.format,
            CasefindingReport.superseded_by_id.is_(None))))
        if replaced:
            case = session.get(SuspenseCase, replaced[-1].suspense_case_id)
            grouped = "replaced report " + ", ".join(str(r.id) for r in replaced)
    if case is None:
        case_id = session.scalar(select(CasefindingReport.suspense_case_id)
                                 .join(SuspenseCase, SuspenseCase.id == CasefindingReport.suspense_case_id)
                                 .where(CasefindingReport.group_key == key,
                                        SuspenseCase.status == SuspenseStatus.OPEN)
                                 .order_by(CasefindingReport.id.desc()).limit(1))
        if case_id is not None:
            case, grouped = session.get(SuspenseCase, case_id), "joined case"
    site = next((s.code for s in suggestions if s.item == "site"), None)
    if case is None:
        who_is = report.patient
        case = SuspenseCase(name_last=(who_is.name_last or None) and who_is.name_last[:40],
                            name_first=(who_is.name_first or None) and who_is.name_first[:40],
                            date_of_birth=who_is.date_of_birth, medical_record_number=who_is.medical_record_number,
                            primary_site=site, date_found=report.collection_date or report.report_date,
                            source=SOURCE_OF_FORMAT[report.format], note=_note(report, screening, suggestions),
                            patient_id=match["patient_id"], created_by_id=who)
        if not screening.reportable:
            case.status, case.reason, case.resolved_at = SuspenseStatus.NOT_REPORTABLE, NOT_REPORTABLE_REASON, utcnow()
        session.add(case)
        session.flush()
    elif screening.reportable and case.status is SuspenseStatus.OPEN:
        case.primary_site = case.primary_site or site
        case.patient_id = case.patient_id or match["patient_id"]
    row = CasefindingReport(suspense_case_id=case.id, format=report.format, received_from=source[:200],
                            message_id=(report.message_id or None) and report.message_id[:100],
                            accession=(report.accession or None) and report.accession[:100],
                            report_status=report.status if report.status in {"F", "C", "P"} else "F",
                            document=document.text, report_text=report.text, content=report.as_json(),
                            screening=screening.as_json() | {"cancelled": [i for i, m in enumerate(screening.matches)
                                                                           if m.cancelled]},
                            reportable=screening.reportable, suggestions=[s.as_json() for s in suggestions],
                            match=match, patient_id=match["patient_id"], group_key=key, received_by_id=who)
    session.add(row)
    session.flush()
    for earlier in replaced:
        earlier.superseded_by_id = row.id
    log_event(actor, "casefinding_intake", entity="suspense_case", entity_id=case.id, patient_id=match["patient_id"],
              detail=f"{document.label[:200]}: report {row.id}, {screening.result}, {grouped}", commit=False)
    return Taken(document.label, case.id, row.id, screening.reportable, grouped, document.control_id)


def store_documents(documents: Iterable[Document], *, actor: Actor | User, source: str,
                    progress: Callable[[int, str], None] | None = None, chunk: int = CHUNK) -> IntakeResult:
    """Store every readable document (``chunk`` per transaction); refused ones are listed with the reason."""
    result = IntakeResult()
    pending = list(documents)
    readable = [d for d in pending if d.report is not None]
    result.refused = [(d.label, d.error or "unreadable") for d in pending if d.report is None]
    for start in range(0, len(readable), chunk):
        with operation(actor, "casefinding_intake") as session:
            for document in readable[start:start + chunk]:
                result.taken.append(_store(session, document, actor, source))
        if progress is not None:
            done = min(start + chunk, len(readable))
            progress(int(100 * done / max(1, len(readable))), f"{done} of {len(readable)} reports stored")
    return result


def take_in(data: str | bytes, *, actor: Actor | User, source: str,
            progress: Callable[[int, str], None] | None = None) -> IntakeResult:
    """Read, screen, match and store everything in ``data`` (an HL7 v2 file or payload, or a FHIR bundle)."""
    return store_documents(read_documents(data, source), actor=actor, source=source, progress=progress)
