"""Time a Safe Harbor research release of about 100,000 demo tumors (goal: < 10 s).

    .venv/bin/python bench/bench_research.py                  # 94,300 patients ≈ 100k tumors
    .venv/bin/python bench/bench_research.py 20000            # quicker
    BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/bench_research.py

The demo database is built once (SQLite file under /tmp, kept for later runs); only the release
is timed: every tumor, every variable Safe Harbor releases, CSV and Parquet, zip and release log
(study-id key included).
"""
from __future__ import annotations

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


def main() -> None:
    patients = int(sys.argv[1]) if len(sys.argv) > 1 else 94_300
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/bench-research-{patients}.db"
    upgrade_database(url)
    folder = Path(tempfile.mkdtemp(prefix="bench-research-"))
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "JOB_FILES_DIR": str(folder)})
    with app.app_context():
        if not db_session.scalar(select(func.count(Patient.id))):
            started = time.perf_counter()
            with operation(SYSTEM, "demo_data") as session:
                load_demo_data(session, patients, seed=1)
            print(f"demo data: {patients} patients in {time.perf_counter() - started:.1f} s (not part of the figure)")
        tumors = db_session.scalar(select(func.count(Tumor.id)))
        print(f"database: {url.split('?')[0]}, {tumors:,} tumors")
        from reports.research.export import ReleaseRequest, create_release
        for file_format in ("csv", "csv", "parquet"):
            started = time.perf_counter()
            release = create_release(ReleaseRequest(file_format=file_format), actor=SYSTEM,
                                     output=folder / f"release-{file_format}.zip")
            elapsed = time.perf_counter() - started
            size = Path(release.file_path).stat().st_size / 1e6
            print(f"{file_format:8} {release.row_count:,} tumors x {len(release.variables)} variables: "
                  f"{elapsed:.2f} s ({size:.1f} MB zip)")


if __name__ == "__main__":
    main()
