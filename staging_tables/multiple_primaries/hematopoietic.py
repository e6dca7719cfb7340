"""Checks of the Hematopoietic and Lymphoid rules, over SEER's same-primary and transformation tables."""
from __future__ import annotations

from . import dates
from .checks import FINAL, MULTIPLE, POTENTIAL, QUESTIONABLE, SINGLE, Check, Context, Outcome, Tumor, check
from .checks import group, member, one_each
from .tables import HematoTables, group_of

LYMPH_NODES = "C77"


def same_primary(tables: HematoTables, first: Tumor, second: Tumor) -> bool:
    """The Heme DB calculator: the same code, or the code diagnosed in the later year lists the earlier one as
    the same primary in that year (in the same year, each code must list the other)."""
    if first.morphology == second.morphology:
        return True
    table = tables.same_primary
    if first.date.year != second.date.year:
        later, earlier = (first, second) if first.date.year > second.date.year else (second, first)
        return tables.pairs_match(table, later.morphology, earlier.morphology, later.date.year)
    return (tables.pairs_match(table, first.morphology, second.morphology, first.date.year)
            and tables.pairs_match(table, second.morphology, first.morphology, second.date.year))


def chronic_to_acute(tables: HematoTables, earlier: Tumor, later: Tumor) -> bool:
    """``earlier`` transforms to ``later`` (and ``later`` lists ``earlier`` as what it transforms from)."""
    return (tables.pairs_match(tables.transform_to, earlier.morphology, later.morphology, earlier.date.year)
            and tables.pairs_match(tables.transform_from, later.morphology, earlier.morphology, later.date.year))


def transformation(tables: HematoTables, first: Tumor, second: Tumor) -> bool:
    """One of the two is a transformation of the other, in either direction."""
    return chronic_to_acute(tables, first, second) or chronic_to_acute(tables, second, first)


def same_location(first: Tumor, second: Tumor) -> bool:
    """The same site, or the same organ (3 characters) when it is not lymph nodes (separate node regions)."""
    return first.site == second.site or (first.site[:3] == second.site[:3] and first.site[:3] != LYMPH_NODES)


@check("heme_not_automated")
def _not_automated(args: dict[str, str], ctx: Context) -> Check:
    """A step only the registrar can apply (minimal information; NOS then specific, left to the calculator)."""
    def apply(first: Tumor, second: Tumor) -> Outcome:
        return None
    return apply


@check("heme_single_histology")
def _single_histology(args: dict[str, str], ctx: Context) -> Check:
    """The same histology; a nodal and an extranodal MALT lymphoma (9699/3) go to manual review."""
    malt = args["review_code"]

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if first.histology != second.histology:
            return None
        nodal = (first.site[:3] == LYMPH_NODES, second.site[:3] == LYMPH_NODES)
        if first.morphology == second.morphology == malt and nodal[0] != nodal[1]:
            return FINAL, QUESTIONABLE, None
        return FINAL, ctx.rule.verdict, None
    return apply


@check("heme_sarcoma_with_leukemia")
def _sarcoma_with_leukemia(args: dict[str, str], ctx: Context) -> Check:
    """A sarcoma diagnosed with or after the leukemia of its lineage (mast cell, myeloid)."""
    pairs = [(group(a), group(b)) for a, b in (p.split("|") for p in args["pairs"].split())]
    sarcomas = frozenset().union(*(a for a, _ in pairs))

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if not (first.behavior == second.behavior == "3") or not any(one_each(first, second, a, b) for a, b in pairs):
            return None
        order = dates.which_later(first.date, second.date)
        within = dates.days_apart(first.date, second.date, 21)
        if order == dates.ORDER_UNKNOWN and within == dates.UNKNOWN:
            return POTENTIAL, SINGLE, ctx.unknown_date()
        if within == dates.WITHIN:
            return FINAL, SINGLE, None
        later = first if order == dates.FIRST_LATER else second if order == dates.SECOND_LATER else None
        if later is not None and member(later, sarcomas):
            return FINAL, SINGLE, None
        return None
    return apply


@check("heme_lymphomas_together")
def _lymphomas_together(args: dict[str, str], ctx: Context) -> Check:
    """Two lymphomas (``each`` or ``both`` groups) present together: same place within 21 days."""
    pair_groups = tuple(group(g) for g in args["each"].split("|")) if "each" in args else None
    both = group(args["both"]) if "both" in args else None

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if pair_groups is not None and not one_each(first, second, *pair_groups):
            return None
        if both is not None and (first.histology == second.histology or not (member(first, both) and member(second, both))):
            return None
        if not same_location(first, second):
            return None
        answer = dates.days_apart(first.date, second.date, 21)
        if answer == dates.UNKNOWN:
            return POTENTIAL, SINGLE, ctx.unknown_date()
        return (FINAL, SINGLE, None) if answer == dates.WITHIN else None
    return apply


