"""The report's groupings, written down as data: site groups, stage categories, treatment given,
age groups, analytic classes and the CoC follow-up exclusions.

Every section reads the same tables, so a site is "Breast" or a tumor is "Regional" in the
same way on every page, and docs/annual-report.md can quote them.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SITE_GROUPS_FILE = Path(__file__).with_name("site_groups.csv")
#: Our own table of county names by state (postal code) and county FIPS code; state "*" rows (998, 999) hold
#: for every state. It covers Illinois (the demo data's state) and the unknown codes, not every US county.
COUNTIES_FILE = Path(__file__).with_name("counties.csv")

#: Class of Case [610] 00-22: diagnosed and/or treated here (CoC "analytic").
ANALYTIC_CLASSES = frozenset({"00", "10", "11", "12", "13", "14", "20", "21", "22"})

#: Codes of a tumor's summary stage (registry.summary_stage: SS2018 [764], else derived [762]; SS2000 [759]
#: before 2018); the schemes share codes.
STAGE_CATEGORIES = {"0": "In situ", "1": "Localized", "2": "Regional", "3": "Regional", "4": "Regional",
                    "5": "Regional", "7": "Distant", "8": "Not applicable", "9": "Unknown"}
STAGE_ORDER = ["In situ", "Localized", "Regional", "Distant", "Not applicable", "Unknown"]

#: AJCC stage group [1004/1014/818]: the group is read from the leading characters.
AJCC_GROUPS = [("0", "0"), ("IV", "IV"), ("4", "IV"), ("III", "III"), ("3", "III"), ("II", "II"), ("2", "II"),
               ("I", "I"), ("1", "I")]
AJCC_ORDER = ["0", "I", "II", "III", "IV", "Other"]

#: First-course treatment items and the codes that mean "given". Surgery of the primary site is the flag
#: ``FirstCourseTreatment.surgery_performed``: [1290] or [1291] by the rule of staging_tables/surgery_codes.csv.
SURGERY_FLAG = "surgery_performed"
TREATMENT_GIVEN = {
    "Surgery": (SURGERY_FLAG, {True}),
    "Radiation": ("radiation_modality", {f"{n:02d}" for n in range(1, 17)}),
    "Chemotherapy": ("chemotherapy", {"01", "02", "03"}),
    "Hormone": ("hormone_therapy", {"01"}),
    "Immunotherapy": ("immunotherapy", {"01"}),
    "Transplant/endocrine": ("transplant_endocrine", {"10", "11", "12", "20", "30", "40"}),
    "Other": ("other_therapy", {"1", "2", "3", "6"}),
}

def treatment_rule(label: str) -> str:
    """What the report counts as ``label`` given, for the Methods page."""
    column, codes = TREATMENT_GIVEN[label]
    if column == SURGERY_FLAG:
        from staging_tables.surgery import ITEM_NUMBERS, code_meanings
        return " or ".join(f"{row.naaccr_id} [{ITEM_NUMBERS[row.naaccr_id]}] "
                           + ", ".join(low if low == high else f"{low}–{high}" for low, high in row.ranges)
                           for row in code_meanings() if row.performed)
    ordered = sorted(codes)
    return f"{column} {ordered[0]}" + (f"–{ordered[-1]}" if len(ordered) > 1 else "")


#: Age at diagnosis groups: (label, lowest age, highest age).
AGE_GROUPS = [("<40", 0, 39), ("40-49", 40, 49), ("50-59", 50, 59), ("60-69", 60, 69), ("70-79", 70, 79),
              ("80+", 80, 200)]

#: CoC follow-up exclusions beyond non-analytic cases: (reason, sites, histologies, behaviors, stage categories).
FOLLOW_UP_EXCLUSIONS = [
    ("in situ cervix", "C530-C539", "", "2", ""),
    ("benign or borderline tumor", "", "", "0 1", ""),
    ("localized basal or squamous cell skin", "C440-C449", "8050-8110", "", "Localized"),
]
FOREIGN_RESIDENCE_STATES = frozenset({"XX", "YY"})
FOLLOW_UP_OLDEST_AGE = 100
COC_ALL_CASES_STANDARD = 80
COC_RECENT_CASES_STANDARD = 90
TIMELINESS_MONTHS = 6

#: Counts from 1 to this are shown as "<11" in a public report (NAACCR/CDC small-cell rule).
SUPPRESS_BELOW = 11


def _ranges(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split():
        low, _, high = part.partition("-")
        out.append((low, high or low))
    return out


def in_ranges(value: str | None, ranges: list[tuple[str, str]]) -> bool:
    return bool(value) and any(low <= value <= high for low, high in ranges)


@dataclass(frozen=True)
class SiteGroup:
    name: str
    sites: tuple[tuple[str, str], ...]
    histologies: tuple[tuple[str, str], ...]

    def matches(self, site: str | None, histology: str | None) -> bool:
        if self.sites and not in_ranges(site, list(self.sites)):
            return False
        return not self.histologies or in_ranges(histology, list(self.histologies))


@lru_cache(maxsize=1)
def site_groups() -> tuple[SiteGroup, ...]:
    """The groups in file order; the first that matches a tumor is its group."""
    with SITE_GROUPS_FILE.open(newline="", encoding="utf-8") as handle:
        return tuple(SiteGroup(row["group"], tuple(_ranges(row["sites"])), tuple(_ranges(row["histologies"])))
                     for row in csv.DictReader(handle))


UNKNOWN_SITE = "Other and unknown primary sites"


@lru_cache(maxsize=4096)
def site_group(site: str | None, histology: str | None) -> str:
    """The report's site group of a primary site [400] and histology [522]."""
    for group in site_groups():
        if group.matches(site, histology):
            return group.name
    return UNKNOWN_SITE


def stage_category(code: str | None) -> str:
    return STAGE_CATEGORIES.get(code or "", "Unknown")


def ajcc_group(value: str | None) -> str | None:
    """The AJCC stage group (0, I-IV, Other) of a coded stage group; None when not coded."""
    text = (value or "").strip().upper()
    if not text or text in {"88", "99", "UNK", "X"}:
        return None
    for prefix, group in AJCC_GROUPS:
        if text.startswith(prefix):
            return group
    return "Other"


def age_group(age: float | None) -> str | None:
    if age is None:
        return None
    for label, low, high in AGE_GROUPS:
        if low <= age <= high:
            return label
    return None


@lru_cache(maxsize=65536)
def follow_up_exclusion(site: str | None, histology: str | None, behavior: str | None, stage: str) -> str | None:
    """The CoC reason a case is left out of the follow-up rate, or None."""
    for reason, sites, histologies, behaviors, stages in FOLLOW_UP_EXCLUSIONS:
        if sites and not in_ranges(site, _ranges(sites)):
            continue
        if histologies and not in_ranges(histology, _ranges(histologies)):
            continue
        if behaviors and (behavior or "") not in behaviors.split():
            continue
        if stages and stage != stages:
            continue
        return reason
    return None


@lru_cache(maxsize=1)
def county_names() -> dict[tuple[str, str], str]:
    """(state postal code or "*", County at DX [90] FIPS code) → county name, from counties.csv."""
    with COUNTIES_FILE.open(newline="", encoding="utf-8") as handle:
        return {(row["state"], row["county_fips"]): row["county"] for row in csv.DictReader(handle)}


def county_name(state: str | None, county: str | None) -> str:
    """The name of a county of residence at diagnosis, or why it has none."""
    if not county:
        return "not coded"
    names = county_names()
    return names.get((state or "", county)) or names.get(("*", county)) or "name not in the registry's county table"
