"""Suggested codes for a pathology report: primary site, histology/behavior, laterality, grade, date of
diagnosis and diagnostic confirmation, each saying where it came from.

Synoptic (CAP checklist) answers are read first (not one whose code failed its code list's check),
coded statements next (FHIR, and HL7 codes that passed it), narrative text last (the
final diagnosis before the other sections). When none of them names the site, the synoptic form's title or
CAP category may (a breast or melanoma checklist is about the breast or the skin, even when its answers
only grade the tumor or list mutations); a title naming no single site ("colon and rectum") gives none.
Terms and codes are data (``data/suggestion_terms.csv``: item, term, code, label; ``form_site`` rows for
form titles and categories, an empty code for a title naming no one site); a term counts as whole words, case and parentheses ignored, and not where the
screener found a negating phrase. Suggestions are proposals for the registrar, never stored codes.
"""
from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from abstracts.epath.report import PathologyReport
from abstracts.epath.screening import ScreeningResult

TERMS_FILE = Path(__file__).resolve().parent / "data" / "suggestion_terms.csv"
#: An HL7 answer coded ICD-O-3, once :mod:`abstracts.epath.coding` found it in its list, is suggested as sent.
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
#: Synoptic questions (lower case, start of the question) read for each item, in order.
QUESTIONS = {
    "site": ("tumor site", "primary site", "tumor location", "site"),
    "histology": ("histologic type", "histologic subtype", "histology", "tumor type"),
    "laterality": ("specimen laterality", "tumor laterality", "laterality"),
    "grade": ("histologic grade", "overall grade", "grade"),
    "diagnostic_confirmation": ("procedure",),
}
#: Narrative sections read for the text suggestions, in order; others follow.
SECTION_ORDER = ("final diagnosis", "addendum", "synoptic template", "nature of specimen", "comments",
                 "microscopic", "gross description")
#: Diagnostic confirmation codes (NAACCR item 490) a pathology report supports, when its synoptic procedure
#: does not say how the tissue was taken (``diagnostic_confirmation`` terms: a biopsy or resection is
#: histology, an aspiration or brushing cytology).
CONFIRMATION = {"histology": ("1", "Positive histology"), "cytology": ("2", "Positive cytology")}


@dataclass(frozen=True)
class Suggestion:
    item: str
    code: str
    label: str
    source: str  # "synoptic", "coded", "text", "form", "message", "rule"
    detail: str  # where exactly: the question and answer, the section and phrase, the segment

    def as_json(self) -> dict[str, str]:
        return asdict(self)


@lru_cache(maxsize=2)
def load_terms(path: str = str(TERMS_FILE)) -> dict[str, list[tuple[str, str, str]]]:
    terms: dict[str, list[tuple[str, str, str]]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            terms.setdefault(row["item"], []).append((_normal(row["term"]), row["code"], row["label"]))
    return terms


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[()\[\]]", "", text.lower())).strip()


@lru_cache(maxsize=16)
def _pattern(item: str) -> re.Pattern[str]:
    """All terms of ``item`` as one regex, longer terms first, so a match is the longest term at its place."""
    terms = sorted({term for term, _code, _label in load_terms()[item]}, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(t) for t in terms) + r")(?![a-z0-9])")


@lru_cache(maxsize=16)
def _codes(item: str) -> dict[str, tuple[str, str]]:
    codes: dict[str, tuple[str, str]] = {}
    for term, code, label in load_terms()[item]:
        codes.setdefault(term, (code, label))
    return codes


def _find(item: str, text: str, *, longest: bool) -> tuple[str, str, str, int] | None:
    """The term of ``item`` found in ``text``: the longest (most specific) or the earliest."""
    best = None
    for hit in _pattern(item).finditer(_normal(text)):
        if not longest:
            best = hit
            break
        if best is None or len(hit.group()) > len(best.group()):
            best = hit
    if best is None:
        return None
    code, label = _codes(item)[best.group()]
    return best.group(), code, label, best.start()


def _negated_text(text: str, screening: ScreeningResult | None) -> str:
    """The text with negated phrases blanked out (same length), so no suggestion comes from them."""
    if screening is None:
        return text
    chars = list(text)
    for match in screening.keywords("Negative"):
        for i in range(match.start, min(match.end + 1, len(chars))):
            chars[i] = " "
    return "".join(chars)


