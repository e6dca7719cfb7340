"""Time `demo-data` at 10k and 100k patients on a fresh SQLite file, and on PostgreSQL when
BENCH_POSTGRES_URL is set (its public schema is dropped and rebuilt).

    .venv/bin/python bench/bench_demo_data.py [--sizes 10000 100000] [--no-official-tables]

As `demo-data` does, the official tables shipped in staging_tables/official/ (eod_public 3.3 among them) are
installed first, so 2018+ tumors get EOD codes and derived stage; the table then gives the share of them
whose derived Summary Stage 2018 [762] is known (not 9). ``--no-official-tables`` loads without them.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-instance-"))

from sqlalchemy import create_engine, text  # noqa: E402

from registry.reference.official import install_official_tables  # noqa: E402
from registry.app import create_app  # noqa: E402
from registry.audit import SYSTEM, operation  # noqa: E402
from registry.cli import upgrade_database  # noqa: E402
from registry.db import db_session  # noqa: E402
from registry.demo import load_demo_data  # noqa: E402
from registry.models import Tumor  # noqa: E402


def known_stage_share() -> str:
    """Share of 2018+ tumors whose derived Summary Stage 2018 is known, as ``known/total (percent)``."""
    from sqlalchemy import func, select
    recent = Tumor.date_of_diagnosis >= "2018"
    total = db_session.scalar(select(func.count(Tumor.id)).where(recent))
    known = db_session.scalar(select(func.count(Tumor.id)).where(
        recent, Tumor.derived_summary_stage_2018.is_not(None), Tumor.derived_summary_stage_2018 != "9"))
    return f"{known}/{total} ({known / max(total, 1):.2%})"


def fresh_database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'bench.db'}"
        (folder / "bench.db").unlink(missing_ok=True)
    else:
        url = os.environ["BENCH_POSTGRES_URL"]
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--no-official-tables", action="store_true",
                        help="load without installing the official tables (no EOD coding)")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    print(f"# demo-data load, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    print("| database | patients | tumors | follow-up contacts | seconds | patients/s | derived SS2018 known |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            for size in args.sizes:
                url = fresh_database(kind, Path(folder))
                app = create_app({"DATABASE_URL": url})
                with app.app_context():
                    if not args.no_official_tables:
                        install_official_tables(actor=SYSTEM, store=Path(folder) / "reference")
                    started = time.perf_counter()
                    with operation(SYSTEM, "demo_data") as session:
                        counts = load_demo_data(session, size, seed=1)
                    elapsed = time.perf_counter() - started
                    known = "no bundle" if args.no_official_tables else known_stage_share()
                    db_session.remove()
                app.extensions["registry_engine"].dispose()
                print(f"| {kind} | {size} | {counts['tumor']} | {counts['follow_up_contact']} | {elapsed:.1f} | "
                      f"{size / elapsed:,.0f} | {known} |", flush=True)


if __name__ == "__main__":
    main()
