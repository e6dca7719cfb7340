"""Peak memory and problems of the issue-21 attack: one Patient holding millions of ``race5`` Items, gzipped.

    .venv/bin/python bench/bench_hostile_file.py              # 3,000,000 repeats (the issue's file)
    .venv/bin/python bench/bench_hostile_file.py 1000000      # quicker
    BENCH_ROOT=/path/to/an/older/checkout .venv/bin/python bench/bench_hostile_file.py   # the same file, older code

The file is built under the temporary directory; the reader validates it in a fresh process per run,
so the peak resident size (``ru_maxrss``) is this read's alone. Figures go to docs/benchmarks.md.
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parent.parent)
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<NaaccrData baseDictionaryUri='
        '"http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A" specificationVersion="1.8" '
        'xmlns="http://naaccr.org/naaccrxml">\n<Patient>\n<Item naaccrId="patientIdNumber">00000001</Item>\n')
READ = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from registry.naaccr.reader import validate
from tests.reference import REFERENCE_DIR
dictionary = REFERENCE_DIR / "naaccr" / "dictionaries" / "naaccr-dictionary-250.xml"
started = time.perf_counter()
report = validate(sys.argv[1], {"http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml": dictionary})
print(json.dumps({"problems": len(report.problems), "first": str(report.problems[0]) if report.problems else "",
                  "seconds": round(time.perf_counter() - started, 1),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def build(path: Path, repeats: int) -> None:
    block = b'<Item naaccrId="race5">01</Item>\n' * 10_000
    with gzip.open(path, "wb") as out:
        out.write(HEAD.encode())
        for _ in range(repeats // 10_000):
            out.write(block)
        out.write(b'<Tumor><Item naaccrId="primarySite">C509</Item></Tumor>\n</Patient>\n</NaaccrData>\n')


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
    path = Path(tempfile.gettempdir()) / f"bench-race5-{repeats}.xml.gz"
    if not path.exists():
        build(path, repeats)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", READ, str(path), str(ROOT)], check=True, capture_output=True,
                         text=True).stdout
    figures = json.loads(out)
    print(f"{path.name}: {path.stat().st_size // 1024} KB gzipped, {repeats:,} race5 Items in one Patient")
    print(f"  problems {figures['problems']:,}; first: {figures['first'][:120]}")
    print(f"  peak RSS {figures['peak_mb']:,} MB; read in {figures['seconds']} s "
          f"({time.perf_counter() - started:.1f} s with the interpreter's start)")


if __name__ == "__main__":
    main()
