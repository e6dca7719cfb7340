"""The Survival page for researchers and administrators: pick a cohort and a measure, see
curves, numbers at risk and 1/3/5/10-year figures, download the table (CSV) and the chart
(PNG/SVG).

Only aggregates leave these views — no record, identifier or date of any patient — so
researchers may use them; the chart and the CSV are separate URLs taking the same query
arguments as the page, so no inline script is needed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from registry.audit import log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.models import Role
from reports import survival_store  # noqa: F401 - registers the survival-time save hook
from reports.cohorts import AGE_GROUPS, COMPARE_BY, SEX_LABELS, STAGE_ORDER, Cohort, cohort_frame, site_choices
from reports.survival_measures import MEASURES, SurvivalRefused

if TYPE_CHECKING:
    from reports.survival_report import SurvivalResult

# The modules built on pandas (life tables, the survival computations) are imported by the views
# that use them, not when the application starts: every command line and worker would pay for them.

blueprint = Blueprint("survival", __name__, url_prefix="/survival", template_folder="templates")
survival_store.register_jobs()

IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def run(args, end_point_year: int) -> SurvivalResult:
    """The survival result for query arguments (page, chart and CSV alike)."""
    from reports.lifetables import NoLifeTable, load_life_table
    from reports.survival_report import compute
    try:
        cohort = Cohort.from_args(args)
    except ValueError as exc:
        raise SurvivalRefused(str(exc)) from None
    problems = cohort.problems()
    if problems:
        raise SurvivalRefused("; ".join(problems.values()))
    measure = args.get("measure") or "observed"
    if measure not in MEASURES:
        raise SurvivalRefused(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    lifetable = None
    if MEASURES[measure].method:
        try:
            lifetable = load_life_table(args.get("lifetable") or None)
        except NoLifeTable as exc:
            raise SurvivalRefused(str(exc)) from None
    frame = cohort_frame(db_session(), cohort, end_point_year=end_point_year)
    return compute(frame, measure, by=args.get("by") or None, lifetable=lifetable)


def _result_or_400():
    try:
        return run(request.args, current_app.config["SURVIVAL_END_POINT_YEAR"])
    except SurvivalRefused as exc:
        abort(Response(str(exc) + "\n", status=400, mimetype="text/plain"))


@blueprint.route("/")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def page() -> str:
    from reports.lifetables import installed_life_tables
    result = error = None
    if request.args.get("measure"):
        try:
            result = run(request.args, current_app.config["SURVIVAL_END_POINT_YEAR"])
        except SurvivalRefused as exc:
            error = str(exc)
    query = {key: [v for v in values if v] for key, values in request.args.to_dict(flat=False).items()}
    prefixes = [v for v in query.get("site", []) if v[:1] in "Cc"]
    return render_template("survival/page.html", result=result, error=error, query=query,
                           args=request.args, site_prefixes=prefixes, sites=site_choices(), stages=STAGE_ORDER, sexes=SEX_LABELS,
                           ages=[label for _, _, label in AGE_GROUPS], measures=MEASURES, compare=COMPARE_BY,
                           lifetables=installed_life_tables(),
                           end_point_year=current_app.config["SURVIVAL_END_POINT_YEAR"])


@blueprint.route("/chart.<fmt>")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def chart_image(fmt: str) -> Response:
    from reports.survival_report import chart
    if fmt not in IMAGE_TYPES:
        abort(404)
    result = _result_or_400()
    response = Response(chart(result, fmt), mimetype=IMAGE_TYPES[fmt])
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="survival-{result.measure.key}.{fmt}"'
    return response


@blueprint.route("/table.csv")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def table_csv() -> Response:
    from reports.survival_report import to_csv
    result = _result_or_400()
    log_event(current_user._get_current_object(), "survival_export",
              detail=f"{result.measure.key}: {result.cohort}")
    return Response(to_csv(result), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="survival-{result.measure.key}.csv"'})
