"""Abstract page latency with the full NAACCR item set: the page a registrar opens most, rendered by the
application (WSGI, no network) for 2023+ analytic tumors of N demo patients, with the official tables installed
as ``make run`` installs them (dictionaries, lookups, the EOD staging bundle, surgery tables).

    .venv/bin/python bench/bench_abstract_page.py [N] [--url DATABASE_URL] [--pages 200]

Prints p50/p95/max in milliseconds of GET /patients/<id>/tumors/<id> over PAGES different abstracts (after
ten warm-up pages), and the number of form fields on a page. Goal (issue 17): p95 under 150 ms.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-abstract-"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("patients", nargs="?", type=int, default=2000)
    parser.add_argument("--url", default=None, help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-abstract-db-')}/registry.db"

    from sqlalchemy import select

    from registry.app import create_app
    from registry.audit import SYSTEM, operation
    from registry.auth.operations import create_user
    from registry.cli import upgrade_database
    from registry.reference.cli import install_shipped_tables
    from registry.db import db_session
    from registry.demo import load_demo_data
    from registry.models import Tumor

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        install_shipped_tables(lambda _line: None)
        started = time.perf_counter()
        with operation(SYSTEM, "demo_data") as session:
            load_demo_data(session, args.patients, seed=7)
        print(f"loaded {args.patients} patients in {time.perf_counter() - started:.1f} s")
        create_user("bench-registrar", "bench-password-9", "registrar", actor=SYSTEM)
        tumors = db_session.execute(select(Tumor.patient_id, Tumor.id).where(
            Tumor.date_of_diagnosis >= "2023", Tumor.class_of_case.in_(["00", "10", "14", "20", "22"]))).all()
        rng = random.Random(5)
        chosen = rng.sample(tumors, min(len(tumors), args.pages + 10))
    client = app.test_client()
    signed_in = client.post("/login", data={"username": "bench-registrar", "password": "bench-password-9"})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]
    times, fields = [], 0
    for n, (patient_id, tumor_id) in enumerate(chosen):
        t0 = time.perf_counter()
        response = client.get(f"/patients/{patient_id}/tumors/{tumor_id}")
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, response.status_code
        if n >= 10:
            times.append(elapsed)
            fields = max(fields, len(re.findall(r"<(?:input|select|textarea)\b", response.get_data(as_text=True))))
    times.sort()
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    print(f"| abstract page ({app.extensions['registry_engine'].dialect.name}, {args.patients:,} patients, "
          f"{len(times)} pages, up to {fields} form fields) | p50 {statistics.median(times):.1f} ms | "
          f"p95 {p95:.1f} ms | max {times[-1]:.1f} ms |")


if __name__ == "__main__":
    main()
