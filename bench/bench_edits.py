"""Edits benchmark: every edit over 100,000 demo tumors generated in memory (goal < 20 s).

Run from the repository root: ``.venv/bin/python bench/bench_edits.py [tumors]``. Generation
is timed apart; the figure that counts is the edits run (patient, tumor and case edits). The
run is timed twice: with the embedded site/histology rules, and with the SEER site/histology
list (``../shared/reference/icdo3/seer_site_histology_validation_list_20220429.csv``, or the file
named by ``SEER_SITE_HISTOLOGY``) as an installed list would be used; loading the list is timed apart.
The sequence-number edit P007 is also timed alone (its share of the whole run).
"""
from __future__ import annotations

import collections
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry.demo import DemoGenerator  # noqa: E402
from registry.edits import all_edits, run_edits  # noqa: E402
from registry.sequence_numbers import disagreements  # noqa: E402
from staging_tables.icdo3 import read_site_histology  # noqa: E402

SEER_LIST = Path(os.environ.get("SEER_SITE_HISTOLOGY", Path(__file__).resolve().parents[2] / "shared" / "reference"
                                / "icdo3" / "seer_site_histology_validation_list_20220429.csv"))


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


def _time(cases: list[tuple[dict, list[dict]]], today: dt.date, site_histology) -> tuple[float, collections.Counter]:
    started = time.perf_counter()
    counts: collections.Counter = collections.Counter()
    for patient, patient_tumors in cases:
        for failure in run_edits(patient, patient_tumors, today=today, site_histology=site_histology):
            counts[failure.severity] += 1
    return time.perf_counter() - started, counts


def main(tumors: int = 100_000) -> None:
    started = time.perf_counter()
    cases = demo_cases(tumors)
    generated = time.perf_counter() - started
    all_edits()
    today = dt.date.today()
    total = sum(len(t) for _, t in cases)
    runs = [("embedded site/histology rules", None, 0.0)]
    if SEER_LIST.is_file():
        started = time.perf_counter()
        listed = read_site_histology(SEER_LIST)
        runs.append((f"SEER site/histology list ({listed.rows} rows)", listed, time.perf_counter() - started))
    print(f"{len(all_edits())} edits over {total} tumors of {len(cases)} patients; "
          f"generating the data took {generated:.2f} s")
    for label, listed, loading in runs:
        elapsed, counts = _time(cases, today, listed)
        print(f"  {label}: {elapsed:.2f} s ({total / elapsed:,.0f} tumors/s); {counts['error']} errors, "
              f"{counts['warning']} warnings" + (f"; reading the list took {loading:.2f} s" if listed else ""))
    started = time.perf_counter()
    flagged = sum(len(disagreements(patient_tumors)) for _, patient_tumors in cases)
    print(f"  P007 (sequence numbers) alone: {time.perf_counter() - started:.2f} s; {flagged} numbers disagree")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
