"""SEER site-specific surgery code tables as installed reference data (``surgery-tables`` kind).

The codes of RX Summ--Surg Prim Site [1290] (before 2023) and [1291] (2023 onward) depend on
the primary site, sometimes the histology, and the diagnosis year's coding manual. SEER
publishes one XML file per manual edition (``site-specific-surgery-tables-YYYY.xml``, gzip
allowed); each install is one edition, and a tumor uses the newest edition not later than its
diagnosis year.
"""
from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from registry.reference import InvalidReference, ReferenceInfo, installed, reference_kind

KIND = "surgery-tables"
_RANGE = re.compile(r"^([A-Z]?[0-9]{3,4})(?:-([A-Z]?[0-9]{3,4}))?$")
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class SurgeryCode:
    code: str
    label: str


@dataclass(frozen=True)
class SurgeryTable:
    """One site group's codes within an edition."""
    title: str
    sites: tuple[tuple[str, str], ...]
    histologies_included: tuple[tuple[str, str], ...]
    histologies_excluded: tuple[tuple[str, str], ...]
    codes: tuple[SurgeryCode, ...]

    def applies_to(self, site: str, histology: str | None) -> bool:
        if not any(low <= site <= high for low, high in self.sites):
            return False
        if histology and self.histologies_included:
            return any(low <= histology <= high for low, high in self.histologies_included)
        if histology and self.histologies_excluded:
            return not any(low <= histology <= high for low, high in self.histologies_excluded)
        return True


@dataclass(frozen=True)
class SurgeryEdition:
    year: int
    name: str
    tables: tuple[SurgeryTable, ...]

    def table_for(self, site: str, histology: str | None = None) -> SurgeryTable | None:
        """The table a site (and histology) is coded from; histology-specific tables come first."""
        ordered = sorted(self.tables, key=lambda t: not t.histologies_included)
        return next((table for table in ordered if table.applies_to(site, histology)), None)


def _ranges(text: str | None, where: str) -> tuple[tuple[str, str], ...]:
    ranges = []
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        found = _RANGE.match(part)
        if not found:
            raise InvalidReference(f"{where}: {part!r} is not a code or a code range")
        ranges.append((found.group(1), found.group(2) or found.group(1)))
    return tuple(ranges)


def _label(html: str) -> str:
    return " ".join(_TAG.sub(" ", html).split())


