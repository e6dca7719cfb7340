"""SEER cause-specific death classification (ICD-8, ICD-9 and ICD-10 causes of death).

Cause-specific survival counts a death as an event only when it is attributable to the
tumor being followed; other deaths are censored. SEER's rule (seer.cancer.gov/causespecific)
depends on whether the tumor is the patient's only cancer: for an only tumor
(sequence 00) a death from any cancer counts, and so do some non-cancer causes typical
of the site (for example intestinal obstruction after a colon cancer); for one of several
tumors (sequence 01–59) only causes specific to the tumor's site count, plus deaths
coded to secondary or unknown primary sites, multiple cancers or neoplasms NOS.

The rules are data: ``cause_specific_rules.csv`` (site-specific causes by ICD revision,
sequence group and SEER site recode 2023) and ``seer_site_recode.csv`` (the site recode
itself), both laid out by us from SEER's published definitions; the few rules that do not
depend on the site are in ``GENERAL_RULES`` below. A tumor whose site recode is unknown
gets only the general rules, as at SEER.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["cause_specific_death", "cause_specific_deaths", "site_recode", "site_recodes",
           "SiteRecode", "SITE_RULES", "GENERAL_RULES", "ALIVE", "DEAD", "MISSING", "UNKNOWN"]

ALIVE = "0"      # not a death of this kind (alive, or died of the other kind)
DEAD = "1"
MISSING = "8"    # dead, cause of death unknown
UNKNOWN = "9"    # sequence number unusable: cannot be classified

HERE = Path(__file__).resolve().parent
RULES_FILE = HERE / "cause_specific_rules.csv"
SITE_RECODE_FILE = HERE.parent / "seer_site_recode.csv"  # shared with rates and research

#: NAACCR icdRevisionNumber [1920] → the revision names used in the rule table.
REVISIONS = {"1": "ICD-10", "9": "ICD-9", "8": "ICD-8"}


@dataclass(frozen=True)
class SiteRule:
    """Causes attributed to a site: 3-character categories (any 4th character) and full
    codes that must match exactly, both as inclusive ranges like ``C17-C21``."""
    label: str
    categories: tuple[str, ...]
    codes: tuple[str, ...] = ()

    def matches(self, cod: str) -> bool:
        return _in(cod[:3], self.categories) or _in(cod, self.codes, exact=True)


@dataclass(frozen=True)
class GeneralRule:
    """A site-independent rule; ``histologies`` limits it to some morphologies."""
    revision: str
    sequence: str
    rule: SiteRule
    histologies: tuple[tuple[int, int], ...] = ()


#: Rules that hold whatever the site (SEER's notes on the classification tables).
GENERAL_RULES: tuple[GeneralRule, ...] = (
    # Only tumor: any neoplasm; in ICD-9 also HIV disease with malignant neoplasm, in ICD-10
    # also HIV disease resulting in malignant neoplasms.
    GeneralRule("ICD-8", "00", SiteRule("any cancer", ("140-239",))),
    GeneralRule("ICD-9", "00", SiteRule("any cancer, HIV with malignancy", ("140-239",), ("0422",))),
    GeneralRule("ICD-10", "00", SiteRule("any cancer, HIV with malignancy", ("C00-D48", "B21"))),
    # One of several: unknown primary and secondary sites, multiple cancers, neoplasm NOS.
    GeneralRule("ICD-8", "01-59", SiteRule("unknown primary or secondary site", ("199",))),
    GeneralRule("ICD-9", "01-59", SiteRule("unknown primary or secondary site", ("199",))),
    GeneralRule("ICD-10", "01-59", SiteRule("secondary, unknown primary, multiple, NOS",
                                            ("C80", "C97"), ("C798", "D489"))),
    # Melanoma of any site and a melanoma cause of death.
    GeneralRule("ICD-8", "01-59", SiteRule("melanoma", ("172",), ("2169", "2322")), ((8720, 8799),)),
    GeneralRule("ICD-9", "01-59", SiteRule("melanoma", ("172", "216", "232")), ((8720, 8799),)),
    GeneralRule("ICD-10", "01-59", SiteRule("melanoma", ("C43", "D03", "D22")), ((8720, 8799),)),
    # Myelodysplastic and myeloproliferative neoplasms dying of a haematological malignancy.
    GeneralRule("ICD-10", "01-59", SiteRule("haematological", ("C77", "C81-C96", "D36", "D45-D47")),
                ((9950, 9950), (9960, 9964), (9980, 9989))),
)


def _ranges(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split() if part)


def _in(code: str, ranges: Iterable[str], exact: bool = False) -> bool:
    """Whether ``code`` falls in one of the inclusive ranges (compared as text, as SEER does);
    ranges of 3-character categories compare the first 3 characters."""
    for item in ranges:
        low, _, high = item.partition("-")
        high = high or low
        value = code if exact else code[:len(low)]
        if low <= value <= high:
            return True
    return False


def _site_rules() -> dict[tuple[str, str, str], SiteRule]:
    rules: dict[tuple[str, str, str], SiteRule] = {}
    with RULES_FILE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            low, _, high = row["site_recodes"].partition("-")
            for number in range(int(low), int(high or low) + 1):
                key = (row["icd_revision"], row["sequence"], f"{number:02d}")
                rules[key] = SiteRule(row["sites"], _ranges(row["causes"]),
                                      _ranges(row["causes_exact_code"]))
    return rules


#: Site-specific causes keyed by (ICD revision, sequence group "00"/"01-59", site recode).
SITE_RULES: dict[tuple[str, str, str], SiteRule] = _site_rules()


@dataclass(frozen=True)
class SiteRecode:
    """One line of the SEER site recode (ICD-O-3 2023): a recode applies when the site,
    histology, behaviour and year of diagnosis all fit."""
    recode: str
    site_group: str
    name: str
    sites: tuple[str, ...]
    histologies: tuple[str, ...]
    histologies_excluded: tuple[str, ...]
    behaviors: tuple[str, ...]
    first_year: int | None
    last_year: int | None

    def matches(self, site: str, histology: int, behavior: str | None, year: int | None) -> bool:
        hist = f"{histology:04d}"
        if not _in(site, self.sites, exact=True):
            return False
        if self.histologies and not _in(hist, self.histologies, exact=True):
            return False
        if _in(hist, self.histologies_excluded, exact=True):
            return False
        if behavior and self.behaviors and behavior not in self.behaviors:
            return False
        if year is not None and ((self.first_year and year < self.first_year)
                                 or (self.last_year and year > self.last_year)):
            return False
        return True


@lru_cache(maxsize=1)
def site_recodes() -> tuple[SiteRecode, ...]:
    """The SEER site recode lines in the order they are tried."""
    def year(text: str) -> int | None:
        return int(text) if text else None
    with SITE_RECODE_FILE.open(newline="") as handle:
        return tuple(SiteRecode(r["recode"], r["site_group"], r["name"], _ranges(r["sites"]),
                                _ranges(r["histologies"]), _ranges(r["histologies_excluded"]),
                                _ranges(r["behaviors"]), year(r["first_year"]), year(r["last_year"]))
                     for r in csv.DictReader(handle))


@lru_cache(maxsize=65536)
def site_recode(primary_site: str | None, histology: str | int | None,
                behavior: str | None = None, year: int | None = None) -> str | None:
    """SEER site recode (ICD-O-3 2023) as a 2-digit code, or None when nothing fits.

    Behaviour and year of diagnosis refine the choice when known (benign brain tumors,
    precursor lymphoid neoplasms before 2010); unknown, they are not checked.
    """
    site = (primary_site or "").strip().upper().replace(".", "")
    try:
        hist = int(str(histology).strip())
    except (TypeError, ValueError):
        return None
    if len(site) != 4 or not site.startswith("C") or not site[1:].isdigit():
        return None
    behavior = str(behavior).strip() if behavior not in (None, "") else None
    for line in site_recodes():
        if line.matches(site, hist, behavior, year):
            return line.recode
    return None


def _sequence_type(sequence: Any) -> str | None:
    text = str(sequence or "").strip()
    if not text.isdigit():
        return None
    number = int(text)
    if number == 0:
        return "00"
    return "01-59" if 1 <= number <= 59 else None


def cause_specific_death(*, cause_of_death: str | None, primary_site: str | None,
                         histology: str | int | None, sequence_number: Any,
                         icd_revision: str | None = "1",
                         behavior: str | None = None, diagnosis_year: int | None = None,
                         last_contact_year: int | None = None,
                         cutoff_year: int | None = None) -> tuple[str, str]:
    """Classify one tumor's death as (cause-specific, other-cause), each "0"/"1"/"8"/"9".

    ``cause_of_death`` is the NAACCR causeOfDeath (ICD code without the dot; 0000 alive,
    7777/7797 unknown), ``icd_revision`` NAACCR icdRevisionNumber (1 ICD-10, 9 ICD-9,
    8 ICD-8, 0 patient alive), ``sequence_number`` the central (or hospital) sequence
    number. A patient whose last contact falls after ``cutoff_year`` was alive at the
    cutoff. A dead patient whose cause was coded in an unknown ICD revision counts as dead
    of other causes, as at SEER. As in SEER's algorithm, Vital Status [1760] is not read:
    alive is ICD revision 0 or cause 0000, and a cause shorter than three characters (a
    blank one included) is unknown (8/8) whatever the vital status says.
    """
    sequence_type = _sequence_type(sequence_number)
    if sequence_type is None:
        return UNKNOWN, UNKNOWN
    revision = str(icd_revision or "").strip()
    cod = str(cause_of_death or "").strip().upper().replace(".", "")
    after_cutoff = (cutoff_year is not None and last_contact_year is not None
                    and last_contact_year > cutoff_year)
    if revision == "0" or cod == "0000" or after_cutoff:
        return ALIVE, ALIVE
    if len(cod) < 3 or cod in ("7777", "7797"):
        return MISSING, MISSING
    name = REVISIONS.get(revision)
    if name is None:
        return ALIVE, DEAD
    try:
        hist = int(str(histology).strip())
    except (TypeError, ValueError):
        hist = -1
    for general in GENERAL_RULES:
        if general.revision != name or general.sequence != sequence_type:
            continue
        if general.histologies and not any(low <= hist <= high for low, high in general.histologies):
            continue
        if general.rule.matches(cod):
            return DEAD, ALIVE
    recode = site_recode(primary_site, histology, behavior, diagnosis_year)
    rule = SITE_RULES.get((name, sequence_type, recode)) if recode else None
    if rule is not None and rule.matches(cod):
        return DEAD, ALIVE
    return ALIVE, DEAD


def cause_specific_deaths(tumors: pd.DataFrame, cutoff_year: int | None = None) -> pd.DataFrame:
    """Row-by-row classification of a table keyed by NAACCR ids
    (``causeOfDeath``, ``primarySite``, ``histologicTypeIcdO3``, ``sequenceNumberCentral``,
    and optionally ``icdRevisionNumber`` (default ICD-10),
    ``behaviorCodeIcdO3``, ``dateOfLastContact``). Returns ``seerCauseSpecificCod`` and
    ``seerOtherCod`` columns aligned with the input."""
    def year(value: Any) -> int | None:
        text = str(value or "")[:4]
        return int(text) if text.isdigit() else None

    def one(row: pd.Series) -> tuple[str, str]:
        return cause_specific_death(
            cause_of_death=row.get("causeOfDeath"), primary_site=row.get("primarySite"),
            histology=row.get("histologicTypeIcdO3"),
            sequence_number=row.get("sequenceNumberCentral"),
            icd_revision=row.get("icdRevisionNumber", "1"),
            behavior=row.get("behaviorCodeIcdO3"),
            last_contact_year=year(row.get("dateOfLastContact")), cutoff_year=cutoff_year)
    import pandas as pd  # here, not at start-up (the record-level rules above need none)
    pairs = [one(row) for _, row in tumors.iterrows()]
    return pd.DataFrame(pairs, index=tumors.index,
                        columns=["seerCauseSpecificCod", "seerOtherCod"])
