"""The official tables shipped in ``staging_tables/official/``, installed on a fresh registry.

A new installation must work without a manual download, yet the tables must stay what the
reference machinery records: so ``bootstrap``, ``demo-data`` and the test fixtures install the
shipped copies through :func:`registry.reference.install`, the path ``reference install``
takes. A shipped file is installed only where nothing of its kind and name is installed yet:
a newer edition a user installed is never shadowed by the older copy in the box, and running
it again installs nothing.
"""
from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry.audit import Actor
from registry.files import sha256_of
from registry.models import ReferenceInstall, User
from registry.reference import KINDS, install, installed

OFFICIAL_DIR = Path(__file__).resolve().parents[2] / "staging_tables" / "official"
MANIFEST = OFFICIAL_DIR / "manifest.csv"


@dataclass(frozen=True)
class OfficialTable:
    kind: str
    path: Path


def official_tables() -> list[OfficialTable]:
    """The manifest's files, in install order."""
    with MANIFEST.open(newline="") as handle:
        return [OfficialTable(row["kind"], OFFICIAL_DIR / row["file"]) for row in csv.DictReader(handle)]


def install_official_tables(*, actor: Actor | User, store: Path,
                            echo: Callable[[str], None] = lambda _message: None) -> list[ReferenceInstall]:
    """Install the shipped tables not installed yet; returns the new installs.

    Files of one kind and name (the SSA life tables: one file per sex and period) belong together:
    a group that holds only shipped files is completed (an interrupted run is finished), a group
    holding a file of someone else's is left alone.
    """
    from registry.reference import kinds  # noqa: F401 - registers the built-in kinds
    tables = [(table, sha256_of(table.path)) for table in official_tables()]
    shipped = {(table.kind, checksum) for table, checksum in tables}
    existing = installed()
    already = {(record.kind, record.checksum) for record in existing}
    installed_checksums: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for record in existing:
        installed_checksums.setdefault((record.kind, record.name), set()).add((record.kind, record.checksum))
    done: list[ReferenceInstall] = []
    told: set[tuple[str, str]] = set()
    for table, checksum in tables:
        if (table.kind, checksum) in already:
            continue
        name = KINDS[table.kind].check(table.path).name
        present = installed_checksums.get((table.kind, name), set())
        if not present <= shipped:  # someone installed their own edition of it: theirs stays in use
            if (table.kind, name) not in told:
                echo(f"{table.kind} '{name}' is installed from another file; the shipped copy is left out")
                told.add((table.kind, name))
            continue
        record = install(table.kind, table.path, actor=actor, store=store)
        echo(f"installed {record.kind} {record.name} version {record.version} from the official tables")
        done.append(record)
    return done
