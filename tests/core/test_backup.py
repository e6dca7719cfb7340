"""Backup and restore round-trip a whole registry; bad files and non-empty targets are refused."""
import gzip
import json

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from abstracts import operations as ops
from registry.audit import SYSTEM, operation
from registry.cli import upgrade_database
from registry.db import Base, db_session
from registry.demo import load_demo_data
from registry.models import Patient


def _snapshot() -> dict[str, list]:
    rows = {}
    for table in Base.metadata.sorted_tables:
        order = list(table.primary_key.columns)
        rows[table.name] = [dict(r) for r in db_session.execute(select(table).order_by(*order)).mappings()]
    return rows


def _empty_target(migrated_database: str, tmp_path):
    """A second application on an empty database at the same schema revision."""
    from registry.app import create_app
    if migrated_database.startswith("sqlite"):
        target_url = f"sqlite:///{tmp_path / 'empty.db'}"
        upgrade_database(target_url)
    else:
        engine = create_engine(migrated_database)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS restore_target CASCADE"))
            conn.execute(text("CREATE SCHEMA restore_target"))
        engine.dispose()
        url = make_url(migrated_database)
        options = " ".join(filter(None, [url.query.get("options"), "-c search_path=restore_target"]))
        target_url = url.update_query_dict({"options": options}).render_as_string(hide_password=False)
        upgrade_database(target_url)
    return create_app({"DATABASE_URL": target_url})


def test_backup_restores_into_an_empty_database_identically(app, tmp_path, migrated_database):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 60, seed=4)
    patient = db_session.scalars(select(Patient).limit(1)).one()
    ops.update_patient(patient.id, {"name_first": "Zoë 'quoted' <b>"}, actor=SYSTEM)
    before = _snapshot()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", "--output", str(tmp_path / "registry.backup.gz")])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(args=["restore", str(tmp_path / "registry.backup.gz")])
    assert refused.exit_code == 1 and "restore needs an empty database" in refused.output

    target = _empty_target(migrated_database, tmp_path)
    with target.app_context():
        restored = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "registry.backup.gz")])
        assert restored.exit_code == 0, restored.output
        after = _snapshot()
        audit_after, audit_before = after.pop("audit_entry"), before.pop("audit_entry")
        assert after == before
        assert audit_after[: len(audit_before)] == audit_before
        assert audit_after[-1]["action"] == "restore"
        ops.create_patient({"name_last": "Newdemo"}, actor=SYSTEM)
        assert db_session.scalar(select(func.max(Patient.id))) == max(p["id"] for p in before["patient"]) + 1
        db_session.remove()
    target.extensions["registry_engine"].dispose()


def test_restore_refuses_a_damaged_file_and_writes_nothing(app, tmp_path, migrated_database):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 5, seed=4)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "--output", str(tmp_path / "b.gz")]).exit_code == 0
    lines = gzip.open(tmp_path / "b.gz", "rt").read().splitlines()
    assert json.loads(lines[0])["tables"]["patient"] == 5
    with gzip.open(tmp_path / "short.gz", "wt") as handle:
        handle.write("\n".join(lines[:-3]) + "\n")
    with gzip.open(tmp_path / "garbled.gz", "wt") as handle:
        handle.write(lines[0] + "\n" + lines[1] + "\n{not json\n")
    (tmp_path / "plain.txt").write_text("hello")
    target = _empty_target(migrated_database, tmp_path)
    with target.app_context():
        target_runner = target.test_cli_runner()
        for name, message in (("short.gz", "is incomplete"), ("garbled.gz", "line 3: not a backup row"),
                              ("plain.txt", "not a gzip backup file"), ("missing.gz", "no such file")):
            outcome = target_runner.invoke(args=["restore", str(tmp_path / name)])
            assert outcome.exit_code == 1 and message in outcome.output, outcome.output
        for table in Base.metadata.sorted_tables:
            assert db_session.scalar(select(func.count()).select_from(table)) == 0, table.name
        db_session.remove()
    target.extensions["registry_engine"].dispose()
