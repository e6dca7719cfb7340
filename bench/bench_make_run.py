"""Time `make run` on a fresh clone, from the command to the first page served.

Clones this repository's HEAD into a temporary folder (no .venv, no instance/ carried over),
runs `make run` there and polls http://127.0.0.1:5000/login until it answers 200, then stops the
server and prints how long each phase took: creating the virtual environment and installing the
lock file, bootstrap (migrations, official tables, demo data, admin login), and the first page.
Packages come from pip's cache when it holds them, as on a machine that installed them before;
`--no-cache` makes pip download everything.

    .venv/bin/python bench/bench_make_run.py [--no-cache] [--keep]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL = "http://127.0.0.1:5000/login"


def _answers() -> bool:
    try:
        with urllib.request.urlopen(URL, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cache", action="store_true", help="let pip download every package")
    parser.add_argument("--keep", action="store_true", help="keep the clone for a look afterwards")
    parser.add_argument("--timeout", type=float, default=1200, help="give up after this many seconds")
    args = parser.parse_args()
    if _answers():
        sys.exit(f"something already serves {URL}; stop it first")
    folder = Path(tempfile.mkdtemp(prefix="bench-make-run-"))
    clone = folder / "registry"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REGISTRY_INSTANCE_DIR", "VIRTUAL_ENV")}
    if args.no_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    started = time.perf_counter()
    marks: dict[str, float] = {}
    with (folder / "make-run.log").open("w") as log:
        server = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            os.set_blocking(server.stdout.fileno(), False)
            while time.perf_counter() - started < args.timeout:
                for line in iter(server.stdout.readline, ""):
                    log.write(line)
                    if "bootstrap" in line and "installed" not in marks:
                        marks["installed"] = time.perf_counter() - started
                    if "Sign in at" in line:
                        marks["bootstrapped"] = time.perf_counter() - started
                if server.poll() is not None:
                    sys.exit(f"make run ended with exit {server.returncode}; see {folder / 'make-run.log'}")
                if _answers():
                    marks["first page"] = time.perf_counter() - started
                    break
                time.sleep(0.2)
            else:
                sys.exit(f"no page within {args.timeout:.0f} s; see {folder / 'make-run.log'}")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, pip cache {'off' if args.no_cache else 'on'}")
    for phase, seconds in marks.items():
        print(f"{phase:>14}: {seconds:6.1f} s after `make run`")
    if args.keep:
        print(f"clone kept in {clone}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
