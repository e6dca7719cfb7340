"""Survival benchmark: 1M synthetic tumors (20 sites) — Kaplan–Meier by site, Ederer II
and Pohar-Perme net survival with annual intervals over 10 years.

Run from the repository root: ``.venv/bin/python bench/bench_survival.py [n]``.
Targets (issue 7): KM by 20 sites < 2 s, Ederer II < 10 s, Pohar-Perme < 20 s.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reports.survival import kaplan_meier, relative_survival  # noqa: E402


def synthetic_life_table() -> pd.DataFrame:
    """Gompertz mortality by sex, improving 1% a year; labelled as synthetic."""
    ages = np.arange(0, 101)
    years = np.arange(1990, 2031)
    rows = []
    for sex, level in ((1, 1.2e-4), (2, 0.7e-4)):
        for year in years:
            rate = level * np.exp(0.09 * ages) * 0.99 ** (year - 1990)
            rows.append(pd.DataFrame({"sex": sex, "age": ages, "year": year,
                                      "prob": np.exp(-np.minimum(rate, 5.0))}))
    table = pd.concat(rows, ignore_index=True)
    table.attrs["name"] = "synthetic Gompertz life table (benchmark only)"
    return table


def synthetic_tumors(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = rng.integers(0, 20, n)
    age = np.clip(rng.normal(65, 12, n), 15, 99)
    sex = rng.integers(1, 3, n)
    year = 2000 + rng.uniform(0, 15, n)
    excess = 0.02 + 0.03 * site                       # sites differ in excess mortality
    background = 1.2e-4 * np.exp(0.09 * age)
    death = rng.exponential(1 / (excess + background))
    closing = 2020.0 - year                           # follow-up to the end of 2019
    time_ = np.minimum(death, closing)
    return pd.DataFrame({"site": site, "age": age, "sex": sex, "year": year,
                         "time": np.maximum(time_, 1 / 365.25),
                         "dead": (death <= closing).astype(int)})


def timed(label: str, func) -> float:
    start = time.perf_counter()
    func()
    elapsed = time.perf_counter() - start
    print(f"{label:<46} {elapsed:7.2f} s")
    return elapsed


def main(n: int = 1_000_000) -> None:
    start = time.perf_counter()
    data = synthetic_tumors(n)
    lifetable = synthetic_life_table()
    print(f"{n:,} synthetic tumors, 20 sites (generated in {time.perf_counter() - start:.2f} s)")
    options = dict(time="time", event="dead", age="age", sex="sex", year="year",
                   breaks=range(0, 11))
    timed("Kaplan-Meier by 20 sites (log-log CI)",
          lambda: kaplan_meier(data, time="time", event="dead", by="site"))
    timed("Ederer II, actuarial, 10 annual intervals",
          lambda: relative_survival(data, lifetable, method="ederer2", **options))
    timed("Pohar-Perme, actuarial, 10 annual intervals",
          lambda: relative_survival(data, lifetable, method="pohar_perme", **options))
    timed("Pohar-Perme, hazard, 10 annual intervals",
          lambda: relative_survival(data, lifetable, method="pohar_perme",
                                    estimator="hazard", **options))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
