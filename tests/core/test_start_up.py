"""The application starts without the analysis and migration libraries: every command line and
worker would otherwise load pandas and alembic first."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "lifelines", "matplotlib", "scipy", "weasyprint", "alembic")


def test_the_app_and_its_commands_load_without_the_heavy_libraries(tmp_path):
    script = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r})\n"
              "from registry.app import create_app\n"
              f"app = create_app({{'DATABASE_URL': 'sqlite:///{tmp_path / 'start.db'}'}})\n"
              "commands = sorted(app.cli.list_commands(None))\n"
              f"print(json.dumps([commands, [name for name in {HEAVY!r} if name in sys.modules]]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "REGISTRY_INSTANCE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    commands, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"naaccr", "survival", "db"} <= set(commands)
    assert loaded == []
