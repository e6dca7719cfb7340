"""Walk the steps of the rule set that covers two tumors; the first step that applies decides.

As in the SEER manuals, a step the inputs cannot settle (unknown laterality, a partial date) leaves a
tentative answer and the walk goes on: a later step that agrees confirms it, one that disagrees makes the
pair QUESTIONABLE with the open question. The registrar's answer to a step's question (``answers``,
keyed by the question id of ``mp_rules.csv``) replaces the check: yes gives the step's verdict, no skips it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from . import checks, hematopoietic, site_checks  # noqa: F401  (checks register themselves)
from .checks import FINAL, MULTIPLE, QUESTIONABLE, SINGLE, Tumor
from .dates import DiagnosisDate
from .tables import HematoSource, RuleSet, TablesMissing, hematopoietic_tables, rule_sets

VALID_BEHAVIORS = frozenset("01236")
#: Laterality codes (NAACCR item 410); blank counts as unknown like 9.
VALID_LATERALITIES = frozenset({"", "0", "1", "2", "3", "4", "5", "9"})


class InvalidTumor(ValueError):
    """A tumor the rules cannot read; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer for two tumors: result, the rule set and step that decided, the reason in words, and for
    a QUESTIONABLE pair the question (id and words) a registrar's answer would settle."""
    result: str
    rule_set: str
    step: str
    reason: str
    question_id: str = ""
    question: str = ""


def tumor(site: str, histology: str, behavior: str, laterality: str, year: int | str,
          month: int | str | None = None, day: int | str | None = None) -> Tumor:
    """A tumor from its codes; month and day may be blank or 99 (unknown). Raises :class:`InvalidTumor`."""
    site = (site or "").strip().upper()
    if len(site) != 4 or site[0] != "C" or not site[1:].isdigit() or site == "C809":
        raise InvalidTumor("site", f"primary site '{site}' is not a topography code C000-C999 (C809 excluded)")
    histology = (histology or "").strip()
    if len(histology) != 4 or not histology.isdigit() or not "8000" <= histology <= "9999":
        raise InvalidTumor("hist", f"histology '{histology}' is not a code 8000-9999")
    behavior = (behavior or "").strip()
    if len(behavior) != 1 or behavior not in VALID_BEHAVIORS:
        raise InvalidTumor("beh", f"behavior '{behavior}' is not 0, 1, 2, 3 or 6")
    laterality = (laterality or "").strip()
    if laterality not in VALID_LATERALITIES:
        raise InvalidTumor("lat", f"laterality '{laterality}' is not 0-5 or 9")
    return Tumor(site, histology, behavior, laterality, _date(year, month, day),
                 int(site[1:]), int(histology), f"{histology}/{behavior}")


def _number(value: int | str | None, field: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    text = value.strip()
    if not text or set(text) == {"9"}:
        return None
    if not text.isdigit():
        raise InvalidTumor(field, f"{field} '{value}' is not a number")
    return int(text)


def _date(year, month, day) -> DiagnosisDate:
    year_number = _number(year, "year")
    if year_number is None or not 1900 <= year_number <= 2999:
        raise InvalidTumor("year", f"year of diagnosis '{year}' is not a year")
    return DiagnosisDate.of(year_number, _number(month, "month"), _number(day, "day"))


@dataclass(frozen=True)
class Engine:
    """The rule sets with their steps built, for one folder of official hematopoietic tables."""
    sets: tuple[tuple[RuleSet, tuple], ...]

    def rule_set_for(self, tumor: Tumor, year: int) -> tuple[RuleSet, tuple] | None:
        for entry in self.sets:
            if entry[0].covers(tumor.site_number, tumor.histology_number, tumor.behavior, year):
                return entry
        return None

    def compare(self, first: Tumor, second: Tumor, answers: Mapping[str, bool] | None = None) -> Verdict:
        """SINGLE_PRIMARY, MULTIPLE_PRIMARIES or QUESTIONABLE for two tumors of one patient."""
        year = max(first.date.year, second.date.year)
        entry1, entry2 = self.rule_set_for(first, year), self.rule_set_for(second, year)
        if entry1 is None and entry2 is None and _same_report(first, second):
            return Verdict(SINGLE, "", "", "The two tumors have the same site, histology, behavior, laterality "
                                           "and date of diagnosis.")
        for entry, one in ((entry1, first), (entry2, second)):
            if entry is None:
                return Verdict(QUESTIONABLE, "", "", f"Could not find rule sets for {one.site}, histology "
                                                     f"{one.morphology}, diagnosed {one.date.year}.")
        if entry1[0].key != entry2[0].key:
            return Verdict(MULTIPLE, "", "", f"The tumors belong to different rule sets ({entry1[0].name} and "
                                             f"{entry2[0].name}).")
        rule_set, steps = entry1
        tentative = None
        for rule, apply in steps:
            if answers and rule.question_id and rule.question_id in answers:
                outcome = (FINAL, rule.verdict, None) if answers[rule.question_id] else None
            else:
                try:
                    outcome = apply(first, second)
                except TablesMissing as exc:
                    return Verdict(QUESTIONABLE, rule_set.name, f"{rule_set.name} {rule.step}",
                                   f"Unable to apply Rule {rule.step} of {rule_set.name}: {exc}.")
            if outcome is None:
                continue
            kind, result, message = outcome
            if kind == FINAL:
                if tentative is None or tentative[1] == result:
                    return Verdict(result, rule_set.name, f"{rule_set.name} {rule.step}", message or rule.reason)
                return _ask(rule_set, *tentative)
            if tentative is None:
                tentative = (rule, result, message)
            elif tentative[1] != result:
                return _ask(rule_set, *tentative)
        if tentative is not None:
            return _ask(rule_set, *tentative)
        return Verdict(QUESTIONABLE, rule_set.name, "", "No step of the rule set applies.")


def _ask(rule_set: RuleSet, rule, result: str, message: str | None) -> Verdict:
    return Verdict(QUESTIONABLE, rule_set.name, f"{rule_set.name} {rule.step}", message or rule.reason,
                   rule.question_id, rule.question)


def _same_report(first: Tumor, second: Tumor) -> bool:
    return (first.site, first.morphology, first.laterality, first.date) == \
        (second.site, second.morphology, second.laterality, second.date) and first.date.day is not None


@lru_cache(maxsize=4)
def engine(hematopoietic_folder: HematoSource | None = None) -> Engine:
    """The engine with every rule set built (official hematopoietic tables from the folder or files given,
    else the default of :func:`staging_tables.multiple_primaries.tables.hematopoietic_dir`)."""
    def hemato():
        return hematopoietic_tables(hematopoietic_folder)
    built = []
    for rule_set in rule_sets():
        built.append((rule_set, tuple((rule, checks.build(rule, rule_set.name, hemato)) for rule in rule_set.rules)))
    return Engine(tuple(built))


def compare(first: Tumor, second: Tumor, answers: Mapping[str, bool] | None = None, *,
            hematopoietic_folder: HematoSource | None = None) -> Verdict:
    """Compare two tumors of one patient (see :class:`Engine`)."""
    return engine(hematopoietic_folder).compare(first, second, answers)
