"""Server time of the screens a registry opens every day (issue 22): the home page, each work queue, a patient,
an abstract, and the administrators' users and audit pages, rendered by the application (WSGI test client, no
network: the time is the server's own) on a database of N demo patients.

    .venv/bin/python bench/bench_pages.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages \\
        [--patients 100000] [--requests 100] [--explain]

The database is migrated and filled once with the project's demo loader (the official tables installed first, as
``make run`` does; then some abstracts in progress returned, assigned or with edit errors, so that every queue
lists something), and reused on later runs that ask for the same size. A registrar and an
administrator sign in through the form. Each page is requested REQUESTS times after five warm-up requests
(patients and abstracts differ from request to request; queues are asked sorted and paged as people click them).
Prints per page p50, p95 and max in milliseconds and the SQL statements per request; ``--explain`` also prints
the statements of one request of each page that took longest, with PostgreSQL's EXPLAIN ANALYZE.
Goal: p95 under 100 ms for the queues, patient, abstract and admin pages.
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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-pages-"))
PASSWORD = "bench-pages-password-1"


def prepare(url: str, patients: int) -> object:
    """The application on a database holding ``patients`` demo patients (loaded when it is empty)."""
    from sqlalchemy import func, select, text

    from registry.app import create_app
    from registry.audit import SYSTEM, operation
    from registry.auth.operations import create_user
    from registry.cli import upgrade_database
    from registry.db import db_session
    from registry.demo import load_demo_data
    from registry.models import Patient, Tumor, User
    from registry.reference.cli import install_shipped_tables

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "PROPAGATE_EXCEPTIONS": True})
    with app.app_context():
        have = db_session.scalar(select(func.count(Patient.id)))
        if have == 0:
            install_shipped_tables(lambda _line: None)
            started = time.perf_counter()
            with operation(SYSTEM, "demo_data") as session:
                load_demo_data(session, patients, seed=1)
            print(f"loaded {patients:,} demo patients in {time.perf_counter() - started:.0f} s", flush=True)
        elif have != patients:
            raise SystemExit(f"the database holds {have} patients, not {patients}: pass --patients {have}")
        for name, role in (("bench-pages-registrar", "registrar"), ("bench-pages-admin", "admin")):
            if not db_session.scalar(select(User.id).where(User.username == name)):
                create_user(name, PASSWORD, role, actor=SYSTEM)
        registrar = db_session.scalar(select(User.id).where(User.username == "bench-pages-registrar"))
        if not db_session.scalar(select(func.count(Tumor.id)).where(Tumor.assigned_to_id == registrar)):
            _spread_workflow(db_session, registrar)
        if not url.startswith("sqlite"):
            db_session.commit()
            with app.extensions["registry_engine"].connect().execution_options(  # type: ignore[attr-defined]
                    isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
        db_session.commit()
    return app


def _spread_workflow(session: object, registrar: int) -> None:
    """Give the queues demo data leaves empty something to list: every tenth abstract in progress returned with a
    reviewer's comment, every fifth with edit errors, and every third assigned to the registrar."""
    from sqlalchemy import insert, select, update

    from registry.models import AbstractEditStatus, Tumor, WorkflowState
    from registry.models.patient import utcnow
    open_ids = list(session.scalars(select(Tumor.id).where(  # type: ignore[attr-defined]
        Tumor.workflow_state == WorkflowState.IN_PROGRESS).order_by(Tumor.id)))
    for start in range(0, len(open_ids), 5000):
        batch = open_ids[start:start + 5000]
        session.execute(update(Tumor).where(Tumor.id.in_(batch[::10]))  # type: ignore[attr-defined]
                        .values(workflow_comment="Please recheck the grade."))
        session.execute(update(Tumor).where(Tumor.id.in_(batch[1::3]))  # type: ignore[attr-defined]
                        .values(assigned_to_id=registrar))
    now = utcnow()
    rows = [{"tumor_id": tumor_id, "errors": 2, "warnings": 1, "failures": [], "checked_at": now}
            for tumor_id in open_ids[2::5]]
    if rows:
        session.execute(insert(AbstractEditStatus), rows)  # type: ignore[attr-defined]
    session.commit()  # type: ignore[attr-defined]


def signed_in(app: object, username: str) -> object:
    client = app.test_client()  # type: ignore[attr-defined]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": token.group(1) if token else ""})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return client


