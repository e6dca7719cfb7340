"""Command-line interface: ``flask --app wsgi <group> <command>``."""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from registry.audit import SYSTEM, Actor, log_event, operation
from registry.db import db_session
from registry.errors import RegistryError
from registry.models import Patient, Role, User
from registry.reference.cli import install_shipped_tables

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    """Alembic's configuration for ``url`` (alembic is imported here, not by every command's start)."""
    from alembic.config import Config as AlembicConfig
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` to ``revision`` (used by the CLI, ``make run`` and tests)."""
    from alembic import command
    command.upgrade(alembic_config(url), revision)


@click.group("db", help="Database schema migrations.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Create or migrate the database schema to the latest revision.")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    upgrade_database(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at revision {revision}")


@db_group.command("current", help="Show the schema revision of the database.")
def db_current() -> None:
    from alembic import command
    command.current(alembic_config(current_app.config["DATABASE_URL"]))


@click.group("users", help="User accounts.")
def users_group() -> None:
    pass


@users_group.command("create", help="Create an account; the password is asked for, never passed as an argument.")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--full-name", default="")
@click.password_option(help="Asked for interactively when not given.")
def users_create(username: str, role: str, full_name: str, password: str) -> None:
    from registry.auth.operations import create_user
    try:
        user = create_user(username, password, role, full_name=full_name, actor=SYSTEM)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role.value} '{user.username}'")


@users_group.command("list", help="List accounts.")
def users_list() -> None:
    for user in db_session.scalars(select(User).order_by(User.username)):
        click.echo(f"{user.username:20} {user.role.value:10} {'enabled' if user.is_enabled else 'disabled'}")


def _account_change(change: Callable[..., User], username: str, done: str, **values: Any) -> None:
    """Run an account operation as the system actor and say what it did, or why not."""
    try:
        user = change(username, actor=SYSTEM, **values)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"'{user.username}': {done}")


@users_group.command("disable", help="Stop an account: its sessions end and its API tokens are refused at once.")
@click.argument("username")
def users_disable(username: str) -> None:
    from registry.auth.operations import disable_user
    _account_change(disable_user, username, "disabled; its sessions and API tokens no longer work")


@users_group.command("enable", help="Let a disabled account sign in again.")
@click.argument("username")
def users_enable(username: str) -> None:
    from registry.auth.operations import enable_user
    _account_change(enable_user, username, "enabled")


@users_group.command("set-role", help="Change an account's role; it applies from the account's next request.")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def users_set_role(username: str, role: str) -> None:
    from registry.auth.operations import set_role
    _account_change(set_role, username, f"role is now {role}", role=role)


@users_group.command("reset-password", help="Set a new password (asked for, never an argument); ends the "
                     "account's sessions.")
@click.argument("username")
@click.password_option(help="Asked for interactively when not given.")
def users_reset_password(username: str, password: str) -> None:
    from registry.auth.operations import reset_password
    _account_change(reset_password, username, "password changed; its sessions ended", password=password)


@users_group.command("end-sessions", help="Sign an account out of every browser (API tokens are not affected).")
@click.argument("username")
def users_end_sessions(username: str) -> None:
    from registry.auth.operations import end_sessions
    _account_change(end_sessions, username, "every session ended")


@click.command("demo-data", help="Generate synthetic registry data (deterministic per seed) with bulk inserts.")
@click.option("--patients", type=click.IntRange(min=1), required=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the registry already holds patients.")
def demo_data(patients: int, seed: int, if_empty: bool) -> None:
    from registry.demo import load_demo_data
    if if_empty and db_session.scalar(select(func.count(Patient.id))):
        click.echo("the registry already holds patients; no demo data loaded")
        return
    install_shipped_tables(click.echo)
    started = time.perf_counter()
    with click.progressbar(length=100, label=f"Generating {patients} patients") as bar:
        state = {"done": 0}

        def progress(percent: int, _message: str) -> None:
            bar.update(percent - state["done"])
            state["done"] = percent

        with operation(SYSTEM, "demo_data") as session:
            counts = load_demo_data(session, patients, seed, progress)
            log_event(SYSTEM, "demo_data", detail=f"seed {seed}: {counts}", commit=False)
    install_demo_population(click.echo)
    elapsed = time.perf_counter() - started
    click.echo(", ".join(f"{n} {table}" for table, n in counts.items()) + f" in {elapsed:.1f} s")


def install_demo_population(echo: Callable[[str], None]) -> None:
    """The synthetic population that goes with demo data (reports.rates.demo_population)."""
    from registry.reference.cli import reference_store
    from reports.rates.demo_population import install_demo_population as install
    install(actor=SYSTEM, store=reference_store(), echo=echo)


@click.command("bootstrap", help="Used by 'make run': migrate, load demo data when empty, ensure an admin login.")
@click.option("--demo-patients", type=int, default=2000, show_default=True)
def bootstrap(demo_patients: int) -> None:
    from registry.auth.operations import create_user
    from registry.demo import load_demo_data
    upgrade_database(current_app.config["DATABASE_URL"])
    install_shipped_tables(click.echo)
    if not db_session.scalar(select(func.count(Patient.id))) and demo_patients > 0:
        click.echo(f"loading {demo_patients} demo patients …")
        with operation(SYSTEM, "demo_data") as session:
            load_demo_data(session, demo_patients, seed=1)
        install_demo_population(click.echo)
    password_file = Path(current_app.config["INSTANCE_DIR"]) / "admin-password"
    if not db_session.scalar(select(User.id).where(User.username == "admin")):
        password = secrets.token_urlsafe(12) + "-7"
        create_user("admin", password, Role.ADMIN, full_name="Registry administrator", actor=SYSTEM)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    if password_file.exists():
        click.echo(f"Sign in at http://127.0.0.1:5000 as admin / {password_file.read_text().strip()} "
                   f"(from {password_file}; delete that file once you changed the password)")
    else:
        click.echo("Sign in at http://127.0.0.1:5000 with your admin account")


@click.command("backup", help="Write the whole registry to FILE (gzip JSON lines; restores on SQLite or PostgreSQL).")
@click.option("--output", required=True, type=click.Path(dir_okay=False))
def backup_command(output: str) -> None:
    from registry.backup import backup
    counts = backup(current_app.extensions["registry_engine"], output, progress=click.echo)
    log_event(SYSTEM, "backup", detail=f"{output}: {sum(counts.values())} rows")
    click.echo(f"backed up {sum(counts.values())} rows to {output}")


@click.command("restore", help="Load a backup FILE into this (empty, migrated) database; all or nothing.")
@click.argument("source", type=click.Path(dir_okay=False))
def restore_command(source: str) -> None:
    from registry.backup import restore
    try:
        counts = restore(current_app.extensions["registry_engine"], source, progress=click.echo)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    log_event(SYSTEM, "restore", detail=f"{source}: {sum(counts.values())} rows")
    click.echo(f"restored {sum(counts.values())} rows from {source}")


@click.group("jobs", help="Background jobs.")
def jobs_group() -> None:
    pass


@jobs_group.command("worker", help="Run an RQ worker for REDIS_URL (other machines need DATABASE_URL and REDIS_URL).")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def jobs_worker(burst: bool) -> None:
    from redis import Redis
    from rq import Queue, SimpleWorker
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: without it the web server runs each job in a "
                                   "process of its own")
    from registry.jobs import fail_stopped_jobs
    for job_id in fail_stopped_jobs():
        click.echo(f"job {job_id}: its worker had stopped; marked failed")
    connection = Redis.from_url(url)
    SimpleWorker([Queue("registry", connection=connection)], connection=connection).work(burst=burst)


@jobs_group.command("clean-up", help="Delete job uploads and reports past JOB_FILE_RETENTION_DAYS and forget stale "
                                     "sign-in throttle rows (also done after every job; run it from cron too).")
def jobs_clean_up() -> None:
    from registry.jobs.retention import clean_up
    done = clean_up(actor=Actor(None, "cli:jobs-clean-up"))
    click.echo(done.summary() + f" (files are kept {current_app.config['JOB_FILE_RETENTION_DAYS']:g} days)")


#: Command groups of the capabilities as "module:attribute"; a capability adds its line here.
COMMAND_GROUPS = [
    "registry.reference.cli:reference_group",
    "reports.annual_report.cli:report_group",
    "reports.survival.cli:survival_group",
    "reports.rates.cli:rates_group",
    "staging_tables.staging.cli:staging_group",
    "registry.edits.cli:edits_group",
    "registry.naaccr.cli:naaccr_group",
    "reports.research.cli:export_group",
    "reports.research.cli:research_group",
    "staging_tables.multiple_primaries.cli:mp_group",
    "abstracts.epath.cli:casefinding_group",
]


def register_commands(app: Flask) -> None:
    import importlib
    for cmd in (db_group, users_group, demo_data, bootstrap, jobs_group, backup_command, restore_command):
        app.cli.add_command(cmd)
    for dotted in COMMAND_GROUPS:
        module, _, attribute = dotted.partition(":")
        app.cli.add_command(getattr(importlib.import_module(module), attribute))
