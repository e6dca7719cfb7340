"""The Incidence page for researchers and administrators and its CSV and chart downloads; ``GET /api/v1/rates``
(abstracts.api_analysis) serves the same table. Only aggregates leave these views, with small counts and rates
from few cases suppressed as on every public output. The numeric libraries are imported by the views that compute,
so the app and its commands start without them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from registry.audit import log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.models import Role
from reports.rates.standards import standards

if TYPE_CHECKING:
    from reports.rates.incidence import RatesResult

blueprint = Blueprint("incidence", __name__, url_prefix="/incidence", template_folder="templates")
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _limits() -> dict[str, int]:
    return {"min_rate_cases": current_app.config["RATE_MIN_CASES"], "min_count": current_app.config["RATE_MIN_COUNT"]}


def outputs(args: Any) -> dict[str, Any]:
    """Everything a page, CSV, chart or API response shows for the query ``args``, already suppressed."""
    from reports.rates.incidence import run
    from reports.rates.methods import suppress
    result, yearly, apc = run(args, db_session())
    limits = _limits()
    ratios = result.rate_ratios()
    few = (result.table["count"] < limits["min_rate_cases"]).to_numpy()
    if len(few):  # a ratio is shown only where both its rates are
        ratios.loc[few | few[0], ["ratio", "lo", "hi"]] = float("nan")
    public_yearly = suppress(yearly, **limits)
    return {"result": result, "table": result.public(**limits), "ratios": ratios, "yearly": public_yearly,
            "apc": apc, "limits": limits}


def _args_or_400(args: Any) -> dict[str, Any]:
    from reports.rates.incidence import RatesRefused
    try:
        return outputs(args)
    except RatesRefused as exc:
        abort(Response(str(exc) + "\n", status=400, mimetype="text/plain"))


@blueprint.route("/")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def page() -> str:
    from reports.survival.cohorts import site_choices
    from reports.rates.incidence import BY, RatesRefused
    from reports.rates.methods import METHODS
    from reports.rates.populations import installed_populations
    shown = error = None
    if request.args:
        try:
            shown = outputs(request.args)
        except RatesRefused as exc:
            error = str(exc)
    query = {key: [v for v in values if v] for key, values in request.args.to_dict(flat=False).items()}
    return render_template("incidence/page.html", shown=shown, error=error, query=query, args=request.args,
                           by_choices=BY, standards=standards(), methods=METHODS, sites=site_choices(),
                           populations=installed_populations())


@blueprint.route("/table.csv")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def table_csv() -> Response:
    from reports.rates.incidence import to_csv
    shown = _args_or_400(request.args)
    result: RatesResult = shown["result"]
    log_event(current_user._get_current_object(), "incidence_export", detail=result.notes[0])
    return Response(to_csv(result, shown["table"]), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="incidence.csv"'})


@blueprint.route("/chart.<fmt>")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def chart_image(fmt: str) -> Response:
    from reports.rates.incidence import chart
    if fmt not in IMAGE_TYPES:
        abort(404)
    shown = _args_or_400(request.args)
    result: RatesResult = shown["result"]
    response = Response(chart(shown["yearly"], shown["apc"], result.notes[0].split(";")[0], fmt),
                        mimetype=IMAGE_TYPES[fmt])
    if request.args.get("download"):
        log_event(current_user._get_current_object(), "incidence_export", detail=f"chart {fmt}: {result.notes[0]}")
        response.headers["Content-Disposition"] = f'attachment; filename="incidence.{fmt}"'
    return response


def records(frame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN (suppressed or not computable) becomes null."""
    import pandas as pd
    return [{key: (None if value is pd.NA or (isinstance(value, float) and value != value) else value)
             for key, value in row.items()}
            for row in frame.astype(object).to_dict(orient="records")]

