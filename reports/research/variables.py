"""The research data dictionary as data: every variable a dataset may carry, with its NAACCR item,
code meanings, PHI class and what each de-identification level does with it.

Stored items come from the item metadata on the model columns (``registry.items.naaccr_items``),
so a new column appears here by itself, classed *safe* unless the tables below say otherwise. Every other
catalogued item (``registry.catalogue``: the JSON item stores, SSDIs included) is offered by its naaccrId
unless naaccr_items.csv marks it an identifier; dates are released as their year under Safe Harbor. Those
items are chosen by name: a release that names no variables carries the column and derived ones
(``default``), not all seven hundred.
Derived variables (age at diagnosis, SEER site recode, summary stage and its scheme, vital status at the cutoff,
SEER cause-specific death classification, study ids) are declared in ``DERIVED``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from registry.catalogue import catalogue
from registry.item_filters import DATE_TYPES
from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, Patient, Tumor
from registry.summary_stage import SOURCES as STAGE_SOURCES
from staging_tables.codes import terms

#: PHI classes.
DIRECT = "direct identifier"
DATE = "date"
ZIP = "ZIP"
QUASI = "quasi-identifier"
SAFE = "safe"

#: De-identification levels.
SAFE_HARBOR = "safe_harbor"
LIMITED = "limited"
LEVELS = {SAFE_HARBOR: "HIPAA Safe Harbor", LIMITED: "Limited data set (data use agreement)"}

#: What a level does to a value; "drop" means the variable never leaves at that level.
TREATMENTS = {
    "drop": "not released",
    "keep": "released as stored",
    "year": "year only (CCYY); intervals were computed from the full dates first",
    "zip3": "first three digits; 000 for the HHS restricted three-digit areas (20,000 people or fewer)",
    "zip5": "first five digits",
    "age90": "whole years; 90 and older pooled as 90+",
    "birth_year": "year only; blank when the patient would be 90 or older in the release year",
    "study_id": "random study id, new for every release (the key stays in the registry)",
}

#: Treatment per PHI class: (Safe Harbor, limited data set).
CLASS_TREATMENT = {DIRECT: ("drop", "drop"), DATE: ("year", "keep"), ZIP: ("zip3", "zip5"),
                   QUASI: ("keep", "keep"), SAFE: ("keep", "keep")}

#: Stored items that are not safe (dates are found by their kind).
PHI_CLASSES = {
    "patient_id_number": DIRECT, "medical_record_number": DIRECT, "name_last": DIRECT, "name_first": DIRECT,
    "name_middle": DIRECT, "name_birth_surname": DIRECT, "social_security_number": DIRECT,
    "addr_at_dx_street": DIRECT, "addr_at_dx_city": QUASI, "county_at_dx": QUASI,
    "addr_at_dx_postal_code": ZIP, "addr_at_dx_state": QUASI, "sex": QUASI, "sex_assigned_at_birth": QUASI,
    "race1": QUASI, "race2": QUASI, "race3": QUASI, "race4": QUASI, "race5": QUASI,
    "spanish_hispanic_origin": QUASI,
}
#: Variables whose treatment differs from their class's: (Safe Harbor, limited).
TREATMENT_OVERRIDES = {
    "addr_at_dx_city": ("drop", "keep"),        # a geographic subdivision smaller than a state
    "county_at_dx": ("drop", "keep"),
    "date_of_birth": ("birth_year", "keep"),    # a birth year can reveal an age over 89
    "age_at_diagnosis": ("age90", "keep"),
    "study_patient_id": ("study_id", "study_id"),
    "study_tumor_id": ("study_id", "study_id"),
}

#: SEER survival-months flags [1783]/[1786].
SURVIVAL_FLAGS = {
    "0": "Complete dates are available and there are 0 days of survival",
    "1": "Complete dates are available and there are more than 0 days of survival",
    "2": "Incomplete dates are available and there could be 0 days of follow-up",
    "3": "Incomplete dates are available and there cannot be 0 days of follow-up",
    "8": "Not calculated because of a death certificate only or autopsy only case",
    "9": "Unknown",
}
#: SEER cause-specific and other-cause death classification [1914]/[1915].
CAUSE_CLASSES = {
    "0": "Alive or dead of the other kind of cause",
    "1": "Dead (attributable to this kind of cause)",
    "8": "Dead (missing or unknown cause of death)",
    "9": "Not classifiable (sequence number outside 00-59)",
}
SUMMARY_STAGE_NOTE = ("The tumor's summary stage: for diagnoses 2018+ Summary Stage 2018 [764] as coded, else "
                      "Derived Summary Stage 2018 [762] from the EOD items; SEER Summary Stage 2000 [759] before "
                      "2018; blank when none is coded (summary_stage_scheme says which)")
SUMMARY_STAGE_SCHEME_NOTE = "The item summary_stage came from"

HERE = Path(__file__).resolve().parent
ICDO3_DIR = HERE.parent.parent / "staging_tables"


@dataclass(frozen=True)
class Variable:
    """One column a research dataset may carry."""

    name: str
    label: str
    source: str                      # patient, tumor, treatment or derived
    naaccr_num: int | None
    naaccr_id: str | None
    description: str
    phi_class: str
    codes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    kind: str = "text"
    store: str = "column"            # column, extra_items or site_specific_items (registry.item_filters)
    default: bool = True             # released when a request names no variables

    @property
    def safe_harbor(self) -> str:
        return TREATMENT_OVERRIDES.get(self.name, CLASS_TREATMENT[self.phi_class])[0]

    @property
    def limited(self) -> str:
        return TREATMENT_OVERRIDES.get(self.name, CLASS_TREATMENT[self.phi_class])[1]

    def treatment(self, level: str) -> str:
        return self.limited if level == LIMITED else self.safe_harbor

    def released_at(self, level: str) -> bool:
        return self.treatment(level) != "drop"

    def codes_text(self, limit: int | None = None) -> str:
        pairs = list(self.codes.items())
        shown = pairs[:limit] if limit else pairs
        text = "; ".join(f"{code} = {term}" for code, term in shown)
        return text + (f"; … ({len(pairs)} codes)" if limit and len(pairs) > limit else "")


@lru_cache(maxsize=None)
def _icdo3(name: str) -> dict[str, str]:
    with (ICDO3_DIR / f"icdo3_{name}.csv").open(newline="", encoding="utf-8") as handle:
        return {row["code"]: row["term"] for row in csv.DictReader(handle)}


def _histology_terms() -> dict[str, str]:
    """Histology [522] → the term of its malignant (else first listed) morphology."""
    result: dict[str, str] = {}
    for code, term_text in _icdo3("morphology").items():
        histology, _, behavior = code.partition("/")
        if histology not in result or behavior == "3":
            result[histology] = term_text
    return dict(sorted(result.items()))


def _stored_codes(attribute: str, code_list: str | None) -> dict[str, str]:
    if attribute == "primary_site":
        return _icdo3("topography")
    if attribute == "histology":
        return _histology_terms()
    if attribute in ("surv_flag_active_followup", "surv_flag_presumed_alive"):
        return SURVIVAL_FLAGS
    return dict(terms(code_list)) if code_list else {}


def _stored() -> list[Variable]:
    identifiers = {item.naaccr_id for item in catalogue() if item.identifier}
    variables = []
    for source, model in (("patient", Patient), ("tumor", Tumor), ("treatment", FirstCourseTreatment)):
        for attribute, spec in naaccr_items(model).items():
            phi = DATE if spec.kind == "date" else PHI_CLASSES.get(
                attribute, DIRECT if spec.naaccr_id in identifiers else SAFE)
            description = spec.label
            if spec.kind == "date":
                description += "; NAACCR date CCYYMMDD (CCYYMM or CCYY when the day or month is unknown)"
            elif spec.pattern and not spec.code_list:
                description += f"; form {spec.pattern}"
            variables.append(Variable(attribute, spec.label, source, spec.naaccr_num, spec.naaccr_id, description,
                                      phi, _stored_codes(attribute, spec.code_list), spec.kind))
    return variables


def _catalogued() -> list[Variable]:
    """The catalogued items without a column, by naaccrId; identifiers are not offered at all, nor items a
    derived variable stands for (age at diagnosis is released pooled, not as stored)."""
    cat = catalogue()
    derived_ids = {naaccr_id for _, _, _, naaccr_id, *_ in DERIVED if naaccr_id}
    variables = []
    for item in cat:
        if item.column is not None or item.identifier or item.naaccr_id in derived_ids:
            continue
        dated = item.data_type in DATE_TYPES
        codes = cat.codes(item.naaccr_id)
        description = item.label + ("; retired from the newest NAACCR version" if item.retired else "")
        if dated:
            description += "; NAACCR date CCYYMMDD (CCYYMM or CCYY when the day or month is unknown)"
        variables.append(Variable(item.naaccr_id, item.label, "patient" if item.level == "Patient" else "tumor",
                                  item.naaccr_num, item.naaccr_id, description, DATE if dated else SAFE,
                                  dict(codes.entries()) if codes else {},
                                  "date" if dated else "code" if codes else "text", item.store, default=False))
    return variables


def _site_recode_names() -> dict[str, str]:
    from reports.survival.cohorts import site_names
    return site_names()


#: Derived variables: (name, label, NAACCR number, naaccrId, description, PHI class, codes).
DERIVED = (
    ("study_patient_id", "Study patient id", 20, "patientIdNumber",
     "Random 8-digit id of the patient (50000000-99999999), new for every release; replaces Patient ID Number [20]", DIRECT, dict),
    ("study_tumor_id", "Study tumor id", None, None,
     "Random 9-digit id of the tumor (500000000-899999999), new for every release", DIRECT, dict),
    ("age_at_diagnosis", "Age at diagnosis", 230, "ageAtDiagnosis",
     "Whole years from birth to diagnosis (unknown day or month taken as the middle of the range); "
     "written as 090 in NAACCR XML when pooled", QUASI, dict),
    ("seer_site_recode", "SEER site recode", None, None,
     "SEER site recode ICD-O-3 2023 from primary site, histology, behavior and year", SAFE, _site_recode_names),
    ("summary_stage", "Summary stage", None, None, SUMMARY_STAGE_NOTE, SAFE,
     lambda: dict(terms("summary_stage_2018"))),
    ("summary_stage_scheme", "Summary stage scheme", None, None, SUMMARY_STAGE_SCHEME_NOTE, SAFE,
     lambda: {source.scheme: source.label for source in STAGE_SOURCES}),
    ("vital_status_at_cutoff", "Vital status at the study cutoff", None, None,
     "Dead only when the death was known by the end of the survival end-point year (the study cutoff)", SAFE,
     lambda: dict(terms("vital_status"))),
    ("seer_cause_specific_cod", "SEER cause-specific death classification", 1914, "seerCauseSpecificCod",
     "Death attributable to this cancer (SEER rules, ICD cause of death [1910]) by the study cutoff", SAFE,
     lambda: CAUSE_CLASSES),
    ("seer_other_cod", "SEER other cause of death classification", 1915, "seerOtherCod",
     "Death from a cause not attributable to this cancer by the study cutoff", SAFE, lambda: CAUSE_CLASSES),
)


@lru_cache(maxsize=1)
def dictionary() -> dict[str, Variable]:
    """``{name: Variable}``: derived ids first, then patient, tumor, treatment items, then derived values."""
    derived = {name: Variable(name, label, "derived", num, nid, text, phi, codes(), "derived")
               for name, label, num, nid, text, phi, codes in DERIVED}
    ids = {name: derived.pop(name) for name in ("study_patient_id", "study_tumor_id")}
    return {**ids, **{v.name: v for v in _stored()}, **derived, **{v.name: v for v in _catalogued()}}


def released(level: str) -> list[str]:
    """The variables a dataset of ``level`` carries when the request names none, in dictionary order."""
    return [v.name for v in dictionary().values() if v.default and v.released_at(level)]


def choose(names: list[str] | None, level: str) -> list[str]:
    """The variables of a release: all released at ``level`` when none are named. Raises ValueError
    with a message naming each variable that does not exist or may not leave at this level."""
    if not names:
        return released(level)
    known = dictionary()
    problems = []
    for name in names:
        variable = known.get(name)
        if variable is None:
            problems.append(f"{name}: no such variable")
        elif not variable.released_at(level):
            reason = ("a direct identifier never leaves the registry" if variable.phi_class == DIRECT
                      else "released only in a limited data set (--limited with a data use agreement)")
            problems.append(f"{name}: {reason}")
    if problems:
        raise ValueError("; ".join(problems))
    chosen = list(dict.fromkeys(names))
    return [n for n in ("study_patient_id", "study_tumor_id") if n not in chosen] + chosen
