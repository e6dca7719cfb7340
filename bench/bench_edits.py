"""Edits benchmark: every edit over 100,000 demo tumors generated in memory (goal < 20 s).

Run from the repository root: ``.venv/bin/python bench/bench_edits.py [tumors]``. Generation
is timed apart; the figure that counts is the edits run (patient, tumor and case edits).
"""
from __future__ import annotations

import collections
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry.demo import DemoGenerator  # noqa: E402
from registry.edits import all_edits, run_edits  # noqa: E402


def demo_cases(tumors: int, seed: int = 1) -> list[tuple[dict, list[dict]]]:
    """(patient, tumors with treatment merged) until ``tumors`` tumors are drawn."""
    generator = DemoGenerator(seed, {"patient": 0, "tumor": 0, "follow_up_contact": 0, "patient_number": 0})
    cases, count = [], 0
    while count < tumors:
        record = generator.patient()
        merged = [t | rx for t, rx in zip(record["tumor"], record["first_course_treatment"])]
        cases.append((record["patient"][0], merged))
        count += len(merged)
    return cases


def main(tumors: int = 100_000) -> None:
    started = time.perf_counter()
    cases = demo_cases(tumors)
    generated = time.perf_counter() - started
    all_edits()
    today = dt.date.today()
    started = time.perf_counter()
    counts: collections.Counter = collections.Counter()
    for patient, patient_tumors in cases:
        for failure in run_edits(patient, patient_tumors, today=today):
            counts[failure.severity] += 1
    elapsed = time.perf_counter() - started
    total = sum(len(t) for _, t in cases)
    print(f"{len(all_edits())} edits over {total} tumors of {len(cases)} patients: {elapsed:.2f} s "
          f"({total / elapsed:,.0f} tumors/s); {counts['error']} errors, {counts['warning']} warnings; "
          f"generating the data took {generated:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
