"""Pair comparisons per second of the multiple-primary engine over SEER's test file (goal >= 20,000/s).

Run from the repository root: ``.venv/bin/python bench/bench_mp.py [--passes N]``. The 6,701 pairs of
``../shared/reference/algorithms/mph/mph-testing-2000-2022.csv.gz`` are read into tumors first, so only
``Engine.compare`` is timed; the first pass loads the official hematopoietic tables on the way (cold), the
best of the later passes is the steady figure. The machine's busy share (``/proc/stat``, every core) during
the timed passes is printed beside it, since the machine is shared.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staging_tables.multiple_primaries import engine, tumor  # noqa: E402
from tests.reference import REFERENCE_DIR  # noqa: E402

MPH = REFERENCE_DIR / "algorithms" / "mph"
TEST_FILE = MPH / "mph-testing-2000-2022.csv.gz"


def read_pairs() -> list[tuple]:
    with gzip.open(TEST_FILE, "rt", newline="") as handle:
        return [(tumor(r["site1"], r["hist1"], r["beh1"], r["lat1"], r["year1"], r["month1"], r["day1"]),
                 tumor(r["site2"], r["hist2"], r["beh2"], r["lat2"], r["year2"], r["month2"], r["day2"]))
                for r in csv.DictReader(handle)]


def _machine_ticks() -> tuple[int, int] | None:
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    pairs = read_pairs()
    print(f"# multiple primaries, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, {len(pairs)} pairs from {TEST_FILE.name}")
    rules = engine(MPH)
    rates = []
    before = _machine_ticks()
    for n in range(1, args.passes + 1):
        start = time.perf_counter()
        for first, second in pairs:
            rules.compare(first, second)
        elapsed = time.perf_counter() - start
        rates.append(len(pairs) / elapsed)
        print(f"pass {n}{' (cold: loads the hematopoietic tables)' if n == 1 else ''}: "
              f"{rates[-1]:,.0f} pairs/s ({elapsed:.3f} s)")
    after = _machine_ticks()
    busy = (f", machine busy {100 * (1 - (after[1] - before[1]) / (after[0] - before[0])):.0f}%"
            if before and after and after[0] > before[0] else "")
    steady = max(rates[1:]) if len(rates) > 1 else rates[0]
    print(f"best steady pass: {steady:,.0f} pairs/s{busy}")


if __name__ == "__main__":
    main()
