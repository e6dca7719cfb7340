"""Load test: gunicorn (several workers) on PostgreSQL with N demo patients, driven by simulated registrars.

    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_load \\
        .venv/bin/python bench/bench_load.py [--patients 100000] [--workers 4] [--users 50] [--duration 60]

1. prepares the database (created when missing, migrated, N demo patients loaded once and reused on
   later runs, one account per simulated registrar);
2. starts ``gunicorn --no-control-socket -w WORKERS`` on 127.0.0.1 only;
3. runs the driver in a second process: USERS threads, each a registrar who signs in through the form
   and then repeats a case — search a (misspelled) name, open the patient, open an abstract in progress,
   run the edits on the form, save the abstract — with a think time between clicks, until DURATION
   seconds or MAX_REQUESTS requests, whichever comes first;
4. prints throughput, p50/p95/p99 latency per action and overall, and every error (5xx, refused
   connection, unexpected status). A 409 on save (two registrars on one abstract) is counted apart.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-load-password-1"
ACTIONS = ("sign_in", "search", "open_patient", "open_abstract", "run_edits", "save_abstract")


# --- preparation (this process) ---------------------------------------------------------------

def prepare(url: str, patients: int, users: int, work_file: Path) -> None:
    from sqlalchemy import create_engine, func, select, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()

    os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-load-"))
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
        install_shipped_tables(lambda _line: None)  # as `make run` does: the full abstract, staged
        have = db_session.scalar(select(func.count(Patient.id)))
        if have == 0:
            started = time.perf_counter()
            with operation(SYSTEM, "demo_data") as session:
                load_demo_data(session, patients, seed=1)
            db_session.execute(text("ANALYZE"))
            db_session.commit()
            print(f"loaded {patients} demo patients in {time.perf_counter() - started:.0f} s", flush=True)
        elif have != patients:
            raise SystemExit(f"{target.database} holds {have} patients, not {patients}: drop it or pass --patients {have}")
        for n in range(1, users + 1):
            name = f"bench-registrar-{n:02d}"
            if not db_session.scalar(select(User.id).where(User.username == name)):
                create_user(name, PASSWORD, "registrar", actor=SYSTEM)
        rng = random.Random(5)
        cases = [list(row) for row in db_session.execute(
            select(Tumor.patient_id, Tumor.id, Patient.name_last, Patient.name_first)
            .join(Patient, Patient.id == Tumor.patient_id)
            .where(Tumor.workflow_state == WorkflowState.IN_PROGRESS).order_by(Tumor.id))]
        rng.shuffle(cases)
        work_file.write_text(json.dumps({"cases": cases[:5000], "patients": have}))
    app.extensions["registry_engine"].dispose()


# --- the driver (second process) ---------------------------------------------------------------

class FormFields(HTMLParser):
    """Input, select and textarea values of the form with ``form_id``."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.values, self.select, self.textarea = form_id, False, {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in {"submit", "checkbox"}:
            self.values.setdefault(a["name"], a.get("value") or "")
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.values[self.textarea] = ""
        elif tag == "select":
            self.select = a.get("name")
            self.values[self.select] = ""
        elif tag == "option" and self.select and "selected" in a:
            self.values[self.select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data):
        if self.inside and self.textarea:
            self.values[self.textarea] += data


class Browser:
    """One keep-alive connection with a cookie jar, timing every request."""

    def __init__(self, port: int, record):
        self.port, self.record, self.cookies = port, record, SimpleCookie()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, action: str, method: str, path: str, form: dict | None = None,
                expect: tuple[int, ...] = (200,)) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v.value}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.record(action, time.perf_counter() - started, 0, f"{type(exc).__name__}: {exc}")
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0, ""
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(header)
        problem = None if response.status in expect else f"{method} {path}: {response.status}"
        self.record(action, elapsed, response.status, problem)
        return response.status, text


