"""The process one job runs in when there is no Redis: ``python -m registry.jobs.child JOB_ID MODULE FD``.

The web process (:func:`registry.jobs._run_in_child`) pickles its configuration to this process's
standard input and reads progress as JSON lines from file descriptor ``FD``. ``MODULE`` is where the
job's kind is registered. With ``JOB_MEMORY_LIMIT_MB`` the process's address space is capped, so a
job that needs more fails with an out-of-memory error instead of pushing the machine into swap.
"""
from __future__ import annotations

import importlib
import json
import os
import pickle
import resource
import sys
from typing import IO


def _limit_memory(megabytes: int) -> None:
    if megabytes > 0:
        limit = megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run(job_id: int, module: str, channel: IO[str], config: dict) -> None:
    """Run job ``job_id`` in an app built from ``config``, reporting progress on ``channel``."""
    _limit_memory(int(config.get("JOB_MEMORY_LIMIT_MB") or 0))
    importlib.import_module(module)
    from registry.app import create_app
    from registry.jobs import execute

    def echo(percent: int, message: str) -> None:
        channel.write(json.dumps([percent, message]) + "\n")
        channel.flush()

    app = create_app(config)
    with app.app_context():
        execute(job_id, echo)


if __name__ == "__main__":
    with os.fdopen(int(sys.argv[3]), "w", encoding="utf-8") as given_channel:
        run(int(sys.argv[1]), sys.argv[2], given_channel, pickle.load(sys.stdin.buffer))
