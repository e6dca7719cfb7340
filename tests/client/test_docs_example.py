"""docs/api.md's "Example: import, export, survival" is run as written, against a served registry with demo data
and an administrator's real token: the documentation's script is the test, and a route it calls that the
application lacks fails it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, literal, select, update

from registry.audit import SYSTEM, operation
from registry.config import PROJECT_DIR
from registry.db import db_session
from registry.demo import load_demo_data
from registry.models import Patient
from tests.reference import REFERENCE_DIR

DOC = PROJECT_DIR / "docs" / "api.md"
SAMPLE = Path(REFERENCE_DIR) / "naaccr" / "samples" / "naaccr-xml-sample-v250-abstract-10.xml.gz"
#: What the script calls: (method, rule) of app.url_map; survival may still be the old /survival/ rule.
NEEDED = [("POST", ("/api/v1/naaccr/imports",)), ("POST", ("/api/v1/submissions",)),
          ("GET", ("/api/v1/submissions",)), ("GET", ("/api/v1/submissions/<int:submission_id>/file",)),
          ("GET", ("/api/v1/jobs/<int:job_id>",)), ("GET", ("/api/v1/jobs/<int:job_id>/result",)),
          ("GET", ("/api/v1/survival", "/api/v1/survival/"))]


def example_script() -> str:
    """The first Python block of the example's section."""
    text = DOC.read_text()
    section = text.split("## Example: import, export, survival", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def _missing_routes(app) -> list[str]:
    rules = {(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods or ()}
    return [f"{method} {rules_[0]}" for method, rules_ in NEEDED
            if not any((method, rule) in rules for rule in rules_)]


def test_the_example_calls_the_routes_the_run_waits_for():
    """The script compiles, and every API path it names is one NEEDED lists (so the route check below covers it)."""
    script = example_script()
    compile(script, "docs/api.md example", "exec")
    named = set(re.findall(r'"(/[a-z/]+)[/"]', script)) | {p.split("{")[0].rstrip("/") for p in
                                                          re.findall(r'f"(/[a-z/]+/)\{', script)}
    needed = {rule.removeprefix("/api/v1").split("<")[0].rstrip("/") for _, rules in NEEDED for rule in rules}
    assert named and named <= needed, named - needed


def test_the_documented_example_runs_against_a_served_registry(app, served, token, tmp_path):
    missing = _missing_routes(app)
    assert not missing, f"routes the docs/api.md example calls are not in app.url_map: {', '.join(missing)}"
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 300, seed=3)
        # The sample's Patient ID Numbers [20] are 00000001…, as the demo's: move the demo's out of their way.
        session.execute(update(Patient).values(patient_id_number=literal("9") + func.substr(
            Patient.patient_id_number, 2)))
    before = db_session.scalar(select(func.count(Patient.id)))
    _, plain = token("admin", "nightly-script")
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "REGISTRY_URL": served, "REGISTRY_TOKEN": plain, "NAACCR_FILE": str(SAMPLE),
           "OUT_DIR": str(out), "PYTHONPATH": str(PROJECT_DIR)}
    run = subprocess.run([sys.executable, "-c", example_script()], env=env, capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "import:" in run.stdout and re.search(r"submission \d+: [1-9]\d* tumors", run.stdout), run.stdout
    db_session.expire_all()
    assert db_session.scalar(select(func.count(Patient.id))) == before + 8, "the sample's 8 patients were imported"
    assert "8 patients read, 0 rejected" in run.stdout or "0 records rejected" in run.stdout, run.stdout
    again = [p for p in out.iterdir() if p.name.startswith("again-")]
    assert len(again) == 1 and again[0].read_bytes() == (out / again[0].name.removeprefix("again-")).read_bytes()
