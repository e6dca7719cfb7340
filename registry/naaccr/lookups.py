"""NAACCR code lookups as installed reference data (``naaccr-lookups`` kind).

SEER publishes the codes and labels of most coded NAACCR items as a zip of ``naaccrId.csv``
files (``code,label`` lines, no header), one zip per NAACCR version. The registry installs
that zip as it is distributed, and reads the code list of an item from the newest install,
so a new NAACCR version brings new codes without a release of ours.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from functools import lru_cache
from pathlib import Path

from registry.reference import InvalidReference, ReferenceInfo, current, reference_kind, version_in_file_name

KIND = "naaccr-lookups"
#: The v26 zip holds 280 lookups; a handful means a wrong or truncated file.
MIN_LOOKUPS = 50
_ITEM_FILE = re.compile(r"(?:^|/)([A-Za-z][A-Za-z0-9_]*)\.csv$")


def read_lookups(path: Path | str) -> dict[str, list[tuple[str, str]]]:
    """``{naaccrId: [(code, label), …]}`` of a lookups zip, in file order; refuses what is not one.

    The histology item comes as two lists named ``histologicTypeIcdO3_preferredTermsOnly`` and
    ``histologicTypeIcdO3_allTerms`` (``8000,0,term,preferred|alternate`` lines), both keyed by
    their file name with codes as histology/behavior (``8000/0``)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidReference(f"it is not a zip file ({exc})") from None
    lookups: dict[str, list[tuple[str, str]]] = {}
    with archive:
        for name in archive.namelist():
            found = _ITEM_FILE.search(name)
            if not found:
                continue
            try:
                text = archive.read(name).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InvalidReference(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
            codes = []
            for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
                if not row:
                    continue
                if len(row) == 4 and row[3] in ("preferred", "alternate"):  # the ICD-O-3 all-terms list
                    row = [f"{row[0].strip()}/{row[1].strip()}", row[2]]
                if len(row) < 2 or not row[0].strip():
                    raise InvalidReference(f"{name} line {line} is not a code,label line: {','.join(row)[:60]!r}")
                codes.append((row[0].strip(), row[1].strip()))
            lookups[found.group(1)] = codes
    if len(lookups) < MIN_LOOKUPS:
        raise InvalidReference(f"it holds {len(lookups)} naaccrId.csv lookups; a NAACCR lookups zip holds "
                               f"at least {MIN_LOOKUPS}")
    return lookups


@reference_kind(KIND, "a zip of NAACCR code lookups: one naaccrId.csv per coded item with code,label lines and no "
                      "header (SEER naaccr-lookups-NNN.zip)")
def check_lookups(path: Path) -> ReferenceInfo:
    lookups = read_lookups(path)
    codes = sum(map(len, lookups.values()))
    return ReferenceInfo(name="NAACCR lookups", version=version_in_file_name(path, r"(?<![0-9])([0-9]{3})(?![0-9])"),
                         summary=f"{len(lookups)} coded items, {codes} codes")


@lru_cache(maxsize=2)
def _load(stored_path: str, checksum: str) -> dict[str, list[tuple[str, str]]]:
    return read_lookups(stored_path)


def installed_lookups() -> dict[str, list[tuple[str, str]]]:
    """The newest installed lookups (empty when none is installed)."""
    record = current(KIND)
    return _load(record.stored_path, record.checksum) if record else {}
