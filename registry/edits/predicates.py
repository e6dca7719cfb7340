"""Edits a table cannot express: rules across a patient's tumors, with an OR of items, or reading an
installed reference list.

Each is a small function registered with :func:`predicate`; the decorator carries the same
data as a table row (id, name, severity, fields, message) so docs and reports treat all
edits alike.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from registry import sequence_numbers
from registry.edits.engine import cached_date
from staging_tables import multiple_primaries, surgery
from staging_tables.multiple_primaries.reference import installed_hematopoietic

PREDICATES: list[dict[str, Any]] = []

TREATMENT_DATES = ("date_of_surgery", "date_of_radiation", "date_of_chemotherapy", "date_of_hormone_therapy",
                   "date_of_immunotherapy", "date_of_other_therapy")


def predicate(edit_id: str, name: str, severity: str, fields: tuple[str, ...], message: str,
              level: str, rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``function`` as edit ``edit_id``; ``rule`` is the plain-language rule for the docs."""
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        PREDICATES.append({"id": edit_id, "name": name, "severity": severity, "fields": fields,
                           "message": message, "level": level, "rule": rule, "check": function})
        return function
    return register


def _malignant(tumors: list[dict]) -> list[int]:
    return [i for i, t in enumerate(tumors) if t.get("behavior") in ("2", "3")]


@predicate("P001", "Sequence number 00 with more than one malignant tumor", "error",
           ("sequence_number_hospital", "behavior"),
           "Sequence Number--Hospital [560] 00 means the only malignant tumor, but the patient has "
           "{malignant_count} malignant tumors (use 01, 02, ...)", "case",
           "fails each tumor with sequence 00 when the patient has more than one tumor of behavior 2 or 3")
def sequence_00_alone(patient: dict, tumors: list[dict]) -> Iterable[int | None]:
    malignant = _malignant(tumors)
    if len(malignant) > 1:
        yield from (i for i in malignant if tumors[i].get("sequence_number_hospital") == "00")


@predicate("P002", "Sequence number used twice", "error", ("sequence_number_hospital",),
           "Sequence Number--Hospital [560] {sequence_number_hospital} is used by more than one of the "
           "patient's tumors", "case",
           "fails each later tumor repeating a sequence number (99 and 98 excepted) within one patient")
def sequence_unique(patient: dict, tumors: list[dict]) -> Iterable[int | None]:
    seen: set[str] = set()
    for index, tumor in enumerate(tumors):
        sequence = tumor.get("sequence_number_hospital")
        if not sequence or sequence in ("98", "99"):
            continue
        if sequence in seen:
            yield index
        seen.add(sequence)


@predicate("P003", "Sequence numbers out of diagnosis order", "warning",
           ("sequence_number_hospital", "date_of_diagnosis"),
           "Sequence Number--Hospital [560] {sequence_number_hospital} (diagnosed {date_of_diagnosis}) was "
           "diagnosed before a tumor with a lower sequence number", "case",
           "within the malignant (01-59) and non-malignant (61-88) series, a higher sequence number must "
           "not be certainly diagnosed before a lower one")
def sequence_in_diagnosis_order(patient: dict, tumors: list[dict]) -> Iterable[int | None]:
    for low, high in (("01", "59"), ("61", "88")):
        numbered = sorted((t["sequence_number_hospital"], i) for i, t in enumerate(tumors)
                          if low <= (t.get("sequence_number_hospital") or "") <= high)
        latest = None
        for _, index in numbered:
            dx = cached_date(tumors[index].get("date_of_diagnosis") or "")
            if dx is None:
                continue
            if latest is not None and dx.latest() < latest.earliest():
                yield index
            elif latest is None or dx.earliest() > latest.earliest():
                latest = dx


@predicate("P004", "Treatment date without Date 1st Crs RX", "warning",
           ("date_of_initial_treatment",) + TREATMENT_DATES,
           "A first-course treatment date is recorded but Date 1st Crs RX--CoC [1270] is blank", "tumor",
           "fails when any of the six treatment dates is present and date_of_initial_treatment is blank")
def initial_treatment_date_missing(record: dict) -> bool:
    return not record.get("date_of_initial_treatment") and any(record.get(f) for f in TREATMENT_DATES)


@predicate("P005", "Possible duplicate primary", "warning",
           ("primary_site", "histology", "behavior", "laterality", "date_of_diagnosis"),
           "Primary Site [400] {primary_site}, Histologic Type [522] {histology}, Behavior [523] {behavior} diagnosed "
           "{date_of_diagnosis} is the same primary as another tumor of this patient by the multiple primary rules",
           "case",
           "fails a tumor that the multiple-primary rules (SEER Solid Tumor, MP/H, 2004 and Hematopoietic rules, "
           "staging_tables/multiple_primaries) call a single primary with an earlier-listed tumor of the patient")
def duplicate_primary(patient: dict, tumors: list[dict]) -> Iterable[int | None]:
    readable = [(index, mp_tumor) for index, mp_tumor in enumerate(_mp_tumor(t) for t in tumors) if mp_tumor]
    if len(readable) < 2:
        return
    tables = installed_hematopoietic()
    for position, (index, later) in enumerate(readable):
        if any(multiple_primaries.compare(earlier, later, hematopoietic_folder=tables).result
               == multiple_primaries.SINGLE for _, earlier in readable[:position]):
            yield index


