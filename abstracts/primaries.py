"""The multiple-primary rules applied to a patient's abstracts: is a tumor a new primary or one already abstracted?

Pages and the API show, for one tumor (saved or still in the form), the engine's verdict against each other
tumor of the patient. A new abstract that the rules call the same primary as an existing one is not created
silently: the registrar opens the existing abstract instead, or creates it anyway giving a reason, and that
decision goes into the audit trail (:func:`abstracts.operations.record_primary_decision`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from registry.dates import parse_optional
from staging_tables import multiple_primaries as mp
from staging_tables.multiple_primaries.reference import installed_hematopoietic

#: What each engine input is called on the abstract, so a message names the field the registrar fills in.
ENGINE_FIELDS = {"site": "Primary Site [400]", "hist": "Histologic Type ICD-O-3 [522]",
                 "beh": "Behavior Code ICD-O-3 [523]", "lat": "Laterality [410]",
                 "year": "Date of Diagnosis [390]", "month": "Date of Diagnosis [390]",
                 "day": "Date of Diagnosis [390]"}
NOT_COMPARED = "NOT_COMPARED"


class Unreadable(ValueError):
    """A tumor the rules cannot read; the message names the abstract field."""


@dataclass(frozen=True)
class PrimaryVerdict:
    """The verdict for one other tumor of the patient, as pages and the API show it."""

    tumor_id: int
    sequence_number_hospital: str | None
    primary_site: str | None
    morphology: str
    date_of_diagnosis: str | None
    result: str
    rule_set: str = ""
    step: str = ""
    reason: str = ""
    question_id: str = ""
    question: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PrimaryDecision:
    """What the registrar decided about a new abstract the rules questioned: answers given and, when the rules
    call it the same primary as an existing one, the reason for creating it anyway."""

    verdicts: list[PrimaryVerdict]
    answers: dict[str, bool] = field(default_factory=dict)
    override_reason: str | None = None

    @property
    def same_primary(self) -> list[PrimaryVerdict]:
        return [v for v in self.verdicts if v.result == mp.SINGLE]

    def detail(self) -> dict[str, Any]:
        return {"answers": self.answers, "override_reason": self.override_reason,
                "verdicts": [v.as_dict() for v in self.verdicts]}


def engine_tumor(record: Any) -> mp.Tumor:
    """The tumor as the rules read it, from an abstract (a Tumor, a form draft or a dict of its items)."""
    def value(name: str) -> Any:
        return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
    try:
        dx = parse_optional(value("date_of_diagnosis"))
    except ValueError as exc:
        raise Unreadable(f"Date of Diagnosis [390]: {exc}") from None
    if dx is None:
        raise Unreadable("Date of Diagnosis [390] is needed to apply the multiple-primary rules")
    try:
        return mp.tumor(value("primary_site") or "", value("histology") or "", value("behavior") or "",
                        value("laterality") or "", dx.year, dx.month, dx.day)
    except mp.InvalidTumor as exc:
        raise Unreadable(f"{ENGINE_FIELDS.get(exc.field, exc.field)}: {exc}") from None


def verdicts(candidate: Any, others: Iterable[Any], answers: Mapping[str, bool] | None = None) -> list[PrimaryVerdict]:
    """The candidate tumor compared with each of ``others`` (the patient's other tumors, saved)."""
    found = []
    try:
        new = engine_tumor(candidate)
        problem = ""
    except Unreadable as exc:
        new, problem = None, str(exc)
    tables = installed_hematopoietic()
    for other in others:
        described = dict(tumor_id=other.id, sequence_number_hospital=other.sequence_number_hospital,
                         primary_site=other.primary_site, morphology=other.morphology,
                         date_of_diagnosis=other.date_of_diagnosis)
        try:
            existing = engine_tumor(other)
        except Unreadable as exc:
            found.append(PrimaryVerdict(**described, result=NOT_COMPARED, reason=f"The other abstract: {exc}"))
            continue
        if new is None:
            found.append(PrimaryVerdict(**described, result=NOT_COMPARED, reason=f"This abstract: {problem}"))
            continue
        verdict = mp.compare(existing, new, answers or None, hematopoietic_folder=tables)
        found.append(PrimaryVerdict(**described, result=verdict.result, rule_set=verdict.rule_set, step=verdict.step,
                                    reason=verdict.reason, question_id=verdict.question_id,
                                    question=verdict.question))
    return found


def of_tumor(tumor: Any) -> list[PrimaryVerdict]:
    """A saved tumor compared with each other tumor of its patient (oldest abstract first)."""
    others = sorted((t for t in tumor.patient.tumors if t.id != tumor.id), key=lambda t: t.id)
    return verdicts(tumor, others)


def needs_decision(found: list[PrimaryVerdict]) -> bool:
    """True when a new abstract may not be created without the registrar's decision."""
    return any(v.result in (mp.SINGLE, mp.QUESTIONABLE) for v in found)


def parse_answers(raw: Any, *, field_name: str = "answers") -> dict[str, bool]:
    """Answers to the rules' questions: ``{question_id: true/false}`` (JSON) or yes/no (a form)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{field_name} must be an object of question id: true or false")
    answers: dict[str, bool] = {}
    for key, value in raw.items():
        if isinstance(value, bool):
            answers[str(key)] = value
        elif value in ("yes", "no"):
            answers[str(key)] = value == "yes"
        elif value in ("", None):
            continue
        else:
            raise ValueError(f"{field_name}.{key} must be true or false (yes or no)")
    return answers
