"""Installing official reference files: recorded with checksum and who; bad files refused, nothing changed."""
import hashlib

from sqlalchemy import func, select

from registry.db import db_session
from registry.models import AuditEntry, ReferenceInstall
from tests.reference import REFERENCE_DIR

V25 = REFERENCE_DIR / "naaccr" / "dictionaries" / "naaccr-dictionary-250.xml"


def _dictionary_installs() -> int:
    return db_session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "reference_install:naaccr-dictionary:create"))


def test_install_and_list_a_naaccr_dictionary(app, no_reference_tables, tmp_path, client, login):
    app.config["INSTANCE_DIR"] = str(tmp_path)
    runner = app.test_cli_runner()
    installs_before = _dictionary_installs()
    result = runner.invoke(args=["reference", "install", "naaccr-dictionary", str(V25)])
    assert result.exit_code == 0, result.output
    record = db_session.scalars(select(ReferenceInstall)).one()
    assert (record.kind, record.version, record.source_file) == ("naaccr-dictionary", "250", V25.name)
    assert record.checksum == hashlib.sha256(V25.read_bytes()).hexdigest()
    assert record.installed_by == "system" and "base dictionary" in record.summary
    stored = tmp_path / "reference" / "naaccr-dictionary"
    assert [p.read_bytes() == V25.read_bytes() for p in stored.iterdir()] == [True]
    assert _dictionary_installs() == installs_before + 1
    listing = runner.invoke(args=["reference", "list"])
    assert "naaccr-dictionary" in listing.output and record.checksum[:12] in listing.output
    login("admin")
    page = client.get("/admin/reference/").get_data(as_text=True)
    assert "naaccr-dictionary-250.xml" in page and record.checksum[:16] in page


def test_corrupt_or_wrong_file_is_refused_and_changes_nothing(app, no_reference_tables, tmp_path):
    app.config["INSTANCE_DIR"] = str(tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["reference", "install", "naaccr-dictionary", str(V25)]).exit_code == 0
    truncated = tmp_path / "naaccr-dictionary-260.xml"
    truncated.write_bytes(V25.read_bytes()[:5000])
    result = runner.invoke(args=["reference", "install", "naaccr-dictionary", str(truncated)])
    assert result.exit_code == 1
    assert "naaccr-dictionary-260.xml is not a valid naaccr-dictionary" in result.output
    assert "Expected a NAACCR XML base or user dictionary" in result.output
    unknown = runner.invoke(args=["reference", "install", "horoscope", str(V25)])
    assert unknown.exit_code == 1 and "unknown kind 'horoscope'" in unknown.output
    missing = runner.invoke(args=["reference", "install", "naaccr-dictionary", str(tmp_path / "nope.xml")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    assert db_session.scalar(select(func.count(ReferenceInstall.id))) == 1
    assert len(list((tmp_path / "reference" / "naaccr-dictionary").iterdir())) == 1


def test_reference_page_is_for_administrators_only(client, login):
    login("registrar")
    assert client.get("/admin/reference/").status_code == 403
