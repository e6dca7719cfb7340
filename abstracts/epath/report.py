"""What casefinding reads from a pathology message or a FHIR bundle, whatever the format.

Both readers fill a :class:`PathologyReport`; screening, code suggestion and the suspense queue only
ever see this shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PatientIdentity:
    name_last: str | None = None
    name_first: str | None = None
    date_of_birth: str | None = None  # CCYYMMDD (or a shorter partial date)
    sex: str | None = None  # as sent (HL7 F/M/U, FHIR female/male/unknown)
    social_security_number: str | None = None
    medical_record_number: str | None = None
    address: str | None = None


@dataclass
class Section:
    """One narrative part of the report (final diagnosis, gross, microscopic, addendum …)."""

    code: str | None
    name: str
    text: str


@dataclass
class SynopticAnswer:
    """One answer of a CAP synoptic checklist: the question and the answer as sent.

    ``codings`` are the answer's codes with their system and where they were (HL7 CWE: the code and the
    alternate code), checked by :mod:`abstracts.epath.coding`; ``left_out`` says why a code failed that
    check, and such an answer suggests nothing."""

    question_code: str | None
    question: str
    answer: str
    answer_code: str | None = None
    codings: list[dict[str, str]] = field(default_factory=list)
    left_out: str | None = None


@dataclass
class CodedFinding:
    """A coded statement of a FHIR bundle (condition, stage, procedure, medication)."""

    kind: str  # condition, body_site, histology, laterality, stage_group, tnm, procedure, medication, date
    code: str | None
    system: str | None
    display: str | None
    detail: str | None = None


@dataclass
class PathologyReport:
    format: str  # "hl7v2" or "fhir"
    message_id: str | None = None
    accession: str | None = None
    status: str = "F"  # F final, C corrected/amended, P preliminary
    report_type: str | None = None
    sending_facility: str | None = None
    ordering_facility: str | None = None
    ordering_provider: str | None = None
    pathologist: str | None = None
    collection_date: str | None = None  # CCYYMMDD
    report_date: str | None = None
    specimens: list[str] = field(default_factory=list)
    #: The synoptic form's title and CAP category (``INVASIVE CARCINOMA OF THE BREAST: Resection``, ``Breast``):
    #: the organ a checklist is for, when its answers do not name the site.
    form_title: str | None = None
    form_category: str | None = None
    patient: PatientIdentity = field(default_factory=PatientIdentity)
    sections: list[Section] = field(default_factory=list)
    synoptic: list[SynopticAnswer] = field(default_factory=list)
    coded: list[CodedFinding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The narrative as one document: each section under its name (what is screened and shown)."""
        parts = [f"{s.name.upper()}:\n{s.text}" for s in self.sections if s.text.strip()]
        if self.synoptic:
            parts.append("SYNOPTIC:\n" + "\n".join(f"{a.question}: {a.answer}" for a in self.synoptic))
        return "\n\n".join(parts)

    def as_json(self) -> dict[str, Any]:
        """As :func:`dataclasses.asdict` gives it, without its deep copies (this runs once per report)."""
        data = dict(vars(self))
        data["patient"] = dict(vars(self.patient))
        for name in ("sections", "synoptic", "coded"):
            data[name] = [dict(vars(item)) for item in data[name]]
        data["specimens"], data["warnings"] = list(self.specimens), list(self.warnings)
        return data


def hl7_date(value: str | None) -> str | None:
    """An HL7/FHIR date or timestamp → CCYYMMDD (or CCYYMM / CCYY when that is all it says)."""
    digits = "".join(ch for ch in (value or "")[:10] if ch.isdigit())
    for length in (8, 6, 4):
        if len(digits) >= length:
            return digits[:length]
    return None
