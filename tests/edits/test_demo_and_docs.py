"""Demo data passes the edits; docs match the table."""
from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import pytest

from registry.demo import DemoGenerator
from registry.edits import run_edits
from registry.edits.docs import render
from tests.edits.cases import TODAY

ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture(scope="module")
def demo_failures() -> collections.Counter:
    generator = DemoGenerator(11, {"patient": 0, "tumor": 0, "follow_up_contact": 0, "patient_number": 0})
    counts: collections.Counter = collections.Counter()
    for _ in range(3000):
        record = generator.patient()
        tumors = [t | rx for t, rx in zip(record["tumor"], record["first_course_treatment"])]
        for failure in run_edits(record["patient"][0], tumors, today=TODAY):
            counts[(failure.edit_id, failure.severity)] += 1
    return counts


def test_demo_data_has_only_the_warnings_the_generator_intends(demo_failures):
    warnings = sum(n for (_, severity), n in demo_failures.items() if severity == "warning")
    assert warnings < 30, demo_failures


def test_demo_data_has_no_error_level_failures(demo_failures):
    assert not [key for key in demo_failures if key[1] == "error"]


def test_committed_docs_match_the_edit_table():
    committed = (ROOT / "docs" / "edits.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: python -m registry.edits.docs > docs/edits.md"


def test_docs_module_prints_the_page():
    result = subprocess.run([sys.executable, "-m", "registry.edits.docs"], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout == render()
