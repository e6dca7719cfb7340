"""The checks the steps of ``mp_rules.csv`` name, each a small predicate over two tumors.

A check is built once per step from the step's arguments and returns ``None`` (the step does not apply),
``(FINAL, result, message)`` or ``(POTENTIAL, result, message)``: potential when the inputs cannot settle
the step (a partial date, an unknown laterality) and the registrar has to answer its question. A message
of ``None`` means the step's own reason.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from . import dates
from .dates import DiagnosisDate
from .tables import HematoTables, Rule, histology_groups, histology_rows, histology_subtypes, in_ranges, ranges
from .tables import site_tables

SINGLE, MULTIPLE, QUESTIONABLE = "SINGLE_PRIMARY", "MULTIPLE_PRIMARIES", "QUESTIONABLE"
FINAL, POTENTIAL = "final", "potential"
RIGHT, LEFT = "1", "2"
#: Lateralities that name a side or say the site is not paired (0-5); 9 and blank are unknown.
KNOWN_SIDES = frozenset("012345")

Outcome = tuple[str, str, str | None] | None


@dataclass(frozen=True, slots=True)
class Tumor:
    """What the rules read of one tumor; built by :func:`staging_tables.multiple_primaries.tumor`."""
    site: str
    histology: str
    behavior: str
    laterality: str
    date: DiagnosisDate
    site_number: int
    histology_number: int
    morphology: str


Check = Callable[[Tumor, Tumor], Outcome]


@dataclass(frozen=True)
class Context:
    """What a check is built with: its step, the rule set's name and the hematopoietic tables."""
    rule: Rule
    rule_set_name: str
    hemato: Callable[[], HematoTables]

    def unknown_date(self) -> str:
        return f"Unable to apply Rule {self.rule.step} of {self.rule_set_name}. There is not enough diagnosis date information."

    def unknown_laterality(self) -> str:
        return f"Unable to apply Rule {self.rule.step} of {self.rule_set_name}. Valid and known laterality should be provided."

    def cannot_apply(self, why: str) -> str:
        return f"Unable to apply Rule {self.rule.step} of {self.rule_set_name}. {why}"


CHECKS: dict[str, Callable[[dict[str, str], Context], Check]] = {}


def check(name: str) -> Callable[[Callable[[dict[str, str], Context], Check]], Callable[[dict[str, str], Context], Check]]:
    """Register a check builder under the name ``mp_rules.csv`` uses."""
    def register(builder: Callable[[dict[str, str], Context], Check]) -> Callable[[dict[str, str], Context], Check]:
        CHECKS[name] = builder
        return builder
    return register


def parse_args(text: str) -> dict[str, str]:
    """``"sites=C619;both=prostate"`` as a dict (a bare word is a flag with value ``"yes"``)."""
    found = {}
    for part in text.split(";"):
        part = part.strip()
        if part:
            key, sep, value = part.partition("=")
            found[key.strip()] = value.strip() if sep else "yes"
    return found


def build(rule: Rule, rule_set_name: str, hemato: Callable[[], HematoTables]) -> Check:
    """The check of one step, ready to call with two tumors."""
    try:
        builder = CHECKS[rule.check]
    except KeyError:
        raise ValueError(f"{rule.rule_set} {rule.step}: no check named '{rule.check}'") from None
    return builder(parse_args(rule.args), Context(rule, rule_set_name, hemato))


def group(name: str) -> frozenset[str]:
    """The codes of a histology group of ``mp_histology_groups.csv``."""
    try:
        return histology_groups()[name]
    except KeyError:
        raise ValueError(f"no histology group named '{name}' in mp_histology_groups.csv") from None


def member(tumor: Tumor, codes: frozenset[str]) -> bool:
    """The tumor's histology (any behavior) or histology/behavior is among the codes."""
    return tumor.histology in codes or tumor.morphology in codes


def lookup(table: dict, tumor: Tumor) -> object | None:
    """The entry of a tumor in a histology table: by histology (any behavior) first, then histology/behavior."""
    found = table.get(tumor.histology)
    return found if found is not None else table.get(tumor.morphology)


