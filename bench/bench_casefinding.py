"""Electronic casefinding speed: reportability screening of report texts, and intake of N generated
ORU^R01 messages (default 10,000, one file) into the suspense queue.

    .venv/bin/python bench/bench_casefinding.py [N] [--url DATABASE_URL] [--screen 5000]

Screening runs the shipped SEER/IMS keyword list over the sample report path1.txt (2.2 kB) and over the
generated reports' text; intake runs ``take_in`` on one file of N messages (parse, screen, suggest, match,
group, store, audit) into an empty database (default: a temporary SQLite file). Prints the figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-casefinding-"))
SAMPLE = (Path(__file__).resolve().parents[2] / "shared" / "reference" / "epath" / "reportability"
          / "imsweb-reportability-screener" / "samples" / "path1.txt")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("messages", nargs="?", type=int, default=10_000)
    parser.add_argument("--url", default=None, help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--screen", type=int, default=5000, help="reports screened for the screening figure")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-casefinding-db-')}/registry.db"

    from sqlalchemy import func, select

    from abstracts.epath.hl7v2 import read_messages
    from abstracts.epath.intake import take_in
    from abstracts.epath.sample import oru_messages
    from abstracts.epath.screening import screen
    from registry.app import create_app
    from registry.audit import SYSTEM
    from registry.cli import upgrade_database
    from registry.db import db_session
    from registry.models import CasefindingReport, SuspenseCase

    messages = oru_messages(args.messages)
    texts = [SAMPLE.read_text()] if SAMPLE.is_file() else []
    texts += [report.text for _raw, report in read_messages("\r".join(messages[:200]))]
    screen(texts[0])  # the keyword list is read once
    started = time.perf_counter()
    for i in range(args.screen):
        screen(texts[i % len(texts)])
    elapsed = time.perf_counter() - started
    if SAMPLE.is_file():
        t0 = time.perf_counter()
        for _ in range(1000):
            screen(texts[0])
        print(f"screening path1.txt (2.2 kB): {1000 / (time.perf_counter() - t0):,.0f} reports/s")
    print(f"screening {args.screen} reports (path1.txt and generated texts): {args.screen / elapsed:,.0f} reports/s")

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url})
    data = "\r".join(messages)
    with app.app_context():
        started = time.perf_counter()
        result = take_in(data, actor=SYSTEM, source="bench.hl7")
        elapsed = time.perf_counter() - started
        reports = db_session.scalar(select(func.count()).select_from(CasefindingReport))
        cases = db_session.scalar(select(func.count()).select_from(SuspenseCase))
    backend = url.split(":", 1)[0].split("+", 1)[0]
    print(f"intake of {args.messages} ORU^R01 messages ({len(data) / 1e6:.1f} MB) on {backend}: {elapsed:.1f} s "
          f"({args.messages / elapsed:,.0f} messages/s); {result.summary()}; {reports} reports on {cases} cases")


if __name__ == "__main__":
    main()
