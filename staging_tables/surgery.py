"""SEER site-specific surgery code tables as installed reference data (``surgery-tables`` kind).

The codes of RX Summ--Surg Prim Site [1290] (before 2023) and [1291] (2023 onward) depend on
the primary site, sometimes the histology, and the diagnosis year's coding manual. SEER
publishes one XML file per manual edition (``site-specific-surgery-tables-YYYY.xml``, gzip
allowed); each install is one edition, and a tumor uses the newest edition not later than its
diagnosis year.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
