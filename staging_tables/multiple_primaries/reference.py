"""SEER's hematopoietic multiple-primary tables as installed reference data (``mp-hematopoietic`` kind).

SEER revises the same-primary and transformation pairs with the Hematopoietic database; each of the six
files is installed as it is published (the copies shipped in ``staging_tables/official/mph/`` go in with
the other official tables), and the product compares tumors with the newest install of each.
"""
from __future__ import annotations

import csv
from pathlib import Path

from flask import g, has_app_context

from registry.reference import InvalidReference, ReferenceInfo, installed, reference_kind, version_in_file_name

from .tables import HEMATOPOIETIC_FILES, HEMATOPOIETIC_READERS, HematoSource

KIND = "mp-hematopoietic"


@reference_kind(KIND, "one of SEER's hematopoietic multiple-primary tables, under its published name ("
                      + ", ".join(HEMATOPOIETIC_FILES) + ")")
def check_hematopoietic_table(path: Path) -> ReferenceInfo:
    reader = HEMATOPOIETIC_READERS.get(path.name)
    if reader is None:
        raise InvalidReference(f"{path.name} is not the name of one of the tables")
    try:
        rows = reader(path)
    except (KeyError, ValueError, TypeError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidReference(f"it does not hold the columns and values of {path.name} ({exc})") from None
    if not rows:
        raise InvalidReference("it holds no rows")
    return ReferenceInfo(name=path.stem, version=version_in_file_name(path, r"Hematopoietic(\d{4})"),
                         summary=f"{len(rows)} entries")


def installed_hematopoietic() -> HematoSource | None:
    """The newest install of each official file, or None (the library's default folder is read) when one
    is not installed or no application is running. Looked up once per request or command."""
    if not has_app_context():
        return None
    if "_mp_hematopoietic" not in g:
        newest: dict[str, str] = {}
        for record in installed(KIND):
            newest.setdefault(record.source_file, record.stored_path)
        complete = all(name in newest for name in HEMATOPOIETIC_FILES)
        g._mp_hematopoietic = tuple((name, newest[name]) for name in HEMATOPOIETIC_FILES) if complete else None
    return g._mp_hematopoietic
