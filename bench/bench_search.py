"""Patient search latency on N demo patients (default 100,000): spelling-tolerant name search, as the
patient list runs it (score_by_name + one page of patients), plus exact date-of-birth and MRN look-ups.

    .venv/bin/python bench/bench_search.py [N] [--url DATABASE_URL]

Prints p50/p95/max in milliseconds over 200 searches with misspelled names drawn from the data.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-search-"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("patients", nargs="?", type=int, default=100_000)
    parser.add_argument("--url", default=None, help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-search-db-')}/registry.db"

    from sqlalchemy import select

    from abstracts.queries import PatientSearch, search_patients
    from registry.app import create_app
    from registry.audit import SYSTEM, operation
    from registry.cli import upgrade_database
    from registry.db import db_session
    from registry.demo import load_demo_data
    from registry.models import Patient

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        started = time.perf_counter()
        with operation(SYSTEM, "demo_data") as session:
            load_demo_data(session, args.patients, seed=7)
        print(f"loaded {args.patients} patients in {time.perf_counter() - started:.1f} s")
        rng = random.Random(3)
        sample = list(db_session.execute(select(Patient.name_last, Patient.name_first, Patient.date_of_birth,
                                                Patient.medical_record_number).where(
            Patient.id.in_([rng.randint(1, args.patients) for _ in range(args.searches)]))))

        def misspell(name: str) -> str:
            i = rng.randrange(1, len(name) - 1)
            return name[:i] + name[i + 1] + name[i] + name[i + 2:]

        def timed(criteria_list):
            times = []
            for criteria in criteria_list:
                t0 = time.perf_counter()
                rows, total = search_patients(criteria, page=1, per_page=50)
                times.append((time.perf_counter() - t0) * 1000)
            return times

        cases = {
            "misspelled last, first": [PatientSearch(name=f"{misspell(r.name_last)}, {r.name_first}") for r in sample],
            "misspelled last name only": [PatientSearch(name=misspell(r.name_last)) for r in sample],
            "date of birth": [PatientSearch(date_of_birth=r.date_of_birth) for r in sample],
            "medical record number": [PatientSearch(medical_record_number=r.medical_record_number) for r in sample],
        }
        timed(cases["misspelled last, first"][:10])
        print(f"| search ({db_session.get_bind().dialect.name}, {args.patients:,} patients) | p50 ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|")
        for label, criteria in cases.items():
            times = sorted(timed(criteria))
            p95 = times[int(len(times) * 0.95) - 1]
            print(f"| {label} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} |")


if __name__ == "__main__":
    main()