@check("heme_lymphomas_apart")
def _lymphomas_apart(args: dict[str, str], ctx: Context) -> Check:
    """Hodgkin lymphoma in one place and non-Hodgkin lymphoma in another."""
    hodgkin, non_hodgkin = group(args["hodgkin"]), group(args["non_hodgkin"])

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if one_each(first, second, hodgkin, non_hodgkin) and not same_location(first, second):
            return FINAL, MULTIPLE, None
        return None
    return apply


@check("heme_transformation_review")
def _transformation_review(args: dict[str, str], ctx: Context) -> Check:
    """A transformation the tables know, diagnosed within 21 days (``when=within``) or at any time: the
    registrar decides (biopsies, treatment)."""
    only_within = args.get("when") == "within"
    message = args.get("message") or None

    def apply(first: Tumor, second: Tumor) -> Outcome:
        tables = ctx.hemato()
        if not transformation(tables, first, second):
            return None
        if only_within and dates.days_apart(first.date, second.date, 21) == dates.APART:
            return None
        return FINAL, QUESTIONABLE, message
    return apply


@check("heme_chronic_then_acute")
def _chronic_then_acute(args: dict[str, str], ctx: Context) -> Check:
    """A chronic neoplasm then an acute one more than 21 days later; plasmacytoma and myeloma go to review."""
    review = tuple(group(g) for g in args["review"].split("|")) if "review" in args else None
    review_message = args.get("message") or None

    def apply(first: Tumor, second: Tumor) -> Outcome:
        tables = ctx.hemato()
        if not transformation(tables, first, second):
            return None
        if review is not None and one_each(first, second, *review):
            return FINAL, QUESTIONABLE, review_message
        order = dates.which_later(first.date, second.date)
        within = dates.days_apart(first.date, second.date, 21)
        if within == dates.UNKNOWN or order == dates.ORDER_UNKNOWN:
            return POTENTIAL, MULTIPLE, ctx.unknown_date()
        if within == dates.APART and order != dates.SAME_DAY:
            later, earlier = (first, second) if order == dates.FIRST_LATER else (second, first)
            if chronic_to_acute(tables, earlier, later):
                return FINAL, MULTIPLE, None
        return None
    return apply


@check("heme_calculator")
def _calculator(args: dict[str, str], ctx: Context) -> Check:
    """The Heme DB Multiple Primaries Calculator: same primary in the official table, else multiple."""
    def apply(first: Tumor, second: Tumor) -> Outcome:
        return FINAL, (SINGLE if same_primary(ctx.hemato(), first, second) else MULTIPLE), None
    return apply


@check("heme_2001_groups")
def _groups_2001(args: dict[str, str], ctx: Context) -> Check:
    """2001-2009: the histology groups of the first and the later diagnosis are a same-primary pair."""
    def apply(first: Tumor, second: Tumor) -> Outcome:
        tables = ctx.hemato()
        one, other = group_of(tables.groups_2001, first.histology_number), group_of(tables.groups_2001, second.histology_number)
        if one is None or other is None:
            return FINAL, QUESTIONABLE, ctx.cannot_apply("A histology is in no group of the 2001 table.")
        order = dates.which_later(first.date, second.date)
        pairs = [(one, other)] if order == dates.SECOND_LATER else [(other, one)] if order == dates.FIRST_LATER \
            else [(one, other), (other, one)]
        if any(p in tables.group_pairs_2001 for p in pairs):
            return FINAL, SINGLE, None
        return FINAL, MULTIPLE, "The 2001 hematopoietic table does not list the two histology groups as the same primary."
    return apply


@check("heme_1998_pairs")
def _pairs_1998(args: dict[str, str], ctx: Context) -> Check:
    """Before 2001: the two histologies are a same-primary pair of the 1998 table."""
    def apply(first: Tumor, second: Tumor) -> Outcome:
        tables = ctx.hemato()
        h1, h2 = first.histology_number, second.histology_number
        same = any((low <= h1 <= high and same_low <= h2 <= same_high) or (low <= h2 <= high and same_low <= h1 <= same_high)
                   for low, high, same_low, same_high in tables.pairs_1998)
        if same or h1 == h2:
            return FINAL, SINGLE, None
        return FINAL, MULTIPLE, "The 1998 hematopoietic table does not list the two histologies as the same primary."
    return apply