def pages(app: object, requests: int) -> dict[str, tuple[str, list[str]]]:
    """{page: (who asks, the paths to ask)}, each path list ``requests + 5`` long."""
    from sqlalchemy import select

    from abstracts.queries import QUEUES
    from registry.db import db_session
    from registry.models import Patient, Tumor
    n = requests + 5
    rng = random.Random(5)
    with app.app_context():  # type: ignore[attr-defined]
        patient_ids = list(db_session.scalars(select(Patient.id)))
        tumors = [tuple(row) for row in db_session.execute(select(Tumor.patient_id, Tumor.id)
                                                           .where(Tumor.date_of_diagnosis >= "2023"))]
    sorts = ["", "?sort=patient", "?sort=updated&dir=desc", "?sort=diagnosed", "?page=2", "?sort=site&page=3"]
    chosen = {
        "home": ("registrar", ["/"] * n),
        "patient": ("registrar", [f"/patients/{p}" for p in rng.sample(patient_ids, n)]),
        "abstract": ("registrar", [f"/patients/{p}/tumors/{t}" for p, t in rng.sample(tumors, n)]),
        "admin users": ("admin", ["/admin/users"] * n),
        "audit": ("admin", ["/admin/audit/", "/admin/audit/?page=2"] * (n // 2 + 1)),
    }
    for name in QUEUES:
        chosen[f"queue {name}"] = ("registrar", [f"/queue/{name}{sorts[i % len(sorts)]}" for i in range(n)])
    return {page: (who, paths[:n]) for page, (who, paths) in chosen.items()}


def statement_log(app: object) -> list[str]:
    """Every SQL statement the application's engine runs, with its parameters bound, appended to a list."""
    from sqlalchemy import event
    seen: list[str] = []

    @event.listens_for(app.extensions["registry_engine"], "before_cursor_execute")  # type: ignore[attr-defined]
    def _log(_conn: object, cursor: object, statement: str, parameters: object, *_rest: object) -> None:
        seen.append((statement, parameters))  # type: ignore[arg-type]

    return seen


def measure(get: Callable[[str], None], paths: list[str], log: list) -> tuple[list[float], list[int], list]:
    times, counts, slowest, worst = [], [], 0.0, []
    for n, path in enumerate(paths):
        before, t0 = len(log), time.perf_counter()
        get(path)
        elapsed = (time.perf_counter() - t0) * 1000
        if n >= 5:
            times.append(elapsed)
            counts.append(len(log) - before)
            if elapsed > slowest:
                slowest, worst = elapsed, log[before:]
        del log[:]
    return times, counts, worst


def explain(app: object, statements: list) -> None:
    """EXPLAIN ANALYZE of the statements of the slowest request (PostgreSQL), slowest statement first."""
    engine = app.extensions["registry_engine"]  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        return
    timed = []
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            took = float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))
            timed.append((took, statement, plan))
        raw.rollback()
    for took, statement, plan in sorted(timed, key=lambda row: row[0], reverse=True)[:3]:
        print(f"  -- {took:.1f} ms: {' '.join(statement.split())[:400]}\n{plan}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help="a database (default: a new SQLite file)")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100, help="requests per page, after five warm-up ones")
    parser.add_argument("--only", default="", help="measure only the pages whose name contains this")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest request's statements")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-pages-db-')}/registry.db"
    app = prepare(url, args.patients)
    log = statement_log(app)
    clients = {"registrar": signed_in(app, "bench-pages-registrar"), "admin": signed_in(app, "bench-pages-admin")}
    dialect = app.extensions["registry_engine"].dialect.name  # type: ignore[attr-defined]
    print(f"{dialect}, {args.patients:,} patients, {args.requests} requests per page after 5 warm-up ones; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work on the machine slows pages)\n")
    print("| page | p50 ms | p95 ms | max ms | SQL statements per request |\n|---|---:|---:|---:|---:|")
    for name, (who, paths) in pages(app, args.requests).items():
        if args.only not in name:
            continue
        client = clients[who]

        def get(path: str, client: object = client) -> None:
            response = client.get(path)  # type: ignore[attr-defined]
            assert response.status_code == 200, (path, response.status_code)

        times, counts, worst = measure(get, paths, log)
        times.sort()
        p95 = times[max(int(round(0.95 * (len(times) - 1))), 0)]
        low, high = min(counts), max(counts)
        print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} | "
              f"{low if low == high else f'{low}-{high}'} |", flush=True)
        if args.explain:
            explain(app, worst)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
