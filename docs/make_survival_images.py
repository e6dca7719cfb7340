"""Regenerate the worked example of docs/survival.md: demo data in a throwaway SQLite
registry, the SSA life tables shipped with the official tables, then the same calls the Survival page and
``flask --app wsgi survival`` make. Prints the figures quoted in the text.

    .venv/bin/python docs/make_survival_images.py [--patients 20000]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["REGISTRY_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="survival-doc-")

from registry.app import create_app  # noqa: E402
from registry.audit import SYSTEM, operation  # noqa: E402
from registry.cli import upgrade_database  # noqa: E402
from registry.db import db_session  # noqa: E402
from registry.demo import load_demo_data  # noqa: E402
from reports.survival.cohorts import Cohort, cohort_frame  # noqa: E402
from registry.reference.cli import install_shipped_tables  # noqa: E402
from reports.survival.lifetables import load_life_table  # noqa: E402
from reports.survival.report import chart, compute  # noqa: E402
from reports.survival.store import recompute_survival  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    url = f"sqlite:///{os.environ['REGISTRY_INSTANCE_DIR']}/doc.db"
    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "SURVIVAL_END_POINT_YEAR": 2025})
    with app.app_context():
        install_shipped_tables(print)
        started = time.perf_counter()
        with operation(SYSTEM, "demo_data") as session:
            counts = load_demo_data(session, options.patients, seed=options.seed)
        print(f"demo data {counts} in {time.perf_counter() - started:.1f} s (survival months included)")
        started = time.perf_counter()
        with operation(SYSTEM, "survival_recompute") as session:
            print(recompute_survival(session), f"bulk recompute {time.perf_counter() - started:.1f} s")
        lifetable = load_life_table()
        breast = cohort_frame(db_session(), Cohort(sites=["39"], sexes=["2"]), end_point_year=2025)
        for measure, name in (("observed", "survival_breast_observed.png"), ("relative", "survival_breast_relative.png")):
            result = compute(breast, measure, by="stage", lifetable=lifetable)
            (ROOT / "docs" / "images" / name).write_bytes(chart(result, "png"))
            print(f"\n{result.measure.label} -> docs/images/{name}")
            figures = result.figures().pivot(index="group", columns="years", values="survival")
            print(figures.reindex(result.groups).round(3).to_string())
            print(result.at_risk().to_string())
            for note in result.notes:
                print("  " + note)


if __name__ == "__main__":
    main()
