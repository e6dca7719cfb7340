"""API endpoints of the registrar's worklists (on the ``/api/v1`` blueprint): the casefinding suspense list and the
follow-up worklist, letters and CoC follow-up rates.

The same operations and role rules as the Suspense and Follow-up pages: identified data, so registrars,
reviewers and administrators only; every list read is audited with the patients it shows.
"""
from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request, url_for
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from abstracts import casefinding
from abstracts.api import (ApiError, Paging, _audit_read, _json_body, _load, _page, _paged, _paging,
                           api_route, describe)
from abstracts.forms import to_naaccr_date
from abstracts.queries import count, follow_up_statement, page_of
from abstracts.schemas import SuspenseSchema, TumorSchema
from registry.audit import log_event
from registry.db import db_session
from registry.errors import NotAllowed
from registry.models import Patient, SuspenseCase, SuspenseStatus


# --- casefinding suspense ----------------------------------------------------------------------

class SuspenseQuery(Paging):
    status = fields.String(load_default="open", validate=validate.OneOf(
        [s.value for s in SuspenseStatus], error=f"one of {', '.join(s.value for s in SuspenseStatus)}"),
        metadata={"description": "which cases (default open, the ones to work)"})
    source = fields.String(validate=validate.OneOf(list(casefinding.SOURCES),
                                                   error=f"one of {', '.join(casefinding.SOURCES)}"),
                           metadata={"description": "only cases found in this casefinding source"})
    site = fields.String(validate=validate.Length(max=5), metadata={"description": "primary site [400] prefix, "
                                                                                  "e.g. C50"})


class SuspenseCaseSchema(SuspenseSchema):
    """A suspense case as listed (identified: never shown to researchers)."""
    created_at = fields.DateTime(dump_only=True)
    resolved_at = fields.DateTime(dump_only=True, allow_none=True)


@api_route("/casefinding/suspense", query=SuspenseQuery, phi_only=True)
def list_suspense():
    """The suspense list of the Suspense page: open cases by default, newest first."""
    stmt = select(SuspenseCase).where(SuspenseCase.status == SuspenseStatus(g.query["status"]))
    if g.query.get("source"):
        stmt = stmt.where(SuspenseCase.source == g.query["source"])
    if g.query.get("site"):
        stmt = stmt.where(SuspenseCase.primary_site.startswith(g.query["site"].replace(".", "").upper(),
                                                                      autoescape=True))
    body = _paged(stmt.order_by(SuspenseCase.id.desc()), SuspenseCaseSchema())
    _audit_read("list_suspense", detail=f"{g.query['status']} page {body['page']}, {len(body['items'])} cases")
    return jsonify(body)


#: Content types of a message for the casefinding intake rather than a case entered by hand.
MESSAGE_TYPES = ("application/fhir+json", "application/fhir+xml", "application/xml", "text/xml", "text/plain",
                 "x-application/hl7-v2+er7", "application/hl7-v2")


@api_route("/casefinding/suspense", ("POST",), writes=True)
def add_suspense():
    """Put a potential case in suspense: a JSON object of the Suspense form's fields (a case found in a pathology
    report, disease index, ...), or an HL7 v2 ORU^R01 message or FHIR bundle as the body, screened and matched as
    the casefinding upload does."""
    data = _json_body() if request.mimetype == "application/json" else None
    if data is not None and "resourceType" not in data:
        values = _load(SuspenseSchema(), data, partial=False)
        for name in ("date_of_birth", "date_found"):  # as the form: 2025-03-14, 03/14/2025 or CCYYMMDD
            if values.get(name):
                values[name] = to_naaccr_date(values[name])
        case = casefinding.add_suspense_case(values, actor=g.api_user)
        return jsonify(cases=[SuspenseCaseSchema().dump(case)], taken=[], refused=[],
                       summary="1 case entered"), 201
    from abstracts.epath.api import take_in_body
    result = take_in_body("a JSON suspense case, an HL7 v2 message or a FHIR bundle")
    ids = sorted({t.case_id for t in result.taken})
    cases = list(db_session.scalars(select(SuspenseCase).where(SuspenseCase.id.in_(ids)).order_by(SuspenseCase.id)))
    return jsonify(cases=SuspenseCaseSchema(many=True).dump(cases), **result.as_json()), 201 if result.taken else 422


