"""The survival measures the page, the CLI and the annual report offer, as plain data (no pandas:
the command line builds its options from them without loading the analysis modules)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    event: str = "dead"
    method: str | None = None      # relative_survival method; None for observed survival
    actuarial: bool = False        # observed survival by the actuarial life table instead of Kaplan–Meier


MEASURES = {m.key: m for m in (
    Measure("observed", "Observed survival (Kaplan–Meier)"),
    Measure("observed-actuarial", "Observed survival (actuarial life table)", actuarial=True),
    Measure("cause-specific", "Cause-specific survival (Kaplan–Meier, SEER cause-specific deaths)",
            event="cancer_death"),
    Measure("relative-ederer1", "Relative survival (Ederer I)", method="ederer1"),
    Measure("relative", "Relative survival (Ederer II)", method="ederer2"),
    Measure("relative-hakulinen", "Relative survival (Hakulinen)", method="hakulinen"),
    Measure("net", "Net survival (Pohar-Perme)", method="pohar_perme"),
)}
#: Analyses: every tumor diagnosed in the cohort's years followed from diagnosis; the follow-up lived within a
#: window of calendar years (period analysis, Brenner); survival of those alive a number of years after diagnosis.
ANALYSES = {"cohort": "cohort analysis", "period": "period analysis", "conditional": "conditional survival"}
#: Widths of the table's intervals, in years.
INTERVALS = {"1y": 1.0, "6m": 0.5, "3m": 0.25, "1m": 1 / 12}
#: Covariates a Cox model may take (the cohort frame's columns they come from).
COX_COVARIATES = ("age", "sex", "stage", "site")


class SurvivalRefused(ValueError):
    """The figures cannot be computed as asked; the message says why, for the user."""
