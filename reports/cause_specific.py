"""SEER cause-specific death classification (ICD-10 causes of death).

Cause-specific survival counts a death as an event only when it is attributable to the
tumor being followed; other deaths are censored. SEER's rule (seer.cancer.gov/causespecific)
depends on whether the tumor is the patient's only cancer: for an only tumor
(sequence 00) a death from any cancer counts, and so do some non-cancer causes typical
of the site (for example intestinal obstruction after a colon cancer); for one of several
tumors (sequence 01–59) only causes specific to the tumor's site count, plus deaths
coded to ill-defined, secondary or unknown primary sites.

The rules below are written out by us from SEER's published definitions. They cover
ICD-10 only and, so far, the sites listed in ``SITE_RULES``; a site without rules raises
LookupError rather than silently calling a death "other cause".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd

__all__ = ["cause_specific_death", "cause_specific_deaths", "site_recode", "SITE_RULES",
           "ALIVE", "DEAD", "MISSING", "UNKNOWN"]

ALIVE = "0"      # not a death of this kind (alive, or died of the other kind)
DEAD = "1"
MISSING = "8"    # dead, cause of death unknown
UNKNOWN = "9"    # sequence number unusable: cannot be classified

_NOT_MALIGNANT_OR_SITE_SPECIFIC = ((9050, 9055), (9140, 9140), (9590, 9993))


@dataclass(frozen=True)
class SiteRule:
    """Causes of death attributed to a site: 3-character categories (any 4th digit) and
    4-character codes that must match exactly, both as inclusive ranges."""
    label: str
    only_tumor: tuple[str, ...]        # extra non-cancer causes when sequence is 00
    categories: tuple[str, ...]        # sequence 01-59: ranges of 3-character codes
    codes: tuple[str, ...] = ()        # sequence 01-59: ranges of 4-character codes


# Keyed by the SEER site recode (2023 revision).
SITE_RULES: dict[str, SiteRule] = {
    "20": SiteRule("Colon and Rectum (excluding Appendix)",
                   ("K20-K31", "K35-K38", "K51-K57", "K62", "K63", "K65", "K66", "K92"),
                   ("C17-C21", "C26", "D12", "K20-K31", "K35-K38", "K51-K57", "K62-K63",
                    "K65-K66", "K92"),
                   ("C785", "D010-D012", "D371-D379")),
    "30": SiteRule("Lung and Bronchus", (), ("C32-C34", "C39", "D15", "D38"),
                   ("C780", "D022", "D143", "D144")),
    "37": SiteRule("Melanoma of the Skin", (), ("C43-C44", "D03-D04", "D22-D23"), ("C792",)),
    "39": SiteRule("Breast", ("N61-N64",), ("C50", "D05", "D24", "N61-N64"),
                   ("C445", "D225", "D485", "D486")),
    "49": SiteRule("Prostate", ("N40-N50",), ("C60-C63", "D40", "N40-N50"),
                   ("D075", "D291")),
}

# Sequence 00: any neoplasm, and HIV disease resulting in malignant neoplasms.
_ANY_CANCER = ("C00-D48", "B21")
# Sequence 01-59: deaths coded to ill-defined, secondary or unknown primary sites, to
# multiple independent primaries or to a neoplasm of unspecified behaviour.
_UNATTRIBUTABLE = ("C76-C80", "C97")
_UNATTRIBUTABLE_CODES = ("D489",)

# (sites, histology range) -> recode, for the sites that have rules; histology ranges
# that SEER recodes elsewhere whatever the site (mesothelioma, Kaposi sarcoma,
# lymphomas and leukaemias) are excluded first.
_SITE_RECODES: tuple[tuple[tuple[str, ...], tuple[int, int] | None, str], ...] = (
    (("C440-C449",), (8720, 8790), "37"),
    (("C180", "C182-C189", "C199", "C209", "C260"), None, "20"),
    (("C340-C349",), None, "30"),
    (("C500-C509",), None, "39"),
    (("C619",), None, "49"),
)


def _in(code: str, ranges: Iterable[str]) -> bool:
    for item in ranges:
        low, _, high = item.partition("-")
        high = high or low
        width = len(low)
        if low <= code[:width] <= high:
            return True
    return False


def site_recode(primary_site: str | None, histology: str | int | None) -> str | None:
    """SEER site recode (2023) for the sites that have rules here; None otherwise."""
    site = (primary_site or "").strip().upper().replace(".", "")
    try:
        hist = int(str(histology).strip())
    except (TypeError, ValueError):
        return None
    if not site:
        return None
    if any(low <= hist <= high for low, high in _NOT_MALIGNANT_OR_SITE_SPECIFIC):
        return None
    for sites, hist_range, recode in _SITE_RECODES:
        if _in(site, sites) and (hist_range is None or hist_range[0] <= hist <= hist_range[1]):
            return recode
    return None


def _sequence_type(sequence: Any) -> str | None:
    text = str(sequence or "").strip()
    if not text.isdigit():
        return None
    number = int(text)
    if number == 0:
        return "0"
    return "1-59" if 1 <= number <= 59 else None


def cause_specific_death(*, cause_of_death: str | None, primary_site: str | None,
                         histology: str | int | None, sequence_number: Any,
                         icd_revision: str | None = "1",
                         vital_status: str | None = None) -> tuple[str, str]:
    """Classify one tumor's death as (cause-specific, other-cause), each "0"/"1"/"8"/"9".

    ``cause_of_death`` is the NAACCR causeOfDeath (ICD-10 without the dot; 0000 alive,
    7777/7797 unknown), ``icd_revision`` NAACCR icdRevisionNumber (1 = ICD-10, 0 =
    patient alive), ``sequence_number`` sequenceNumberCentral, ``vital_status`` 1 alive.
    A dead patient whose cause was coded in an unknown ICD revision counts as dead of
    other causes. Raises LookupError for ICD-8/ICD-9 causes and for sites without rules
    here yet.
    """
    sequence_type = _sequence_type(sequence_number)
    if sequence_type is None:
        return UNKNOWN, UNKNOWN
    revision = str(icd_revision or "").strip()
    cod = str(cause_of_death or "").strip().upper().replace(".", "")
    if revision == "0" or str(vital_status or "").strip() == "1" or cod == "0000":
        return ALIVE, ALIVE
    if not cod or cod in ("7777", "7797"):
        return MISSING, MISSING
    if revision in ("8", "9"):
        raise LookupError(f"ICD-{revision} causes of death are not classified here yet")
    if revision != "1":
        return ALIVE, DEAD
    if sequence_type == "0" and _in(cod, _ANY_CANCER):
        return DEAD, ALIVE
    if sequence_type == "1-59" and (_in(cod, _UNATTRIBUTABLE)
                                    or (len(cod) == 4 and _in(cod, _UNATTRIBUTABLE_CODES))):
        return DEAD, ALIVE
    recode = site_recode(primary_site, histology)
    rule = SITE_RULES.get(recode) if recode else None
    if rule is None:
        raise LookupError(f"no cause-specific rules yet for site {primary_site!r} histology "
                          f"{histology!r}")
    if sequence_type == "0":
        attributed = _in(cod[:3], rule.only_tumor)
    else:
        attributed = _in(cod[:3], rule.categories) or (len(cod) == 4 and _in(cod, rule.codes))
    return (DEAD, ALIVE) if attributed else (ALIVE, DEAD)


def cause_specific_deaths(tumors: pd.DataFrame) -> pd.DataFrame:
    """Row-by-row classification of a table keyed by NAACCR ids
    (``causeOfDeath``, ``primarySite``, ``histologicTypeIcdO3``, ``sequenceNumberCentral``,
    ``icdRevisionNumber``, ``vitalStatus``). Returns ``seerCauseSpecificCod`` and
    ``seerOtherCod`` columns aligned with the input; unsupported sites give None."""
    def one(row: pd.Series) -> tuple[str | None, str | None]:
        try:
            return cause_specific_death(
                cause_of_death=row.get("causeOfDeath"), primary_site=row.get("primarySite"),
                histology=row.get("histologicTypeIcdO3"),
                sequence_number=row.get("sequenceNumberCentral"),
                icd_revision=row.get("icdRevisionNumber", "1"),
                vital_status=row.get("vitalStatus"))
        except LookupError:
            return None, None
    pairs = [one(row) for _, row in tumors.iterrows()]
    return pd.DataFrame(pairs, index=tumors.index,
                        columns=["seerCauseSpecificCod", "seerOtherCod"])
