"""Code look-up for pickers and the API: every code list we store, plus ICD-O-3 topography and morphology.

A *system* is a code list name from ``staging_tables/code_lists.csv``, ``topography`` /
``morphology`` (the installed official ICD-O-3 term files, every term and synonym searched, see
:mod:`abstracts.icdo3_terms`; without them our tables ``staging_tables/icdo3_*.csv``), or
``naaccr:<lookupId>`` for a NAACCR lookup of the item catalogue (:mod:`registry.catalogue`). Each
form field knows its system from the item metadata, so no field is named by hand.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from flask import has_request_context, request

from abstracts.icdo3_terms import TermIndex, search, term_index, usage
from registry.catalogue import Catalogue, CatalogueItem, CodeList, catalogue
from registry.items import ItemSpec
from staging_tables.codes import code_lists

STAGING_DIR = Path(__file__).resolve().parent.parent / "staging_tables"
ICDO3_FILES = {"topography": STAGING_DIR / "icdo3_topography.csv",
               "morphology": STAGING_DIR / "icdo3_morphology.csv"}
#: Items whose codes come from an ICD-O-3 table rather than a code list.
ITEM_SYSTEMS = {"primary_site": "topography", "histology": "morphology"}
#: Systems named ``naaccr:<lookupId>`` are the catalogue's NAACCR lookups.
NAACCR_PREFIX = "naaccr:"
CATALOGUE_KEY = "registry.catalogue"


def current_catalogue() -> Catalogue:
    """The item catalogue, found once per request: finding the installed dictionaries reads the database, and an
    abstract page asks for hundreds of items' code lists."""
    if not has_request_context():
        return catalogue()
    found = request.environ.get(CATALOGUE_KEY)
    if found is None:
        found = request.environ[CATALOGUE_KEY] = catalogue()
    return found


@lru_cache(maxsize=None)
def icdo3(system: str) -> dict[str, str]:
    """The embedded table of ``topography`` or ``morphology`` (what the pickers search without the official files)."""
    with ICDO3_FILES[system].open(newline="", encoding="utf-8") as handle:
        return {row["code"]: row["term"] for row in csv.DictReader(handle)}


def icdo3_index(system: str) -> TermIndex:
    """The terms the ``topography`` or ``morphology`` picker searches: the installed official files, else ours."""
    return term_index(system, icdo3(system))


def systems() -> list[str]:
    naaccr = sorted(NAACCR_PREFIX + name for name in current_catalogue().code_lists)
    return sorted(ICDO3_FILES) + sorted(code_lists()) + naaccr


def naaccr_lookup(system: str) -> CodeList | None:
    """The catalogue's NAACCR lookup a ``naaccr:<lookupId>`` system names, else None."""
    if not system.startswith(NAACCR_PREFIX):
        return None
    return current_catalogue().code_lists.get(system[len(NAACCR_PREFIX):])


def codes(system: str) -> dict[str, str]:
    """``{code: term}`` of one system (a NAACCR lookup's ranges as ``002-988``); KeyError names an unknown system."""
    if system in ICDO3_FILES:
        return icdo3_index(system).codes
    if system in code_lists():
        return code_lists()[system]
    lookup_list = naaccr_lookup(system)
    if lookup_list is not None:
        return dict(lookup_list.entries())
    raise KeyError(f"no code system named '{system}'")


def system_for(spec: ItemSpec) -> str | None:
    """The system a picker for this item offers, or None for a free field."""
    if spec.attribute in ITEM_SYSTEMS:
        return ITEM_SYSTEMS[spec.attribute]
    return spec.code_list if spec.kind == "code" else None


def item_system(item: CatalogueItem) -> str | None:
    """The picker system of a catalogued item: its column's own list where it has one, else its NAACCR lookup."""
    if item.column is not None:
        own = system_for(item.column)
        if own:
            return own
    if item.code_list and item.code_list in current_catalogue().code_lists:
        return NAACCR_PREFIX + item.code_list
    return None


def _plain_code(text: str) -> str:
    return re.sub(r"[.\s]", "", text).upper()


def lookup(system: str, query: str = "", limit: int = 20) -> list[dict[str, object]]:
    """Codes whose code starts with ``query`` (dots ignored: C50.9 = C509) in code order, then those a term of which
    matches its words: for ICD-O-3 every official term and synonym, ranked as :mod:`abstracts.icdo3_terms` says
    (an entry then names the synonym it matched), for other systems terms holding every word, in code order."""
    table = codes(system)
    ranges = _ranges(system)
    query = (query or "").strip()
    if not query:
        return [_entry(c, table[c], ranges) for c in list(table)[:limit]]
    plain = _plain_code(query)
    by_code = [c for c in table if _plain_code(c).startswith(plain) or _plain_code(c).replace("/", "").startswith(plain)]
    by_code += [c for c in ranges if c not in by_code and _in_range(c, query)]
    found = [_entry(c, table[c], ranges) for c in by_code[:limit]]
    if system in ICDO3_FILES:
        return found + _term_matches(system, query, set(by_code), limit - len(found))
    words = [w for w in re.split(r"\W+", query.lower()) if w]
    by_term = [c for c, t in table.items() if c not in by_code and words and all(w in t.lower() for w in words)]
    return found + [_entry(c, table[c], ranges) for c in by_term[:max(limit - len(found), 0)]]


def _term_matches(system: str, query: str, shown: set[str], limit: int) -> list[dict[str, object]]:
    """The best ``limit`` ICD-O-3 codes a term of which matches ``query`` (the synonym named where one matched)."""
    if limit <= 0:
        return []
    table = codes(system)
    found: list[dict[str, object]] = []
    for code, term in search(icdo3_index(system), query, usage(system)):
        if len(found) >= limit:
            break
        if code not in shown:
            found.append({"code": code, "term": table[code]} | ({} if term.preferred else {"matched": term.text}))
    return found


def lookup_note(system: str) -> str:
    """What the look-up of ``system`` could not search (the official ICD-O-3 files not installed), else blank."""
    return icdo3_index(system).note if system in ICDO3_FILES else ""


def _ranges(system: str) -> frozenset[str]:
    """The rows of a NAACCR lookup that stand for a range of codes (``002-988``): the picker asks for the value."""
    lookup_list = naaccr_lookup(system)
    if lookup_list is None:
        return frozenset()
    return frozenset(f"{low:0{w}d}-{high:0{w}d}" for low, high, w, _ in lookup_list.ranges)


def _in_range(row: str, query: str) -> bool:
    low, _, high = row.partition("-")
    return query.isdigit() and len(query) == len(low) and int(low) <= int(query) <= int(high)


def _entry(code: str, term: str, ranges: frozenset[str]) -> dict[str, object]:
    return {"code": code, "term": term, "range": True} if code in ranges else {"code": code, "term": term}


def describe(system: str | None, code: str | None) -> str:
    """The term of a code for display; blank when unknown."""
    if not system or not code:
        return ""
    lookup_list = naaccr_lookup(system)
    if lookup_list is not None:
        return lookup_list.term(code)
    return codes(system).get(code, "")


def morphology_term(histology: str | None, behavior: str | None) -> str:
    return describe("morphology", f"{histology}/{behavior}") if histology and behavior else ""
