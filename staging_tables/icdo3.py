"""ICD-O-3 reference kinds: topography, morphology and the SEER site/histology validation list.

WHO and SEER revise these lists (ICD-O-3.1, 3.2, yearly SEER updates), so the registry installs
the files their publishers distribute (``flask --app wsgi reference install KIND FILE``) instead
of waiting for a release. The same readers check a file before it is installed and load it
afterwards, and tests use them to prove our embedded tables against the official files.

* ``icdo3-topography``: ``code,term`` lines without a header, codes C000-C809 without the dot
  (SEER's ``primarySite.csv``).
* ``icdo3-morphology``: ``"8140/3","Adenocarcinoma, NOS"`` lines (SEER's preferred-terms list) or
  ``8140,3,"Adenocarcinoma, NOS",preferred`` lines (SEER's all-terms list; preferred terms kept).
* ``icdo3-terms``: SEER's all-terms list, every term of a code: its preferred term and each synonym
  (``8500,3,"Duct carcinoma, NOS",alternate``). The code pickers search these, so a registrar finds
  a code by the words the pathology report uses.
* ``site-histology``: the SEER ICD-O-3 site/histology validation list as CSV (header
  ``Site recode,Site Description,Histology,Histology Description,Histology/Behavior,...``); a
  (site, morphology) pair is valid when the site falls in a row's ranges and the morphology
  equals the row's Histology/Behavior. The site/histology edit uses the newest install.
"""
from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from registry.reference import InvalidReference, ReferenceInfo, current, reference_kind, version_in_file_name

TOPOGRAPHY_KIND = "icdo3-topography"
MORPHOLOGY_KIND = "icdo3-morphology"
TERMS_KIND = "icdo3-terms"
SITE_HISTOLOGY_KIND = "site-histology"

SEER_HEADER = ("Site recode", "Site Description", "Histology", "Histology Description", "Histology/Behavior",
               "Histology/Behavior Description")
TOPOGRAPHY = re.compile(r"C(?:[0-7][0-9]|80)[0-9]")
MORPHOLOGY = re.compile(r"[89][0-9]{3}/[012369]")
SITE_RANGE = re.compile(r"(C[0-9]{3})(?:-(C[0-9]{3}))?")
#: A complete topography list has 329 codes and the preferred-terms morphology list about 1,370;
#: far fewer means a truncated or wrong file.
MIN_TOPOGRAPHY = 300
MIN_MORPHOLOGY = 1000
#: Bumped when an ICD-O-3 term file is checked, so a picker's cached choice of files is looked up again.
TERMS_GENERATION = [0]

