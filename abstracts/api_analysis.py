"""API endpoints of analysis (on the ``/api/v1`` blueprint): survival and incidence figures, research releases and
data use agreements, and the annual report.

Each endpoint runs the operation its page runs, with the page's role rule: survival, rates and research for
researchers and administrators (only aggregates or de-identified releases leave), data use agreements recorded and
revoked by administrators, the annual report built by administrators as a job.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, jsonify, request, url_for
from marshmallow import Schema, fields, validate

from abstracts.api import ApiError, Paging, _json_body, _load, _page, _paging, api_route, describe, job_started
from registry.audit import log_event
from registry.db import db_session
from registry.errors import InvalidInput, NotAllowed, NotFound
from registry.jobs import enqueue
from registry.models import DataUseAgreement, Role, User

ANALYSTS = (Role.RESEARCHER, Role.ADMIN)


def require(*roles: Role, doing: str) -> None:
    """The page's role rule: a 403 naming what the caller's role may not do."""
    if g.api_user.role not in roles:
        raise ApiError(403, "not_allowed", f"a {g.api_user.role.value} may not {doing}")


def _many(description: str) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(max=200, error="at most 200 characters")),
                       metadata={"description": description + "; repeat the parameter or separate by commas"})


def _one(description: str, **kwargs: Any) -> fields.String:
    return fields.String(metadata={"description": description}, **kwargs)


# --- survival ----------------------------------------------------------------------------------

def _survival_query() -> type[Schema]:
    from reports.survival.cohorts import COMPARE_BY, STAGE_ORDER
    from reports.survival.measures import ANALYSES, COX_COVARIATES, INTERVALS, MEASURES

    def one_of(choices: Any) -> validate.OneOf:
        return validate.OneOf(list(choices), error=f"one of {', '.join(choices)}")
    return Schema.from_dict({
        "site": _many("SEER site recode (39 is Breast) or primary-site prefix (C50) [400]"),
        "from_": _one("first diagnosis year (CCYY)", data_key="from"),
        "to": _one("last diagnosis year (CCYY)"),
        "stage": _many(f"stage group: {', '.join(STAGE_ORDER)}"),
        "sex": _many("Sex [220] code: 1 male, 2 female"),
        "age": _many("age group at diagnosis, e.g. 45-54"),
        "item": fields.List(fields.String(), metadata={"description": "naaccrId=codes, one filter per parameter "
                                                                      "(codes comma-separated), any catalogued item "
                                                                      "that is not an identifier"}),
        "measure": _one("the measure (default observed)", validate=one_of(MEASURES)),
        "by": _one("compare groups by", validate=one_of(COMPARE_BY)),
        "analysis": _one("cohort (default), period or conditional", validate=one_of(ANALYSES)),
        "window": _one("calendar years of a period analysis, e.g. 2020-2024"),
        "condition": _one("years already survived, for conditional survival (more than 0, less than 10)"),
        "interval": _one("width of the table's intervals (default 1y)", validate=one_of(INTERVALS)),
        "strata": _one("stratify the log-rank test by this grouping"),
        "cox": fields.List(fields.String(validate=one_of(COX_COVARIATES)),
                           metadata={"description": f"Cox model covariates: {', '.join(COX_COVARIATES)}"}),
        "standard": _one("age standard of relative survival (ICSS)"),
        "lifetable": _one("the installed population life table to use (default the newest)"),
    }, name="SurvivalQuery")


SurvivalQuery = _survival_query()


class SurvivalSchema(Schema):
    """The Survival page's figures (aggregates only)."""
    measure = fields.String()
    label = fields.String()
    cohort = fields.String(metadata={"description": "the cohort in words"})
    definitions = fields.Dict(metadata={"description": "survival cut-off and the other definitions used"})
    by = fields.String(allow_none=True)
    interval = fields.String()
    life_table = fields.String(allow_none=True)
    notes = fields.List(fields.String())
    table = fields.List(fields.Dict(), metadata={"description": "one row per group and interval"})
    figures = fields.List(fields.Dict(), metadata={"description": "1-, 3-, 5- and 10-year figures per group"})
    logrank = fields.Dict(allow_none=True)
    cox = fields.List(fields.Dict(), allow_none=True)


