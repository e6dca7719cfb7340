"""The commands of the set-up contract: db upgrade, users create, demo-data, bootstrap."""
from sqlalchemy import func, inspect, select

from registry.db import db_session
from registry.models import AuditEntry, Patient, Tumor, User


def test_users_create_prompts_for_the_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "alice", "--role", "admin"],
                           input="long-enough-1\nlong-enough-1\n")
    assert result.exit_code == 0, result.output
    assert "created admin 'alice'" in result.output
    user = db_session.scalars(select(User).where(User.username == "alice")).one()
    assert user.password_hash.startswith("$argon2")
    weak = runner.invoke(args=["users", "create", "bob", "--role", "registrar"], input="short\nshort\n")
    assert weak.exit_code != 0 and "password: must be at least 10 characters" in weak.output
    again = runner.invoke(args=["users", "create", "alice", "--role", "admin"], input="long-enough-1\nlong-enough-1\n")
    assert again.exit_code != 0 and "username: 'alice' already exists" in again.output


def test_demo_data_command_loads_and_audits(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data", "--patients", "40", "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(func.count(Patient.id))) == 40
    assert db_session.scalar(select(func.count(Tumor.id))) >= 40
    assert db_session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "demo_data")).startswith("seed 9")
    skipped = runner.invoke(args=["demo-data", "--patients", "40", "--if-empty"])
    assert "already holds patients" in skipped.output
    assert db_session.scalar(select(func.count(Patient.id))) == 40
    bad = runner.invoke(args=["demo-data", "--patients", "0"])
    assert bad.exit_code == 2 and "--patients" in bad.output


def test_bootstrap_creates_an_admin_once_and_prints_the_login(app, tmp_path):
    app.config["INSTANCE_DIR"] = str(tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bootstrap", "--demo-patients", "10"])
    assert first.exit_code == 0, first.output
    password = (tmp_path / "admin-password").read_text().strip()
    assert f"as admin / {password}" in first.output
    second = runner.invoke(args=["bootstrap", "--demo-patients", "10"])
    assert second.exit_code == 0 and f"as admin / {password}" in second.output
    assert db_session.scalar(select(func.count(Patient.id))) == 10
    assert db_session.scalar(select(func.count(User.id))) == 1


def test_migrations_build_exactly_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from registry.db import Base, on_this_dialect
    with app.extensions["registry_engine"].connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_object": on_this_dialect(connection.dialect.name)})
        diff = compare_metadata(context, Base.metadata)
        assert diff == [], diff
        assert "alembic_version" in inspect(connection).get_table_names()
