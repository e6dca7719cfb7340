"""Survival analysis for the registry: one import for the report, the web and the CLI.

The statistics are pure pandas in and out (no Flask, no database): SEER survival months
(``months``), actuarial life tables and relative/net survival (``relative``), Kaplan–Meier, log-rank and
Cox (``observed``), the SEER cause-specific death classification (``cause_specific``), ICSS
age-standardisation (``icss``) and cohort/period/conditional selection (``cohorts``). The product around
them: stored survival items (``store``), the measures the page, CLI, API and annual report share
(``measures``, ``report``), installed life tables (``lifetables``), the page (``views``) and ``cli``.

The names below are loaded on first use, so importing the web views does not load pandas and lifelines.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "survival_time": "months", "parse_naaccr_date": "months",
    "life_table": "relative", "relative_survival": "relative", "ICSS_AGE_GROUPS": "relative",
    "ICSS_WEIGHTS": "relative", "icss_age_group": "relative",
    "kaplan_meier": "observed", "median_survival": "observed", "logrank_test": "observed",
    "cox_model": "observed", "CI_TRANSFORMS": "observed",
    "cause_specific_death": "cause_specific", "cause_specific_deaths": "cause_specific",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