@api_route("/survival", query=SurvivalQuery, roles="researcher, admin")
def survival():
    """Survival as the Survival page computes it (observed Kaplan-Meier or actuarial, cause-specific, relative)."""
    from reports.survival.measures import SurvivalRefused
    from reports.survival.views import end_point_year, payload, run
    require(*ANALYSTS, doing="read survival figures")
    try:
        result = run(request.args, end_point_year())
    except SurvivalRefused as exc:
        text = str(exc)
        field = text.split(":", 1)[0].split()[0] if ":" in text else "request"
        raise ApiError(422, "invalid", text, {field: text}) from None
    log_event(g.api_user, "survival_export", detail=f"api {result.measure.key}: {result.cohort}")
    return jsonify(payload(result))


# --- incidence rates ---------------------------------------------------------------------------

RatesQuery = Schema.from_dict({
    "years": _one("diagnosis years, one (2020) or a range (2015-2024)"),
    "by": _many("breakdown: site, sex, race, year, area"),
    "standard": _one("standard population (default us2000)"),
    "area": _one("county code of the area"),
    "site": _many("SEER site recode, e.g. 39 (Breast)"),
    "method": _one("interval method (default tiwari)"),
    "population": _one("the installed population to use (default the newest)"),
}, name="RatesQuery")


class RatesSchema(Schema):
    """The Incidence page's table: small counts and rates from few cases suppressed."""
    rows = fields.List(fields.Dict(), metadata={"description": "group, breakdown values, count, population, crude "
                                                               "and age-adjusted rates per 100,000 with intervals"})
    rate_ratios = fields.List(fields.Dict())
    trends = fields.List(fields.Dict(), metadata={"description": "annual percent change"})
    notes = fields.List(fields.String())
    population = fields.String()
    synthetic = fields.Boolean(metadata={"description": "true when the population is the demo's invented one"})
    standard = fields.String()
    method = fields.String()
    suppression = fields.Dict(metadata={"description": "the suppression limits applied"})


@api_route("/rates", query=RatesQuery, roles="researcher, admin")
def rates():
    """Crude and age-adjusted incidence rates as the Incidence page computes them."""
    from reports.rates.incidence import RatesRefused
    from reports.rates.views import outputs, records
    require(*ANALYSTS, doing="read incidence rates")
    try:
        shown = outputs(request.args)
    except RatesRefused as exc:
        raise ApiError(422, "invalid", str(exc), {exc.field: str(exc)}) from None
    result = shown["result"]
    log_event(g.api_user, "incidence_export", detail=f"api: {result.notes[0]}")
    columns = ["group", *result.request.by, "count", "population", "crude_rate", "crude_lo", "crude_hi", "aa_rate",
               "aa_lo", "aa_hi", "suppressed"]
    return jsonify(rows=records(shown["table"][columns]), rate_ratios=records(shown["ratios"]),
                   trends=records(shown["apc"]), notes=result.notes, population=result.population_name,
                   synthetic=result.synthetic, standard=result.request.standard, method=result.request.method,
                   suppression=shown["limits"])


# --- research ----------------------------------------------------------------------------------

class VariableSchema(Schema):
    """A variable of the research data dictionary and what each de-identification level does with it."""
    name = fields.String()
    label = fields.String()
    source = fields.String(metadata={"description": "patient, tumor, treatment or derived"})
    naaccr_num = fields.Integer(allow_none=True, metadata={"description": "NAACCR item number"})
    naaccr_id = fields.String(allow_none=True)
    description = fields.String()
    phi_class = fields.String(metadata={"description": "direct identifier, date, ZIP, quasi-identifier or safe"})
    safe_harbor = fields.String(metadata={"description": "its treatment under HIPAA Safe Harbor ('drop': not "
                                                         "released)"})
    limited = fields.String(metadata={"description": "its treatment in a limited data set"})
    default = fields.Boolean(metadata={"description": "released when a request names no variables"})
    codes = fields.Dict(keys=fields.String(), values=fields.String())


class VariableQuery(Paging):
    q = fields.String(load_default="", validate=validate.Length(max=80, error="at most 80 characters"),
                      metadata={"description": "words of the name, label or NAACCR item number"})


@api_route("/research/variables", query=VariableQuery, roles="researcher, admin")
def research_variables():
    """The research data dictionary (the dataset builder's variables), searchable by ``q``."""
    from reports.research.variables import dictionary
    require(*ANALYSTS, doing="build research datasets")
    words = g.query["q"].lower().split()
    found = [v for v in dictionary().values()
             if all(w in f"{v.name} {v.label} {v.naaccr_num or ''} {v.naaccr_id or ''}".lower() for w in words)]
    page, per_page = _paging()
    return jsonify(_page(VariableSchema(many=True).dump(found[(page - 1) * per_page: page * per_page]), len(found),
                         page, per_page))