def registrar(n: int, port: int, cases: list, clock: dict, think: float, budget, record, seed: int) -> None:
    """Sign in, wait until every registrar has, then work cases until the deadline."""
    rng = random.Random(seed)
    browser = Browser(port, record)
    try:
        status, page = browser.request("sign_in", "GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if token:
            browser.request("sign_in", "POST", "/login", {"username": f"bench-registrar-{n:02d}",
                                                          "password": PASSWORD, "csrf_token": token.group(1)},
                            expect=(302,))
    finally:
        clock["barrier"].wait()
    deadline = clock["deadline"]

    def pause() -> bool:
        time.sleep(min(rng.expovariate(1 / think), think * 5) if think else 0)
        return time.time() < deadline and budget()

    while pause():
        patient_id, tumor_id, last, first = cases[rng.randrange(len(cases))]
        i = rng.randrange(1, max(len(last) - 1, 2))
        misspelled = last[:i] + last[i + 1:i + 2] + last[i:i + 1] + last[i + 2:]
        browser.request("search", "GET", "/patients?" + urlencode({"name": f"{misspelled},{first}"}))
        if not pause():
            break
        browser.request("open_patient", "GET", f"/patients/{patient_id}")
        if not pause():
            break
        status, page = browser.request("open_abstract", "GET", f"/patients/{patient_id}/tumors/{tumor_id}")
        if status != 200:
            continue
        parser = FormFields("abstract-form")
        parser.feed(page)
        form = parser.values
        if not pause():
            break
        browser.request("run_edits", "POST", f"/patients/{patient_id}/tumors/{tumor_id}/check", form)
        if not pause():
            break
        form["remarks"] = f"load test note {rng.randrange(10**6)}"
        browser.request("save_abstract", "POST", f"/patients/{patient_id}/tumors/{tumor_id}", form,
                        expect=(302, 409))


def drive(args: argparse.Namespace) -> None:
    work = json.loads(Path(args.drive).read_text())
    samples: list[tuple[str, float, int, str | None]] = []
    lock = threading.Lock()
    count = [0]

    def record(action, elapsed, status, problem):
        with lock:
            samples.append((action, elapsed, status, problem))
            count[0] += 1

    def budget() -> bool:
        return count[0] < args.max_requests

    clock: dict = {}

    def start_clock() -> None:
        clock["started"] = time.time()
        clock["deadline"] = clock["started"] + args.duration

    clock["barrier"] = threading.Barrier(args.users, action=start_clock)
    threads = [threading.Thread(target=registrar, args=(n, args.port, work["cases"], clock, args.think, budget,
                                                        record, 1000 + n), daemon=True)
               for n in range(1, args.users + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.duration + 120)
    elapsed = time.time() - clock["started"]
    print(json.dumps({"elapsed": elapsed, "samples": samples}))


# --- orchestration -------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, workers: int, timeout: float = 120) -> None:
    """Until the sign-in page answers several times in a row (every worker has booted, most likely)."""
    until, answered = time.time() + timeout, 0
    while time.time() < until and answered < workers * 3:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/login")
            answered += conn.getresponse().status == 200
            conn.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.5)
    if answered < workers * 3:
        raise SystemExit(f"gunicorn did not answer on 127.0.0.1:{port} within {timeout} s")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(p / 100 * (len(ordered) - 1))), len(ordered) - 1)] * 1000 if ordered else 0.0


def report(result: dict, args: argparse.Namespace) -> None:
    samples = [s for s in result["samples"] if s[0] != "sign_in"]
    errors = [s for s in result["samples"] if s[3] and not (s[0] == "save_abstract" and s[2] == 409)]
    conflicts = sum(1 for s in samples if s[0] == "save_abstract" and s[2] == 409)
    print(f"{args.users} registrars, {args.workers} gunicorn workers, think time {args.think} s (mean), "
          f"{result['elapsed']:.1f} s")
    print(f"{'action':14} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for action in ACTIONS[1:] + ("all",):
        times = [s[1] for s in samples if action == "all" or s[0] == action]
        if times:
            print(f"{action:14} {len(times):8d} {percentile(times, 50):8.1f} {percentile(times, 95):8.1f} "
                  f"{percentile(times, 99):8.1f} {max(times) * 1000:8.1f}")
    print(f"throughput {len(samples) / result['elapsed']:.1f} requests/s (sign-ins excluded); "
          f"errors {len(errors)}; save conflicts (409) {conflicts}")
    for error in errors[:20]:
        print("  error:", error[0], error[3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="PostgreSQL URL (default $BENCH_POSTGRES_URL)")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread when > 1)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a registrar's clicks")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args)
        return
    if not args.url or not args.url.startswith("postgresql"):
        raise SystemExit("give a PostgreSQL URL with --url or BENCH_POSTGRES_URL")
    if urlsplit(args.url.replace("+psycopg", "")).hostname not in (None, "", "127.0.0.1", "localhost"):
        raise SystemExit("the load test only runs against a local database")
    work_file = Path(tempfile.mkdtemp(prefix="bench-load-")) / "work.json"
    prepare(args.url, args.patients, args.users, work_file)

    port = _free_port()
    instance = tempfile.mkdtemp(prefix="bench-load-instance-")
    env = dict(os.environ, DATABASE_URL=args.url, REGISTRY_INSTANCE_DIR=instance, SECRET_KEY="bench-load-secret")
    env.pop("REDIS_URL", None)
    command = [str(Path(sys.executable).parent / "gunicorn"), "--no-control-socket", "-w", str(args.workers),
               "--threads", str(args.threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        _wait_for(port, args.workers)
        time.sleep(2)
        driver = subprocess.run([sys.executable, __file__, "--drive", str(work_file), "--port", str(port),
                                 "--users", str(args.users), "--duration", str(args.duration), "--think",
                                 str(args.think), "--max-requests", str(args.max_requests)],
                                capture_output=True, text=True, timeout=args.duration + 180)
        if driver.returncode != 0:
            raise SystemExit(f"driver failed: {driver.stderr[-2000:]}")
        print("command:", " ".join(command))
        report(json.loads(driver.stdout), args)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