def read_surgery_edition(path: Path | str) -> SurgeryEdition:
    """One edition's tables; refuses a file that is not a SEER surgery-tables XML."""
    path = Path(path)
    try:
        with (gzip.open(path) if path.name.endswith(".gz") else path.open("rb")) as handle:
            root = etree.parse(handle, etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (etree.XMLSyntaxError, OSError, EOFError) as exc:
        raise InvalidReference(f"it is not readable XML ({exc})") from None
    if root.tag != "surgery-tables":
        raise InvalidReference(f"its root element is <{root.tag}>, not <surgery-tables>")
    version = root.get("version", "")
    if not version.isdecimal():
        raise InvalidReference(f"<surgery-tables version={version!r}> is not a year")
    tables = []
    for number, element in enumerate(root.iterfind("surgery-table"), start=1):
        title = element.get("title") or f"table {number}"
        codes = tuple(SurgeryCode(row.findtext("code").strip(), _label(row.findtext("description") or ""))
                      for row in element.iterfind("row") if (row.findtext("code") or "").strip())
        tables.append(SurgeryTable(
            title=title,
            sites=_ranges(element.findtext("site-inclusion"), f"{title} site-inclusion"),
            histologies_included=_ranges(element.findtext("hist-inclusion"), f"{title} hist-inclusion"),
            histologies_excluded=_ranges(element.findtext("hist-exclusion"), f"{title} hist-exclusion"),
            codes=codes))
    if not tables or not any(table.codes for table in tables):
        raise InvalidReference("it holds no surgery-table with codes")
    return SurgeryEdition(int(version), root.get("version-name") or f"{version} SEER Coding Manual", tuple(tables))


@reference_kind(KIND, "a SEER site-specific surgery tables file (site-specific-surgery-tables-YYYY.xml, gzip "
                      "allowed) with <surgery-tables version=\"YYYY\"> and its <surgery-table>s")
def check_surgery_tables(path: Path) -> ReferenceInfo:
    edition = read_surgery_edition(path)
    codes = sum(len(table.codes) for table in edition.tables)
    return ReferenceInfo(name="SEER site-specific surgery tables", version=str(edition.year),
                         summary=f"{edition.name}: {len(edition.tables)} site tables, {codes} codes")


@lru_cache(maxsize=32)
def _load(stored_path: str, checksum: str) -> SurgeryEdition:
    return read_surgery_edition(stored_path)


def surgery_edition(year: int) -> SurgeryEdition | None:
    """The installed edition a tumor diagnosed in ``year`` is coded from: the newest not later
    than the year (the oldest edition for earlier years), or None when none is installed."""
    editions: dict[int, SurgeryEdition] = {}
    for record in installed(KIND):  # newest install first: it wins for its edition year
        edition = _load(record.stored_path, record.checksum)
        editions.setdefault(edition.year, edition)
    if not editions:
        return None
    fitting = [edition_year for edition_year in editions if edition_year <= year]
    return editions[max(fitting) if fitting else min(editions)]


# ----- the codes of one tumor, and what a code means -------------------------------------------------------------
#: RX Summ--Surg Prim Site [1290] codes diagnoses before this year; [1291] codes this year and later.
FIRST_2023_ITEM_YEAR = 2023
ITEM_BEFORE_2023 = "rxSummSurgPrimSite"
ITEM_FROM_2023 = "rxSummSurgPrimSite2023"
ITEM_NUMBERS = {ITEM_BEFORE_2023: 1290, ITEM_FROM_2023: 1291}
SHIPPED_DIR = Path(__file__).resolve().parent / "official" / "surgery"
MEANINGS_FILE = Path(__file__).resolve().parent / "surgery_codes.csv"
PERFORMED = "performed"


def item_for_year(year: int) -> str:
    """The surgery item (naaccrId) a diagnosis of ``year`` is coded in."""
    return ITEM_FROM_2023 if year >= FIRST_2023_ITEM_YEAR else ITEM_BEFORE_2023


def _item_id(item: str | int) -> str:
    """``1290``/``1291`` or the naaccrId, as the naaccrId; refuses anything else by name."""
    for naaccr_id, number in ITEM_NUMBERS.items():
        if str(item) in (naaccr_id, str(number)):
            return naaccr_id
    raise ValueError(f"item: {item!r} is not RX Summ--Surg Prim Site (1290 or 1291)")


@dataclass(frozen=True)
class CodeMeaning:
    """One row of ``surgery_codes.csv``: codes (exact or equal-width ranges) of one item and what they mean."""

    naaccr_id: str
    ranges: tuple[tuple[str, str], ...]
    meaning: str
    performed: bool

    def matches(self, code: str) -> bool:
        return any(len(code) == len(low) and low <= code <= high for low, high in self.ranges)


@lru_cache(maxsize=1)
def code_meanings() -> tuple[CodeMeaning, ...]:
    """The rule "surgery of the primary site was performed", as data (``staging_tables/surgery_codes.csv``)."""
    rows = []
    with MEANINGS_FILE.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            ranges = tuple((part.split("-")[0], part.split("-")[-1]) for part in row["codes"].split(";") if part)
            if not ranges or any(len(low) != len(high) or low > high for low, high in ranges):
                raise ValueError(f"{MEANINGS_FILE.name} line {line}: codes {row['codes']!r} must be codes or "
                                 "equal-width ranges separated by ';'")
            if row["performed"] not in ("Y", "N"):
                raise ValueError(f"{MEANINGS_FILE.name} line {line}: performed must be Y or N, "
                                 f"not {row['performed']!r}")
            rows.append(CodeMeaning(_item_id(row["naaccr_id"]), ranges, row["meaning"], row["performed"] == "Y"))
    return tuple(rows)


def code_meaning(item: str | int, code: str | None) -> str | None:
    """``performed``, ``none``, ``not applicable`` or ``unknown`` for a code of [1290]/[1291]; None when blank
    or not a code the rule knows."""
    if not code:
        return None
    return _meaning(_item_id(item), code)


@lru_cache(maxsize=8192)
def _meaning(naaccr_id: str, code: str) -> str | None:
    return next((row.meaning for row in code_meanings() if row.naaccr_id == naaccr_id and row.matches(code)), None)


def surgery_performed(code_1290: str | None, code_1291: str | None) -> bool:
    """Whether surgery of the primary site was done, by either item (the rule of ``surgery_codes.csv``)."""
    return (code_meaning(ITEM_BEFORE_2023, code_1290) == PERFORMED
            or code_meaning(ITEM_FROM_2023, code_1291) == PERFORMED)


def surgery_performed_sql(column_1290: Any, column_1291: Any) -> Any:
    """:func:`surgery_performed` as one SQL boolean over the two columns, for every report that counts surgery."""
    from sqlalchemy import and_, false, func, or_
    columns = {ITEM_BEFORE_2023: column_1290, ITEM_FROM_2023: column_1291}
    tests = [and_(func.length(columns[row.naaccr_id]) == len(low), columns[row.naaccr_id].between(low, high))
             for row in code_meanings() if row.performed for low, high in row.ranges]
    return or_(false(), *tests)


# ----- the codes a tumor may have ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def shipped_editions() -> dict[int, SurgeryEdition]:
    """The editions shipped in ``staging_tables/official/surgery`` (used when none is installed)."""
    editions: dict[int, SurgeryEdition] = {}
    for path in sorted(SHIPPED_DIR.glob("site-specific-surgery-tables-*.xml*")):
        edition = read_surgery_edition(path)
        editions[edition.year] = edition
    return editions


def _installed_editions() -> dict[int, SurgeryEdition]:
    """Installed editions by year, looked up once per application context (an edit run pays one query)."""
    from flask import g, has_app_context
    if not has_app_context():
        return {}
    cached = g.get("_surgery_editions")
    if cached is None:
        from registry.db import db_session
        cached = {}
        with db_session.no_autoflush:
            records = installed(KIND)
        for record in records:  # newest install first: it wins for its edition year
            if Path(record.stored_path).is_file():
                edition = _load(record.stored_path, record.checksum)
                cached.setdefault(edition.year, edition)
        g._surgery_editions = cached
    return cached


def edition_for(year: int) -> SurgeryEdition:
    """The edition a ``year`` diagnosis is coded from: installed ones, else the shipped official copies (as the
    item catalogue falls back to the shipped dictionaries)."""
    editions = _installed_editions() or shipped_editions()
    fitting = [edition_year for edition_year in editions if edition_year <= year]
    return editions[max(fitting) if fitting else min(editions)]


_CODES: dict[tuple[int, str, str | None], tuple[SurgeryEdition, tuple[SurgeryCode, ...]]] = {}


def _codes(edition: SurgeryEdition, site: str, histology: str | None) -> tuple[SurgeryCode, ...]:
    """The table's codes, cached by the edition's identity (hashing an edition would walk all its tables)."""
    key = (id(edition), site, histology)
    found = _CODES.get(key)
    if found is None or found[0] is not edition:
        if len(_CODES) > 20_000:
            _CODES.clear()
        table = edition.table_for(site, histology)
        found = _CODES[key] = (edition, table.codes if table is not None else ())
    return found[1]


def surgery_codes(site: str, histology: str | None, year: int, item: str | int | None = None
                  ) -> list[SurgeryCode]:
    """Codes (with the table's labels) of RX Summ--Surg Prim Site for a tumor of ``site`` (``C504``),
    ``histology`` (4 digits, optional) diagnosed in ``year``, from the site-specific table of that year's edition.

    ``item`` (1290/1291 or the naaccrId, default: the one the year uses) that the year does not use has no valid
    codes: [1290] is for diagnoses before 2023, [1291] from 2023. Bad input raises ValueError naming the field.
    """
    site = (site or "").strip().upper().replace(".", "")
    if not re.fullmatch(r"C[0-9]{3}", site):
        raise ValueError(f"site: {site!r} is not an ICD-O-3 topography code such as C504")
    histology = (histology or "").strip() or None
    if histology is not None and not re.fullmatch(r"[89][0-9]{3}", histology):
        raise ValueError(f"histology: {histology!r} is not a 4-digit ICD-O-3 histology such as 8500")
    if not 1800 <= int(year) <= 2200:
        raise ValueError(f"year: {year!r} is not a diagnosis year")
    wanted = _item_id(item) if item is not None else item_for_year(int(year))
    if wanted != item_for_year(int(year)):
        return []
    return list(_codes(edition_for(int(year)), site, histology))


def valid_surgery_code(site: str, histology: str | None, year: int, item: str | int, code: str) -> bool:
    """Whether ``code`` is in the site-specific table for the tumor (False when the item is not the year's).

    The death-certificate-only code (99, A990; B990 in a B-coded table) is accepted for every table: the
    manual allows it at every site even where a table (hematopoietic) lists it only in a note.
    """
    codes = surgery_codes(site, histology, year, item)
    if any(entry.code == code for entry in codes):
        return True
    return bool(codes) and code_meaning(item, code) == "unknown" and (len(code) == 2 or code[0] == codes[0].code[0])
