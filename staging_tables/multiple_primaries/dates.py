"""Diagnosis dates that may lack a month or a day, and the timing questions the rules ask of two of them.

Every answer is one of ``APART``, ``WITHIN`` or ``UNKNOWN``: a partial date only answers when every day it
could stand for gives the same answer, otherwise the rule has to ask the registrar.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

APART, WITHIN, UNKNOWN = "apart", "within", "unknown"
#: Which of two tumors was diagnosed later.
FIRST_LATER, SECOND_LATER, SAME_DAY, ORDER_UNKNOWN = 1, 2, 0, -1


@dataclass(frozen=True, slots=True)
class DiagnosisDate:
    """Year (always known), month and day (``None`` when unknown)."""
    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def of(cls, year: int, month: int | None = None, day: int | None = None) -> DiagnosisDate:
        """The date with an out-of-range month or day taken as unknown (a day only counts with its month)."""
        if month is not None and not 1 <= month <= 12:
            month = None
        if month is None or day is None or not 1 <= day <= calendar.monthrange(year, month)[1]:
            day = None
        return cls(year, month, day)

    def earliest(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> dt.date:
        month = self.month or 12
        return dt.date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])


def which_later(first: DiagnosisDate, second: DiagnosisDate) -> int:
    """``FIRST_LATER``, ``SECOND_LATER``, ``SAME_DAY`` or ``ORDER_UNKNOWN`` (the known parts tie)."""
    if first.year != second.year:
        return FIRST_LATER if first.year > second.year else SECOND_LATER
    if first.month is None or second.month is None:
        return ORDER_UNKNOWN
    if first.month != second.month:
        return FIRST_LATER if first.month > second.month else SECOND_LATER
    if first.day is None or second.day is None:
        return ORDER_UNKNOWN
    if first.day != second.day:
        return FIRST_LATER if first.day > second.day else SECOND_LATER
    return SAME_DAY


def years_apart(first: DiagnosisDate, second: DiagnosisDate, years: int) -> str:
    """Whether the diagnoses are ``years`` or more whole years apart (the rules' "more than N years")."""
    gap = abs(first.year - second.year)
    if gap != years:
        return APART if gap > years else WITHIN
    if gap == 0:
        return WITHIN if years > 0 else APART
    if first.month is None or second.month is None:
        return UNKNOWN
    later, earlier = (first, second) if first.year > second.year else (second, first)
    if later.month != earlier.month:
        return APART if later.month > earlier.month else WITHIN
    if first.day is None or second.day is None:
        return UNKNOWN
    return APART if later.day >= earlier.day else WITHIN


def days_apart(first: DiagnosisDate, second: DiagnosisDate, days: int) -> str:
    """Whether the diagnoses are more than ``days`` days apart."""
    order = which_later(first, second)
    if order == SAME_DAY:
        return WITHIN
    if order == ORDER_UNKNOWN:
        widest = max(abs((second.latest() - first.earliest()).days), abs((first.latest() - second.earliest()).days))
        return WITHIN if widest <= days else UNKNOWN
    later, earlier = (first, second) if order == FIRST_LATER else (second, first)
    if (later.earliest() - earlier.latest()).days > days:
        return APART
    if (later.latest() - earlier.earliest()).days <= days:
        return WITHIN
    return UNKNOWN
