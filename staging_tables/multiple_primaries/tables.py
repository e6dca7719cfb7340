"""The rule tables of ``staging_tables/mp_*.csv`` (ours) and the official hematopoietic tables.

Our tables say which rule set covers a tumor, the steps of each rule set, and the histology tables of the
Solid Tumor Rules (rows, subtypes/variants, histology groups). The hematopoietic same-primary and
transformation pairs are SEER's files, shipped unchanged in ``staging_tables/official/mph/`` and installed
as reference data (kind ``mp-hematopoietic``); the product reads the newest install of each file
(:mod:`staging_tables.multiple_primaries.reference`), the library a folder (:func:`hematopoietic_dir`).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

TABLES_DIR = Path(__file__).resolve().parents[1]
OFFICIAL_DIR = TABLES_DIR / "official" / "mph"
RULE_SETS_FILE = TABLES_DIR / "mp_rule_sets.csv"
RULES_FILE = TABLES_DIR / "mp_rules.csv"
HISTOLOGY_GROUPS_FILE = TABLES_DIR / "mp_histology_groups.csv"
HISTOLOGY_ROWS_FILE = TABLES_DIR / "mp_histology_rows.csv"
HISTOLOGY_SUBTYPES_FILE = TABLES_DIR / "mp_histology_subtypes.csv"
SITE_TABLES_FILE = TABLES_DIR / "mp_site_tables.csv"
#: The official files this engine reads, as SEER publishes them (imsweb/mph resources), in the order of
#: :class:`HematoTables`' fields.
HEMATOPOIETIC_FILES = ("Hematopoietic2010SamePrimaryPairs.csv", "Hematopoietic2010TransformToPairs.csv",
                       "Hematopoietic2010TransformFromPairs.csv", "Hematopoietic2001HistologyGroups.csv",
                       "Hematopoietic2001HistologyGroupPairs.csv", "Hematopoietic1998HistologyPairs.csv")


def hematopoietic_dir() -> Path:
    """The folder of official hematopoietic CSVs a library caller gets: ``REGISTRY_MP_TABLES``, else the copies
    shipped with the product."""
    configured = os.environ.get("REGISTRY_MP_TABLES")
    return Path(configured) if configured else OFFICIAL_DIR


#: Where each official file is: a folder holding them under their own names, or ``(name, path)`` pairs.
HematoSource = Path | tuple[tuple[str, str], ...]


def _files(source: HematoSource) -> dict[str, Path]:
    if isinstance(source, Path):
        return {name: source / name for name in HEMATOPOIETIC_FILES}
    return {name: Path(path) for name, path in source}


def ranges(text: str) -> tuple[tuple[int, int], ...]:
    """``"C000-C148, C300"`` or ``"9590-9993,9140"`` as inclusive integer ranges (a leading C is dropped)."""
    found = []
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        low, _, high = item.partition("-")
        low_value = int(low.lstrip("C"))
        found.append((low_value, int(high.lstrip("C")) if high else low_value))
    return tuple(found)


def in_ranges(value: int, spans: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= value <= high for low, high in spans)


def codes(text: str) -> frozenset[str]:
    """Histology codes (``8140`` any behavior, ``8140/3`` one behavior) from a list with ranges of 4-digit codes."""
    found: set[str] = set()
    for item in text.replace(",", " ").split():
        low, _, high = item.partition("-")
        if high:
            found.update(str(h) for h in range(int(low), int(high) + 1))
        else:
            found.add(item)
    return frozenset(found)


@dataclass(frozen=True)
class RuleSet:
    """One set of multiple-primary rules and the tumors it covers (first matching set wins)."""
    key: str
    name: str
    first_year: int
    last_year: int
    sites: tuple[tuple[int, int], ...]
    histologies: tuple[tuple[int, int], ...]
    histology_exclusions: tuple[tuple[int, int], ...]
    behaviors: str
    rules: list[Rule] = field(default_factory=list)

    def covers(self, site: int, histology: int, behavior: str, year: int) -> bool:
        return (self.first_year <= year <= self.last_year and behavior in self.behaviors
                and (not self.sites or in_ranges(site, self.sites))
                and (not self.histologies or in_ranges(histology, self.histologies))
                and not in_ranges(histology, self.histology_exclusions))


@dataclass(frozen=True)
class Rule:
    """One step: the check that decides it, its arguments, the verdict when it holds and the words."""
    rule_set: str
    step: str
    check: str
    args: str
    verdict: str
    question_id: str
    question: str
    reason: str


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def rule_sets() -> tuple[RuleSet, ...]:
    """Every rule set in precedence order, each with its steps in order."""
    sets = {}
    for row in _read(RULE_SETS_FILE):
        sets[row["rule_set"]] = RuleSet(row["rule_set"], row["name"], int(row["first_year"]),
                                        int(row["last_year"] or 9999), ranges(row["sites"]),
                                        ranges(row["histologies"]), ranges(row["histology_exclusions"]),
                                        row["behaviors"])
    for row in _read(RULES_FILE):
        row["reason"] = row["reason"].replace("\\n", "\n")
        sets[row["rule_set"]].rules.append(Rule(**row))
    return tuple(sets.values())


@lru_cache(maxsize=1)
def histology_groups() -> dict[str, frozenset[str]]:
    """``{group: codes}`` (``8140`` any behavior or ``8140/3``)."""
    return {row["group"]: codes(row["codes"]) for row in _read(HISTOLOGY_GROUPS_FILE)}


@lru_cache(maxsize=1)
def histology_rows() -> dict[str, dict[str, str]]:
    """``{table: {code: row}}``: the row of each code of a Solid Tumor histology table."""
    tables: dict[str, dict[str, str]] = {}
    for row in _read(HISTOLOGY_ROWS_FILE):
        table = tables.setdefault(row["table"], {})
        for code in codes(row["codes"]):
            table[code] = row["row"]
    return tables


@lru_cache(maxsize=1)
def histology_subtypes() -> dict[str, dict[str, frozenset[str]]]:
    """``{table: {subtype: the subtypes it takes in}}``: a subtype takes in itself and those listed."""
    tables: dict[str, dict[str, frozenset[str]]] = {}
    for row in _read(HISTOLOGY_SUBTYPES_FILE):
        table = tables.setdefault(row["table"], {})
        for code in codes(row["codes"]):
            table[code] = frozenset({code}) | codes(row["takes_in"])
    return tables


@lru_cache(maxsize=1)
def site_tables() -> dict[str, dict[str, str]]:
    """``{lookup: {site: table}}``: which histology table applies to a site (head and neck, other sites)."""
    lookups: dict[str, dict[str, str]] = {}
    for row in _read(SITE_TABLES_FILE):
        lookup = lookups.setdefault(row["lookup"], {})
        for low, high in ranges(row["sites"]):
            for site in range(low, high + 1):
                lookup[f"C{site:03d}"] = row["table"]
    return lookups


@dataclass(frozen=True)
class HematoPair:
    """One row of an official hematopoietic pair table: the code pairs with ``other`` for diagnoses from
    ``first_year`` to ``last_year`` (the start and end years, else the years the code is valid)."""
    other: str
    first_year: int
    last_year: int


def _year(text: str, default: int) -> int:
    return int(text) if text.strip() else default


def read_pair_table(path: Path) -> dict[str, list[HematoPair]]:
    """An official pair table (same primary, transform to, transform from): ``{morphology: pairs}``; the
    paired code is in the last column, whatever its name."""
    pairs: dict[str, list[HematoPair]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        other_column = reader.fieldnames[-1]
        for row in reader:
            valid_from, valid_to = _year(row["valid start year"], 0), _year(row["valid end year"], 9999)
            pairs.setdefault(row["morphology"], []).append(
                HematoPair(row[other_column], _year(row["start year"], valid_from), _year(row["end year"], valid_to)))
    return pairs


def read_histology_groups(path: Path) -> list[tuple[int, int, int]]:
    """The official 2001 histology groups: ``(group number, lowest histology, highest histology)``."""
    return [(int(r["HistologyGroupNumber"]), int(r["HistologyLow"]), int(r["HistologyHigh"])) for r in _read(path)]


def group_of(groups: list[tuple[int, int, int]], histology: int) -> int | None:
    """The 2001 histology group of a histology code."""
    return next((number for number, low, high in groups if low <= histology <= high), None)


@dataclass(frozen=True)
class HematoTables:
    """The 2010+ same-primary and transformation pairs and the 2001/1998 histology groups."""
    same_primary: dict[str, list[HematoPair]]
    transform_to: dict[str, list[HematoPair]]
    transform_from: dict[str, list[HematoPair]]
    groups_2001: list[tuple[int, int, int]]
    group_pairs_2001: frozenset[tuple[int, int]]
    pairs_1998: list[tuple[int, int, int, int]]

    @staticmethod
    def pairs_match(table: dict[str, list[HematoPair]], code: str, other: str, year: int) -> bool:
        return any(p.other == other and p.first_year <= year <= p.last_year for p in table.get(code, ()))


def read_group_pairs(path: Path) -> frozenset[tuple[int, int]]:
    """The official 2001 pairs of histology groups that are one primary."""
    return frozenset((int(r["FirstDxHistologyGroup"]), int(r["SecondDxHistologyGroup"])) for r in _read(path))


def read_pairs_1998(path: Path) -> list[tuple[int, int, int, int]]:
    """The official 1998 histology ranges and the ranges that are the same primary with them."""
    return [(int(r["HistologyLow"]), int(r["HistologyHigh"]), int(r["SameHistologyLow"]), int(r["SameHistologyHigh"]))
            for r in _read(path)]


#: The reader of each official file (also what checks a file before it is installed).
HEMATOPOIETIC_READERS = {
    "Hematopoietic2010SamePrimaryPairs.csv": read_pair_table,
    "Hematopoietic2010TransformToPairs.csv": read_pair_table,
    "Hematopoietic2010TransformFromPairs.csv": read_pair_table,
    "Hematopoietic2001HistologyGroups.csv": read_histology_groups,
    "Hematopoietic2001HistologyGroupPairs.csv": read_group_pairs,
    "Hematopoietic1998HistologyPairs.csv": read_pairs_1998,
}


def read_hematopoietic(source: HematoSource) -> HematoTables:
    """The official hematopoietic tables (the files of :data:`HEMATOPOIETIC_FILES`) from a folder or pairs."""
    files = _files(source)
    return HematoTables(*(HEMATOPOIETIC_READERS[name](files[name]) for name in HEMATOPOIETIC_FILES))


class TablesMissing(LookupError):
    """The official hematopoietic tables are not where the product looks for them."""


@lru_cache(maxsize=4)
def hematopoietic_tables(source: HematoSource | None = None) -> HematoTables:
    """The official hematopoietic tables, read once per source (default :func:`hematopoietic_dir`)."""
    try:
        return read_hematopoietic(source or hematopoietic_dir())
    except FileNotFoundError as exc:
        raise TablesMissing(f"the official hematopoietic tables are not installed ({exc.filename} is missing)") from None
