"""Run the edit set over one patient and their tumors, given as plain dicts."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from registry.edits.catalog import all_edits
from registry.edits.engine import Edit, EditFailure, age_range, cached_date
from staging_tables.icdo3 import SITE_HISTOLOGY_KIND, SiteHistologyList, installed_site_histology

Split = tuple[tuple[Edit, ...], tuple[Edit, ...], tuple[Edit, ...]]
#: ``run_edits(site_histology=INSTALLED)`` looks up the installed SEER list itself.
INSTALLED: Any = object()


def _split(edits: Sequence[Edit], installed: frozenset[str]) -> Split:
    """Edits by level, less those an installed reference replaces."""
    active = [e for e in edits if e.replaced_by not in installed]
    return (tuple(e for e in active if e.level == "patient"), tuple(e for e in active if e.level == "tumor"),
            tuple(e for e in active if e.level == "case"))


@lru_cache(maxsize=2)
def _default_split(installed: frozenset[str]) -> Split:
    return _split(all_edits(), installed)


def run_edits(patient: dict[str, Any], tumors: Sequence[dict[str, Any]], *, today: dt.date | None = None,
              edits: Sequence[Edit] | None = None,
              site_histology: SiteHistologyList | None = INSTALLED) -> list[EditFailure]:
    """Every failure for one patient: patient edits once, tumor edits per tumor, case edits across tumors.

    Dicts are keyed by model attribute names (tumor dicts also carry the treatment items);
    blank values may be None, "" or missing. ``today`` bounds "no future date" edits.
    ``site_histology`` is the SEER list the site/histology edit uses (None: the embedded rules);
    by default the installed one. Callers running many patients look it up once and pass it.
    """
    if site_histology is INSTALLED:
        site_histology = installed_site_histology()
    installed = frozenset((SITE_HISTOLOGY_KIND,)) if site_histology is not None else frozenset()
    patient_edits, tumor_edits, case_edits = (_default_split(installed) if edits is None
                                              else _split(edits, installed))
    today = today or dt.date.today()
    patient_id = patient.get("patient_id_number")
    base = dict(patient)
    base["__today__"] = today
    base["__site_histology__"] = site_histology
    failures = [EditFailure(e.id, e.severity, e.fields, e.message_for(base), patient_id)
                for e in patient_edits if e.check(base)]
    records = []
    for index, tumor in enumerate(tumors):
        record = base | tumor
        dx = record.get("date_of_diagnosis")
        record["age_at_diagnosis"] = age_range(record.get("date_of_birth"), dx)
        parsed = cached_date(dx) if dx else None
        record["year_of_diagnosis"] = parsed.year if parsed else None
        records.append(record)
        sequence = tumor.get("sequence_number_hospital")
        failures.extend(EditFailure(e.id, e.severity, e.fields, e.message_for(record), patient_id, index, sequence)
                        for e in tumor_edits if e.check(record))
    for edit in case_edits:
        for index in edit.check(base, records):
            values = base if index is None else records[index] | {"malignant_count": sum(
                t.get("behavior") in ("2", "3") for t in records)}
            sequence = None if index is None else records[index].get("sequence_number_hospital")
            failures.append(EditFailure(edit.id, edit.severity, edit.fields, edit.message_for(values), patient_id,
                                        index, sequence))
    return failures