def one_each(first: Tumor, second: Tumor, a: frozenset[str], b: frozenset[str]) -> bool:
    """One tumor in each group, in either order."""
    return (member(first, a) and member(second, b)) or (member(first, b) and member(second, a))


def later_and_earlier(first: Tumor, second: Tumor) -> tuple[Tumor, Tumor] | None:
    """(later, earlier), or ``None`` when the dates cannot tell."""
    order = dates.which_later(first.date, second.date)
    if order == dates.FIRST_LATER:
        return first, second
    if order == dates.SECOND_LATER:
        return second, first
    return None


def same_side(first: Tumor, second: Tumor) -> bool:
    """Both on the right or both on the left."""
    return first.laterality == second.laterality and first.laterality in (RIGHT, LEFT)


def opposite_sides(first: Tumor, second: Tumor) -> bool:
    """One on the right, the other on the left."""
    return {first.laterality, second.laterality} == {RIGHT, LEFT}


def timing(verdict: str, answer: str, wanted: str, ctx: Context) -> Outcome:
    """A timing answer as an outcome: the verdict when it is the wanted one, a question when unknown."""
    if answer == wanted:
        return FINAL, verdict, None
    if answer == dates.UNKNOWN:
        return POTENTIAL, verdict, ctx.unknown_date()
    return None


# --- sites and laterality -----------------------------------------------------------------------------------

@check("sites_differ")
def _sites_differ(args: dict[str, str], ctx: Context) -> Check:
    """Topography codes differ at the second or third character (C?xx, Cx?x)."""
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        return (FINAL, verdict, None) if first.site[1:3] != second.site[1:3] else None
    return apply


@check("fourth_character_differs")
def _fourth_character_differs(args: dict[str, str], ctx: Context) -> Check:
    """Topography codes differ at the fourth character (Cxx?), for the 3-character sites listed (all if none)."""
    listed = frozenset(args.get("sites", "").split())
    questioned = frozenset(args.get("ask_when", "").split())
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if listed and first.site[:3] not in listed:
            return None
        if first.site in questioned or second.site in questioned:
            site = first.site if first.site in questioned else second.site
            return POTENTIAL, verdict, ctx.cannot_apply(f"One of the sites is {site}.")
        return (FINAL, verdict, None) if first.site[3] != second.site[3] else None
    return apply


@check("both_sides")
def _both_sides(args: dict[str, str], ctx: Context) -> Check:
    """One tumor on the right and one on the left, both in the same paired site when ``sites`` (each item one
    site or range) or ``paired`` (``|``-separated sites) are given; ``known`` lists the lateralities that
    count as known (default 1 2), ``opposite=different`` takes any two different known lateralities (midline
    5 included) as sides; ``unknown``: ask (default), stop, skip."""
    paired = (tuple(ranges(entry) for entry in args["paired"].split("|")) if "paired" in args
              else tuple((span,) for span in ranges(args.get("sites", ""))))
    unknown = args.get("unknown", "ask")
    known = frozenset(args.get("known", "1 2").split())
    any_difference = args.get("opposite") == "different"
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if paired and not any(in_ranges(first.site_number, entry) and in_ranges(second.site_number, entry)
                              for entry in paired):
            return None
        if first.laterality not in known or second.laterality not in known:
            if unknown == "skip":
                return None
            return (FINAL if unknown == "stop" else POTENTIAL), (QUESTIONABLE if unknown == "stop" else verdict), \
                ctx.unknown_laterality()
        if any_difference:
            return (FINAL, verdict, None) if first.laterality != second.laterality else None
        return (FINAL, verdict, None) if opposite_sides(first, second) else None
    return apply


@check("site_pairs")
def _site_pairs(args: dict[str, str], ctx: Context) -> Check:
    """Tumors in two different parts of one structure (``|``-separated structures, ``/``-separated parts,
    each part its sites, ``*`` for any other site), e.g. upper lip and lower lip."""
    structures = tuple(tuple(frozenset(part.split()) for part in item.split("/")) for item in args["sets"].split("|"))
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        for parts in structures:
            one = _part_of(parts, first.site)
            other = _part_of(parts, second.site)
            if one is not None and other is not None and one != other:
                return FINAL, verdict, None
        return None
    return apply


