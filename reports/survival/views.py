"""The Survival page for researchers and administrators: pick a cohort and a measure, see
curves, numbers at risk and 1/3/5/10-year figures, download the table (CSV) and the chart
(PNG/SVG).

Only aggregates leave these views — no record, identifier or date of any patient — so
researchers may use them; the chart and the CSV are separate URLs taking the same query
arguments as the page, so no inline script is needed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from registry.audit import log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.models import Role
from reports.survival import store as survival_store  # noqa: F401 - registers the survival-time save hook
from reports.survival.cohorts import AGE_GROUPS, COMPARE_BY, SEX_LABELS, STAGE_ORDER, Cohort, cohort_frame, site_choices
from reports.definitions import survival_cutoff
from reports.survival.measures import ANALYSES, COX_COVARIATES, INTERVALS, MEASURES, SurvivalRefused

if TYPE_CHECKING:
    from reports.survival.report import SurvivalResult

# The modules built on pandas (life tables, the survival computations) are imported by the views
# that use them, not when the application starts: every command line and worker would pay for them.

blueprint = Blueprint("survival", __name__, url_prefix="/survival", template_folder="templates")
survival_store.register_jobs()

IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _one(args, name: str) -> str:
    value = args.get(name)
    value = value[0] if isinstance(value, list) and value else value
    return str(value or "").strip()


def _many(args, name: str) -> list[str]:
    values = args.getlist(name) if hasattr(args, "getlist") else args.get(name) or []
    values = [values] if isinstance(values, str) else values
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def options(args) -> dict:
    """The method options of a query (page, CLI and API alike), each refused by name when not valid."""
    analysis = _one(args, "analysis") or "cohort"
    window = None
    text = _one(args, "window")
    if text:
        low, _, high = text.partition("-")
        if not (low.isdigit() and len(low) == 4 and high.isdigit() and len(high) == 4 and low <= high):
            raise SurvivalRefused(f"window: {text!r} is not a range of calendar years like 2020-2024")
        window = (int(low), int(high))
    condition = 0.0
    text = _one(args, "condition")
    if text:
        try:
            condition = float(text)
        except ValueError:
            raise SurvivalRefused(f"condition: {text!r} is not a number of years") from None
        if not 0 < condition < 10:
            raise SurvivalRefused("condition: the years survived must be more than 0 and less than 10")
    if analysis == "conditional" and not condition:
        raise SurvivalRefused("condition: conditional survival needs the years already survived, e.g. 1")
    return {"standard": _one(args, "standard") or None, "analysis": analysis, "window": window,
            "condition": condition, "interval": _one(args, "interval") or "1y",
            "strata": _one(args, "strata") or None, "cox": _many(args, "cox") or None}


def run(args, end_point_year: int) -> SurvivalResult:
    """The survival result for query arguments (page, chart, CSV, CLI and API alike)."""
    from reports.survival.lifetables import NoLifeTable, load_life_table
    from reports.survival.report import compute
    try:
        cohort = Cohort.from_args(args)
    except ValueError as exc:
        raise SurvivalRefused(str(exc)) from None
    problems = cohort.problems()
    if problems:
        raise SurvivalRefused("; ".join(f"{name}: {text}" for name, text in problems.items()))
    measure = _one(args, "measure") or "observed"
    if measure not in MEASURES:
        raise SurvivalRefused(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    chosen = options(args)
    lifetable = None
    if MEASURES[measure].method:
        try:
            lifetable = load_life_table(_one(args, "lifetable") or None)
        except NoLifeTable as exc:
            raise SurvivalRefused(str(exc)) from None
    frame = cohort_frame(db_session(), cohort, end_point_year=end_point_year)
    return compute(frame, measure, by=_one(args, "by") or None, lifetable=lifetable, **chosen)


def end_point_year() -> int:
    """The survival cut-off's year (reports.definitions): the same for the page, CSV, chart, CLI and API."""
    return survival_cutoff().end_point_year


def _result_or_400():
    try:
        return run(request.args, end_point_year())
    except SurvivalRefused as exc:
        abort(Response(str(exc) + "\n", status=400, mimetype="text/plain"))


@blueprint.route("/")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def page() -> str:
    from reports.survival.lifetables import installed_life_tables
    from reports.survival.report import hazard_interval
    result = error = None
    if request.args.get("measure"):
        try:
            result = run(request.args, end_point_year())
        except SurvivalRefused as exc:
            error = str(exc)
    query = {key: [v for v in values if v] for key, values in request.args.to_dict(flat=False).items()}
    prefixes = [v for v in query.get("site", []) if v[:1] in "Cc"]
    return render_template("survival/page.html", result=result, error=error, query=query,
                           args=request.args, site_prefixes=prefixes, sites=site_choices(), stages=STAGE_ORDER, sexes=SEX_LABELS,
                           ages=[label for _, _, label in AGE_GROUPS], measures=MEASURES, compare=COMPARE_BY,
                           analyses=ANALYSES, intervals=INTERVALS, cox_covariates=COX_COVARIATES,
                           lifetables=installed_life_tables(),
                           end_point_year=end_point_year(), cutoff_sentence=survival_cutoff().sentence,
                           hazard_interval=hazard_interval)


@blueprint.route("/chart.<fmt>")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def chart_image(fmt: str) -> Response:
    from reports.survival.report import chart
    if fmt not in IMAGE_TYPES:
        abort(404)
    result = _result_or_400()
    response = Response(chart(result, fmt), mimetype=IMAGE_TYPES[fmt])
    if request.args.get("download"):
        log_event(current_user._get_current_object(), "survival_export",
                  detail=f"chart {fmt} {result.measure.key}: {result.cohort}")
        response.headers["Content-Disposition"] = f'attachment; filename="survival-{result.measure.key}.{fmt}"'
    return response


@blueprint.route("/table.csv")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def table_csv() -> Response:
    from reports.survival.report import to_csv
    result = _result_or_400()
    log_event(current_user._get_current_object(), "survival_export",
              detail=f"{result.measure.key}: {result.cohort}")
    return Response(to_csv(result), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="survival-{result.measure.key}.csv"'})


def payload(result: SurvivalResult) -> dict:
    """The result as JSON-ready data (the body of ``GET /api/v1/survival``, abstracts.api_analysis)."""
    def clean(frame) -> list[dict]:
        return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                for row in frame.astype(object).to_dict(orient="records")]
    comparison = None
    if result.comparison:
        comparison = {k: v for k, v in result.comparison.items() if k != "groups"}
        comparison["groups"] = clean(result.comparison["groups"])
    return {"measure": result.measure.key, "label": result.measure.label, "cohort": result.cohort,
            "definitions": result.definitions,
            "by": result.by, "interval": result.interval, "life_table": result.lifetable, "notes": result.notes,
            "table": clean(result.table), "figures": clean(result.figures()), "logrank": comparison,
            "cox": clean(result.cox) if result.cox is not None else None}

