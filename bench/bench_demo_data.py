"""Time `demo-data` at 10k and 100k patients on a fresh SQLite file, and on PostgreSQL when
BENCH_POSTGRES_URL is set (its public schema is dropped and rebuilt).

    .venv/bin/python bench/bench_demo_data.py [--sizes 10000 100000]
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

from registry.app import create_app  # noqa: E402
from registry.audit import SYSTEM, operation  # noqa: E402
from registry.cli import upgrade_database  # noqa: E402
from registry.demo import load_demo_data  # noqa: E402


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
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_POSTGRES_URL") else [])
    print(f"# demo-data load, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    print("| database | patients | tumors | follow-up contacts | seconds | patients/s |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            for size in args.sizes:
                url = fresh_database(kind, Path(folder))
                app = create_app({"DATABASE_URL": url})
                with app.app_context():
                    started = time.perf_counter()
                    with operation(SYSTEM, "demo_data") as session:
                        counts = load_demo_data(session, size, seed=1)
                    elapsed = time.perf_counter() - started
                app.extensions["registry_engine"].dispose()
                print(f"| {kind} | {size} | {counts['tumor']} | {counts['follow_up_contact']} | {elapsed:.1f} | "
                      f"{size / elapsed:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
