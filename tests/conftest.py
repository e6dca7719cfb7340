"""Fixtures: an application on SQLite and on PostgreSQL, each at the migrated schema.

PostgreSQL comes from ``TEST_DATABASE_URL`` when set (CI; the run works in a database of its
own on that server, dropped at the end), else from a throwaway cluster started from
``/usr/lib/postgresql/*/bin``; with neither, the PostgreSQL half is skipped
with the reason. Every test gets a database that is empty but for the official tables a fresh
installation has (installed once per backend through ``install_official_tables``, the path
``bootstrap`` takes): SQLite copies a migrated template file, PostgreSQL truncates every table
and puts the installs' rows back. Tests of an installation without them use
``no_reference_tables``.
"""
from __future__ import annotations

import functools
import glob
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("REGISTRY_INSTANCE_DIR", tempfile.mkdtemp(prefix="registry-test-instance-"))

from sqlalchemy import create_engine, insert, make_url, select, text  # noqa: E402
from sqlalchemy.exc import ProgrammingError  # noqa: E402

from registry.cli import upgrade_database  # noqa: E402
from registry.db import Base  # noqa: E402
from registry.models import AuditEntry, ReferenceInstall  # noqa: E402

BACKENDS = ["sqlite", "postgresql"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    """A private PostgreSQL cluster in a temporary folder (initdb as the postgres user when root)."""

    def __init__(self, database: str = "test"):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            pytest.skip("no TEST_DATABASE_URL and no PostgreSQL binaries to start a throwaway cluster")
        self.bindir = Path(bins[-1])
        self.root = Path(tempfile.mkdtemp(prefix="registry-pg-"))
        self.data, self.sockets = self.root / "data", self.root / "sock"
        self.sockets.mkdir()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self.port = _free_port()
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.pg_ctl("start")
        self._run("createdb", "-h", str(self.sockets), "-p", str(self.port), "-U", "postgres", database)
        self.url = f"postgresql+psycopg://postgres@/{database}?host={self.sockets}&port={self.port}"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(self.as_postgres + [str(self.bindir / program), *args], check=True, capture_output=True)

    def pg_ctl(self, *args: str) -> None:
        """``pg_ctl start`` / ``stop`` … on this cluster."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.root / "log"),
                  "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=''", *args)

    def close(self) -> None:
        subprocess.run(self.as_postgres + [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                           "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


#: Test connections give up on a lock after this long, so a lock left held fails one test
#: with PostgreSQL's message instead of hanging the run.
LOCK_TIMEOUT = "60s"


def _with_lock_timeout(url: str) -> str:
    return make_url(url).update_query_dict({"options": f"-c lock_timeout={LOCK_TIMEOUT}"}).render_as_string(
        hide_password=False)


@contextmanager
def _private_database(server_url: str) -> Iterator[str]:
    """A database of this run's own on the server of ``server_url``, dropped afterwards.

    The server named by ``TEST_DATABASE_URL`` may be shared (a developer's second run, a
    benchmark, a run left behind): each run working in its own database cannot drop or
    truncate another's tables. Where the role may not create databases, the given one is used."""
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"registry_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except ProgrammingError:
        server.dispose()
        yield server_url
        return
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        server.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        with _private_database(url) as private:
            yield _with_lock_timeout(private)
        return
    cluster = ThrowawayPostgres()
    try:
        yield _with_lock_timeout(cluster.url)
    finally:
        cluster.close()


#: Rows the official installs wrote, per PostgreSQL URL, put back after each truncate.
_OFFICIAL_ROWS: dict[str, dict] = {}


def _install_official_tables(url: str, store: Path) -> None:
    from registry.app import create_app
    from registry.audit import SYSTEM
    from registry.db import db_session
    from registry.reference.official import install_official_tables
    application = create_app({"DATABASE_URL": url, "TESTING": True, "REDIS_URL": None})
    with application.app_context():
        install_official_tables(actor=SYSTEM, store=store)
        db_session.remove()
    application.extensions["registry_engine"].dispose()


@pytest.fixture(scope="session")
def official_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the official tables installed for the test databases are stored."""
    return tmp_path_factory.mktemp("official-reference")


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                      official_store: Path) -> str:
    """URL of a database at the head revision with the official tables installed: a template
    file (SQLite) or a reset schema (PostgreSQL)."""
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("sqlite") / "template.db"
        url = f"sqlite:///{template}"
    else:
        url = request.getfixturevalue("postgres_url")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(url)
    _install_official_tables(url, official_store / request.param)
    if request.param == "postgresql":
        engine = create_engine(url)
        with engine.connect() as conn:
            _OFFICIAL_ROWS[url] = {model: [dict(row) for row in conn.execute(select(model.__table__)).mappings()]
                                   for model in (ReferenceInstall, AuditEntry)}
        engine.dispose()
    return url


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """A migrated database holding only the official tables' installs, for one test."""
    if migrated_database.startswith("sqlite"):
        copy = tmp_path / "registry.db"
        shutil.copy(migrated_database.removeprefix("sqlite:///"), copy)
        return f"sqlite:///{copy}"
    engine = create_engine(migrated_database)
    with engine.begin() as conn:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for model, rows in _OFFICIAL_ROWS[migrated_database].items():
            conn.execute(insert(model.__table__), rows)
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{model.__tablename__}', 'id'), "
                              f"(SELECT max(id) FROM {model.__tablename__}))"))
    engine.dispose()
    return migrated_database


