"""ICD-O-3 terms for the code pickers: every official term and synonym, ranked by how the words match, then by use.

Registrars type the words of the pathology report ("infiltrating duct", "upper outer"), which are
often a synonym and not the preferred term, and rarely in the term's order. So the pickers search
the official files installed as ``icdo3-topography``, ``icdo3-morphology`` (preferred terms) and
``icdo3-terms`` (every term and synonym); ``bootstrap`` installs the shipped copies. A query
matches a term when each of its words is the start of a different word of the term (hyphens and
commas separate words); the best match of a code decides its rank:

1. how the words match: the term starts with them, they are a phrase in it, they are in its order,
   in any order; last, terms that merely contain them (``carcinoma`` in ``adenocarcinoma``);
2. whether the query names the whole term (its words other than NOS and the notes in brackets);
3. how many tumors of the registry have the code (one grouped query per request);
4. how few words of the term are left unnamed, then the code.

Where the files are not installed the embedded tables (``staging_tables/icdo3_*.csv``, 576
morphology codes, preferred terms only) are searched, and the answer carries a note saying so.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import ReferenceInstall, Tumor
from registry.reference import installed
from staging_tables.icdo3 import (MORPHOLOGY_KIND, TERMS_GENERATION, TERMS_KIND, TOPOGRAPHY_KIND, read_morphology,
                                  read_morphology_terms, read_topography)

log = logging.getLogger(__name__)

SYSTEMS = ("topography", "morphology")
#: The installs each system is built from, best first.
SOURCES = {"topography": (TOPOGRAPHY_KIND,), "morphology": (TERMS_KIND, MORPHOLOGY_KIND)}
FALLBACK_NOTE = ("The official ICD-O-3 term files are not installed, so only the embedded {system} table "
                 "({count} codes, preferred terms only) is searched; an administrator installs them with "
                 "'flask --app wsgi reference install-official'.")
WORD = re.compile(r"[^\W_]+")
NOTES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
#: Words a query need not name to name the whole term.
UNNAMED = frozenset({"nos"})
MAX_WORDS = 8
#: Match tiers, best first.
STARTS, PHRASE, IN_ORDER, ANY_ORDER, CONTAINS = range(5)


def words_of(text: str) -> tuple[str, ...]:
    """Lower-case words; anything but a letter or digit (space, hyphen, comma, dot) separates them."""
    return tuple(WORD.findall(text.lower()))


@dataclass(frozen=True)
class Term:
    code: str
    text: str
    preferred: bool
    words: tuple[str, ...]
    lowered: str
    core: int  # words besides NOS and the notes in brackets


def make_term(code: str, text: str, preferred: bool) -> Term:
    core = sum(word not in UNNAMED for word in words_of(NOTES.sub(" ", text)))
    return Term(code, text, preferred, words_of(text), text.lower(), core)


@dataclass(frozen=True)
class TermIndex:
    """The codes of one system with their preferred terms, and every term to search (preferred first)."""

    codes: dict[str, str]
    terms: tuple[Term, ...]
    note: str = ""


def _index(codes: dict[str, str], synonyms: dict[str, list[tuple[str, bool]]], note: str = "") -> TermIndex:
    terms = [make_term(code, term, True) for code, term in codes.items()]
    terms += [make_term(code, text, False) for code, listed in synonyms.items() for text, _ in listed
              if text != codes.get(code)]
    return TermIndex(codes, tuple(terms), note)


@lru_cache(maxsize=8)
def _installed_index(system: str, files: tuple[tuple[str, str, str], ...]) -> TermIndex:
    """The index of installed files ``(kind, path, checksum)``, read once per file (the checksums key the cache)."""
    paths = {kind: Path(path) for kind, path, _ in files}
    if system == "topography":
        return _index(read_topography(paths[TOPOGRAPHY_KIND]), {})
    synonyms = read_morphology_terms(paths[TERMS_KIND]) if TERMS_KIND in paths else {}
    preferred = {code: listed[0][0] for code, listed in synonyms.items()}
    if MORPHOLOGY_KIND in paths:
        preferred.update(read_morphology(paths[MORPHOLOGY_KIND]))
    return _index(dict(sorted(preferred.items())), synonyms)


def _installed_files() -> dict[str, ReferenceInstall]:
    """The newest install of each ICD-O-3 term kind whose file is in place, once per request (or app context)."""
    if has_request_context():
        found = request.environ.get("registry.icdo3_files")
        if found is None:
            found = request.environ["registry.icdo3_files"] = _query_installed_files()
        return found
    cached = g.get("_icdo3_files")
    if cached is None or cached[0] != TERMS_GENERATION[0]:
        cached = g._icdo3_files = (TERMS_GENERATION[0], _query_installed_files())
    return cached[1]


def _query_installed_files() -> dict[str, ReferenceInstall]:
    kinds = [kind for sources in SOURCES.values() for kind in sources]
    newest: dict[str, ReferenceInstall] = {}
    with db_session.no_autoflush:
        for record in installed():  # newest first
            if record.kind in kinds:
                newest.setdefault(record.kind, record)
    for kind, record in list(newest.items()):
        if not Path(record.stored_path).is_file():
            log.warning("installed %s file %s is missing; the pickers leave it out", kind, record.stored_path)
            del newest[kind]
    return newest


def term_index(system: str, embedded: dict[str, str]) -> TermIndex:
    """The installed official terms of ``system``, else ``embedded`` (the shipped table) with a note."""
    if has_app_context():
        files = _installed_files()
        chosen = tuple((kind, files[kind].stored_path, files[kind].checksum)
                       for kind in SOURCES[system] if kind in files)
        if chosen:
            return _installed_index(system, chosen)
    return _embedded_index(system, tuple(embedded.items()))


@lru_cache(maxsize=4)
def _embedded_index(system: str, items: tuple[tuple[str, str], ...]) -> TermIndex:
    log.warning("no ICD-O-3 %s file is installed; the pickers search the embedded table", system)
    return _index(dict(items), {}, FALLBACK_NOTE.format(system=system, count=len(items)))


def usage(system: str) -> dict[str, int]:
    """``{code: number of tumors}`` of a system, in one grouped query, once per request (none without an app)."""
    if not has_app_context():
        return {}
    key = f"registry.code_usage.{system}"
    if has_request_context() and key in request.environ:
        return request.environ[key]
    if system == "topography":
        rows = db_session.execute(select(Tumor.primary_site, func.count()).where(Tumor.primary_site.is_not(None))
                                  .group_by(Tumor.primary_site))
        counts = {site: count for site, count in rows}
    else:
        rows = db_session.execute(select(Tumor.histology, Tumor.behavior, func.count())
                                  .where(Tumor.histology.is_not(None), Tumor.behavior.is_not(None))
                                  .group_by(Tumor.histology, Tumor.behavior))
        counts = {f"{histology}/{behavior}": count for histology, behavior, count in rows}
    if has_request_context():
        request.environ[key] = counts
    return counts


def match_tier(tokens: tuple[str, ...], term: Term) -> int | None:
    """How the query's words match the term's (a tier, best first), or None when they do not."""
    words, n = term.words, len(tokens)
    if all(any(word.startswith(token) for word in words) for token in tokens):
        for start in range(len(words) - n + 1):
            if all(words[start + i].startswith(token) for i, token in enumerate(tokens)):
                return STARTS if start == 0 else PHRASE
        matched = 0
        for word in words:
            if matched < n and word.startswith(tokens[matched]):
                matched += 1
        if matched == n:
            return IN_ORDER
        if _distinct_words(tokens, words, frozenset()):
            return ANY_ORDER
    if all(token in term.lowered for token in tokens):
        return CONTAINS
    return None


def _distinct_words(tokens: tuple[str, ...], words: tuple[str, ...], used: frozenset[int]) -> bool:
    """Can each token start a different word?"""
    if not tokens:
        return True
    return any(i not in used and word.startswith(tokens[0]) and _distinct_words(tokens[1:], words, used | {i})
               for i, word in enumerate(words))


def search(index: TermIndex, query: str, counts: dict[str, int]) -> list[tuple[str, Term]]:
    """``(code, best matching term)`` of every code a term of which matches ``query``, best first."""
    tokens = words_of(query)[:MAX_WORDS]
    if not tokens:
        return []
    best: dict[str, tuple[tuple[int, int, int], Term]] = {}
    for term in index.terms:
        tier = match_tier(tokens, term)
        if tier is None:
            continue
        unnamed = max(term.core - len(tokens), 0)
        key = (tier, int(unnamed > 0 or tier == CONTAINS), unnamed)
        if term.code not in best or key < best[term.code][0]:
            best[term.code] = (key, term)
    ranked = sorted(best.items(), key=lambda item: (item[1][0][:2], -counts.get(item[0], 0), item[1][0][2], item[0]))
    return [(code, term) for code, (_, term) in ranked]