class ResearchExportSchema(Schema):
    """A research release as the dataset builder asks for it."""
    filters = fields.Dict(load_default=dict, metadata={"description": (
        "the cohort: years (2015-2024), sites, site_groups, histologies, behaviors, stages, sexes, ages (50-64), "
        "vital_statuses, classes_of_case, items (naaccrId=codes); lists or comma-separated text; none means every "
        "tumor")})
    variables = fields.List(fields.String(), load_default=list,
                            metadata={"description": "variable names (GET /research/variables); none: the default "
                                                     "set of the level"})
    level = fields.String(load_default="safe_harbor", validate=validate.OneOf(
        ["safe_harbor", "limited"], error="safe_harbor or limited"),
        metadata={"description": "safe_harbor (HIPAA de-identified) or limited (needs your data use agreement)"})
    file_format = fields.String(load_default="csv", validate=validate.OneOf(
        ["csv", "parquet", "naaccr"], error="csv, parquet or naaccr"))
    purpose = fields.String(load_default="", validate=validate.Length(max=2000))
    agreement_id = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "your data use agreement (a limited data set only)"})


@api_route("/research/exports", ("POST",), roles="researcher, admin; a limited data set needs the caller's own "
                                                 "valid data use agreement")
def research_export():
    """Start a de-identified release (a job, as the dataset builder): 202 with the job; its result is the zip."""
    from reports.research import cohort
    from reports.research.export import check_agreement
    from reports.research.variables import LIMITED, choose
    require(*ANALYSTS, doing="build research datasets")
    data = _load(ResearchExportSchema(), _json_body(), partial=False)
    raw = data["filters"]
    unknown = set(raw) - set(cohort.Filters.__dataclass_fields__)
    if unknown:
        raise ApiError(422, "invalid", "unknown filters", {f"filters.{name}": "not a filter" for name in unknown})
    try:
        cohort.Filters.parse(**raw)
    except InvalidInput as exc:
        raise ApiError(422, "invalid", "some filters are not valid; nothing was started",
                       {f"filters.{k}": v for k, v in exc.errors.items()}) from None
    try:
        choose(data["variables"] or None, data["level"])
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc), {"variables": str(exc)}) from None
    if data["level"] == LIMITED:
        try:
            check_agreement(data["agreement_id"], g.api_user)
        except NotFound as exc:
            raise ApiError(422, "invalid", str(exc), {"agreement_id": str(exc)}) from None
        except NotAllowed as exc:
            raise ApiError(403, "not_allowed", str(exc), {"agreement_id": str(exc)}) from None
    params = {"user_id": g.api_user.id, "filters": raw, "variables": data["variables"], "level": data["level"],
              "file_format": data["file_format"], "purpose": data["purpose"].strip(),
              "agreement_id": data["agreement_id"]}
    return job_started(enqueue("research-export", params, user=g.api_user))


class AgreementSchema(Schema):
    """A data use agreement: who may receive limited data sets, for which project, until when."""
    id = fields.Integer(dump_only=True)
    username = fields.String(required=True, validate=validate.Length(max=80),
                             metadata={"description": "the researcher"})
    project = fields.String(required=True, validate=validate.Length(max=200))
    expires = fields.Date(required=True, metadata={"description": "last day it is valid (inclusive)"})
    recorded_by = fields.String(dump_only=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    valid = fields.Boolean(dump_only=True, metadata={"description": "valid today: not revoked, not expired"})


def _agreement(agreement: DataUseAgreement) -> dict[str, Any]:
    user = db_session.get(User, agreement.user_id)
    return AgreementSchema().dump({"id": agreement.id, "username": user.username if user else None,
                                   "project": agreement.project, "expires": agreement.expires_on,
                                   "recorded_by": agreement.recorded_by, "revoked_at": agreement.revoked_at,
                                   "valid": agreement.valid_on(dt.date.today())})


@api_route("/research/agreements", query=Paging, roles="admin (every agreement), researcher (their own)")
def list_agreements():
    from reports.research.agreements import agreements
    require(*ANALYSTS, doing="see data use agreements")
    found = agreements(None if g.api_user.role is Role.ADMIN else g.api_user)
    page, per_page = _paging()
    return jsonify(_page([_agreement(a) for a in found[(page - 1) * per_page: page * per_page]], len(found), page,
                         per_page))


@api_route("/research/agreements", ("POST",), roles="admin")
def add_agreement():
    """Record a data use agreement (as the research administration page)."""
    from reports.research.agreements import add_agreement as record
    require(Role.ADMIN, doing="record data use agreements")
    data = _load(AgreementSchema(), _json_body(), partial=False)
    try:
        agreement = record(data["username"], data["project"], data["expires"], actor=g.api_user)
    except InvalidInput as exc:
        fields_ = {("username" if k == "user" else k): v for k, v in exc.errors.items()}
        raise ApiError(422, "invalid", "some fields are not valid; nothing was saved", fields_) from None
    return jsonify(_agreement(agreement)), 201, {"Location": url_for("api.list_agreements")}


@api_route("/research/agreements/<int:agreement_id>/revoke", ("POST",), roles="admin")
def revoke_agreement(agreement_id: int):
    from reports.research.agreements import revoke_agreement as revoke
    require(Role.ADMIN, doing="revoke data use agreements")
    return jsonify(_agreement(revoke(agreement_id, actor=g.api_user)))


# --- annual report -----------------------------------------------------------------------------

class AnnualReportSchema(Schema):
    """The annual report as its page asks for it."""
    year = fields.Integer(required=True, metadata={"description": "diagnosis year, this year or one of the 24 before"})
    facility = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Za-z0-9]{1,10}$", error="a reporting facility code is at most 10 letters or digits"),
        metadata={"description": "one reporting facility; none: all"})
    public = fields.Boolean(load_default=False, metadata={"description": "the public edition (small numbers "
                                                                         "suppressed)"})


