"""Incidence-rates benchmark: 1M synthetic tumors, the rates table by site × sex × year over a population of
8 counties × 2 sexes × 4 races × 19 age groups × 18 years (issue 23: < 5 s).

Run from the repository root: ``.venv/bin/python bench/bench_rates.py [n]``. Times, separately, turning raw
tumor rows into cases (SEER site recode per distinct site/histology/behavior/year, age at diagnosis from
NAACCR dates) and the table itself (counts by 19 age groups, crude and Tiwari age-adjusted rates), plus the
yearly trends with their APC. The database read is not included (see ``bench_annual_report.py`` for reads).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reports.survival.cause_specific import site_recode  # noqa: E402
from reports.rates.demo_population import write_demo_population  # noqa: E402
from reports.rates.incidence import RatesRequest, cases_frame, rates_table, trends  # noqa: E402
from reports.rates.populations import parse_population  # noqa: E402

COUNTIES = ["001", "003", "005", "007", "009", "011", "013", "015"]
SITES = ["C180", "C187", "C209", "C341", "C349", "C500", "C509", "C619", "C679", "C649", "C739", "C220", "C250",
         "C169", "C150", "C530", "C541", "C569", "C710", "C439"]


def synthetic_tumors(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    year = rng.integers(2008, 2026, n)
    age = np.clip(rng.normal(65, 13, n), 0, 99).astype(int)
    month = rng.integers(1, 13, n)
    dx = [f"{y}{m:02d}15" for y, m in zip(year, month)]
    birth = [f"{y - a}{m:02d}01" for y, a, m in zip(year, age, rng.integers(1, 13, n))]
    return pd.DataFrame({"dx": dx, "primary_site": rng.choice(SITES, n), "histology": rng.choice(["8140", "8500",
                                                                                                 "8070", "8720"], n),
                         "behavior": "3", "sex": rng.choice(["1", "2"], n), "race1": rng.choice(["01", "02", "04"], n),
                         "state": "IL", "county": rng.choice(COUNTIES, n), "birth": birth})


def timed(call):
    """(result, wall seconds, CPU seconds of this process): on a shared machine the CPU time says what the
    code costs, the wall time what a user waited."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(n: int) -> None:
    raw = synthetic_tumors(n)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "population.csv"
        write_demo_population(path, tumors=n, first_year=2008, last_year=2025, counties=COUNTIES)
        started = time.perf_counter()
        population, _meta = parse_population(path)
        read = time.perf_counter() - started
    population.attrs["name"] = "synthetic benchmark population"
    cases, prep_wall, prep_cpu = timed(lambda: cases_frame(raw, site_recode))
    request = RatesRequest(first_year=2008, last_year=2025, by=["site", "sex", "year"])
    result, table_wall, table_cpu = timed(lambda: rates_table(cases, population, request))
    trend_request = RatesRequest(first_year=2008, last_year=2025, by=["site", "sex"])
    (_yearly, apc), trend_wall, trend_cpu = timed(lambda: trends(cases, population, trend_request))
    print(f"{n:,} tumors; population {len(population):,} rows (read in {read:.2f} s)")
    print("                                 wall      CPU")
    print(f"tumor rows -> cases            {prep_wall:6.2f} s {prep_cpu:6.2f} s")
    print(f"rates table site x sex x year  {table_wall:6.2f} s {table_cpu:6.2f} s  ({len(result.table):,} groups)")
    print(f"  together                     {prep_wall + table_wall:6.2f} s {prep_cpu + table_cpu:6.2f} s"
          "  (target < 5 s)")
    print(f"trends + APC by site x sex     {trend_wall:6.2f} s {trend_cpu:6.2f} s  ({len(apc):,} series)")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
