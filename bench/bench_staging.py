"""Cases per second of the staging engine on the CS 02.05.50 integration sample.

Run: ``.venv/bin/python bench/bench_staging.py [--passes N] [--workers W]``. Rows are parsed into dicts first so
only ``Algorithm.stage`` is timed. The first pass starts with empty lookup caches (a fresh algorithm), later
passes show the steady state of a long batch; ``--workers`` splits the cases over processes.
"""
from __future__ import annotations

import argparse
import gzip
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staging_tables.staging import load_algorithm  # noqa: E402
from tests.reference import REFERENCE_DIR  # noqa: E402

STAGING = REFERENCE_DIR / "staging"
BUNDLE = STAGING / "algorithms" / "cs-02.05.50.zip"
SAMPLE = STAGING / "cs-tests" / "cs_integration_sample.txt.gz"


def read_cases(limit: int | None = None) -> list[dict[str, str]]:
    keys = [line.split(",")[1] for line in (STAGING / "cs-tests" / "cs_columns.csv").read_text().splitlines()[1:43]]
    cases = []
    with gzip.open(SAMPLE, "rt") as f:
        for line in f:
            cases.append(dict(zip(keys, (v.strip() for v in line.split(",")[:42]))))
            if limit and len(cases) >= limit:
                break
    return cases


def _stage_chunk(chunk: list[dict[str, str]]) -> tuple[int, float]:
    alg = _WORKER_ALG
    start = time.perf_counter()
    for case in chunk:
        alg.stage(case)
    return len(chunk), time.perf_counter() - start


_WORKER_ALG = None


def _warm(_: int) -> None:
    """Hold each worker briefly so every process loads the bundle before timing starts."""
    time.sleep(0.5)


def _init_worker() -> None:
    global _WORKER_ALG
    _WORKER_ALG = load_algorithm(BUNDLE, year_current=2026)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    cases = read_cases(args.limit)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {len(cases)} cases from {SAMPLE.name}")
    start = time.perf_counter()
    alg = load_algorithm(BUNDLE, year_current=2026)
    print(f"load {BUNDLE.name}: {time.perf_counter() - start:.2f} s")

    if args.workers == 1:
        for n in range(1, args.passes + 1):
            start = time.perf_counter()
            for case in cases:
                alg.stage(case)
            elapsed = time.perf_counter() - start
            label = "cold caches" if n == 1 else "warm caches"
            print(f"pass {n} ({label}): {len(cases) / elapsed:,.0f} cases/s ({elapsed:.2f} s)")
        return

    chunks = [cases[i::args.workers] for i in range(args.workers)]
    with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
        list(pool.map(_warm, range(args.workers)))
        for n in range(1, args.passes + 1):
            start = time.perf_counter()
            done = sum(c for c, _ in pool.map(_stage_chunk, chunks))
            elapsed = time.perf_counter() - start
            label = "cold caches" if n == 1 else "warm caches"
            print(f"pass {n} ({label}), {args.workers} workers: {done / elapsed:,.0f} cases/s ({elapsed:.2f} s wall)")


if __name__ == "__main__":
    main()