@api_route("/annual-report", ("POST",), roles="admin")
def annual_report():
    """Build the annual report PDF (a job, as the page): 202 with the job; GET /jobs/{id}/result is the PDF."""
    from reports.annual_report.views import JOB_KIND, _year_choices
    require(Role.ADMIN, doing="build the annual report")
    data = _load(AnnualReportSchema(), _json_body(), partial=False)
    years = _year_choices()
    if data["year"] not in years:
        raise ApiError(422, "invalid", "choose a diagnosis year",
                       {"year": f"a diagnosis year from {years[-1]} to {years[0]}"})
    job = enqueue(JOB_KIND, {"year": data["year"], "facility": data["facility"] or None, "public": data["public"],
                             "requested_by": g.api_user.username}, user=g.api_user)
    return job_started(job)


describe(
    ("/survival", "get", "Survival of a cohort, as the Survival page: Kaplan-Meier or actuarial observed, "
     "cause-specific, relative (Ederer I/II, Hakulinen, Pohar-Perme), cohort, period or conditional; by group, "
     "with log-rank and Cox", None, "Survival"),
    ("/rates", "get", "Crude and age-adjusted incidence rates per 100,000, as the Incidence page (small counts "
     "suppressed)", None, "Rates"),
    ("/research/variables", "get", "The research data dictionary: each variable and what each de-identification "
     "level does with it", None, "VariablePage"),
    ("/research/exports", "post", "Start a de-identified research release (202 with the job; its result is the "
     "zip of data and dictionary)", "ResearchExport", "Job"),
    ("/research/agreements", "get", "Data use agreements (a researcher sees their own)", None, "AgreementPage"),
    ("/research/agreements", "post", "Record a data use agreement", "Agreement", "Agreement"),
    ("/research/agreements/{agreement_id}/revoke", "post", "Revoke a data use agreement", None, "Agreement"),
    ("/annual-report", "post", "Build the annual report PDF (202 with the job; GET /jobs/{id}/result is the PDF)",
     "AnnualReport", "Job"),
    statuses={("/research/agreements/{agreement_id}/revoke", "post"): "200"},
    errors={("/research/exports", "post"): {"403": ("not a researcher or admin, or a limited data set without "
                                                    "the caller's valid data use agreement", "Error")}},
    schemas={"Survival": SurvivalSchema, "Rates": RatesSchema, "Variable": VariableSchema,
             "VariablePage": Schema.from_dict({"items": fields.List(fields.Nested(VariableSchema)),
                                               "page": fields.Integer(), "per_page": fields.Integer(),
                                               "total": fields.Integer(), "pages": fields.Integer()},
                                              name="VariablePage"),
             "ResearchExport": ResearchExportSchema, "Agreement": AgreementSchema,
             "AgreementPage": Schema.from_dict({"items": fields.List(fields.Nested(AgreementSchema)),
                                                "page": fields.Integer(), "per_page": fields.Integer(),
                                                "total": fields.Integer(), "pages": fields.Integer()},
                                               name="AgreementPage"),
             "AnnualReport": AnnualReportSchema})