def _part_of(parts: tuple[frozenset[str], ...], site: str) -> int | None:
    """The index of the part holding the site; a part ``*`` holds every site no other part names."""
    rest = None
    for index, part in enumerate(parts):
        if site in part:
            return index
        if "*" in part:
            rest = index
    return rest


@check("site_tables_differ")
def _site_tables_differ(args: dict[str, str], ctx: Context) -> Check:
    """The sites point to different histology tables; a site with no table is questionable (``message``)."""
    by_site = site_tables()[args["lookup"]]
    message = args.get("message")
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        one, other = by_site.get(first.site), by_site.get(second.site)
        if one is None or other is None:
            return FINAL, QUESTIONABLE, message
        return (FINAL, verdict, None) if one != other else None
    return apply


# --- timing -------------------------------------------------------------------------------------------------

@check("years_apart")
def _years_apart(args: dict[str, str], ctx: Context) -> Check:
    """Diagnosed more than N years apart (the rules' "disease-free for more than N years"), unless both
    histologies are in the group ``unless_both`` (and both sites in ``unless_sites`` when given)."""
    years = int(args["years"])
    unless_both = group(args["unless_both"]) if "unless_both" in args else None
    unless_sites = ranges(args.get("unless_sites", ""))
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if unless_both is not None and first.histology in unless_both and second.histology in unless_both and (
                not unless_sites or (in_ranges(first.site_number, unless_sites)
                                     and in_ranges(second.site_number, unless_sites))):
            return None
        return timing(verdict, dates.years_apart(first.date, second.date, years), dates.APART, ctx)
    return apply


@check("days_apart")
def _days_apart(args: dict[str, str], ctx: Context) -> Check:
    """Diagnosed more than N days apart; ``unknown=stop`` makes an unknown interval questionable at once."""
    days = int(args["days"])
    stop = args.get("unknown") == "stop"
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        answer = dates.days_apart(first.date, second.date, days)
        if answer == dates.UNKNOWN and stop:
            return FINAL, QUESTIONABLE, ctx.unknown_date()
        return timing(verdict, answer, dates.APART, ctx)
    return apply


@check("behavior_sequence")
def _behavior_sequence(args: dict[str, str], ctx: Context) -> Check:
    """A tumor of behavior ``later`` diagnosed after one of behavior ``earlier`` (in situ 2, invasive 3),
    optionally within or more than N days after it, on the same side, both in a histology group."""
    earlier_behavior, later_behavior = args["earlier"], args["later"]
    both = group(args["both"]) if "both" in args else None
    within, beyond = args.get("within"), args.get("more_than")
    need_same_side = "same_side" in args
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if {first.behavior, second.behavior} != {earlier_behavior, later_behavior}:
            return None
        if both is not None and not (member(first, both) and member(second, both)):
            return None
        if need_same_side and not same_side(first, second):
            return None
        order = later_and_earlier(first, second)
        if order is None:
            if within is not None and dates.days_apart(first.date, second.date, int(within)) == dates.WITHIN:
                return FINAL, verdict, None
            return POTENTIAL, verdict, ctx.unknown_date()
        later, earlier = order
        if later.behavior != later_behavior:
            return None
        if within is not None:
            return timing(verdict, dates.days_apart(first.date, second.date, int(within)), dates.WITHIN, ctx)
        if beyond is not None:
            return timing(verdict, dates.days_apart(first.date, second.date, int(beyond)), dates.APART, ctx)
        return FINAL, verdict, None
    return apply


# --- histology ----------------------------------------------------------------------------------------------