@pytest.fixture
def app(database_url: str, tmp_path: Path):
    from registry.app import create_app
    application = create_app({"DATABASE_URL": database_url, "TESTING": True, "REDIS_URL": None,
                              "JOB_FILES_DIR": str(tmp_path / "job-files")})
    with application.app_context():
        yield application
    from registry.db import db_session
    from registry.jobs import stop_local_jobs
    stop_local_jobs()
    db_session.remove()
    application.extensions["registry_engine"].dispose()


@pytest.fixture
def no_reference_tables(app) -> None:
    """The database of an installation before any reference table was installed."""
    from registry.db import db_session
    db_session.query(ReferenceInstall).delete()
    db_session.commit()


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create a user of a role with a known password."""
    from registry.auth.operations import create_user

    def make(role: str = "registrar", username: str | None = None, password: str = "correct-horse-9"):
        return create_user(username or f"{role}1", password, role)
    return make


@functools.cache
def _documented_statuses() -> list[tuple[re.Pattern, str, frozenset[str]]]:
    from abstracts.api import openapi_spec
    def pattern(path: str) -> re.Pattern:
        return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
    return [(pattern(path), method, frozenset(op["responses"]))
            for path, operations in openapi_spec()["paths"].items() for method, op in operations.items()]


def _answers_as_documented(method: str, path: str, status: int) -> None:
    """Every API answer a test receives is one the OpenAPI document lists for that operation (a success status
    the document gets wrong fails the test that meets it)."""
    bare = path.split("?")[0]
    for pattern, documented_method, statuses in _documented_statuses():
        if documented_method == method.lower() and pattern.match(bare):
            assert str(status) in statuses, (f"{method} {bare} answered {status}; the OpenAPI document lists "
                                             f"{sorted(statuses)}")
            return


@pytest.fixture
def api(client, make_user):
    """``api(role)`` is ``call(method, path, json=...)`` under ``/api/v1`` with a token of a new user of that role
    (``api(role, username)`` names the user; ``call.user`` is the user)."""
    from abstracts.tokens import create_token

    def as_role(role: str, username: str | None = None):
        user = make_user(role, username or f"api-{role}")
        _, token = create_token(user, "tests")

        def call(method: str, path: str, **kwargs):
            response = client.open(f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {token}"},
                                   **kwargs)
            _answers_as_documented(method, path, response.status_code)
            return response
        call.user = user
        return call
    return as_role


@pytest.fixture
def login(client, make_user):
    """Sign a new user of ``role`` in through the real form (CSRF token included)."""

    def sign_in(role: str = "registrar", username: str | None = None):
        user = make_user(role, username)
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"username": user.username, "password": "correct-horse-9",
                                               "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user
    return sign_in
