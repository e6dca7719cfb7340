"""The edit set, assembled once from item metadata, the edit table and registered predicates."""
from __future__ import annotations

import csv
from functools import lru_cache

from registry.edits import predicates
from registry.edits.engine import (EDITS_FILE, LEVELS, REPLACING_KINDS, SEVERITIES, Edit, EditDefinitionError,
                                   compile_rule, validity_check)
from registry.items import ItemSpec, naaccr_items
from registry.models import FirstCourseTreatment, Patient, Tumor

#: Item kinds whose values have a rule to check (free text has only its length).
CHECKED_KINDS = ("code", "date", "digits", "pattern")


@lru_cache(maxsize=1)
def item_specs() -> dict[str, dict[str, ItemSpec]]:
    """``{"patient": {...}, "tumor": {...}}``: tumor records carry tumor and treatment items."""
    return {"patient": naaccr_items(Patient), "tumor": naaccr_items(Tumor) | naaccr_items(FirstCourseTreatment)}


def _validity_edit(spec: ItemSpec, level: str) -> Edit:
    if spec.kind == "code":
        rule = f"value must be a code of the list '{spec.code_list}'"
    elif spec.kind == "date":
        rule = "CCYYMMDD, CCYYMM or CCYY and a real calendar date from 1850"
    elif spec.kind == "digits":
        rule = f"digits only, at most {spec.length}"
    else:
        rule = f"must match `{spec.pattern}`"

    def render(values: dict, spec: ItemSpec = spec) -> str:
        return f"{spec.label}: {spec.problem(values[spec.attribute])}"

    return Edit(id=f"IV{spec.naaccr_num:04d}", name=f"{spec.label} is valid", severity="error",
                fields=(spec.attribute,), message=f"{spec.label}: {{{spec.attribute}}} is not valid ({rule})",
                rule=rule, source="item", level=level, check=validity_check(spec), render=render)


def _table_edits(patient_fields: frozenset[str], known: frozenset[str]) -> list[Edit]:
    edits = []
    with EDITS_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["severity"] not in SEVERITIES:
                raise EditDefinitionError(f"{row['id']}: severity must be error or warning")
            if (row.get("replaced_by") or None) not in (None, *REPLACING_KINDS):
                raise EditDefinitionError(f"{row['id']}: replaced_by must be blank or one of {REPLACING_KINDS}")
            check, fields = compile_rule(row["rule"], row["id"], known)
            level = "patient" if set(fields) <= patient_fields else "tumor"
            edits.append(Edit(id=row["id"], name=row["name"], severity=row["severity"], fields=fields,
                              message=row["message"], rule=row["rule"], source="table", level=level, check=check,
                              replaced_by=row.get("replaced_by") or None))
    return edits


def _predicate_edits(known: frozenset[str]) -> list[Edit]:
    edits = []
    for spec in predicates.PREDICATES:
        unknown = set(spec["fields"]) - known
        if unknown or spec["level"] not in LEVELS or spec["severity"] not in SEVERITIES:
            raise EditDefinitionError(f"{spec['id']}: bad definition (unknown fields {sorted(unknown)})")
        edits.append(Edit(id=spec["id"], name=spec["name"], severity=spec["severity"], fields=spec["fields"],
                          message=spec["message"], rule=spec["rule"], source="python", level=spec["level"],
                          check=spec["check"]))
    return edits


@lru_cache(maxsize=1)
def all_edits() -> tuple[Edit, ...]:
    """Every edit, validity first; ids are unique (checked here so a bad table fails loudly)."""
    specs = item_specs()
    edits = [_validity_edit(spec, level) for level in ("patient", "tumor") for spec in specs[level].values()
             if spec.kind in CHECKED_KINDS]
    patient_fields = frozenset(specs["patient"])
    known = patient_fields | frozenset(specs["tumor"])
    edits += _table_edits(patient_fields, known)
    edits += _predicate_edits(known)
    ids = [edit.id for edit in edits]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise EditDefinitionError(f"edit ids used twice: {', '.join(duplicates)}")
    return tuple(edits)


def edit_by_id(edit_id: str) -> Edit:
    for edit in all_edits():
        if edit.id == edit_id:
            return edit
    raise KeyError(edit_id)