#: What each argument of a ``pair`` step asks of the two tumors.
PAIR_CONDITIONS = {
    "sites": "both sites in these ranges", "each_site": "A|B: one site in each", "same_organ": "3-character sites equal",
    "different_organ": "3-character sites differ", "both": "both histologies in a group",
    "each": "A|B: one histology in each group", "not_both": "not both in a group",
    "same_histology": "the same 4-digit histology", "different_histology": "different 4-digit histologies",
    "histology_same_3": "the same first three digits", "histology_differs_3": "different first three digits",
    "same_kind": "the same kind on a chart (see same_histology_kind)", "different_kind": "a different kind",
    "behavior": "both this behavior", "behaviors": "both one of these behaviors",
    "one_behavior": "at least one of this behavior", "same_side": "both right or both left",
    "not_same_side": "different lateralities, or one on both sides", "opposite_sides": "one right, one left",
    "not_opposite_sides": "not one right and one left", "same_known_side": "the same known laterality",
    "side_unknown": "a laterality unknown", "later": "the later one in a group and the earlier not",
    "within": "diagnosed within N days", "beyond": "diagnosed more than N days apart",
}


@check("pair")
def _pair(args: dict[str, str], ctx: Context) -> Check:
    """A pair of tumors described by conditions that must all hold (see :data:`PAIR_CONDITIONS`)."""
    unknown = set(args) - set(PAIR_CONDITIONS)
    if unknown:
        raise ValueError(f"{ctx.rule.rule_set} {ctx.rule.step}: unknown pair condition(s) {sorted(unknown)}")
    sites = ranges(args["sites"]) if "sites" in args else None
    each_site = tuple(ranges(r) for r in args["each_site"].split("|")) if "each_site" in args else None
    both = group(args["both"]) if "both" in args else None
    each = tuple(group(g) for g in args["each"].split("|")) if "each" in args else None
    later_group = group(args["later"]) if "later" in args else None
    behavior = args.get("behavior")
    behaviors = args.get("behaviors")
    one_behavior = args.get("one_behavior")
    not_both = group(args["not_both"]) if "not_both" in args else None
    within = int(args["within"]) if "within" in args else None
    beyond = int(args["beyond"]) if "beyond" in args else None
    same_kind = args.get("same_kind")
    different_kind = args.get("different_kind")
    flags = frozenset(k for k, v in args.items() if v == "yes")
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if sites is not None and not (in_ranges(first.site_number, sites) and in_ranges(second.site_number, sites)):
            return None
        if each_site is not None and not (
                (in_ranges(first.site_number, each_site[0]) and in_ranges(second.site_number, each_site[1]))
                or (in_ranges(first.site_number, each_site[1]) and in_ranges(second.site_number, each_site[0]))):
            return None
        if "different_organ" in flags and first.site[:3] == second.site[:3]:
            return None
        if behavior is not None and not (first.behavior == second.behavior == behavior):
            return None
        if behaviors is not None and not (first.behavior in behaviors and second.behavior in behaviors):
            return None
        if one_behavior is not None and one_behavior not in (first.behavior, second.behavior):
            return None
        if not_both is not None and member(first, not_both) and member(second, not_both):
            return None
        if both is not None and not (member(first, both) and member(second, both)):
            return None
        if each is not None and not one_each(first, second, *each):
            return None
        if "same_histology" in flags and first.histology != second.histology:
            return None
        if "different_histology" in flags and first.histology == second.histology:
            return None
        if "histology_differs_3" in flags and first.histology[:3] == second.histology[:3]:
            return None
        if "histology_same_3" in flags and first.histology[:3] != second.histology[:3]:
            return None
        if same_kind is not None and not same_histology_kind(same_kind, first, second):
            return None
        if different_kind is not None and same_histology_kind(different_kind, first, second):
            return None
        if "same_organ" in flags and first.site[:3] != second.site[:3]:
            return None
        if "opposite_sides" in flags and not opposite_sides(first, second):
            return None
        if "not_opposite_sides" in flags and opposite_sides(first, second):
            return None
        if "same_known_side" in flags and not (first.laterality == second.laterality and first.laterality in KNOWN_SIDES):
            return None
        if "side_unknown" in flags and first.laterality in KNOWN_SIDES and second.laterality in KNOWN_SIDES:
            return None
        if "same_side" in flags and not same_side(first, second):
            return None
        if "not_same_side" in flags and first.laterality == second.laterality and first.laterality != "4":
            return None
        if later_group is not None:
            order = dates.which_later(first.date, second.date)
            if order == dates.ORDER_UNKNOWN:
                return POTENTIAL, verdict, ctx.unknown_date()
            if order != dates.SAME_DAY:
                later, earlier = (first, second) if order == dates.FIRST_LATER else (second, first)
                if not member(later, later_group) or member(earlier, later_group):
                    return None
        if within is not None:
            return timing(verdict, dates.days_apart(first.date, second.date, within), dates.WITHIN, ctx)
        if beyond is not None:
            return timing(verdict, dates.days_apart(first.date, second.date, beyond), dates.APART, ctx)
        return FINAL, verdict, None
    return apply


