"""Checks that only one site group's rules use (lung, cutaneous melanoma)."""
from __future__ import annotations

from . import dates
from .checks import FINAL, POTENTIAL, QUESTIONABLE, Check, Context, Outcome, Tumor, check, group, member

MELANOMA_SIDES = frozenset({"1", "2", "5"})


@check("lung_simultaneous")
def _lung_simultaneous(args: dict[str, str], ctx: Context) -> Check:
    """Simultaneous tumors (within 60 days) in the same lung are one primary; elsewhere the registrar must
    say whether there are multiple tumors in a lung."""
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if dates.days_apart(first.date, second.date, 60) != dates.WITHIN:
            return None
        if first.laterality == second.laterality and first.laterality in ("1", "2"):
            return FINAL, verdict, None
        return POTENTIAL, verdict, ctx.cannot_apply("Unknown if multiple tumors exist.")
    return apply


@check("melanoma_lateralities_differ")
def _melanoma_lateralities(args: dict[str, str], ctx: Context) -> Check:
    """Melanomas of different laterality (midline counts as a side) where the site has laterality."""
    no_laterality = frozenset(args.get("no_laterality", "").split())
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if first.site in no_laterality or "9" in (first.laterality, second.laterality) \
                or not first.laterality or not second.laterality:
            return None
        if first.laterality not in MELANOMA_SIDES or second.laterality not in MELANOMA_SIDES:
            return POTENTIAL, verdict, ctx.unknown_laterality()
        return (FINAL, verdict, None) if first.laterality != second.laterality else None
    return apply


@check("melanoma_same_row")
def _melanoma_same_row(args: dict[str, str], ctx: Context) -> Check:
    """Synchronous melanomas of the same row (melanoma and its subtypes), same site and laterality."""
    row = group(args["row"])
    no_laterality = frozenset(args.get("no_laterality", "").split())
    verdict = ctx.rule.verdict

    def apply(first: Tumor, second: Tumor) -> Outcome:
        if not (member(first, row) and member(second, row)):
            return None
        lateral = first.site not in no_laterality
        if lateral and not (first.laterality in MELANOMA_SIDES and second.laterality in MELANOMA_SIDES):
            return FINAL, QUESTIONABLE, ctx.unknown_laterality()
        if lateral and first.laterality != second.laterality:
            return None
        answer = dates.days_apart(first.date, second.date, 60)
        if answer == dates.UNKNOWN:
            return FINAL, QUESTIONABLE, ctx.unknown_date()
        return (FINAL, verdict, None) if answer == dates.WITHIN else None
    return apply
