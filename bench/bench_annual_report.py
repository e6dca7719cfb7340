"""Time the PDF annual report over a registry of about 100,000 demo tumors (goal: < 30 s).

    .venv/bin/python bench/bench_annual_report.py                  # 94,300 patients ≈ 100k tumors
    .venv/bin/python bench/bench_annual_report.py 20000            # quicker
    BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/bench_annual_report.py

The demo database is built once (SQLite file under /tmp by default, kept for later runs); only
the report is timed, phase by phase as its progress messages arrive.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from registry.app import create_app  # noqa: E402
from registry.audit import SYSTEM, operation  # noqa: E402
from registry.cli import upgrade_database  # noqa: E402
from registry.db import db_session  # noqa: E402
from registry.demo import load_demo_data  # noqa: E402
from registry.models import Patient, Tumor  # noqa: E402

YEAR = 2024
AS_OF = dt.date(2026, 11, 27)


def main() -> None:
    patients = int(sys.argv[1]) if len(sys.argv) > 1 else 94_300
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/bench-annual-{patients}.db"
    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None,
                      "JOB_FILES_DIR": str(Path(tempfile.gettempdir()) / "bench-annual-files")})
    with app.app_context():
        if not db_session.scalar(select(func.count(Patient.id))):
            started = time.perf_counter()
            with operation(SYSTEM, "demo_data") as session:
                load_demo_data(session, patients, seed=1)
            print(f"demo data: {patients} patients in {time.perf_counter() - started:.1f} s (not part of the figure)")
        tumors = db_session.scalar(select(func.count(Tumor.id)))
        print(f"database: {url.split('?')[0]}, {tumors:,} tumors")
        from reports.annual_report.builder import build_report
        for run in (1, 2):
            marks: list[tuple[float, str]] = []
            started = time.perf_counter()

            def progress(_percent: int, message: str) -> None:
                marks.append((time.perf_counter() - started, message))

            output = Path(tempfile.gettempdir()) / f"annual-report-{YEAR}.pdf"
            summary = build_report(YEAR, output, as_of=AS_OF, progress=progress)
            total = time.perf_counter() - started
            print(f"run {run}: {total:.1f} s, {summary['pages']} pages, {summary['cases']:,} cases of {YEAR} "
                  f"({summary['analytic']:,} analytic) -> {output}")
            for (at, message), (until, _next) in zip(marks, [*marks[1:], (total, "")]):
                print(f"    {until - at:6.2f} s  {message}")


if __name__ == "__main__":
    main()