def same_histology_kind(chart: str, first: Tumor, second: Tumor) -> bool:
    """The same kind of histology: the same branch of a chart when both are on it, else the same first three
    digits."""
    branches = _branches(chart)
    one, other = lookup(branches, first), lookup(branches, second)
    if one is not None and other is not None:
        return not one.isdisjoint(other)
    return first.histology[:3] == second.histology[:3]


@check("histology_differs")
def _histology_differs(args: dict[str, str], ctx: Context) -> Check:
    """ICD-O-3 histology codes differ at the first, second or third digit."""
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        return (FINAL, verdict, None) if first.histology[:3] != second.histology[:3] else None
    return apply


@check("nos_and_specific")
def _nos_and_specific(args: dict[str, str], ctx: Context) -> Check:
    """One tumor is a NOS histology and the other a more specific one of that NOS (groups ``nos_<code>``)."""
    nos_codes = args["nos"].split()
    specific = {code: group(f"nos_{code}") for code in nos_codes}
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        for one, other in ((first, second), (second, first)):
            if one.histology in specific and other.histology in specific[one.histology]:
                return FINAL, verdict, None
        return None
    return apply


def _table_for(args: dict[str, str]) -> Callable[[Tumor], dict | None]:
    """The histology table a step reads: a named one, or the one the site of the tumor points to."""
    name = args["table"]
    if name.startswith("site:"):
        by_site = site_tables()[name[5:]]
        rows = histology_rows()
        return lambda tumor: rows.get(by_site.get(tumor.site, ""))
    table = histology_rows()[name]
    return lambda tumor: table


def _not_in_table(ctx: Context, first: Tumor, second: Tumor, row1, row2) -> str:
    if row1 is None and row2 is None:
        return ctx.cannot_apply(f"Both {first.morphology} and {second.morphology} are not in the table.")
    return ctx.cannot_apply(f"{(first if row1 is None else second).morphology} is not in the table.")


@check("different_rows")
def _different_rows(args: dict[str, str], ctx: Context) -> Check:
    """The tumors are on different rows of a histology table (``also`` names a group counted as one more
    row, ``apart`` a group each histology of which, on no row, is a row of its own: the combination codes of
    Other Sites Table 2); a histology on no row makes the step questionable unless ``missing=skip``."""
    table_for = _table_for(args)
    also = group(args["also"]) if "also" in args else frozenset()
    apart = group(args["apart"]) if "apart" in args else frozenset()
    skip_missing = args.get("missing") == "skip"
    skip_same_histology = "skip_same_histology" in args
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if skip_same_histology and first.morphology == second.morphology:
            return None
        table1, table2 = table_for(first), table_for(second)
        row1 = lookup(table1, first) if table1 else None
        row2 = lookup(table2, second) if table2 else None
        if row1 is None and member(first, also):
            row1 = "listed apart"
        if row2 is None and member(second, also):
            row2 = "listed apart"
        if row1 is None and first.histology in apart:
            row1 = "combination code " + first.histology
        if row2 is None and second.histology in apart:
            row2 = "combination code " + second.histology
        if row1 is None or row2 is None:
            return None if skip_missing else (FINAL, QUESTIONABLE, _not_in_table(ctx, first, second, row1, row2))
        return (FINAL, verdict, None) if row1 != row2 else None
    return apply