@api_route("/casefinding/suspense/<int:case_id>/abstract", ("POST",), writes=True)
def abstract_suspense(case_id: int):
    """Start an abstract from an open case (the patient with its medical record number, or a new one), pre-filled
    from its reports; a case re-opened by a corrected report gives its abstract back (200)."""
    before = db_session.get(SuspenseCase, case_id)
    reviewing = before is not None and before.tumor_id is not None
    try:
        tumor = casefinding.abstract_suspense_case(case_id, actor=g.api_user)
    except NotAllowed as exc:
        raise ApiError(409, "conflict", str(exc), {"case_id": str(exc)}) from None
    case = db_session.get(SuspenseCase, case_id)
    _values, provenance = casefinding.suggested_tumor_values(db_session, case)
    body = {"tumor": TumorSchema().dump(tumor), "case": SuspenseCaseSchema().dump(case), "prefilled": provenance}
    return jsonify(body), 200 if reviewing else 201, {"Location": url_for("api.get_tumor", tumor_id=tumor.id)}


class NotReportableSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "why the case is not reportable; kept in the audit trail"})


@api_route("/casefinding/suspense/<int:case_id>/not-reportable", ("POST",), writes=True)
def suspense_not_reportable(case_id: int):
    """Close an open case as not reportable, saying why."""
    reason = _load(NotReportableSchema(), _json_body(), partial=False)["reason"]
    try:
        case = casefinding.mark_not_reportable(case_id, reason, actor=g.api_user)
    except NotAllowed as exc:
        raise ApiError(409, "conflict", str(exc), {"case_id": str(exc)}) from None
    return jsonify(SuspenseCaseSchema().dump(case))


# --- follow-up ---------------------------------------------------------------------------------

LISTS = ("due", "delinquent")


class WorklistQuery(Paging):
    list_ = fields.String(data_key="list", load_default="due", validate=validate.OneOf(LISTS, error="due or "
                                                                                                      "delinquent"),
                          metadata={"description": "due: last contact 12-15 months ago; delinquent: over 15 months"})


class WorklistPatientSchema(Schema):
    """A living patient on the follow-up worklist."""
    id = fields.Integer()
    patient_id_number = fields.String(metadata={"description": "Patient ID Number [20]"})
    name_last = fields.String(allow_none=True)
    name_first = fields.String(allow_none=True)
    medical_record_number = fields.String(allow_none=True, metadata={"description": "[2300]"})
    date_of_last_contact = fields.String(allow_none=True, metadata={"description": "[1750], CCYYMMDD"})
    primary_sites = fields.Function(lambda p: [t.primary_site for t in p.tumors if t.primary_site],
                                    metadata={"description": "Primary Site [400] of each tumor"})
    follow_ups_url = fields.Function(lambda p: url_for("api.list_follow_ups", patient_id=p.id))


@api_route("/follow-up/worklist", query=WorklistQuery, phi_only=True)
def follow_up_worklist():
    """The Follow-up page's list: living patients due (12-15 months) or delinquent (over 15), oldest contact
    first, with the counts of both lists."""
    kind = g.query["list_"]
    page, per_page = _paging()
    stmt = follow_up_statement(kind).order_by(Patient.date_of_last_contact, Patient.id)
    rows = page_of(stmt, page, per_page)
    body = _page(WorklistPatientSchema(many=True).dump(rows), count(stmt), page, per_page)
    body["counts"] = {k: count(follow_up_statement(k)) for k in LISTS}
    _audit_read("follow_up_worklist", detail=f"{kind} page {page}, {len(rows)} patients")
    return jsonify(body)


class LettersSchema(Schema):
    """Which letters: the patients named, or one page of a worklist (as the page's PDF button)."""
    patient_ids = fields.List(fields.Integer(), validate=validate.Length(min=1, max=100, error="1 to 100 patients"),
                              metadata={"description": "the patients to write to"})
    list_ = fields.String(data_key="list", validate=validate.OneOf(LISTS, error="due or delinquent"))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1),
                          metadata={"description": "page of the list, 100 letters a page"})