log = logging.getLogger(__name__)


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of a UTF-8 CSV file; a file that is not text is refused as such."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidReference(f"it is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if "\x00" in text:
        raise InvalidReference("it is a binary file, not CSV text")
    reader = csv.reader(text.splitlines(), strict=True)
    try:
        rows = [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise InvalidReference(f"line {reader.line_num} is not readable CSV ({exc}); "
                               "the file may have been cut short") from None
    return iter(rows)


def read_topography(path: Path) -> dict[str, str]:
    """``{code: term}`` of a topography file; InvalidReference names the first bad line."""
    table: dict[str, str] = {}
    for number, row in _rows(path):
        if len(row) != 2 or not row[1].strip():
            raise InvalidReference(f"line {number} has {len(row)} value(s); expected code,term")
        code = row[0].strip()
        if not TOPOGRAPHY.fullmatch(code):
            raise InvalidReference(f"line {number}: {code!r} is not a topography code C000-C809 (no dot)")
        if code in table:
            raise InvalidReference(f"line {number}: {code} appears twice")
        table[code] = row[1].strip()
    if len(table) < MIN_TOPOGRAPHY:
        raise InvalidReference(f"it holds {len(table)} codes; a complete list has about 330")
    return table


def read_morphology(path: Path) -> dict[str, str]:
    """``{"8140/3": preferred term}`` from either SEER layout; InvalidReference names the first bad line."""
    table: dict[str, str] = {}
    for number, row in _rows(path):
        if len(row) == 2:
            code, term = row[0].strip(), row[1].strip()
        elif len(row) == 4 and row[3].strip() in ("preferred", "alternate"):
            if row[3].strip() == "alternate":
                continue
            code, term = f"{row[0].strip()}/{row[1].strip()}", row[2].strip()
        else:
            raise InvalidReference(f"line {number} has {len(row)} value(s); expected \"8140/3\",term or "
                                   "8140,3,term,preferred|alternate")
        if not MORPHOLOGY.fullmatch(code) or not term:
            raise InvalidReference(f"line {number}: {code!r} is not a histology/behavior code such as 8140/3")
        if code in table:
            raise InvalidReference(f"line {number}: {code} has a second preferred term")
        table[code] = term
    if len(table) < MIN_MORPHOLOGY:
        raise InvalidReference(f"it holds {len(table)} morphology codes; the ICD-O-3 list has about 1,370")
    return table


def read_morphology_terms(path: Path) -> dict[str, list[tuple[str, bool]]]:
    """``{"8500/3": [(term, preferred?), ...]}`` of an all-terms file, the preferred term first.

    Every code must have exactly one preferred term; InvalidReference names the first bad line.
    """
    table: dict[str, list[tuple[str, bool]]] = {}
    for number, row in _rows(path):
        if len(row) != 4 or row[3].strip() not in ("preferred", "alternate"):
            raise InvalidReference(f"line {number} has {len(row)} value(s); expected "
                                   "8140,3,term,preferred|alternate")
        code, term, preferred = f"{row[0].strip()}/{row[1].strip()}", row[2].strip(), row[3].strip() == "preferred"
        if not MORPHOLOGY.fullmatch(code) or not term:
            raise InvalidReference(f"line {number}: {code!r} is not a histology/behavior code such as 8140/3")
        terms = table.setdefault(code, [])
        if preferred and terms and terms[0][1]:
            raise InvalidReference(f"line {number}: {code} has a second preferred term")
        if preferred:
            terms.insert(0, (term, True))
        else:
            terms.append((term, False))
    lacking = next((code for code, terms in table.items() if not terms[0][1]), None)
    if lacking:
        raise InvalidReference(f"{lacking} has no preferred term")
    if len(table) < MIN_MORPHOLOGY:
        raise InvalidReference(f"it holds {len(table)} morphology codes; the ICD-O-3 list has about 1,370")
    return table


@dataclass(frozen=True)
class SiteHistologyList:
    """The valid (site, histology/behavior) pairs of one SEER list, by site for a fast look-up."""

    rows: int
    by_site: dict[str, frozenset[str]]

    def valid(self, site: str, morphology: str) -> bool:
        """Is ``morphology`` (``8140/3``) valid at ``site`` (``C509``)?"""
        return morphology in self.by_site.get(site, frozenset())


def _site_ranges(text: str, number: int) -> list[tuple[str, str]]:
    ranges = []
    for part in (p.strip() for p in text.split(",")):
        match = SITE_RANGE.fullmatch(part)
        if not match or (match.group(2) and match.group(2) < match.group(1)):
            raise InvalidReference(f"line {number}: site recode {text!r} is not a list of topography codes or "
                                   "ranges such as C000-C006,C008")
        ranges.append((match.group(1), match.group(2) or match.group(1)))
    return ranges


def read_site_histology(path: Path) -> SiteHistologyList:
    """The pairs of a SEER site/histology list; InvalidReference names the first bad line."""
    rows = _rows(path)
    first = next(rows, None)
    if first is None or tuple(cell.strip() for cell in first[1][:6]) != SEER_HEADER:
        raise InvalidReference(f"the first line must be the header {','.join(SEER_HEADER)}")
    codes = [f"C{n:03d}" for n in range(810)]
    pairs: dict[str, set[str]] = {}
    count = 0
    for number, row in rows:
        if len(row) < 6:
            raise InvalidReference(f"line {number} has {len(row)} value(s); expected the 6 columns of the header")
        morphology = row[4].strip()
        if not MORPHOLOGY.fullmatch(morphology):
            raise InvalidReference(f"line {number}: Histology/Behavior {morphology!r} is not a code such as 8140/3")
        for low, high in _site_ranges(row[0], number):
            for site in codes[int(low[1:]):int(high[1:]) + 1]:
                pairs.setdefault(site, set()).add(morphology)
        count += 1
    if not count:
        raise InvalidReference("it has a header but no rows")
    return SiteHistologyList(count, {site: frozenset(values) for site, values in pairs.items()})


def _version(path: Path) -> str:
    """The date in a SEER file name (``..._20220429.csv`` or ``.d20220429``), else the file's stem."""
    return version_in_file_name(path, r"(?<![0-9])(20[0-9]{6})(?![0-9])")


@reference_kind(TOPOGRAPHY_KIND, "an ICD-O-3 topography list: code,term lines without a header, codes "
                                 "C000-C809 without the dot (SEER primarySite.csv)")
def check_topography(path: Path) -> ReferenceInfo:
    TERMS_GENERATION[0] += 1  # an install may follow: the pickers look again
    table = read_topography(path)
    return ReferenceInfo(name="ICD-O-3 topography", version=_version(path), summary=f"{len(table)} codes")


@reference_kind(MORPHOLOGY_KIND, "an ICD-O-3 morphology list: \"8140/3\",term lines (SEER "
                                 "histologicTypeIcdO3_preferredTermsOnly.csv) or 8140,3,term,preferred|alternate "
                                 "lines (histologicTypeIcdO3_allTerms.csv), no header")
def check_morphology(path: Path) -> ReferenceInfo:
    TERMS_GENERATION[0] += 1  # an install may follow: the pickers look again
    table = read_morphology(path)
    return ReferenceInfo(name="ICD-O-3 morphology", version=_version(path),
                         summary=f"{len(table)} histology/behavior codes")


@reference_kind(TERMS_KIND, "the ICD-O-3 morphology terms and synonyms: 8140,3,term,preferred|alternate lines, "
                            "one preferred term a code, no header (SEER histologicTypeIcdO3_allTerms.csv)")
def check_morphology_terms(path: Path) -> ReferenceInfo:
    TERMS_GENERATION[0] += 1  # an install may follow: the pickers look again
    table = read_morphology_terms(path)
    return ReferenceInfo(name="ICD-O-3 morphology terms", version=_version(path),
                         summary=f"{sum(map(len, table.values()))} terms of {len(table)} histology/behavior codes")


@reference_kind(SITE_HISTOLOGY_KIND, "the SEER ICD-O-3 site/histology validation list as CSV with the header "
                                     + ",".join(SEER_HEADER))
def check_site_histology(path: Path) -> ReferenceInfo:
    table = read_site_histology(path)
    _GENERATION[0] += 1  # an install may follow: look again before the next edit run
    return ReferenceInfo(name="SEER site/histology validation list", version=_version(path),
                         summary=f"{table.rows} rows, {sum(map(len, table.by_site.values()))} site/morphology pairs")


@lru_cache(maxsize=4)
def load_site_histology(path: str, checksum: str) -> SiteHistologyList:
    """An installed list, read once per file (the checksum keys the cache)."""
    return read_site_histology(Path(path))


_GENERATION = [0]


def installed_site_histology() -> SiteHistologyList | None:
    """The newest installed SEER list, or None (no app context, nothing installed, or its file is gone).

    Looked up once per application context (one request, job or command) and again after a
    new list has been checked, so edit runs over many records pay for one query.
    """
    from flask import g, has_app_context

    from registry.db import db_session
    if not has_app_context():
        return None
    cached = g.get("_site_histology_list")
    if cached is not None and cached[0] == _GENERATION[0]:
        return cached[1]
    with db_session.no_autoflush:
        record = current(SITE_HISTOLOGY_KIND)
    table = None
    if record is not None:
        if Path(record.stored_path).is_file():
            table = load_site_histology(record.stored_path, record.checksum)
        else:
            log.warning("installed site/histology list %s is missing; using the embedded rules", record.stored_path)
    g._site_histology_list = (_GENERATION[0], table)
    return table
