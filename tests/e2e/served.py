"""The application served by gunicorn the way `make run` does, for the browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn(env: dict[str, str]) -> Iterator[str]:
    """Serve wsgi:app on a free port with ``env``; yields the base URL and stops the server after."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--no-control-socket", "--bind",
                                f"127.0.0.1:{port}", "--workers", "1", "--threads", "4", "wsgi:app"],
                               cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("gunicorn did not start: " + process.stderr.read().decode()[-2000:])
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def serve_instance(folder: Path, *, demo_patients: int, users: Iterable[tuple[str, str]], password: str,
                   references: Iterable[tuple[str, Path]] = ()) -> Iterator[str]:
    """A fresh instance in ``folder`` (bootstrap, demo data, users, installed reference files), served by gunicorn.

    Skips where Chromium is missing, except on CI, where `make test` must have installed it.
    """
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs it as root")
        pytest.skip(f"{CHROMIUM} is not installed")
    env = os.environ | {"DATABASE_URL": f"sqlite:///{folder / 'registry.db'}", "REGISTRY_INSTANCE_DIR": str(folder),
                        "SECRET_KEY": "e2e-only-secret"}
    env.pop("REDIS_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["bootstrap", "--demo-patients", str(demo_patients)], cwd=PROJECT, env=env, check=True,
                   capture_output=True)
    for username, role in users:
        subprocess.run(flask + ["users", "create", username, "--role", role], cwd=PROJECT, env=env, check=True,
                       input=f"{password}\n{password}\n".encode(), capture_output=True)
    for kind, path in references:
        installed = subprocess.run(flask + ["reference", "install", kind, str(path)], cwd=PROJECT, env=env,
                                   capture_output=True, text=True)
        assert installed.returncode == 0, installed.stdout + installed.stderr
    yield from gunicorn(env)
