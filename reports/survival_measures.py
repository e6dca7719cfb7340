"""The survival measures the page, the CLI and the annual report offer, as plain data (no pandas:
the command line builds its options from them without loading the analysis modules)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    event: str = "dead"
    method: str | None = None      # relative_survival method; None for Kaplan–Meier


MEASURES = {m.key: m for m in (
    Measure("observed", "Observed survival (Kaplan–Meier)"),
    Measure("cause-specific", "Cause-specific survival (Kaplan–Meier, SEER cause-specific deaths)",
            event="cancer_death"),
    Measure("relative", "Relative survival (Ederer II)", method="ederer2"),
    Measure("net", "Net survival (Pohar-Perme)", method="pohar_perme"),
)}


class SurvivalRefused(ValueError):
    """The figures cannot be computed as asked; the message says why, for the user."""
