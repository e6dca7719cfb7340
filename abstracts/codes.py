"""Code look-up for pickers and the API: every code list we store, plus ICD-O-3 topography and morphology.

A *system* is a code list name from ``staging_tables/code_lists.csv`` or ``topography`` /
``morphology`` (our ICD-O-3 tables ``staging_tables/icdo3_*.csv``). Each form field knows its
system from the item metadata, so no field is named by hand.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from registry.items import ItemSpec
from staging_tables.codes import code_lists

STAGING_DIR = Path(__file__).resolve().parent.parent / "staging_tables"
ICDO3_FILES = {"topography": STAGING_DIR / "icdo3_topography.csv",
               "morphology": STAGING_DIR / "icdo3_morphology.csv"}
#: Items whose codes come from an ICD-O-3 table rather than a code list.
ITEM_SYSTEMS = {"primary_site": "topography", "histology": "morphology"}


@lru_cache(maxsize=None)
def icdo3(system: str) -> dict[str, str]:
    with ICDO3_FILES[system].open(newline="", encoding="utf-8") as handle:
        return {row["code"]: row["term"] for row in csv.DictReader(handle)}


def systems() -> list[str]:
    return sorted(ICDO3_FILES) + sorted(code_lists())


def codes(system: str) -> dict[str, str]:
    """``{code: term}`` of one system; KeyError names an unknown system."""
    if system in ICDO3_FILES:
        return icdo3(system)
    if system in code_lists():
        return code_lists()[system]
    raise KeyError(f"no code system named '{system}'")


def system_for(spec: ItemSpec) -> str | None:
    """The system a picker for this item offers, or None for a free field."""
    if spec.attribute in ITEM_SYSTEMS:
        return ITEM_SYSTEMS[spec.attribute]
    return spec.code_list if spec.kind == "code" else None


def _plain_code(text: str) -> str:
    return re.sub(r"[.\s]", "", text).upper()


def lookup(system: str, query: str = "", limit: int = 20) -> list[dict[str, str]]:
    """Codes whose code starts with ``query`` (dots ignored: C50.9 = C509), then those whose term holds
    every word of ``query``; in code order within each group."""
    table = codes(system)
    query = (query or "").strip()
    if not query:
        return [{"code": c, "term": t} for c, t in list(table.items())[:limit]]
    plain = _plain_code(query)
    by_code = [c for c in table if _plain_code(c).startswith(plain) or _plain_code(c).replace("/", "").startswith(plain)]
    words = [w for w in re.split(r"\W+", query.lower()) if w]
    by_term = [c for c, t in table.items() if c not in by_code and words and all(w in t.lower() for w in words)]
    return [{"code": c, "term": table[c]} for c in (by_code + by_term)[:limit]]


def describe(system: str | None, code: str | None) -> str:
    """The term of a code for display; blank when unknown."""
    if not system or not code:
        return ""
    return codes(system).get(code, "")


def morphology_term(histology: str | None, behavior: str | None) -> str:
    return describe("morphology", f"{histology}/{behavior}") if histology and behavior else ""
