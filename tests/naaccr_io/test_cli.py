"""The commands other tools call by name: exit codes and what they print."""
from __future__ import annotations

import csv

from sqlalchemy import func, select

from registry.db import db_session
from registry.models import AuditEntry, Patient, Submission
from tests.naaccr_io.conftest import NAACCR_DIR, SAMPLES_DIR

VALID = NAACCR_DIR / "validity" / "valid" / "valid_standard-file-2.xml"
TOO_LONG = NAACCR_DIR / "validity" / "invalid_library_only" / "invalid_value-to-long-1.xml"
GARBAGE = NAACCR_DIR / "validity" / "invalid" / "invalid_garbage-1.xml"
NO_NAMESPACE = NAACCR_DIR / "validity" / "invalid_relaxed" / "invalid_default-namespace-missing-1.xml"


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["naaccr", *map(str, args)])


def test_validate_exit_codes(app, install_dictionaries):
    install_dictionaries("240", "250")
    valid = _run(app, "validate", VALID)
    assert valid.exit_code == 0, valid.output
    assert "valid" in valid.output
    invalid = _run(app, "validate", TOO_LONG)
    assert invalid.exit_code == 1
    assert "line " in invalid.output and "too long" in invalid.output
    unreadable = _run(app, "validate", GARBAGE)
    assert unreadable.exit_code == 2 and "unreadable" in unreadable.output


def test_validate_relaxed_accepts_a_file_without_the_naaccr_namespace(app):
    missing = NAACCR_DIR / "validity" / "invalid_relaxed" / "invalid_default-namespace-missing-1.xml"
    strict = _run(app, "validate", missing)
    assert strict.exit_code == 1 and "NAACCR namespace" in strict.output
    relaxed = _run(app, "validate", "--relaxed", missing)
    assert relaxed.exit_code == 0 and ": valid," in relaxed.output


def test_import_and_its_dry_run_agree_with_validate_and_relaxed_imports_what_relaxed_validate_accepts(app, dictionaries):
    assert _run(app, "validate", NO_NAMESPACE).exit_code == 1
    for dry_run in (("--dry-run",), ()):
        refused = _run(app, "import", *dry_run, NO_NAMESPACE)
        assert refused.exit_code == 2, refused.output
        assert "NAACCR namespace" in refused.output and "no record of it is imported" in refused.output
        assert "read 0 patients" in refused.output
        assert db_session.scalar(select(func.count(Patient.id))) == 0
    relaxed = _run(app, "import", "--relaxed", NO_NAMESPACE)
    assert relaxed.exit_code == 0 and "0 records rejected" in relaxed.output, relaxed.output
    assert db_session.scalar(select(func.count(Patient.id))) == 1


def test_validate_without_dictionaries_says_what_to_install(app, no_reference_tables):
    result = _run(app, "validate", VALID)
    assert result.exit_code == 2 and "reference install naaccr-dictionary" in result.output


def test_import_dry_run_then_import_then_export(app, dictionaries, tmp_path):
    sample = SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-10.xml.gz"
    dry = _run(app, "import", sample, "--dry-run", "--report", tmp_path / "dry.csv")
    assert dry.exit_code == 0, dry.output
    assert "would import" in dry.output and db_session.scalar(select(func.count(Patient.id))) == 0
    done = _run(app, "import", sample, "--report", tmp_path / "report.csv")
    assert done.exit_code == 0, done.output
    assert db_session.scalar(select(func.count(Patient.id))) == 8
    assert list(csv.reader((tmp_path / "report.csv").open())) == [
        ["line", "patient", "tumor", "patient_id_number", "item", "reason", "outcome", "rule_step"]]
    assert db_session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.username == "naaccr-import",
                                                                     AuditEntry.action == "naaccr_import:create")) > 8

    held = _run(app, "export", "--output", tmp_path / "held.xml", "--version", "260", "--record-type", "I")
    assert held.exit_code == 0 and held.output.count("abstract in progress") == 10, held.output
    out = tmp_path / "state.xml.gz"
    exported = _run(app, "export", "--output", out, "--version", "260", "--record-type", "I", "--include-incomplete")
    assert exported.exit_code == 0, exported.output
    submission = db_session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert (submission.file_name, submission.tumor_count, submission.record_type) == ("state.xml.gz", 10, "I")
    assert submission.include_incomplete and "test file" in exported.output
    assert _run(app, "validate", out).exit_code == 0


def test_import_of_an_unreadable_file_exits_2(app, dictionaries):
    result = _run(app, "import", GARBAGE)
    assert result.exit_code == 2 and "stopped" in result.output
