"""De-identification applied by the product: what each level does to each value, and study ids.

Safe Harbor (45 CFR 164.514(b)(2)): no names, street, city, county, SSN, record numbers or any
other unique number; every date reduced to its year (intervals such as survival months and age
are computed from the full dates before); ages over 89 pooled as 90+ (and a birth year that would
reveal such an age left blank); ZIP cut to three digits, and to 000 where the three-digit area has
20,000 people or fewer. A limited data set (164.514(e)) keeps dates, city, county and the 5-digit
ZIP but still no direct identifier. Patient and tumor ids are replaced by random study ids, new for
every release; the key stays in the registry (``ResearchStudyKey``).
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from reports.research.variables import dictionary

#: HHS restricted three-digit ZIP areas (20,000 people or fewer, 2000 Census), written by us as data;
#: Safe Harbor publishes them as 000.
RESTRICTED_ZIP3 = frozenset({"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831",
                             "878", "879", "884", "890", "893"})
OLDEST_AGE = 89
POOLED_AGE = "90+"


def zip3(value: str | None) -> str:
    text = (value or "").strip()
    head = text[:3]
    if len(head) < 3 or not head.isdigit():
        return ""
    return "000" if head in RESTRICTED_ZIP3 else head


def zip5(value: str | None) -> str:
    text = (value or "").strip()
    return text[:5] if text[:5].isdigit() and len(text) >= 5 else ""


def year(value: str | None) -> str:
    text = (value or "").strip()
    return text[:4] if text[:4].isdigit() else ""


def age90(value: Any) -> str:
    if value is None or value == "":
        return ""
    return POOLED_AGE if int(value) > OLDEST_AGE else str(int(value))


def keep(value: Any) -> str:
    return "" if value is None else str(value)


def transform(treatment: str, release_year: int) -> Callable[[Any], str]:
    """The function that applies ``treatment`` to one value."""
    def birth_year(value: str | None) -> str:
        born = year(value)
        return born if born and release_year - int(born) <= OLDEST_AGE else ""
    functions: dict[str, Callable[[Any], str]] = {
        "keep": keep, "year": year, "zip3": zip3, "zip5": zip5, "age90": age90, "birth_year": birth_year,
        "study_id": keep}
    if treatment not in functions:
        raise ValueError(f"no way to release a value as {treatment!r}")
    return functions[treatment]


class StudyIds:
    """Random study ids of one release, never derived from registry ids and never reused within it.

    Patients get 8 digits from 50000000 (they fill Patient ID Number [20] in NAACCR XML), tumors 9
    digits from 500000000 to 899999999: neither can be mistaken for a CCYYMMDD date or a 9xx SSN.
    """

    PATIENT_RANGE = (50_000_000, 100_000_000)
    TUMOR_RANGE = (500_000_000, 900_000_000)

    def __init__(self, rng: random.Random | None = None):
        self._rng = rng or random.SystemRandom()
        self._patients: dict[int, str] = {}
        self._used: set[str] = set()

    def _draw(self, low: int, high: int) -> str:
        while True:
            candidate = str(self._rng.randrange(low, high))
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate

    def patient(self, patient_id: int) -> str:
        known = self._patients.get(patient_id)
        if known is None:
            known = self._patients[patient_id] = self._draw(*self.PATIENT_RANGE)
        return known

    def tumor(self) -> str:
        return self._draw(*self.TUMOR_RANGE)

    @property
    def patients(self) -> int:
        return len(self._patients)


class Deidentifier:
    """Turns one row of values (by variable name) into the released cells, in variable order."""

    def __init__(self, variables: Sequence[str], level: str, release_year: int):
        known = dictionary()
        self.variables = list(variables)
        self.level = level
        # stored values released as they are need no call: they are strings or None already
        self._steps = [(name, None if known[name].treatment(level) == "keep" and known[name].source != "derived"
                        else transform(known[name].treatment(level), release_year)) for name in self.variables]
        refused = [name for name in self.variables if not known[name].released_at(level)]
        if refused:
            raise ValueError(f"{', '.join(refused)} may not leave the registry at level {level}")

    def cells(self, values: dict[str, Any]) -> list[str]:
        get = values.get
        return [step(get(name)) if step else (get(name) or "") for name, step in self._steps]