def suggest(report: PathologyReport, screening: ScreeningResult | None = None) -> list[Suggestion]:
    suggestions: dict[str, Suggestion] = {}
    for item, longest in (("site", False), ("histology", True), ("laterality", False), ("grade", False)):
        found = _from_synoptic(report, item, longest) or _from_coded(report, item, longest) \
            or _from_text(report, item, longest, screening) or (_from_form(report) if item == "site" else None)
        if found:
            suggestions[item] = found
    site = suggestions.get("site")
    if site and not _paired(site.code):
        suggestions["laterality"] = Suggestion("laterality", "0", "Not a paired site", "rule",
                                               f"site {site.code} is not a paired organ")
    if report.collection_date:
        where = "specimen collection date" if report.format == "hl7v2" else "date in the bundle"
        suggestions["date_of_diagnosis"] = Suggestion("date_of_diagnosis", report.collection_date,
                                                      report.collection_date, "message", where)
    if "histology" in suggestions:
        kind = "cytology" if "cytolog" in (report.report_type or "").lower() else "histology"
        code, label = CONFIRMATION[kind]
        suggestions["diagnostic_confirmation"] = _from_synoptic(report, "diagnostic_confirmation", True) \
            or Suggestion("diagnostic_confirmation", code, label, "rule", f"a {kind} report naming a histology")
    return list(suggestions.values())


def _paired(site: str) -> bool:
    return site.startswith(_paired_prefixes())


@lru_cache(maxsize=1)
def _paired_prefixes() -> tuple[str, ...]:
    return tuple(term.upper() for term, _code, _label in load_terms().get("paired", []))


def _from_synoptic(report: PathologyReport, item: str, longest: bool) -> Suggestion | None:
    usable = [a for a in report.synoptic if not a.left_out]  # a code not in its code list suggests nothing
    answers = [a for a in usable if a.question.lower().startswith(QUESTIONS[item])]
    if item in {"site", "histology"}:  # checklist answers sent without their question's text
        answers += [a for a in usable if a not in answers and not re.search(r"[A-Za-z]", a.question)]
    for answer in answers:
        found = _find(item, answer.answer, longest=longest)
        if found:
            term, code, label, _ = found
            return Suggestion(item, code, label, "synoptic", f"{answer.question}: {answer.answer}")
    return None


def _from_coded(report: PathologyReport, item: str, longest: bool) -> Suggestion | None:
    kinds = {"site": ("body_site", "condition"), "histology": ("histology", "condition"),
             "laterality": ("laterality", "body_site"), "grade": ("grade",)}[item]
    for kind in kinds:
        for finding in report.coded:
            if report.format == "hl7v2" and finding.system == ICDO3 and finding.kind == kind and finding.code \
                    and (item, kind) in {("site", "body_site"), ("histology", "histology")}:
                return Suggestion(item, finding.code, finding.display or finding.code, "coded",
                                  f"ICD-O-3 {finding.code} '{finding.display or ''}' ({finding.detail or kind})")
            if finding.kind != kind or not finding.display:
                continue
            found = _find(item, finding.display, longest=longest)
            if found:
                code = finding.code or ""
                return Suggestion(item, found[1], found[2], "coded",
                                  f"{finding.kind} {finding.system or ''} {code} '{finding.display}'".replace("  ", " "))
    return None


def _from_text(report: PathologyReport, item: str, longest: bool,
               screening: ScreeningResult | None) -> Suggestion | None:
    rank = {name: i for i, name in enumerate(SECTION_ORDER)}
    full = report.text
    usable = screening is not None and screening_text_matches(screening, full)
    blanked = _negated_text(full, screening) if usable else full
    groups: dict[str, list[str]] = {}
    cursor = 0
    for section in report.sections:
        if not section.text.strip():
            continue
        offset = full.find(section.text, cursor)
        text = blanked[offset:offset + len(section.text)] if offset >= 0 else section.text
        cursor = max(cursor, offset)
        groups.setdefault(section.name, []).append(text)
    for name in sorted(groups, key=lambda n: rank.get(n, len(rank))):
        found = _find(item, "\n".join(groups[name]), longest=longest)
        if found:
            term, code, label, _ = found
            return Suggestion(item, code, label, "text", f"{name}: '{term}'")
    return None


def _from_form(report: PathologyReport) -> Suggestion | None:
    """The site a synoptic form is for, from its title (more specific) or else its CAP category."""
    for what, name in (("title", report.form_title), ("category", report.form_category)):
        if not name:
            continue
        found = _find("form_site", name, longest=True)
        if found is None:
            continue
        _term, code, label, _ = found
        if not code:
            return None
        return Suggestion("site", code, label, "form", f"synoptic form {what} '{name}'")
    return None


def screening_text_matches(screening: ScreeningResult, text: str) -> bool:
    """Whether ``screening`` was made of ``text`` (its positions then apply to it)."""
    return all(text[m.start:m.end + 1] == m.text for m in screening.matches[:20])