@check("same_row")
def _same_row(args: dict[str, str], ctx: Context) -> Check:
    """The tumors are on the same row of a histology table, optionally within N days, with the same behavior
    and on the same side (``side=ask``: an unknown side is a question, ``side=stop``: questionable);
    ``missing=stop`` makes a histology on no row questionable, ``also`` names a group of codes that are on
    a table (a combination code) though on no row."""
    table_for = _table_for(args)
    within = int(args["within"]) if "within" in args else None
    side = args.get("side")
    need_same_behavior = "same_behavior" in args
    stop_missing = args.get("missing") == "stop"
    same_histology_rows = "same_histology_is_same_row" in args
    also = group(args["also"]) if "also" in args else frozenset()
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        table1, table2 = table_for(first), table_for(second)
        if table1 is not table2 or (table1 is None and not same_histology_rows):
            return None
        table1 = table2 = table1 or {}
        row1, row2 = lookup(table1, first), lookup(table2, second)
        if row1 is None and member(first, also):
            row1 = "listed apart " + first.morphology
        if row2 is None and member(second, also):
            row2 = "listed apart " + second.morphology
        if row1 is None and row2 is None and same_histology_rows and first.histology == second.histology:
            row1 = row2 = first.histology
        if row1 is None or row2 is None:
            return (FINAL, QUESTIONABLE, _not_in_table(ctx, first, second, row1, row2)) if stop_missing else None
        if row1 != row2:
            return None
        if need_same_behavior and first.behavior != second.behavior:
            return None
        answer = dates.days_apart(first.date, second.date, within) if within is not None else dates.WITHIN
        if answer == dates.APART:
            return None
        if side is not None:
            if first.laterality not in (RIGHT, LEFT) or second.laterality not in (RIGHT, LEFT):
                if side == "stop":
                    return FINAL, QUESTIONABLE, ctx.unknown_laterality()
                return POTENTIAL, verdict, ctx.unknown_laterality()
            if first.laterality != second.laterality:
                return None
        return timing(verdict, answer, dates.WITHIN, ctx)
    return apply


@check("different_subtypes")
def _different_subtypes(args: dict[str, str], ctx: Context) -> Check:
    """The tumors are two different subtypes/variants (column 3) of a histology table."""
    name = args["table"]
    if name.startswith("site:"):
        by_site = site_tables()[name[5:]]
        subtypes = histology_subtypes()
        table_for = lambda tumor: subtypes.get(by_site.get(tumor.site, ""))  # noqa: E731
    else:
        table = histology_subtypes()[name]
        table_for = lambda tumor: table  # noqa: E731
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        table1, table2 = table_for(first), table_for(second)
        if not table1 or not table2:
            return None
        key1 = first.histology if first.histology in table1 else first.morphology
        key2 = second.histology if second.histology in table2 else second.morphology
        if key1 not in table1 or key2 not in table2:
            return None
        if key2 in table1[key1] or key1 in table2[key2]:
            return None
        return FINAL, verdict, None
    return apply


@check("no_other_rule")
def _no_other_rule(args: dict[str, str], ctx: Context) -> Check:
    """The last step: nothing above applied."""
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        return FINAL, verdict, None
    return apply


@lru_cache(maxsize=None)
def _branches(chart: str) -> dict[str, frozenset[str]]:
    """``{code: branches}`` of a chart whose branches are the groups ``chart:<chart>:<branch>``."""
    prefix = f"chart:{chart}:"
    found: dict[str, set[str]] = {}
    for name, codes in histology_groups().items():
        if name.startswith(prefix):
            for code in codes:
                found.setdefault(code, set()).add(name[len(prefix):])
    return {code: frozenset(branches) for code, branches in found.items()}


@check("chart_branches")
def _chart_branches(args: dict[str, str], ctx: Context) -> Check:
    """Histologies on a branch of a chart: ``same`` (share a branch), ``different`` (on no common branch)
    or ``one_missing`` (one listed, the other not); several charts may be named (``|``), tried in order."""
    charts = [_branches(name) for name in args["chart"].split("|")]
    mode = args["when"]
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        for chart in charts:
            one, other = lookup(chart, first), lookup(chart, second)
            if mode == "one_missing":
                if (one is None) != (other is None):
                    return FINAL, verdict, None
                continue
            if one is None or other is None:
                continue
            if (mode == "same") == (not one.isdisjoint(other)):
                return FINAL, verdict, None
        return None
    return apply
