"""The multiple-primary step of tumor matching: is an unmatched incoming tumor a stored primary reported again?

A tumor that found no stored tumor by the import's keys (site, histology and date; sequence numbers)
may still be the same primary, reported with another date or by another facility. The multiple-primary
rules (``staging_tables/multiple_primaries``) decide, and only a clear answer merges: the same primary
as exactly one stored tumor, and doubtful with none. Anything doubtful is imported as a new tumor and
listed for a registrar, since merging two primaries loses one and cannot be undone by the import.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from registry.dates import InvalidDate, PartialDate
from registry.models import Tumor
from staging_tables import multiple_primaries as mp
from staging_tables.multiple_primaries.tables import HematoSource

#: The ``outcome`` of a report row for a tumor the multiple-primary rules matched.
SAME_PRIMARY = "matched: same primary by the multiple-primary rules"
#: The ``outcome`` of a report row for a tumor imported as new that a registrar should look at.
REVIEW = "new tumor: review whether it is the same primary"


@dataclass(frozen=True)
class PrimaryDecision:
    """What the rules say of an incoming tumor: the stored tumor it is (or None: a new tumor), and for the
    report the outcome ("" when there is nothing to report), the rule step and the reason in words."""
    tumor: Tumor | None
    outcome: str = ""
    step: str = ""
    reason: str = ""


def rules_tumor(values: Mapping[str, Any]) -> mp.Tumor | None:
    """A tumor's codes as the rules read them, or None when its site, histology, behavior or date cannot be read."""
    try:
        dx = PartialDate.parse(values.get("date_of_diagnosis") or "")
        return mp.tumor(values.get("primary_site") or "", values.get("histology") or "",
                        values.get("behavior") or "", values.get("laterality") or "", dx.year, dx.month, dx.day)
    except (InvalidDate, mp.InvalidTumor):
        return None


def _stored_values(tumor: Tumor) -> dict[str, Any]:
    return {"primary_site": tumor.primary_site, "histology": tumor.histology, "behavior": tumor.behavior,
            "laterality": tumor.laterality, "date_of_diagnosis": tumor.date_of_diagnosis}


def describe(tumor: Tumor) -> str:
    """The stored tumor in a registrar's words, for the report (never its database id)."""
    return f"registry tumor {tumor.described} of {tumor.patient.described}"


def earlier_diagnosis(stored: str | None, incoming: str | None) -> str | None:
    """The Date of Diagnosis [390] a same-primary merge keeps: the earlier of two partial dates, the more
    complete one where they agree as far as both go (a primary is diagnosed when it is first found)."""
    if not stored or not incoming:
        return stored or incoming
    shared = min(len(stored), len(incoming))
    if stored[:shared] == incoming[:shared]:
        return stored if len(stored) >= len(incoming) else incoming
    return stored if stored[:shared] < incoming[:shared] else incoming


def same_primary(values: Mapping[str, Any], stored: Iterable[Tumor], taken: set[Tumor],
                 tables: HematoSource | None) -> PrimaryDecision:
    """Compare the incoming tumor ``values`` with each ``stored`` tumor of its patient.

    ``taken`` are stored tumors another incoming tumor of the same record was matched to: the file
    calls them another tumor, so a same-primary answer with one of them is for a registrar to settle.
    Stored tumors whose codes the rules cannot read are left out, as is an incoming tumor they cannot read.
    """
    incoming = rules_tumor(values)
    if incoming is None:
        return PrimaryDecision(None)
    singles: list[tuple[Tumor, mp.Verdict]] = []
    doubtful: list[tuple[Tumor, mp.Verdict]] = []
    for tumor in stored:
        known = rules_tumor(_stored_values(tumor))
        if known is None:
            continue
        verdict = mp.compare(known, incoming, hematopoietic_folder=tables)
        if verdict.result == mp.SINGLE:
            singles.append((tumor, verdict))
        elif verdict.result == mp.QUESTIONABLE:
            doubtful.append((tumor, verdict))
    if len(singles) == 1 and not doubtful and singles[0][0] not in taken:
        tumor, verdict = singles[0]
        return PrimaryDecision(tumor, SAME_PRIMARY, verdict.step,
                               f"same primary as {describe(tumor)}: {verdict.reason}")
    if not singles and not doubtful:
        return PrimaryDecision(None)
    reasons = []
    for tumor, verdict in singles:
        also = "; another tumor of this record was matched to it" if tumor in taken else ""
        reasons.append(f"same primary as {describe(tumor)}{also}: {verdict.reason}")
    for tumor, verdict in doubtful:
        question = f" ({verdict.question})" if verdict.question else ""
        reasons.append(f"questionable with {describe(tumor)}: {verdict.reason}{question}")
    steps = "; ".join(dict.fromkeys(verdict.step for _, verdict in singles + doubtful if verdict.step))
    return PrimaryDecision(None, REVIEW, steps, "imported as a new tumor; " + "; ".join(reasons))
