"""The measures the registry publishes, each defined once: the follow-up rate's diagnosis years and the
survival cut-off. The follow-up page, the annual report (PDF), the Survival page, its CSV, the command line
and the API all take their windows from here and print the sentence that states them, so two outputs of the
same measure cannot disagree about what they count.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: CoC: a case is current when the patient died or was contacted within this many months.
FOLLOW_UP_MONTHS = 15
#: CoC: the "recent cases" rate covers this many complete diagnosis years.
FOLLOW_UP_RECENT_YEARS = 5


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, the day clipped to the month's last."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


@dataclass(frozen=True)
class FollowUpWindow:
    """The diagnosis years and the contact date the CoC follow-up rates are judged on."""

    as_of: dt.date
    first_recent_year: int
    last_year: int
    cutoff: dt.date

    @property
    def sentence(self) -> str:
        return (f"Follow-up rate as of {self.as_of.isoformat()}: analytic cases diagnosed in the "
                f"{FOLLOW_UP_RECENT_YEARS} complete years {self.first_recent_year}–{self.last_year} (and all "
                f"analytic cases from the reference year through {self.last_year}); a case is current when the "
                f"patient died or was last contacted on or after {self.cutoff.isoformat()} "
                f"({FOLLOW_UP_MONTHS} months before {self.as_of.isoformat()}).")


def follow_up_window(as_of: dt.date | None = None) -> FollowUpWindow:
    """The five complete diagnosis years before the as-of year (the year of ``as_of`` is not complete, and
    its cases cannot yet be 15 months overdue)."""
    as_of = as_of or dt.date.today()
    last = as_of.year - 1
    return FollowUpWindow(as_of, last - FOLLOW_UP_RECENT_YEARS + 1, last, add_months(as_of, -FOLLOW_UP_MONTHS))


@dataclass(frozen=True)
class SurvivalCutoff:
    """The end-point year of survival: follow-up is counted to 31 December of it."""

    end_point_year: int

    @property
    def cutoff(self) -> dt.date:
        return dt.date(self.end_point_year, 12, 31)

    @property
    def sentence(self) -> str:
        return (f"Survival cut-off {self.cutoff.isoformat()}: follow-up (SEER active follow-up) is counted to "
                f"31 December {self.end_point_year}, the end-point year (SURVIVAL_END_POINT_YEAR, by default "
                f"the last complete year); later contacts and deaths are not counted.")


def _configured_end_point_year() -> int | None:
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - Flask is always installed with the product
        return None
    value = current_app.config.get("SURVIVAL_END_POINT_YEAR") if has_app_context() else None
    return int(value) if value else None


def survival_cutoff(as_of: dt.date | None = None, configured: int | None = None) -> SurvivalCutoff:
    """The configured end-point year (SURVIVAL_END_POINT_YEAR), else the last complete year; never a year
    that is not complete at ``as_of`` (a report judged at an earlier date cannot count later follow-up)."""
    as_of = as_of or dt.date.today()
    configured = configured if configured is not None else _configured_end_point_year()
    last_complete = as_of.year - 1
    return SurvivalCutoff(min(configured, last_complete) if configured else last_complete)


def survival_definitions(end_point_year: int) -> dict[str, str]:
    """The definitions a survival output states (the API's ``definitions`` key)."""
    return {"survival_cutoff": SurvivalCutoff(end_point_year).sentence}
