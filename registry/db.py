"""Engine, the scoped session and the declarative base every model shares."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from sqlalchemy import JSON, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Where a patient's or tumor's NAACCR items without a column live: JSONB on PostgreSQL (GIN-indexed,
#: filterable with ``->>`` and ``@>``), JSON text on SQLite (``json_extract``). See docs/architecture.md.
ITEM_STORE = JSON().with_variant(JSONB(), "postgresql")


def on_this_dialect(dialect: str) -> Any:
    """An alembic ``include_object`` hook leaving out indexes declared for another database only
    (``Index(...).ddl_if(dialect="postgresql")``), so autogenerate compares what each database really has."""
    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect is None or condition.dialect == dialect
    return include


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


session_factory = sessionmaker(expire_on_commit=False)
db_session: scoped_session[Session] = scoped_session(session_factory)


def json_text(value: Any) -> str:
    """JSON columns' text: orjson (an import writes an audit row of every record it creates, and
    ``json.dumps`` stood high in a cProfile of a large import); ``json.dumps`` for what orjson does not take
    (integers past 64 bits), so nothing that stored before fails now."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets foreign keys and WAL so the demo install behaves like a server."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               json_serializer=json_text)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API objects
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # checkpoint every 64 MB of WAL, not every 4 MB: consecutive batches rewrite the same index
            # pages, and each checkpoint copied them again
            cursor.execute("PRAGMA wal_autocheckpoint=16384")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=json_text)


def bind(engine: Engine) -> None:
    """Point the scoped session at ``engine`` (once per app; tests rebind per backend)."""
    db_session.remove()
    session_factory.configure(bind=engine)


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    session = db_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
