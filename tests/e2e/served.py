"""The application served by gunicorn the way `make run` does, for the browser tests."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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
