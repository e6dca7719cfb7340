"""Survival analysis for the registry: one import for the report, the web and the CLI.

Pure pandas in and out (no Flask, no database). The pieces live in their own modules:
SEER survival time (``survival_time``), actuarial life tables and relative/net survival
(``relative_survival``), Kaplan–Meier, log-rank and Cox (``observed_survival``), and the
SEER cause-specific death classification (``cause_specific``).
"""
from reports.cause_specific import cause_specific_death, cause_specific_deaths
from reports.observed_survival import (CI_TRANSFORMS, cox_model, kaplan_meier, logrank_test,
                                       median_survival)
from reports.relative_survival import (ICSS_AGE_GROUPS, ICSS_WEIGHTS, icss_age_group,
                                       life_table, relative_survival)
from reports.survival_time import parse_naaccr_date, survival_time

__all__ = [
    "survival_time", "parse_naaccr_date",
    "life_table", "relative_survival", "ICSS_AGE_GROUPS", "ICSS_WEIGHTS", "icss_age_group",
    "kaplan_meier", "median_survival", "logrank_test", "cox_model", "CI_TRANSFORMS",
    "cause_specific_death", "cause_specific_deaths",
]
