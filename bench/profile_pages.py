"""Where the two slowest pages of ``bench_load.py`` spend their time: the abstract page and the misspelled-name
patient search, rendered by the application (WSGI test client, no network, one user) under cProfile.

    .venv/bin/python bench/profile_pages.py [--url DATABASE_URL] [--patients 2000] [--pages 100] [--top 25]

Builds a database with the project's demo loader (the official tables installed first, as ``make run`` and
``bench_load.py`` do; SQLite in a temporary folder unless ``--url`` names an empty database, which is reused when
it already holds ``--patients`` patients), signs in through the form as ``bench_load.py`` does, then requests
each page PAGES times for different abstracts (in progress first, then the newest) and different misspelled
names, after ten warm-up requests. Prints, per page, mean/p50/p95 in milliseconds (measured without the
profiler), the SQL statements per request, and the top cumulative functions of a second, profiled pass.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="profile-pages-"))
PASSWORD = "profile-pages-password-1"


def prepare(url: str, patients: int, limit: int) -> tuple[object, list[tuple[int, int, str, str]]]:
    """The application on a database holding ``patients`` demo patients, and ``limit`` abstracts to open: those in
    progress first (what ``bench_load.py`` opens), then the most recently diagnosed (the fullest abstracts)."""
    from sqlalchemy import func, select, text

    from registry.app import create_app
    from registry.audit import SYSTEM, operation
    from registry.auth.operations import create_user
    from registry.cli import upgrade_database
    from registry.db import db_session
    from registry.demo import load_demo_data
    from registry.models import Patient, Tumor, User, WorkflowState
    from registry.reference.cli import install_shipped_tables

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        have = db_session.scalar(select(func.count(Patient.id)))
        if have == 0:
            install_shipped_tables(lambda _line: None)
            started = time.perf_counter()
            with operation(SYSTEM, "demo_data") as session:
                load_demo_data(session, patients, seed=1)
            if not url.startswith("sqlite"):
                db_session.execute(text("ANALYZE"))
            db_session.commit()
            print(f"loaded {patients} demo patients in {time.perf_counter() - started:.0f} s", flush=True)
        elif have != patients:
            raise SystemExit(f"the database holds {have} patients, not {patients}: pass --patients {have}")
        if not db_session.scalar(select(User.id).where(User.username == "profile-registrar")):
            create_user("profile-registrar", PASSWORD, "registrar", actor=SYSTEM)
        columns = (Tumor.patient_id, Tumor.id, Patient.name_last, Patient.name_first)
        cases = [tuple(row) for row in db_session.execute(
            select(*columns).join(Patient, Patient.id == Tumor.patient_id)
            .order_by(Tumor.workflow_state != WorkflowState.IN_PROGRESS, Tumor.date_of_diagnosis.desc(), Tumor.id)
            .limit(limit))]
    return app, cases


def count_statements(app: object) -> list[int]:
    """A one-element counter of the SQL statements the application's engine runs."""
    from sqlalchemy import event
    counter = [0]

    @event.listens_for(app.extensions["registry_engine"], "before_cursor_execute")  # type: ignore[attr-defined]
    def _count(*_args: object) -> None:
        counter[0] += 1

    return counter


def misspelled(rng: random.Random, last: str) -> str:
    """Two neighbouring letters swapped, as ``bench_load.py`` types a name."""
    i = rng.randrange(1, max(len(last) - 1, 2))
    return last[:i] + last[i + 1:i + 2] + last[i:i + 1] + last[i + 2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help="a database (default: a new SQLite file)")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=100, help="requests per page, after ten warm-up ones")
    parser.add_argument("--top", type=int, default=25, help="cumulative functions listed per page")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='profile-pages-db-')}/registry.db"
    app, cases = prepare(url, args.patients, 4 * (args.pages + 10))
    statements = count_statements(app)
    client = app.test_client()  # type: ignore[attr-defined]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    signed_in = client.post("/login", data={"username": "profile-registrar", "password": PASSWORD,
                                            "csrf_token": token.group(1) if token else ""})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]

    rng = random.Random(5)
    chosen = rng.sample(cases, min(len(cases), args.pages + 10))
    paths = {
        "abstract": [f"/patients/{p}/tumors/{t}" for p, t, _, _ in chosen],
        "search": ["/patients?" + urlencode({"name": f"{misspelled(rng, last)},{first}"})
                   for _, _, last, first in chosen],
    }
    dialect = app.extensions["registry_engine"].dialect.name  # type: ignore[attr-defined]
    print(f"{dialect}, {args.patients:,} patients, {len(chosen) - 10} requests per page after 10 warm-up ones")

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    for name, urls in paths.items():
        times, counts = [], []
        for n, path in enumerate(urls):
            before, t0 = statements[0], time.perf_counter()
            get(path)
            if n >= 10:
                times.append((time.perf_counter() - t0) * 1000)
                counts.append(statements[0] - before)
        times.sort()
        p95 = times[max(int(round(0.95 * (len(times) - 1))), 0)]
        print(f"\n== {name}: mean {statistics.fmean(times):.1f} ms, p50 {statistics.median(times):.1f} ms, "
              f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms; SQL statements per request "
              f"min {min(counts)}, mean {statistics.fmean(counts):.1f}, max {max(counts)}")
        profile(lambda urls=urls: [get(path) for path in urls[10:]], args.top)


def profile(run: Callable[[], object], top: int) -> None:
    """Run ``run`` under cProfile and print the top cumulative functions."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
