"""The International Cancer Survival Standard's age groups and weights, as plain data (no pandas:
the cohort filters and pages use them without loading the analysis modules)."""
from __future__ import annotations

# International Cancer Survival Standard (Corazziari, Quinn & Capocaccia, Eur J Cancer
# 2004;40:2307-16): weights of the five age groups at diagnosis. Standard 1 is for
# cancers whose incidence rises with age, 2 for those broadly even across adult ages,
# 3 for those mostly of young adults. Children (under 15) are outside the standard.
ICSS_AGE_GROUPS: tuple[tuple[int, int | None, str], ...] = (
    (15, 45, "15-44"), (45, 55, "45-54"), (55, 65, "55-64"), (65, 75, "65-74"),
    (75, None, "75+"))
ICSS_WEIGHTS: dict[str, tuple[float, ...]] = {
    "icss1": (0.07, 0.12, 0.23, 0.29, 0.29),
    "icss2": (0.28, 0.17, 0.21, 0.20, 0.14),
    "icss3": (0.60, 0.10, 0.10, 0.10, 0.10),
}