def _mp_tumor(record: dict) -> multiple_primaries.Tumor | None:
    """The tumor as the multiple-primary rules read it, or None when a code or the date is missing or invalid."""
    dx = cached_date(record.get("date_of_diagnosis") or "")
    if dx is None:
        return None
    try:
        return multiple_primaries.tumor(record.get("primary_site") or "", record.get("histology") or "",
                                        record.get("behavior") or "", record.get("laterality") or "",
                                        dx.year, dx.month, dx.day)
    except multiple_primaries.InvalidTumor:
        return None


@predicate("P006", "Primary site, histology: combination not in the SEER site/histology list", "error",
           ("primary_site", "histology", "behavior"),
           "Primary Site [400] {primary_site} with Histologic Type [522] {histology} and Behavior Code ICD-O-3 [523] "
           "{behavior} is not a combination of the installed SEER site/histology validation list", "tumor",
           "site and histology/behavior must be a pair of the installed SEER site/histology list (reference kind "
           "site-histology); when none is installed the embedded rules E160-E165 run instead")
def site_histology_listed(record: dict) -> bool:
    listed = record.get("__site_histology__")
    if listed is None:
        return False
    site, histology, behavior = record.get("primary_site"), record.get("histology"), record.get("behavior")
    return bool(site and histology and behavior) and f"{histology}/{behavior}" not in listed.by_site.get(site, ())


@predicate("P007", "Sequence numbers disagree with the registry's rules", "warning",
           ("sequence_number_hospital", "sequence_number_central", "behavior", "date_of_diagnosis"),
           "Sequence Number--Hospital [560] {sequence_number_hospital} / --Central [380] {sequence_number_central} "
           "is not the number the sequence rules give this tumor among the patient's tumors", "case",
           "fails each tumor whose Sequence Number--Hospital or --Central, where entered, differs from the number "
           "the rules of staging_tables/sequence_numbers.csv propose: 00 the only in situ/malignant tumor, 01-59 "
           "in order of diagnosis, 60 the only non-malignant one, 61-87 in order, 99/88 when the order is unknown "
           "(tumors diagnosed the same day may be in either order; 98 is kept)")
def sequence_numbers_follow_the_rules(patient: dict, tumors: list[dict]) -> Iterable[int | None]:
    yield from dict.fromkeys(index for index, *_ in sequence_numbers.disagreements(tumors))


def _surgery_code_not_in_table(record: dict, item: str, attribute: str) -> bool:
    """A present code of ``item`` that the site-specific table of the tumor's site and year does not list; a code
    of the item the year does not use is left to E124/E125, a missing or invalid site or date to other edits."""
    code = record.get(attribute)
    year = record.get("year_of_diagnosis")
    site = record.get("primary_site")
    if not code or year is None or not site or surgery.item_for_year(year) != item:
        return False
    histology = record.get("histology")
    histology = histology if histology and len(histology) == 4 else None
    try:
        return bool(surgery.surgery_codes(site, histology, year, item)) and not surgery.valid_surgery_code(
            site, histology, year, item, code)
    except ValueError:
        return False  # a site or histology the item validity edits already report


@predicate("P008", "Surgery of primary site [1290]: code not in the site-specific surgery table", "error",
           ("surgery_of_primary_site", "primary_site", "histology", "date_of_diagnosis"),
           "RX Summ--Surg Prim Site [1290] {surgery_of_primary_site} is not a code of the SEER site-specific surgery "
           "table for Primary Site [400] {primary_site} (Histologic Type [522] {histology}) diagnosed "
           "{date_of_diagnosis}", "tumor",
           "for a diagnosis before 2023, a code of [1290] must be listed in the SEER site-specific surgery table of "
           "the tumor's site (and histology) in the coding-manual edition of its diagnosis year (reference kind "
           "surgery-tables; the shipped official editions when none is installed); 99 (death certificate only) is "
           "accepted at every site; a site and histology no table covers is not checked")
def surgery_code_in_table(record: dict) -> bool:
    return _surgery_code_not_in_table(record, surgery.ITEM_BEFORE_2023, "surgery_of_primary_site")


@predicate("P009", "Surgery of primary site 2023 [1291]: code not in the site-specific surgery table", "error",
           ("surgery_of_primary_site_2023", "primary_site", "histology", "date_of_diagnosis"),
           "RX Summ--Surg Prim Site 2023 [1291] {surgery_of_primary_site_2023} is not a code of the SEER site-specific "
           "surgery table for Primary Site [400] {primary_site} (Histologic Type [522] {histology}) diagnosed "
           "{date_of_diagnosis}", "tumor",
           "for a diagnosis from 2023, a code of [1291] must be listed in the SEER site-specific surgery table of the "
           "tumor's site (and histology) in the coding-manual edition of its diagnosis year (2024 and later breast "
           "tables use B codes); A990/B990 (death certificate only) is accepted at every site")
def surgery_2023_code_in_table(record: dict) -> bool:
    return _surgery_code_not_in_table(record, surgery.ITEM_FROM_2023, "surgery_of_primary_site_2023")
