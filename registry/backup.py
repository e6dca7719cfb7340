"""Logical backup and restore of the whole registry, the same on SQLite and PostgreSQL.

A backup is a gzip file of JSON lines: a header (format, schema revision, row counts), then one
line per row, table by table in foreign-key order. Because it is logical, a backup taken on
SQLite restores into PostgreSQL and back. Restore goes into an empty database at the same
schema revision, in one transaction: it either restores everything or nothing.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from alembic.migration import MigrationContext
from sqlalchemy import DateTime, func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from registry.db import Base
from registry.errors import RegistryError

FORMAT = "cancer-registry-backup"
FORMAT_VERSION = 1
BATCH = 5000


class BackupError(RegistryError):
    pass


def _tables() -> list:
    import registry.models  # noqa: F401 - every table on the metadata
    return list(Base.metadata.sorted_tables)


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def backup(engine: Engine, output: str | Path, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write every row of every table to ``output`` (gzip JSON lines); returns rows per table."""
    target = Path(output)
    partial = target.with_name(target.name + ".part")
    with engine.connect() as connection, connection.begin():
        counts = {t.name: connection.scalar(select(func.count()).select_from(t)) for t in _tables()}
        header = {"format": FORMAT, "format_version": FORMAT_VERSION, "revision": _revision(connection),
                  "dialect": engine.dialect.name, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                  "tables": counts}
        with gzip.open(partial, "wt", encoding="utf-8") as handle:
            handle.write(json.dumps(header) + "\n")
            for table in _tables():
                order = list(table.primary_key.columns)
                result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
                for row in result.mappings():
                    handle.write(json.dumps({"t": table.name, "r": {k: _plain(v) for k, v in row.items()}}) + "\n")
                if progress:
                    progress(f"{table.name}: {counts[table.name]} rows")
    partial.replace(target)
    return counts


def _read(handle: TextIO) -> Iterator[dict]:
    for number, line in enumerate(handle, start=2):
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise BackupError(f"line {number}: not a backup row ({exc.msg})") from None


def restore(engine: Engine, source: str | Path, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Load a backup into an empty database at the same schema revision; all or nothing."""
    path = Path(source)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    tables = {t.name: t for t in _tables()}
    try:
        handle = gzip.open(path, "rt", encoding="utf-8")
        first = handle.readline()
    except (OSError, EOFError) as exc:
        raise BackupError(f"{path.name}: not a gzip backup file ({exc})") from None
    with handle:
        try:
            header = json.loads(first)
        except json.JSONDecodeError:
            raise BackupError(f"{path.name}: line 1 is not a backup header") from None
        if header.get("format") != FORMAT:
            raise BackupError(f"{path.name}: not a {FORMAT} file")
        with engine.connect() as connection, connection.begin():
            revision = _revision(connection)
            if header.get("revision") != revision:
                raise BackupError(f"the backup is at schema revision {header.get('revision')}, this database at "
                                  f"{revision}: run `flask --app wsgi db upgrade` on a database of that revision")
            busy = [name for name, table in tables.items()
                    if connection.scalar(select(func.count()).select_from(table))]
            if busy:
                raise BackupError(f"restore needs an empty database; these tables hold rows: {', '.join(busy)}")
            counts: dict[str, int] = dict.fromkeys(tables, 0)
            batch: list[dict] = []
            current: str | None = None

            def flush() -> None:
                if batch:
                    connection.execute(insert(tables[current]), batch)
                    counts[current] += len(batch)
                    batch.clear()

            for record in _read(handle):
                name = record.get("t")
                if name not in tables:
                    raise BackupError(f"{path.name}: row for unknown table {name!r}")
                if name != current:
                    flush()
                    if progress and current:
                        progress(f"{current}: {counts[current]} rows")
                    current = name
                table = tables[name]
                row = {}
                for key, value in record["r"].items():
                    column = table.columns.get(key)
                    if column is None:
                        raise BackupError(f"{path.name}: table {name} has no column {key!r}")
                    if value is not None and isinstance(column.type, DateTime):
                        value = dt.datetime.fromisoformat(value)
                    row[key] = value
                batch.append(row)
                if len(batch) >= BATCH:
                    flush()
            flush()
            expected = header.get("tables", {})
            short = {n: (counts.get(n, 0), c) for n, c in expected.items() if counts.get(n, 0) != c}
            if short:
                raise BackupError(f"{path.name} is incomplete: rows restored vs expected {short}")
            if engine.dialect.name == "postgresql":
                for name, table in tables.items():
                    if "id" in table.columns and table.columns["id"].autoincrement in (True, "auto") \
                            and table.columns["id"].primary_key:
                        connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"))
    return counts
