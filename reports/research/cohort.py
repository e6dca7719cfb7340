"""Which tumors a research dataset takes, and each tumor's values with the derived ones.

Filters are the registrar's: diagnosis years, primary site codes and ranges (C50, C18-C20),
SEER site recode groups, histology (8500, 8000-8799), behavior, stage (group names as on the
Survival page, or Summary Stage codes), sex, age range at diagnosis, vital status and class of
case, and any catalogued item that is not an identifier (``tumorSizeSummary=010-020``, whatever its
store: registry.item_filters).
Rows stream from the database in patient order, with only the columns a release needs, and
the derived values (age at diagnosis, SEER site recode, vital status at the cutoff, cause-specific
death) computed from the full dates before any de-identification; the summary stage and its scheme are
selected in SQL by the registry's one rule (registry.summary_stage).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.errors import InvalidInput
from registry.item_filters import item_expression, parse_item_filters
from registry.models import FirstCourseTreatment, Patient, Tumor
from reports.survival.cause_specific import cause_specific_death, site_recode
from reports.survival.cohorts import STAGE_GROUPS, STAGE_ORDER, _partial_to_date, site_names
from reports.research.variables import dictionary

SOURCES = {"patient": Patient, "tumor": Tumor, "treatment": FirstCourseTreatment}
VITAL_WORDS = {"alive": "1", "dead": "0", "1": "1", "0": "0"}
#: Stored columns each derived variable (and filter) reads.
DERIVATION_INPUTS = {
    "age_at_diagnosis": ("date_of_diagnosis", "surv_date_dx_recode", "date_of_birth"),
    "seer_site_recode": ("primary_site", "histology", "behavior", "date_of_diagnosis"),
    "vital_status_at_cutoff": ("vital_status", "date_of_last_contact"),
    "seer_cause_specific_cod": ("cause_of_death", "primary_site", "histology", "sequence_number_hospital",
                                "vital_status", "behavior", "date_of_diagnosis", "date_of_last_contact"),
}
DERIVATION_INPUTS["seer_other_cod"] = DERIVATION_INPUTS["seer_cause_specific_cod"]
FILTER_INPUTS = {"site_groups": "seer_site_recode", "stages": "summary_stage", "ages": "age_at_diagnosis"}
#: Derived variables the database computes: the tumor's summary stage and its scheme (registry.summary_stage).
SQL_DERIVED = {"summary_stage": lambda: Tumor.summary_stage,
               "summary_stage_scheme": lambda: Tumor.summary_stage_scheme}


def _many(values: Any) -> list[str]:
    values = [values] if isinstance(values, str) else list(values or [])
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def _entries(values: Any) -> list[str]:
    """Item filters (``naaccrId=value,value``): one per entry or line, since their values hold commas."""
    values = [values] if isinstance(values, str) else list(values or [])
    return [line.strip() for value in values for line in str(value).splitlines() if line.strip()]


def _range(text: str, name: str, errors: dict[str, str]) -> tuple[int, int] | None:
    low, _, high = text.strip().partition("-")
    high = high or low
    if not (low.strip().isdigit() and high.strip().isdigit()) or int(low) > int(high):
        errors[name] = f"{text!r} is not a range like 2015-2020 (or a single value)"
        return None
    return int(low), int(high)


def _code_ranges(values: list[str], name: str, errors: dict[str, str], prefix: str = "") -> list[tuple[str, str]]:
    """Codes and inclusive ranges like ``C18-C20`` or ``8000-8799`` as (low, high) strings."""
    ranges = []
    for value in values:
        low, _, high = value.upper().replace(".", "").partition("-")
        high = high or low
        body_low, body_high = low.removeprefix(prefix), high.removeprefix(prefix)
        if not (low.startswith(prefix) and high.startswith(prefix) and body_low.isdigit() and body_high.isdigit()
                and len(body_low) == len(body_high) and low <= high):
            errors[name] = f"{value!r} is not a code or range like {prefix or ''}{'50' if prefix else '8000-8799'}"
            continue
        ranges.append((low, high))
    return ranges


def _in_ranges(code: str | None, ranges: list[tuple[str, str]]) -> bool:
    if not code:
        return False
    return any(low <= code[:len(low)] <= high for low, high in ranges)


@dataclass
class Filters:
    """The cohort of a release; empty means no restriction (every tumor)."""

    years: str = ""
    sites: list[str] = field(default_factory=list)
    site_groups: list[str] = field(default_factory=list)
    histologies: list[str] = field(default_factory=list)
    behaviors: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    sexes: list[str] = field(default_factory=list)
    ages: str = ""
    vital_statuses: list[str] = field(default_factory=list)
    classes_of_case: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, **raw: Any) -> Filters:
        """From strings or lists (command options, form fields); InvalidInput names each bad filter."""
        filters = cls(years=str(raw.get("years") or "").strip(), ages=str(raw.get("ages") or "").strip(),
                      **{name: _many(raw.get(name)) for name in ("sites", "site_groups", "histologies", "behaviors",
                                                                 "stages", "sexes", "vital_statuses",
                                                                 "classes_of_case")},
                      items=_entries(raw.get("items")))
        return filters

    def __post_init__(self) -> None:
        """Check every filter and prepare the matching; InvalidInput names each bad one."""
        errors: dict[str, str] = {}
        self.year_range = _range(self.years, "years", errors) if self.years else None
        self.age_range = _range(self.ages, "age", errors) if self.ages else None
        self.site_ranges = _code_ranges(self.sites, "site", errors, prefix="C")
        self.histology_ranges = _code_ranges(self.histologies, "histology", errors)
        self.class_ranges = _code_ranges(self.classes_of_case, "class_of_case", errors)
        names = site_names()
        by_name = {name.lower(): code for code, name in names.items()}
        self.recodes = set()
        for group in self.site_groups:
            code = group if group in names else by_name.get(group.lower())
            if code is None:
                errors["site_group"] = f"{group!r} is not a SEER site recode (a code such as 39 or a name such as Breast)"
            else:
                self.recodes.add(code)
        codes = dictionary()
        bad = [b for b in self.behaviors if b not in codes["behavior"].codes]
        if bad:
            errors["behavior"] = f"{', '.join(bad)}: behavior must be one of {', '.join(codes['behavior'].codes)}"
        bad = [s for s in self.sexes if s not in codes["sex"].codes]
        if bad:
            errors["sex"] = f"{', '.join(bad)}: sex must be a Sex [220] code ({', '.join(codes['sex'].codes)})"
        bad = [s for s in self.stages if s not in STAGE_ORDER and s not in STAGE_GROUPS]
        if bad:
            errors["stage"] = (f"{', '.join(bad)}: stage must be a group ({', '.join(STAGE_ORDER)}) "
                               "or a Summary Stage code")
        self.stage_groups = {STAGE_GROUPS.get(s, s) for s in self.stages}
        bad = [v for v in self.vital_statuses if v.lower() not in VITAL_WORDS]
        if bad:
            errors["vital_status"] = f"{', '.join(bad)}: vital status must be alive (1) or dead (0)"
        self.vital_codes = {VITAL_WORDS[v.lower()] for v in self.vital_statuses if v.lower() in VITAL_WORDS}
        self.item_filters, item_errors = parse_item_filters(self.items)
        errors.update(item_errors)
        if errors:
            raise InvalidInput(errors)

    def to_json(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value}

    def describe(self) -> str:
        return "; ".join(f"{name.replace('_', ' ')}: {value if isinstance(value, str) else ', '.join(value)}"
                         for name, value in self.to_json().items()) or "every tumor"

    def needs(self) -> set[str]:
        return {derived for name, derived in FILTER_INPUTS.items() if getattr(self, name)}

    def sql(self) -> list[Any]:
        """The conditions the database can apply."""
        conditions = []
        if self.year_range:
            conditions += [Tumor.date_of_diagnosis >= f"{self.year_range[0]:04d}",
                           Tumor.date_of_diagnosis < f"{self.year_range[1] + 1:04d}"]
        if self.sexes:
            conditions.append(Patient.sex.in_(self.sexes))
        if self.behaviors:
            conditions.append(Tumor.behavior.in_(self.behaviors))
        if self.vital_codes:
            conditions.append(Patient.vital_status.in_(self.vital_codes))
        conditions += [item_filter.condition() for item_filter in self.item_filters]
        return conditions

    def keeps(self, values: dict[str, Any]) -> bool:
        """The conditions checked on each row (codes, ranges and derived values)."""
        if self.site_ranges and not _in_ranges(values.get("primary_site"), self.site_ranges):
            return False
        if self.histology_ranges and not _in_ranges(values.get("histology"), self.histology_ranges):
            return False
        if self.class_ranges and not _in_ranges(values.get("class_of_case"), self.class_ranges):
            return False
        if self.recodes and values.get("seer_site_recode") not in self.recodes:
            return False
        if self.stage_groups and STAGE_GROUPS.get(values.get("summary_stage") or "9") not in self.stage_groups:
            return False
        if self.age_range:
            age = values.get("age_at_diagnosis")
            if age is None or not self.age_range[0] <= age <= self.age_range[1]:
                return False
        return True

    def row_columns(self) -> set[str]:
        columns = set()
        for name, column in (("site_ranges", "primary_site"), ("histology_ranges", "histology"),
                             ("class_ranges", "class_of_case")):
            if getattr(self, name):
                columns.add(column)
        return columns


def _year(text: str | None) -> int | None:
    return int(text[:4]) if text and text[:4].isdigit() else None


def age_at(birth: str | None, diagnosis: str | None) -> int | None:
    """Whole years from birth to diagnosis; an unknown day or month is the middle of its range."""
    born, dx = _partial_to_date(birth), _partial_to_date(diagnosis)
    if born is None or dx is None or dx < born:
        return None
    return dx.year - born.year - ((dx.month, dx.day) < (born.month, born.day))


def derive(values: dict[str, Any], wanted: set[str], cutoff_year: int) -> None:
    """Add the ``wanted`` derived variables to ``values`` (a row of stored values by attribute)."""
    dx_year = _year(values.get("date_of_diagnosis"))
    if "age_at_diagnosis" in wanted:
        values["age_at_diagnosis"] = age_at(values.get("date_of_birth"),
                                            values.get("surv_date_dx_recode") or values.get("date_of_diagnosis"))
    if "seer_site_recode" in wanted:
        values["seer_site_recode"] = site_recode(values.get("primary_site"), values.get("histology"),
                                                 values.get("behavior"), dx_year)
    last_year = _year(values.get("date_of_last_contact"))
    dead = values.get("vital_status") == "0" and (last_year is None or last_year <= cutoff_year)
    if "vital_status_at_cutoff" in wanted:
        values["vital_status_at_cutoff"] = None if values.get("vital_status") is None else ("0" if dead else "1")
    if wanted & {"seer_cause_specific_cod", "seer_other_cod"}:
        revision = (values.get("extra_items") or {}).get("icdRevisionNumber") or "1"
        specific, other = cause_specific_death(
            cause_of_death=values.get("cause_of_death"), primary_site=values.get("primary_site"),
            histology=values.get("histology"), sequence_number=values.get("sequence_number_hospital"),
            icd_revision=revision if dead else "0",
            behavior=values.get("behavior"), diagnosis_year=dx_year, last_contact_year=last_year,
            cutoff_year=cutoff_year)
        values["seer_cause_specific_cod"], values["seer_other_cod"] = specific, other


def stored_columns(variables: list[str], filters: Filters) -> dict[str, set[str]]:
    """The stored columns (by source) a release of ``variables`` under ``filters`` must read."""
    known = dictionary()
    wanted = {name for name in variables if known[name].source == "derived"} | filters.needs()
    columns = {name for name in variables if known[name].source != "derived"} | filters.row_columns()
    for derived in wanted:
        columns |= set(DERIVATION_INPUTS.get(derived, ()))
    by_source: dict[str, set[str]] = {source: set() for source in SOURCES}
    for name in columns:
        by_source[known[name].source].add(name)
    if wanted & {"seer_cause_specific_cod", "seer_other_cod"}:
        by_source["patient"].add("extra_items")
    return by_source


def count(session: Session, filters: Filters) -> int:
    """Tumors the database-side filters leave (the progress bar's 100 %)."""
    return session.scalar(select(func.count(Tumor.id)).join(Patient, Patient.id == Tumor.patient_id)
                          .where(*filters.sql())) or 0


def rows(session: Session, filters: Filters, variables: list[str], cutoff_year: int,
         batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every kept tumor as ``{name: value}`` with ``_tumor_id`` and ``_patient_id``, in patient order."""
    by_source = stored_columns(variables, filters)
    wanted = {name for name in variables if dictionary()[name].source == "derived"} | filters.needs()
    columns = [Tumor.id.label("_tumor_id"), Tumor.patient_id.label("_patient_id")]
    known = dictionary()
    for source, names in by_source.items():
        model = SOURCES[source]
        columns += [(getattr(model, name) if name == "extra_items" or known[name].store == "column"
                     else item_expression(known[name].naaccr_id or name)).label(name) for name in sorted(names)]
    columns += [expression().label(name) for name, expression in SQL_DERIVED.items() if name in wanted]
    stmt = select(*columns).join(Patient, Patient.id == Tumor.patient_id)
    if by_source["treatment"]:
        stmt = stmt.outerjoin(FirstCourseTreatment, FirstCourseTreatment.tumor_id == Tumor.id)
    stmt = stmt.where(*filters.sql()).order_by(Tumor.patient_id, Tumor.id)
    for row in session.execute(stmt, execution_options={"yield_per": batch}).mappings():
        values = dict(row)
        derive(values, wanted, cutoff_year)
        if filters.keeps(values):
            yield values


def release_year() -> int:
    return dt.date.today().year
