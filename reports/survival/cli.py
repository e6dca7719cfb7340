"""``flask --app wsgi survival …``: the Survival page's figures from the command line, and
the bulk recompute of the stored survival months.

    flask --app wsgi survival table --site 39 --measure relative --by stage --output breast.csv
    flask --app wsgi survival chart --site C18 --site C19 --measure net --output colorectal.svg
    flask --app wsgi survival recompute [--year 2025]
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from registry.audit import SYSTEM, log_event, operation
from reports.survival import store as survival_store
from reports.survival.cohorts import COMPARE_BY
from reports.survival.measures import ANALYSES, COX_COVARIATES, INTERVALS, MEASURES, SurvivalRefused

if TYPE_CHECKING:
    from reports.survival.report import SurvivalResult

survival_store.register_jobs()


@click.group("survival", help="Survival figures (table, chart) and the stored survival months (recompute).")
def survival_group() -> None:
    pass


def cohort_options(command):
    """The cohort and measure options shared by ``table`` and ``chart`` (same names as the page)."""
    options = [
        click.option("--site", "sites", multiple=True,
                     help="SEER site recode (e.g. 39) or primary site prefix (e.g. C50); repeatable."),
        click.option("--from", "first_year", type=int, help="First year of diagnosis."),
        click.option("--to", "last_year", type=int, help="Last year of diagnosis."),
        click.option("--stage", "stages", multiple=True, help="in situ, localized, regional, distant, unknown …"),
        click.option("--sex", "sexes", multiple=True, type=click.Choice(["1", "2"]), help="1 male, 2 female."),
        click.option("--age", "ages", multiple=True, help="Age group at diagnosis, e.g. 55-64 or 75+."),
        click.option("--measure", type=click.Choice(list(MEASURES)), default="observed", show_default=True),
        click.option("--by", type=click.Choice(list(COMPARE_BY)), help="One curve per stage, sex, age group or site."),
        click.option("--lifetable", help="Installed life table by name (default: the newest)."),
        click.option("--analysis", type=click.Choice(list(ANALYSES)), default="cohort", show_default=True),
        click.option("--window", help="Period analysis: calendar years of follow-up, e.g. 2020-2024."),
        click.option("--condition", type=float, help="Conditional survival: years already survived."),
        click.option("--interval", type=click.Choice(list(INTERVALS)), default="1y", show_default=True,
                     help="Width of the table's intervals."),
        click.option("--standard", type=click.Choice(["icss1", "icss2", "icss3"]),
                     help="Age-standardise relative or net survival with ICSS weights."),
        click.option("--strata", type=click.Choice(list(COMPARE_BY)), help="Stratify the log-rank test."),
        click.option("--cox", "cox", multiple=True, type=click.Choice(list(COX_COVARIATES)),
                     help="Covariate of a Cox model; repeatable."),
        click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _result(sites, first_year, last_year, stages, sexes, ages, measure, by, lifetable, analysis="cohort",
            window=None, condition=None, interval="1y", standard=None, strata=None, cox=()) -> SurvivalResult:
    from reports.survival.views import end_point_year, run
    args = {"site": list(sites), "from": str(first_year or ""), "to": str(last_year or ""),
            "stage": list(stages), "sex": list(sexes), "age": list(ages), "measure": measure,
            "by": by or "", "lifetable": lifetable or "", "analysis": analysis, "window": window or "",
            "condition": "" if condition is None else str(condition), "interval": interval,
            "standard": standard or "", "strata": strata or "", "cox": list(cox)}
    try:
        return run(args, end_point_year())
    except SurvivalRefused as exc:
        raise click.ClickException(str(exc)) from None


def _summary(result: SurvivalResult) -> None:
    from reports.survival.report import hazard_interval
    for sentence in result.definitions.values():
        click.echo(sentence)
    figures = result.figures()
    for group in result.groups:
        part = figures[figures["group"] == group]
        values = ", ".join(f"{int(r.years)}y {_figure(r)}" for r in part.itertuples())
        click.echo(f"{group}: {values}")
    for note in result.notes:
        click.echo(f"  {note}")
    if result.comparison:
        click.echo(f"log-rank chi-square {result.comparison['chisq']:.2f} on {result.comparison['df']} df, "
                   f"p = {result.comparison['p']:.4g}")
    if result.cox is not None:
        for row in result.cox.itertuples():
            click.echo(f"Cox HR {row.covariate}: {row.hr:.3f} {hazard_interval(row.hr_lo, row.hr_hi)}, p = {row.p:.4g}")


def _figure(row) -> str:
    """Survival with its 95% limits, or the reason either is missing (reports.survival.report.LIMIT_REASONS)."""
    if row.survival != row.survival:
        return f"({row.limits_note})"
    if row.lo != row.lo or row.hi != row.hi:
        return f"{row.survival:.3f} ({row.limits_note})"
    return f"{row.survival:.3f} ({row.lo:.3f}-{row.hi:.3f})"


@survival_group.command("table", help="Write the annual survival table of a cohort as CSV.")
@cohort_options
def survival_table(output: Path, **options) -> None:
    from reports.survival.report import to_csv
    result = _result(**options)
    output.write_text(to_csv(result))
    log_event(SYSTEM, "survival_export", detail=f"{result.measure.key}: {result.cohort} -> {output.name}")
    click.echo(f"wrote {output} ({result.measure.label})")
    _summary(result)


@survival_group.command("chart", help="Draw the survival curves of a cohort as PNG or SVG (by the file suffix).")
@cohort_options
def survival_chart(output: Path, **options) -> None:
    from reports.survival.report import chart
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise click.ClickException(f"{output}: the file must end in .png or .svg")
    result = _result(**options)
    output.write_bytes(chart(result, fmt))
    click.echo(f"wrote {output} ({result.measure.label})")
    _summary(result)


@survival_group.command("recompute", help="Recompute the stored SEER survival months of every tumor.")
@click.option("--year", type=int, help="End-point year (default: SURVIVAL_END_POINT_YEAR).")
def survival_recompute(year: int | None) -> None:
    year = year or survival_store.end_point_year()
    with click.progressbar(length=100, label="Recomputing survival months") as bar:
        state = {"done": 0}

        def progress(percent: int, _message: str) -> None:
            bar.update(percent - state["done"])
            state["done"] = percent

        with operation(SYSTEM, "survival_recompute") as session:
            counts = survival_store.recompute_survival(session, year=year, progress=progress)
            log_event(SYSTEM, "survival_recompute", detail=f"end-point year {year}: {counts}", commit=False)
    click.echo(f"{counts['tumors']} tumors, {counts['changed']} changed (end-point year {year})")
