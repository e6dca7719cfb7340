"""Standard populations for age adjustment, kept as our own table (``standard_populations.csv``).

A standard is a weight per age group. Groups are named by their lowest age (0, 1, 5, 10 … 85, 90); the
last group is open. Counts, populations and standards with different groupings are compared on the coarsest
grouping they share (:func:`common_groups`), so the 2000 US standard (<1, 1–4) adjusts data in 0–4 groups
and the European standard (85–89, 90+) adjusts data ending at 85+. SEER*Stat has age-adjusted in 20 groups
(85–89 and 90+ apart) since the November 2024 submission; ``us2000-20`` is that form, and it weighs 90+
apart wherever the population has a 90+ group.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and pandas load with the first computation, not with the app
    import numpy as np
    import pandas as pd

TABLE = Path(__file__).with_name("standard_populations.csv")

#: What each standard is and where its numbers come from.
DESCRIPTIONS = {
    "us2000": "2000 US standard population, 19 age groups (Census P25-1130; SEER*Stat, NCHS)",
    "us2000-18": "2000 US standard population, 18 age groups (0-4 joined; Census P25-1130)",
    "us2000-20": "2000 US standard population, 20 age groups (85-89 and 90+ apart; SEER single-age standard)",
    "world-segi": "World standard population (Segi 1960, as modified by Doll et al. 1966), 18 age groups",
    "esp2013": "European standard population 2013 (Eurostat), 19 age groups to 90+",
}
#: The 19 age groups of SEER population files and of the registry's own counts.
SEER_19_GROUPS = (0, 1, *range(5, 90, 5))
#: The groups the registry counts its cases in: the 19 groups with 85+ split into 85-89 and 90+, so that a
#: population and a standard that have 90+ can use it; coarser data collapses these to what it shares.
AGE_GROUPS = (*SEER_19_GROUPS, 90)


class UnknownStandard(ValueError):
    """The standard asked for is not in the table."""


@dataclass(frozen=True)
class Standard:
    key: str
    description: str
    weights: pd.Series  # population per age group, indexed by the group's lowest age

    def label(self, age_low: int) -> str:
        return age_label(age_low, tuple(self.weights.index))


def age_label(age_low: int, groups: tuple[int, ...]) -> str:
    """'<1', '1-4', '85+' … for a group of ``groups``."""
    position = groups.index(age_low)
    if position == len(groups) - 1:
        return f"{age_low}+"
    high = groups[position + 1] - 1
    return "<1" if age_low == 0 and high == 0 else f"{age_low}-{high}"


@lru_cache(maxsize=1)
def _rows() -> dict[str, list[tuple[int, float]]]:
    table: dict[str, list[tuple[int, float]]] = {}
    with TABLE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(row["standard"], []).append((int(row["age_low"]), float(row["population"])))
    return table


def standards() -> dict[str, str]:
    """Key → description of every standard in the table."""
    return {key: DESCRIPTIONS.get(key, key) for key in _rows()}


def standard(key: str) -> Standard:
    """The standard called ``key`` (see :func:`standards`)."""
    rows = _rows()
    if key not in rows:
        raise UnknownStandard(f"standard must be one of {', '.join(rows)}, not {key!r}")
    import pandas as pd
    lows, pops = zip(*rows[key])
    return Standard(key, DESCRIPTIONS.get(key, key), pd.Series(pops, index=pd.Index(lows, name="age"), dtype=float))


def common_groups(*groupings: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """The finest grouping every one of ``groupings`` can be collapsed to (lowest ages they all start a group at)."""
    shared = set(groupings[0])
    for grouping in groupings[1:]:
        shared &= set(grouping)
    if 0 not in shared:
        raise ValueError("age groupings must all start at age 0")
    return tuple(sorted(shared))


def collapse_index(ages: np.ndarray | pd.Index, groups: tuple[int, ...]) -> np.ndarray:
    """For each lowest age in ``ages``, the lowest age of the group of ``groups`` it falls in."""
    import numpy as np
    edges = np.asarray(groups)
    return edges[np.searchsorted(edges, np.asarray(ages), side="right") - 1]
