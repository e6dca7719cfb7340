"""Build edit records (plain dicts keyed by model attribute names) from ORM objects and NAACCR ids."""
from __future__ import annotations

from typing import Any

from registry.edits.catalog import item_specs
from registry.models import FirstCourseTreatment, Patient, Tumor


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def patient_record(patient: Patient) -> dict[str, Any]:
    return {name: _text(getattr(patient, name)) for name in item_specs()["patient"]}


def tumor_record(tumor: Tumor, treatment: FirstCourseTreatment | None = None) -> dict[str, Any]:
    """Tumor items and its first-course treatment items in one dict."""
    treatment = treatment if treatment is not None else tumor.treatment
    record: dict[str, Any] = {}
    for name in item_specs()["tumor"]:
        source = tumor if hasattr(Tumor, name) else treatment
        record[name] = _text(getattr(source, name)) if source is not None else None
    return record


def records_from_orm(patient: Patient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What :func:`run_edits` takes, for a patient and their tumors loaded from the database."""
    return patient_record(patient), [tumor_record(t) for t in patient.tumors]


def naaccr_id_map() -> dict[str, tuple[str, str]]:
    """``{naaccrId: (level, attribute)}`` for every item an edit record can hold."""
    mapping: dict[str, tuple[str, str]] = {}
    for level, specs in item_specs().items():
        for name, spec in specs.items():
            mapping.setdefault(spec.naaccr_id, (level, name))
    return mapping
