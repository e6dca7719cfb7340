"""Sequence Number--Hospital [560] and --Central [380] as the registry's rules propose them.

The rules are data (``staging_tables/sequence_numbers.csv``): for each series (in situ/malignant,
non-malignant reportable) the code of an only tumor, the first and last codes of several in order of
diagnosis, the code for an unknown place in the order, and codes a registrar's entry keeps. One function
proposes numbers for a patient's tumors so the save paths and edit P007 agree on the same rule.
"""
from __future__ import annotations

import csv
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from registry.edits.engine import cached_date

RULES_FILE = Path(__file__).resolve().parents[1] / "staging_tables" / "sequence_numbers.csv"
#: The two sequence-number items, in the registrar's words with their NAACCR numbers.
SEQUENCE_FIELDS = {"sequence_number_hospital": "Sequence Number--Hospital [560]",
                   "sequence_number_central": "Sequence Number--Central [380]"}


@dataclass(frozen=True)
class Series:
    """One numbering series of ``sequence_numbers.csv``."""

    name: str
    behaviors: frozenset[str]
    only_one: str
    first: int
    last: int
    unknown: str
    kept: frozenset[str]


@lru_cache(maxsize=1)
def series() -> tuple[Series, ...]:
    """The numbering series, read once from the rules file."""
    with RULES_FILE.open(newline="", encoding="utf-8") as handle:
        return tuple(Series(row["series"], frozenset(row["behaviors"].split()), row["only_one"], int(row["first"]),
                            int(row["last"]), row["unknown"], frozenset(row["kept"].split()))
                     for row in csv.DictReader(handle))


def _series_of(behavior: Any) -> Series | None:
    for entry in series():
        if behavior in entry.behaviors:
            return entry
    return None


def propose(tumors: Sequence[Mapping[str, Any]], field: str = "sequence_number_hospital") -> list[str | None]:
    """The number the rules give each tumor (None: no rule applies, e.g. behavior unknown).

    ``tumors`` are in tie order (the caller sorts by id): within a series, tumors are numbered in order of
    Date of Diagnosis [390] where the known parts of the dates decide it, and in tie order where they do not
    (the same day, or ``2018-09`` against ``2018-09-10``); a tumor without a date gets the series' unknown code
    when the series has several tumors; a kept code (98) stays as entered and is not counted.
    """
    proposals: list[str | None] = [None] * len(tumors)
    for entry in series():
        members = [i for i, t in enumerate(tumors) if t.get("behavior") in entry.behaviors]
        kept = [i for i in members if tumors[i].get(field) in entry.kept]
        for i in kept:
            proposals[i] = tumors[i].get(field)
        counted = [i for i in members if i not in kept]
        if len(counted) == 1:
            proposals[counted[0]] = entry.only_one
            continue
        dated = []
        for i in counted:
            dx = cached_date(tumors[i].get("date_of_diagnosis") or "")
            if dx is None:
                proposals[i] = entry.unknown
            else:
                dated.append((dx, i))
        for number, (_, i) in enumerate(sorted(dated, key=functools.cmp_to_key(_diagnosis_order)),
                                        start=entry.first):
            proposals[i] = f"{number:02d}" if number <= entry.last else entry.unknown
    return proposals


def disagreements(tumors: Sequence[Mapping[str, Any]]) -> list[tuple[int, str, str | None, str]]:
    """(index, field, entered, proposed) for each entered sequence number the rules would change.

    A blank number is not a disagreement (a save fills it); the registrar's order of tumors the dates cannot
    order is kept.
    """
    order = sorted(range(len(tumors)), key=lambda i: (tumors[i].get("sequence_number_hospital") or "~", i))
    ordered = [tumors[i] for i in order]
    found = []
    for field in SEQUENCE_FIELDS:
        for position, proposed in enumerate(propose(ordered, field)):
            entered = ordered[position].get(field)
            if proposed is None or not entered or entered == proposed:
                continue
            found.append((order[position], field, entered, proposed))
    return sorted(found)


def _diagnosis_order(a: tuple[Any, int], b: tuple[Any, int]) -> int:
    """Earlier diagnosis first where the known parts of the dates decide; else the tie order."""
    decided = a[0].compare(b[0])
    if decided in (-1, 1):
        return decided
    return (a[1] > b[1]) - (a[1] < b[1])