@api_route("/follow-up/letters", ("POST",), writes=True)
def follow_up_letters():
    """Follow-up letters to the patients' physicians as one PDF (at most 100), as the Follow-up page prints them."""
    from abstracts.followup import _letters_pdf
    data = _load(LettersSchema(), _json_body(), partial=False)
    if ("patient_ids" in data) == ("list_" in data):
        raise ApiError(422, "invalid", "name the patients or a list, not both",
                       {"patient_ids": "the patients, or leave out and send list (due or delinquent)"})
    if "patient_ids" in data:
        wanted = list(dict.fromkeys(data["patient_ids"]))
        found = {p.id: p for p in db_session.scalars(select(Patient).where(Patient.id.in_(wanted)))}
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise ApiError(404, "not_found", f"no patient {', '.join(missing)}",
                           {"patient_ids": f"no patient {', '.join(missing)}"})
        patients = [found[i] for i in wanted]
        for patient in patients:
            log_event(g.api_user, "follow_up_letter", entity="patient", entity_id=patient.id, patient_id=patient.id,
                      detail="api")
        name = "follow-up-letters.pdf"
    else:
        kind, page = data["list_"], data["page"]
        patients = page_of(follow_up_statement(kind).order_by(Patient.date_of_last_contact, Patient.id), page, 100)
        log_event(g.api_user, "follow_up_letters", detail=f"api {kind} page {page}: {len(patients)} letters")
        name = f"follow-up-{kind}-{page}.pdf"
    return Response(_letters_pdf(patients), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


class FollowUpRateSchema(Schema):
    eligible = fields.Integer()
    current = fields.Integer(metadata={"description": "contact within 15 months, or dead"})
    rate = fields.Float(allow_none=True, metadata={"description": "percent; null without cases"})
    standard = fields.Integer(metadata={"description": "the CoC target, percent"})


class FollowUpRatesSchema(Schema):
    """The CoC follow-up rates of the Follow-up page and the annual report."""
    as_of = fields.Date()
    cutoff = fields.Date(metadata={"description": "contact on or after this day counts as current"})
    reference_year = fields.Integer()
    first_recent_year = fields.Integer()
    last_year = fields.Integer()
    definition = fields.String()
    all = fields.Nested(FollowUpRateSchema, metadata={"description": "analytic cases since the reference year"})
    recent = fields.Nested(FollowUpRateSchema, metadata={"description": "analytic cases of the last five years"})
    excluded = fields.Dict(keys=fields.String(), values=fields.Integer())
    non_analytic_left_out = fields.Boolean()


@api_route("/follow-up/rates", phi_only=True)
def follow_up_rates():
    from abstracts.followup import follow_up_rates as rates
    return jsonify(FollowUpRatesSchema().dump(rates()))


def _page_of(name: str, item: type[Schema], **extra: Any) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "page": fields.Integer(),
                             "per_page": fields.Integer(), "total": fields.Integer(), "pages": fields.Integer(),
                             **extra}, name=name)


describe(
    ("/casefinding/suspense", "get", "The casefinding suspense list (open cases by default)", None, "SuspensePage"),
    ("/casefinding/suspense", "post", "Put a potential case in suspense: the Suspense form's fields as JSON, or an "
     "HL7 v2 ORU^R01 message or FHIR bundle as the body (screened and matched)", "SuspenseCase", "SuspenseIntake"),
    ("/casefinding/suspense/{case_id}/abstract", "post", "Start an abstract from an open suspense case (pre-filled "
     "from its reports; 409 when the case is closed)", None, "SuspenseAbstract"),
    ("/casefinding/suspense/{case_id}/not-reportable", "post", "Close an open suspense case as not reportable",
     "NotReportable", "SuspenseCase"),
    ("/follow-up/worklist", "get", "Living patients due for follow-up (12-15 months) or delinquent (over 15)",
     None, "WorklistPage"),
    ("/follow-up/letters", "post", "Follow-up letters as one PDF: the patients named, or a page of a worklist",
     "Letters", "PDF"),
    ("/follow-up/rates", "get", "CoC follow-up rates (all analytic cases, and those of the last five years)",
     None, "FollowUpRates"),
    statuses={("/casefinding/suspense/{case_id}/not-reportable", "post"): "200",
              ("/follow-up/letters", "post"): "200"},
    errors={("/casefinding/suspense/{case_id}/abstract", "post"): {"409": ("the case is no longer open", "Error")},
            ("/casefinding/suspense/{case_id}/not-reportable", "post"): {"409": ("the case is no longer open",
                                                                                  "Error")}},
    schemas={"SuspenseCase": SuspenseCaseSchema, "SuspensePage": _page_of("SuspensePage", SuspenseCaseSchema),
             "SuspenseIntake": Schema.from_dict({
                 "cases": fields.List(fields.Nested(SuspenseCaseSchema), metadata={
                     "description": "the suspense cases entered or that the reports went to"}),
                 "taken": fields.List(fields.Dict()), "refused": fields.List(fields.Dict()),
                 "summary": fields.String()}, name="SuspenseIntake"),
             "SuspenseAbstract": Schema.from_dict({
                 "tumor": fields.Nested(TumorSchema), "case": fields.Nested(SuspenseCaseSchema),
                 "prefilled": fields.List(fields.String(), metadata={
                     "description": "the values suggested by casefinding and where each came from: check each"})},
                 name="SuspenseAbstract"),
             "NotReportable": NotReportableSchema, "Letters": LettersSchema,
             "WorklistPage": _page_of("WorklistPage", WorklistPatientSchema, counts=fields.Dict(
                 keys=fields.String(), values=fields.Integer(), metadata={"description": "patients on each list"})),
             "FollowUpRates": FollowUpRatesSchema})
