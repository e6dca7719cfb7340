"""REST API under /api/v1: patients, tumors, treatment, follow-up, code look-ups and edit checks.

Authentication is a personal token (``Authorization: Bearer crt_…``) made on the user's page; the
token carries its owner's role, and the same rules as the web apply: registrars, reviewers and
admins see identified data (``phi`` view), researchers only the de-identified view and no writes.
Every error is JSON naming each field; every list is paged. The OpenAPI document is generated
from the same marshmallow schemas (apispec) and the NAACCR item catalogue: every catalogued item is a
property carrying ``x-naaccr-id`` and ``x-naaccr-number``, its length, label and code list (``enum`` where
the list is short and has no ranges, always ``x-code-list`` with ``x-codes-url``, the /codes look-up).

Items with a column are fields of their own; every other item is a property of the nested object ``items``
of a patient or tumor, and the 2018+ site-specific data items of ``site_specific_items``, keyed by naaccrId.
A PATCH changes only the items it sends (null removes one); a bad value or an unknown naaccrId is a 422
naming ``items.<naaccrId>``. Items of a state's user dictionary, kept from import, are returned but cannot
be written here. The de-identified view leaves out every item the catalogue marks an identifier.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, g, jsonify, render_template, request, send_file, url_for
from flask_login import login_required
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from werkzeug.exceptions import HTTPException

from abstracts import operations as ops
from abstracts import primaries
from abstracts.codes import codes, lookup, lookup_note, systems
from abstracts.queries import PatientSearch, search_patients
from abstracts.search import DUPLICATE_CHECKED, likely_duplicates
from abstracts.schemas import (AbstractCheckSchema, EditFailureSchema, FollowUpSchema, ItemStore,
                               PatientSchema, TreatmentSchema, TumorSchema, validation_errors, with_stores_merged)
from abstracts.ratelimit import seconds_to_wait
from abstracts.tokens import token_and_user
from registry.app import csrf
from registry.audit import log_event
from registry.catalogue import Catalogue, CatalogueItem, catalogue
from registry.db import db_session
from registry.edits import run_edits
from registry.errors import Conflict, InvalidInput, NotAllowed, NotFound, RegistryError
from registry.item_filters import DATE_TYPES
from registry.jobs import fail_stopped_jobs, offered_result, shown_status, without_paths
from registry.models import PHI_ROLES, FollowUpContact, Job, JobStatus, Patient, Role, Tumor, User, WorkflowState
from registry.reads import note_shown

blueprint = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
csrf.exempt(blueprint)  # token-authenticated: no cookie session to forge
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
#: Code lists longer than this are given by ``x-code-list`` and the look-up only, not as an ``enum``.
ENUM_LIMIT = 60
MAX_PAYLOAD = 20 * 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None, *,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.fields, self.extra = status, code, message, fields or {}, extra
        self.headers = headers or {}


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body = {"code": exc.code, "message": exc.message}
    if exc.fields:
        body["fields"] = exc.fields
    body.update(exc.extra)
    return jsonify(error=body), exc.status, exc.headers


@blueprint.errorhandler(RegistryError)
def _registry_error(exc: RegistryError):
    db_session.rollback()
    if isinstance(exc, InvalidInput):
        fields_ = {f"{exc.record}.{k}" if exc.record else k: v for k, v in exc.errors.items()}
        return _api_error(ApiError(422, "invalid", "some fields are not valid; nothing was saved", fields_))
    if isinstance(exc, Conflict):
        return _api_error(ApiError(409, "conflict", str(exc), current_version=exc.current_version,
                                   changed=exc.changed))
    if isinstance(exc, NotFound):
        return _api_error(ApiError(404, "not_found", str(exc)))
    if isinstance(exc, NotAllowed):
        return _api_error(ApiError(403, "not_allowed", str(exc)))
    return _api_error(ApiError(400, "error", str(exc)))


@blueprint.errorhandler(413)
def _too_large(_exc: HTTPException):
    """An upload over the server's limit, as the error JSON (the app's own 413 answer is a page)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _api_error(ApiError(413, "too_large", f"the request is larger than the {limit / 2**20:g} MB this server "
                               "accepts; nothing of it was read or saved: compress the file (.xml.gz) or split it",
                               {"file": f"at most {limit} bytes"}))


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _api_error(ApiError(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name))


class Paging(Schema):
    """The paging parameters of every list."""
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, error="must be a whole number from 1"),
                          error_messages={"invalid": "must be a whole number from 1"},
                          metadata={"description": "which page, from 1"})
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE,
                              validate=validate.Range(min=1, max=MAX_PER_PAGE,
                                                      error=f"must be a whole number from 1 to {MAX_PER_PAGE}"),
                              error_messages={"invalid": f"must be a whole number from 1 to {MAX_PER_PAGE}"},
                              metadata={"description": f"items per page, at most {MAX_PER_PAGE}"})


def _criterion(description: str) -> fields.String:
    return fields.String(load_default="", validate=validate.Length(max=80, error="at most 80 characters"),
                         metadata={"description": description})


class PatientQuery(Paging):
    """Patient search (registrars, reviewers, admins; a researcher is refused any criterion): criteria combine."""
    name = _criterion("'last' or 'last, first'; tolerant of spelling (Hazledemo finds Hazeldemo), birth surname "
                      "included")
    date_of_birth = _criterion("1947-07-21, 07/21/1947 or 19470721 (1947-07 or 1947 when part is unknown)")
    medical_record_number = _criterion("Medical Record Number [2300], in any case")
    patient_id_number = _criterion("Patient ID Number [20]")
    ssn_last4 = _criterion("the whole SSN (with or without dashes) or its last four digits")


class TumorQuery(Paging):
    workflow_state = fields.String(validate=validate.OneOf([s.value for s in WorkflowState],
                                                           error=f"one of {', '.join(s.value for s in WorkflowState)}"),
                                   metadata={"description": "only tumors in this workflow state"})


class CodeQuery(Paging):
    q = fields.String(load_default="", validate=validate.Length(max=80, error="at most 80 characters"),
                      metadata={"description": "a code's beginning (C50), or words of its term (breast upper); "
                                               "ICD-O-3 searches every official term and synonym"})


class CreatePatientQuery(Schema):
    force = fields.Boolean(load_default=False, error_messages={"invalid": "true or false"},
                           metadata={"description": "true: create the patient although the duplicate check found "
                                                    "likely matches (recorded in the audit log)"})


#: The query parameters of each endpoint (endpoint -> schema); an endpoint not listed takes none.
QUERY: dict[str, type[Schema]] = {}
#: The same by OpenAPI path and method, for the document.
QUERY_BY_PATH: dict[tuple[str, str], type[Schema]] = {}
#: Who may call each operation, by OpenAPI path and method: the document's role note.
ROLES_BY_PATH: dict[tuple[str, str], str] = {}


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/tumors/<int:tumor_id>`` is ``/tumors/{tumor_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@blueprint.before_request
def _check_query() -> None:
    """Refuse a query parameter the endpoint does not take (400 naming it) and read the ones it takes into
    ``g.query`` (422 naming a bad value): a misspelt filter must not silently answer with everything."""
    schema = QUERY.get(request.endpoint or "", Schema)()
    accepted = {field.data_key or name: field for name, field in schema.fields.items()}
    unknown = {name: f"not a query parameter of this endpoint; it takes {', '.join(accepted) or 'none'}"
               for name in request.args if name not in accepted}
    lists = {name for name, field in accepted.items() if isinstance(field, fields.List)}  # site=C50&site=C18
    repeated = {name: "given more than once" for name in request.args
                if name not in lists and len(request.args.getlist(name)) > 1}
    if unknown or repeated:
        named = ", ".join(f"'{name}'" for name in {**unknown, **repeated})
        raise ApiError(400, "unknown_parameter" if unknown else "repeated_parameter",
                       f"query parameter {named} refused", {**repeated, **unknown})
    given = {name: request.args.getlist(name) if name in lists else request.args[name] for name in request.args}
    values, errors = validation_errors(schema, given, partial=False)
    if errors:
        raise ApiError(422, "invalid", "some query parameters are not valid", errors)
    g.query = values


def _user() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = token_and_user(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise ApiError(401, "unauthorized", "send a valid, unexpired API token as 'Authorization: Bearer <token>'")
    g.api_token_id = found[0].id
    return found[1]


def _check_rate() -> None:
    """429 with Retry-After once the token has made more requests than REGISTRY_API_RATE_LIMIT allows."""
    over = seconds_to_wait(g.api_token_id)
    if over:
        limit, wait = over
        raise ApiError(429, "rate_limited", f"this token has made more than {limit}; try again in {wait} seconds",
                       headers={"Retry-After": str(wait)}, retry_after=wait)


def api_route(rule: str, methods: tuple[str, ...] = ("GET",), *, writes: bool = False,
              phi_only: bool = False, query: type[Schema] | None = None, roles: str | None = None) -> Callable:
    """Register an endpoint that needs a token; ``writes``/``phi_only`` endpoints are closed to researchers.
    ``query`` declares the query parameters it takes (documented, validated into ``g.query``); others are a 400.
    ``roles`` is the document's role note where the endpoint's own rule says more than ``writes``/``phi_only``."""
    def decorator(view: Callable) -> Callable:
        for method in methods:
            ROLES_BY_PATH[(openapi_path(rule), method.lower())] = roles or (
                "registrar, reviewer, admin" if writes or phi_only
                else "every role (researchers see the de-identified view)")
        if query is not None:
            QUERY[f"{blueprint.name}.{view.__name__}"] = query
            for method in methods:
                QUERY_BY_PATH[(openapi_path(rule), method.lower())] = query

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.api_user = _user()
            _check_rate()
            if (writes or phi_only) and g.api_user.role not in PHI_ROLES:
                raise ApiError(403, "not_allowed", f"a {g.api_user.role.value} may not "
                               + ("change records" if writes else "see identified patient data"))
            return view(*args, **kwargs)
        return blueprint.route(rule, methods=list(methods))(wrapper)
    return decorator


def _view() -> str:
    return "phi" if g.api_user.role in PHI_ROLES else "deidentified"


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "send a JSON object with Content-Type: application/json")
    return data


def _load(schema: Schema, data: dict[str, Any], *, partial: bool = True) -> dict[str, Any]:
    values, errors = validation_errors(schema, data, partial=partial)
    if errors:
        raise ApiError(422, "invalid", "some fields are not valid; nothing was saved", errors)
    return values


def _paging() -> tuple[int, int]:
    """Page and page size, checked by the endpoint's query schema (a :class:`Paging`)."""
    return g.query["page"], g.query["per_page"]


def _page(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": max((total + per_page - 1) // per_page, 1)}


def _paged(stmt: Select, schema: Schema) -> dict[str, Any]:
    page, per_page = _paging()
    total = int(db_session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    rows = list(db_session.scalars(stmt.offset((page - 1) * per_page).limit(per_page)))
    note_shown(rows)
    return _page(schema.dump(rows, many=True), total, page, per_page)


def _version(data: dict[str, Any]) -> int:
    version = data.pop("version", None)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(422, "invalid", "say which version you are changing",
                       {"version": "required: the version you read (optimistic locking)"})
    return version


def _get(model: type, ident: int) -> Any:
    obj = db_session.get(model, ident)
    if obj is None:
        raise ApiError(404, "not_found", f"{model.__name__.lower()} {ident} does not exist")
    return obj


def _audit_read(what: str, patient_id: int | None = None, detail: str | None = None) -> None:
    if _view() == "phi":
        log_event(g.api_user, f"api_{what}", entity="patient" if patient_id else None, entity_id=patient_id,
                  patient_id=patient_id, detail=detail)


# --- patients ---------------------------------------------------------------------------------

@api_route("/patients", query=PatientQuery)
def list_patients():
    """List patients; registrars may search by name (spelling-tolerant), date of birth, MRN, id, SSN last 4."""
    criteria = PatientSearch(**{f: g.query[f] for f in PatientSearch.__dataclass_fields__})
    searched = any(getattr(criteria, f) for f in PatientSearch.__dataclass_fields__)
    if searched and _view() != "phi":
        raise ApiError(403, "not_allowed", "de-identified users cannot search by identifiers")
    schema = PatientSchema(view=_view())
    if searched:
        page, per_page = _paging()
        rows, total = search_patients(criteria, page=page, per_page=per_page)
        body = _page(schema.dump(rows, many=True), total, page, per_page)
    else:
        body = _paged(select(Patient).order_by(Patient.id), schema)
    _audit_read("list_patients", detail=f"page {body['page']}, {len(body['items'])} patients")
    return jsonify(body)


class LikelyDuplicateSchema(Schema):
    patient = fields.Nested(PatientSchema, metadata={"description": "in the caller's view"})
    score = fields.Float(metadata={"description": "name similarity, 0-1 (1 for the same SSN)"})
    reasons = fields.List(fields.String(), metadata={"description": "e.g. same SSN, same date of birth"})


@api_route("/patients", ("POST",), writes=True, query=CreatePatientQuery)
def create_patient():
    """Add a patient after the web form's duplicate check: likely matches are a 409 listing them unless the
    client confirms with ``?force=true``, which the creation's audit entry records with the matches."""
    data = _json_body()
    if "force" in data:
        raise ApiError(422, "invalid", "force is a query parameter, not a patient field",
                       {"force": "send it as POST /api/v1/patients?force=true"})
    values = with_stores_merged(_load(PatientSchema(), data, partial=False), None)
    matches = likely_duplicates({name: values.get(name) for name in DUPLICATE_CHECKED})
    if matches and not g.query["force"]:
        schema = PatientSchema(view=_view())
        _audit_read("duplicate_candidates", detail="patients " + ", ".join(str(m.patient.id) for m in matches))
        raise ApiError(409, "likely_duplicate", f"{len(matches)} existing patient(s) may be this person; open one of "
                       "them instead, or send force=true to add this patient anyway; nothing was saved",
                       {"force": "true to add a patient the duplicate check finds likely matches for"},
                       candidates=[{"patient": schema.dump(m.patient), "score": round(m.score, 3),
                                    "reasons": list(m.reasons)} for m in matches])
    patient = ops.create_patient(values, actor=g.api_user, likely_duplicates=matches,
                                 confirmed_by="force=true" if matches else None)
    return jsonify(PatientSchema().dump(patient)), 201, {"Location": url_for("api.get_patient", patient_id=patient.id)}


@api_route("/patients/<int:patient_id>")
def get_patient(patient_id: int):
    patient = _get(Patient, patient_id)
    _audit_read("view_patient", patient_id)
    return jsonify(PatientSchema(view=_view()).dump(patient))


@api_route("/patients/<int:patient_id>", ("PATCH",), writes=True)
def update_patient(patient_id: int):
    data = _json_body()
    version = _version(data)
    values = with_stores_merged(_load(PatientSchema(), data), _get(Patient, patient_id))
    patient = ops.update_patient(patient_id, values, actor=g.api_user, expected_version=version)
    return jsonify(PatientSchema().dump(patient))


# --- tumors and treatment ----------------------------------------------------------------------

@api_route("/tumors", query=TumorQuery)
def list_tumors():
    """All tumors, optionally of one workflow state."""
    stmt = select(Tumor).order_by(Tumor.id)
    state = g.query.get("workflow_state")
    if state:
        stmt = stmt.where(Tumor.workflow_state == WorkflowState(state))
    body = _paged(stmt, TumorSchema(view=_view()))
    _audit_read("list_tumors", detail=f"page {body['page']}, {len(body['items'])} tumors")
    return jsonify(body)


@api_route("/patients/<int:patient_id>/tumors", query=Paging)
def list_patient_tumors(patient_id: int):
    _get(Patient, patient_id)
    _audit_read("list_tumors", patient_id)
    return jsonify(_paged(select(Tumor).where(Tumor.patient_id == patient_id).order_by(Tumor.id),
                          TumorSchema(view=_view())))


@api_route("/patients/<int:patient_id>/tumors", ("POST",), writes=True)
def create_tumor(patient_id: int):
    """Start an abstract; refused (409 same_primary) where the multiple-primary rules call it the same primary as
    an existing tumor, unless ``multiple_primaries.override_reason`` says why it is created anyway."""
    data = _json_body()
    choice = data.pop("multiple_primaries", None) or {}
    values = with_stores_merged(_load(TumorSchema(), data, partial=False), None)
    patient = _get(Patient, patient_id)
    decision = _primary_decision(patient, values, choice) if patient.tumors else None
    tumor = ops.create_tumor(patient_id, values, actor=g.api_user, decision=decision)
    return jsonify(TumorSchema().dump(tumor)), 201, {"Location": url_for("api.get_tumor", tumor_id=tumor.id)}


def _primary_decision(patient: Patient, values: dict[str, Any], choice: Any) -> primaries.PrimaryDecision | None:
    """The verdicts against the patient's tumors, with the client's answers and reason; None when nothing to
    record. Raises 409 where a verdict is SINGLE_PRIMARY and no reason is given."""
    if not isinstance(choice, dict) or set(choice) - {"answers", "override_reason"}:
        raise ApiError(422, "invalid", "multiple_primaries must be {'answers': {...}, 'override_reason': '...'}",
                       {"multiple_primaries": "only answers and override_reason"})
    try:
        answers = primaries.parse_answers(choice.get("answers"), field_name="multiple_primaries.answers")
    except ValueError as exc:
        raise ApiError(422, "invalid", "some fields are not valid; nothing was saved",
                       {"multiple_primaries.answers": str(exc)}) from None
    reason = choice.get("override_reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1000):
        raise ApiError(422, "invalid", "some fields are not valid; nothing was saved",
                       {"multiple_primaries.override_reason": "must be text of at most 1000 characters"})
    reason = (reason or "").strip() or None
    found = primaries.verdicts(values, sorted(patient.tumors, key=lambda t: t.id), answers)
    decision = primaries.PrimaryDecision(found, answers, reason)
    if decision.same_primary and not reason:
        raise ApiError(409, "same_primary", "the multiple-primary rules call this tumor the same primary as an "
                       "existing tumor; update that abstract (PATCH /tumors/{id}) or send "
                       "multiple_primaries.override_reason to create it anyway; nothing was saved",
                       {"multiple_primaries.override_reason": "required to create a tumor the rules call the same "
                                                              "primary as an existing one"},
                       multiple_primaries=[v.as_dict() for v in found])
    return decision if (primaries.needs_decision(found) or answers or reason) else None


@api_route("/tumors/<int:tumor_id>")
def get_tumor(tumor_id: int):
    tumor = _get(Tumor, tumor_id)
    _audit_read("view_tumor", tumor.patient_id)
    return jsonify(TumorSchema(view=_view()).dump(tumor))


@api_route("/tumors/<int:tumor_id>", ("PATCH",), writes=True)
def update_tumor(tumor_id: int):
    data = _json_body()
    version = _version(data)
    values = with_stores_merged(_load(TumorSchema(), data), _get(Tumor, tumor_id))
    tumor = ops.update_tumor(tumor_id, values, actor=g.api_user, expected_version=version)
    return jsonify(TumorSchema().dump(tumor))


class TumorDeletionSchema(Schema):
    """Deleting an abstract entered in error: the version read and the reason kept in the audit trail."""
    version = fields.Integer(required=True, metadata={"description": "the version you read (optimistic locking)"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "why, e.g. entered in error; kept in the audit trail"})


@api_route("/tumors/<int:tumor_id>", ("DELETE",), writes=True, roles="registrar, admin")
def delete_tumor(tumor_id: int):
    if g.api_user.role not in (Role.REGISTRAR, Role.ADMIN):
        raise ApiError(403, "not_allowed", f"a {g.api_user.role.value} may not delete abstracts")
    data = _load(TumorDeletionSchema(), _json_body(), partial=False)
    if not data["reason"].strip():
        raise ApiError(422, "invalid", "say why the abstract is deleted", {"reason": "required, not blank"})
    ops.delete_tumor(tumor_id, actor=g.api_user, expected_version=data["version"], reason=data["reason"])
    return "", 204


@api_route("/tumors/<int:tumor_id>/treatment")
def get_treatment(tumor_id: int):
    tumor = _get(Tumor, tumor_id)
    _audit_read("view_treatment", tumor.patient_id)
    return jsonify(TreatmentSchema(view=_view()).dump(tumor.treatment) | {"tumor_id": tumor.id,
                                                                           "version": tumor.version})


@api_route("/tumors/<int:tumor_id>/treatment", ("PATCH",), writes=True)
def update_treatment(tumor_id: int):
    data = _json_body()
    version = _version(data)
    values = _load(TreatmentSchema(), data)
    tumor = ops.update_tumor(tumor_id, {"treatment": values}, actor=g.api_user, expected_version=version)
    return jsonify(TreatmentSchema().dump(tumor.treatment) | {"tumor_id": tumor.id, "version": tumor.version})


@api_route("/tumors/<int:tumor_id>/workflow", ("POST",), writes=True)
def move_workflow(tumor_id: int):
    """Complete (only when no error-level edit fails), mark reviewed, or return with a comment."""
    data = _json_body()
    version = _version(data)
    state = data.get("state")
    if state not in {s.value for s in WorkflowState}:
        raise ApiError(422, "invalid", "unknown workflow state",
                       {"state": f"one of {', '.join(s.value for s in WorkflowState)}"})
    unknown = set(data) - {"state", "comment"}
    if unknown:
        raise ApiError(422, "invalid", "unknown fields", dict.fromkeys(sorted(unknown), "Unknown field."))
    tumor = ops.set_workflow_state(tumor_id, state, actor=g.api_user, comment=data.get("comment"),
                                   expected_version=version)
    return jsonify(TumorSchema().dump(tumor))


# --- follow-up ---------------------------------------------------------------------------------

@api_route("/patients/<int:patient_id>/follow-ups", query=Paging)
def list_follow_ups(patient_id: int):
    _get(Patient, patient_id)
    _audit_read("list_follow_ups", patient_id)
    return jsonify(_paged(select(FollowUpContact).where(FollowUpContact.patient_id == patient_id)
                          .order_by(FollowUpContact.date_of_contact, FollowUpContact.id), FollowUpSchema(view=_view())))


@api_route("/patients/<int:patient_id>/follow-ups", ("POST",), writes=True)
def add_follow_up(patient_id: int):
    values = _load(FollowUpSchema(), _json_body(), partial=False)
    statuses = values.pop("cancer_status", None) or {}
    try:
        cancer_status = {int(k): v for k, v in statuses.items()}
    except ValueError:
        raise ApiError(422, "invalid", "cancer_status keys are tumor ids",
                       {"cancer_status": "keys must be tumor ids"}) from None
    contact = ops.record_follow_up(patient_id, values, actor=g.api_user, cancer_status=cancer_status)
    return jsonify(FollowUpSchema().dump(contact)), 201


# --- codes and edits ---------------------------------------------------------------------------

def _all_systems() -> list[str]:
    """Our code systems, then the NAACCR lookups of the catalogue's items."""
    ours = systems()
    return ours + sorted(set(catalogue().code_lists) - set(ours))


@api_route("/codes")
def list_code_systems():
    names = _all_systems()
    return jsonify(_page([{"system": s, "url": url_for("api.code_lookup", system=s)} for s in names],
                         len(names), 1, len(names)))


def _lookup_naaccr(name: str, query: str) -> list[dict[str, str]]:
    """A NAACCR lookup's codes (ranges as ``low-high``) whose code starts with ``query`` or whose term holds
    every word of it."""
    entries = catalogue().code_lists[name].entries()
    words = query.lower().split()
    return [{"code": code, "term": term} for code, term in entries
            if not query or code.startswith(query.upper()) or all(word in term.lower() for word in words)]


@api_route("/codes/<system>", query=CodeQuery)
def code_lookup(system: str):
    """Codes and terms of one system whose code starts with ``q`` or a term of which matches the words of ``q``
    (ICD-O-3: every official term and synonym, best match first; ``note`` says when only our table is searched)."""
    query = g.query["q"].strip()
    try:
        everything = codes(system)
        found = lookup(system, query, limit=len(everything))
    except KeyError:
        if system not in catalogue().code_lists:
            raise ApiError(404, "not_found", f"no code system named '{system}'",
                           {"system": f"one of {', '.join(_all_systems())}"}) from None
        found = _lookup_naaccr(system, query)
    page, per_page = _paging()
    result = _page(found[(page - 1) * per_page: page * per_page], len(found), page, per_page)
    note = lookup_note(system)
    return jsonify(result | ({"note": note} if note else {}))


@api_route("/edits/check", ("POST",))
def check_abstract():
    """Run the edits on a submitted abstract (patient + tumor with treatment) without saving anything."""
    data = _json_body()
    values, errors = validation_errors(AbstractCheckSchema(), data, partial=True)
    if "_schema" in errors or not values:
        raise ApiError(422, "invalid", "send {'patient': {...}, 'tumor': {...}}", errors)
    patient = with_stores_merged(dict(values.get("patient", {})), None)
    tumor = with_stores_merged(dict(values.get("tumor", {})), None)
    tumor.update(tumor.pop("treatment", None) or {})
    failures = run_edits(patient, [tumor])
    return jsonify(invalid=errors, failures=[EditFailureSchema.of(f) for f in failures],
                   errors=sum(f.severity == "error" for f in failures),
                   warnings=sum(f.severity == "warning" for f in failures))


# --- jobs ------------------------------------------------------------------------------------

class JobSchema(Schema):
    """A job as its owner polls it: long work started over the API answers 202 with this job's URL."""
    id = fields.Integer()
    kind = fields.String(metadata={"description": "what the job does, e.g. naaccr-import"})
    status = fields.String(metadata={"enum": [s.value for s in JobStatus]})
    progress = fields.Integer(metadata={"description": "percent done, 0-100"})
    messages = fields.List(fields.String(), metadata={"description": "what the job reported, oldest first"})
    failure = fields.String(allow_none=True, metadata={"description": "why it failed; null unless failed"})
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    url = fields.String(metadata={"description": "this job's status URL"})
    result_url = fields.String(allow_none=True, metadata={
        "description": "where to download the result (same token); null until it has finished with a result file, "
                       "or once its files are deleted"})


def _job_of_caller(job_id: int) -> Job:
    """The job, when the caller may see it: its owner and admins, as on the web's job pages."""
    job = _get(Job, job_id)
    if job.user_id != g.api_user.id and g.api_user.role is not Role.ADMIN:
        raise ApiError(403, "not_allowed", f"job {job_id} was started by another user; only they and admins "
                                           "may see it", {"job_id": "not one of your jobs"})
    return job


@api_route("/jobs/<int:job_id>", roles="the user who started the job, and admins")
def get_job(job_id: int):
    """Status, progress and messages of a job, and its result's URL once there is one."""
    fail_stopped_jobs()
    return jsonify(_job_state(_job_of_caller(job_id)))


def _job_state(job: Job) -> dict[str, Any]:
    progress, messages, failure = shown_status(job)
    has_result = offered_result(job) is not None
    return JobSchema().dump({
        "id": job.id, "kind": job.kind, "status": job.status.value, "progress": progress,
        "messages": messages.splitlines(), "failure": failure, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
        "url": url_for("api.get_job", job_id=job.id),
        "result_url": url_for("api.get_job_result", job_id=job.id) if has_result else None})


def job_started(job: Job) -> tuple[Any, int, dict[str, str]]:
    """The answer to a request that started long work: 202, the job as ``GET /jobs/{id}`` gives it, and its URL
    in ``Location`` to poll."""
    return jsonify(_job_state(job)), 202, {"Location": url_for("api.get_job", job_id=job.id)}


@api_route("/jobs/<int:job_id>/result", roles="the user who started the job, and admins")
def get_job_result(job_id: int):
    """The job's result file, streamed (audited as on the web); 404 naming why while there is none."""
    job = _job_of_caller(job_id)
    path = offered_result(job)
    if path is None:
        why = {JobStatus.QUEUED: "has not started", JobStatus.RUNNING: "is still running",
               JobStatus.FAILED: f"failed: {without_paths(job.failure)}"}.get(job.status, "has no result file (any more)")
        raise ApiError(404, "no_result", f"job {job.id} {why}", {"job_id": f"job {job.id} {why}"})
    log_event(g.api_user, "job_result_download", entity="job", entity_id=job.id, detail=f"api {job.kind}: {path.name}")
    return send_file(path, as_attachment=True)


# --- OpenAPI -----------------------------------------------------------------------------------

class ErrorSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields",
                          metadata={"description": "{field: what is wrong}; nested fields as treatment.chemotherapy"})


class ErrorEnvelope(Schema):
    error = fields.Nested(ErrorSchema, required=True)


class CodeSchema(Schema):
    code = fields.String()
    term = fields.String(metadata={"description": "the preferred term"})
    matched = fields.String(metadata={"description": "the synonym the query matched, where not the preferred term"})


def _page_schema(name: str, item: type[Schema] | Schema) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "page": fields.Integer(),
                             "per_page": fields.Integer(), "total": fields.Integer(), "pages": fields.Integer()},
                            name=name)


#: (path, method, summary, request schema, response schema) — the document is built from this table; a module
#: that adds endpoints to this blueprint adds its rows with ``describe``.
PATHS: list[tuple[str, str, str, Any, Any]] = [
    ("/patients", "get", "List or search patients (de-identified for researchers)", None, "PatientPage"),
    ("/patients", "post", "Create a patient (409 likely_duplicate with the candidates where the duplicate check "
     "finds likely matches, unless ?force=true)", "Patient", "Patient"),
    ("/patients/{patient_id}", "get", "One patient", None, "Patient"),
    ("/patients/{patient_id}", "patch", "Change a patient (send the version you read)", "Patient", "Patient"),
    ("/patients/{patient_id}/tumors", "get", "The patient's tumors", None, "TumorPage"),
    ("/patients/{patient_id}/tumors", "post", "Start an abstract (409 same_primary where the multiple-primary rules "
     "call it an existing primary, unless the body adds multiple_primaries: {override_reason, answers})",
     "Tumor", "Tumor"),
    ("/tumors", "get", "All tumors, optionally ?workflow_state=", None, "TumorPage"),
    ("/tumors/{tumor_id}", "get", "One tumor with its treatment", None, "Tumor"),
    ("/tumors/{tumor_id}", "patch", "Change a tumor (send the version you read)", "Tumor", "Tumor"),
    ("/tumors/{tumor_id}", "delete", "Delete an abstract entered in error (in progress, never submitted; "
     "body: version and reason); 403 names why a completed or submitted one stays", "TumorDeletion", "NoContent"),
    ("/tumors/{tumor_id}/treatment", "get", "First-course treatment", None, "Treatment"),
    ("/tumors/{tumor_id}/treatment", "patch", "Change first-course treatment", "Treatment", "Treatment"),
    ("/tumors/{tumor_id}/workflow", "post", "Complete, mark reviewed or return an abstract", None, "Tumor"),
    ("/patients/{patient_id}/follow-ups", "get", "Follow-up contacts", None, "FollowUpPage"),
    ("/patients/{patient_id}/follow-ups", "post", "Record a follow-up contact", "FollowUp", "FollowUp"),
    ("/codes", "get", "The code systems, each with the URL of its look-up", None, "CodeSystemPage"),
    ("/codes/{system}", "get", "Look up codes and terms (?q=)", None, "CodePage"),
    ("/edits/check", "post", "Run edits on an abstract without saving", "AbstractCheck", "EditResult"),
    ("/jobs/{job_id}", "get", "A job's status, progress, messages and result URL (its owner and admins only)",
     None, "Job"),
    ("/jobs/{job_id}/result", "get", "Download a finished job's result file (its owner and admins only)",
     None, "File"),
    ("/openapi.json", "get", "This document (no token needed)", None, "OpenAPI"),
    ("/docs", "get", "This document as a page, for a user signed in on the web", None, "HTML"),
]


#: Operations not behind a token: this document, and its page for a browser's session.
NO_TOKEN = {"/openapi.json": [], "/docs": [{"session": []}]}


#: The error answers of every endpoint: status -> (when, schema).
ERRORS: dict[str, tuple[str, str]] = {
    "400": ("a query parameter this endpoint does not take, or one given twice, named in fields", "Error"),
    "401": ("no valid token", "Error"), "403": ("role not allowed", "Error"), "404": ("not found", "Error"),
    "409": ("changed by someone else", "Error"), "422": ("invalid fields, each named", "Error"),
    "429": ("more requests with this token than REGISTRY_API_RATE_LIMIT allows (600 a minute unless configured); "
            "the Retry-After header says in how many seconds to try again", "Error")}
#: Where an endpoint's error means more than the common one.
OWN_ERRORS: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("/patients", "post"): {"409": ("the duplicate check found likely matches (candidates, in your view); nothing "
                                    "was saved: send ?force=true to add the patient anyway", "LikelyDuplicates")},
    ("/patients/{patient_id}/tumors", "post"): {"409": ("same_primary: the multiple-primary rules call it an "
                                                        "existing primary (multiple_primaries lists the verdicts)",
                                                        "Error")},
}
#: Component schemas that modules of API endpoints add (name -> marshmallow schema), beside this module's own.
SCHEMAS: dict[str, Schema | type[Schema]] = {}
#: The success status of operations whose status is not the one the method implies (e.g. "202"), by path and method.
STATUSES: dict[tuple[str, str], str] = {}
#: Operations whose request body is an upload (``multipart/form-data``, its fields the request schema's), not JSON.
MULTIPART: set[tuple[str, str]] = set()


def describe(*operations: tuple[str, str, str, Any, Any],
             errors: dict[tuple[str, str], dict[str, tuple[str, str]]] | None = None,
             schemas: dict[str, Schema | type[Schema]] | None = None,
             statuses: dict[tuple[str, str], str] | None = None,
             multipart: set[tuple[str, str]] | None = None) -> None:
    """Add operations (rows as in ``PATHS``) to the document, with the errors that mean more than the common
    ones and the schemas they name: each module of API endpoints describes its own next to them.

    ``statuses`` names a success status the method does not imply (a POST answering a ``Job`` is 202 without
    it); ``multipart`` the operations whose request schema is sent as an upload form."""
    PATHS.extend(operations)
    OWN_ERRORS.update(errors or {})
    SCHEMAS.update(schemas or {})
    STATUSES.update(statuses or {})
    MULTIPART.update(multipart or set())


def _success_status(path: str, method: str, response: Any) -> str:
    """The status an operation answers when it works: its own, 204 without content, 202 for a started job,
    200 for reads, changes and checks, else 201."""
    if (path, method) in STATUSES:
        return STATUSES[(path, method)]
    if response == "NoContent":
        return "204"
    if response == "Job" and method == "post":
        return "202"
    return "200" if method in {"get", "patch"} or path.endswith(("workflow", "check")) else "201"


#: Responses that are not a schema of this document: their media type and schema.
_MEDIA: dict[str, tuple[str, dict[str, Any]]] = {
    "PDF": ("application/pdf", {"type": "string", "format": "binary"}),
    "File": ("application/octet-stream", {"type": "string", "format": "binary"}),
    "HTML": ("text/html", {"type": "string"}),
    "OpenAPI": ("application/json", {"type": "object", "description": "an OpenAPI 3.0.3 document"})}


def _codes_url(system: str) -> str:
    return f"{blueprint.url_prefix}/codes/{system}"


def _code_properties(system: str, table: dict[str, str] | None, ranged: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"x-code-list": system, "x-codes-url": _codes_url(system)}
    if table is not None and not ranged and len(table) <= ENUM_LIMIT:
        found["enum"] = list(table)
    return found


def _item_property(item: CatalogueItem, cat: Catalogue) -> dict[str, Any]:
    """The OpenAPI property of an item without a column, from its catalogue entry."""
    prop: dict[str, Any] = {"type": "string", "nullable": True, "description": item.label,
                            "x-naaccr-id": item.naaccr_id, "x-naaccr-number": item.naaccr_num,
                            "x-naaccr-data-type": item.data_type}
    if not item.allow_unlimited_text:
        prop["maxLength"] = item.length
    if item.data_type in DATE_TYPES:
        prop["description"] += "; NAACCR date CCYYMMDD (the day or month may be left off)"
    codes = cat.codes(item.naaccr_id)
    if codes is not None and item.code_list:
        prop.update(_code_properties(item.code_list, codes.codes, bool(codes.ranges)))
    if item.first_year or item.last_year:
        prop["x-diagnosis-years"] = f"{item.first_year or ''}-{item.last_year or ''}"
    if item.derived:
        prop["readOnly"] = True
    if item.retired:
        prop["deprecated"] = True
    if item.identifier:
        prop["x-identifier"] = True
    return prop


def _catalogue_attributes(cat: Catalogue) -> Callable[..., dict[str, Any]]:
    """An apispec attribute function: every catalogued item of an item store as a property of its object, and
    the code list look-up of every coded field (one catalogue for the whole document)."""
    def attributes(self: Any, field: fields.Field, **_kwargs: Any) -> dict[str, Any]:
        if isinstance(field, ItemStore):
            return {"type": "object", "properties": {item.naaccr_id: _item_property(item, cat)
                                                     for item in field.catalogued(cat)},
                    "additionalProperties": {"type": "string", "readOnly": True,
                                             "description": "an item of a user dictionary, kept from import"}}
        found: dict[str, Any] = {}
        item = cat.get(field.metadata.get("x-naaccr-id", ""))
        if item is not None and item.retired:
            found["deprecated"] = True
        if item is not None and item.identifier:
            found["x-identifier"] = True
        system = field.metadata.get("x-code-list")
        if system:
            try:
                table = codes(system)
            except KeyError:
                table = None
            found.update(_code_properties(system, table))
        return found
    return attributes


def openapi_spec() -> dict[str, Any]:
    plugin = MarshmallowPlugin()
    spec = APISpec(title="Cancer Registry API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[plugin],
                   info={"description": __doc__.strip()},
                   servers=[{"url": blueprint.url_prefix}])
    plugin.converter.add_attribute_function(_catalogue_attributes(catalogue()))
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer",
                                               "description": "a personal API token from your account page"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session",
                                                 "description": "signed in on the web (the docs page only)"})
    for name, schema in (("Treatment", TreatmentSchema), ("Patient", PatientSchema), ("Tumor", TumorSchema),
                         ("FollowUp", FollowUpSchema), ("Code", CodeSchema), ("Error", ErrorEnvelope),
                         ("AbstractCheck", AbstractCheckSchema), ("Job", JobSchema),
                         ("TumorDeletion", TumorDeletionSchema)):
        spec.components.schema(name, schema=schema)
    spec.components.schema("PatientPage", schema=_page_schema("PatientPage", PatientSchema))
    spec.components.schema("TumorPage", schema=_page_schema("TumorPage", TumorSchema))
    spec.components.schema("FollowUpPage", schema=_page_schema("FollowUpPage", FollowUpSchema))
    spec.components.schema("CodePage", schema=_page_schema("CodePage", CodeSchema))
    spec.components.schema("CodeSystemPage", schema=_page_schema("CodeSystemPage", Schema.from_dict(
        {"system": fields.String(), "url": fields.String(metadata={"description": "its look-up"})},
        name="CodeSystem")))
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    spec.components.schema("LikelyDuplicates", schema=Schema.from_dict(
        {"error": fields.Nested(Schema.from_dict(
            {"code": fields.String(), "message": fields.String(), "fields": fields.Dict(),
             "candidates": fields.List(fields.Nested(LikelyDuplicateSchema))}, name="LikelyDuplicatesError"))},
        name="LikelyDuplicates"))
    spec.components.schema("EditResult", schema=Schema.from_dict(
        {"invalid": fields.Dict(), "failures": fields.List(fields.Nested(EditFailureSchema)),
         "errors": fields.Integer(), "warnings": fields.Integer()}, name="EditResult"))
    operations: dict[str, dict[str, Any]] = {}
    for path, method, summary, body, response in PATHS:
        params = [{"in": "path", "name": p.strip("{}"), "required": True, "schema": {"type": "string"
                   if p == "{system}" else "integer"}} for p in path.split("/") if p.startswith("{")]
        operation: dict[str, Any] = {
            "summary": summary, "security": [{"token": []}],
            "parameters": params + ([{"in": "query", "schema": QUERY_BY_PATH[(path, method)]}]
                                    if (path, method) in QUERY_BY_PATH else []),
            "responses": {_success_status(path, method, response):
                          {"description": {"NoContent": "Deleted", "Job": "Started"}.get(response, "OK")} | ({} if response ==
                          "NoContent" else {"content": (
                              {_MEDIA[response][0]: {"schema": _MEDIA[response][1]}}
                              if response in _MEDIA else {"application/json": {"schema": response}})}),
                          **{code: {"description": text, "content": {"application/json": {"schema": schema}}}
                             for code, (text, schema) in (ERRORS | OWN_ERRORS.get((path, method), {})).items()
                             if path not in NO_TOKEN or code == "400"}}}
        if "429" in operation["responses"]:
            operation["responses"]["429"]["headers"] = {"Retry-After": {
                "description": "seconds until the token's rate-limit window ends", "schema": {"type": "integer"}}}
        if path in NO_TOKEN:
            operation["security"] = NO_TOKEN[path]
        if (path, method) in ROLES_BY_PATH:
            operation["x-roles"] = ROLES_BY_PATH[(path, method)]
            operation["description"] = f"Roles: {ROLES_BY_PATH[(path, method)]}."
        if body:
            if (path, method) in MULTIPART:
                operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": body}}}
            else:
                operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
        operations.setdefault(path, {})[method] = operation
    for path, ops_ in operations.items():
        spec.path(path=path, operations=ops_)
    return spec.to_dict()


@blueprint.route("/openapi.json")
def openapi_json():
    return jsonify(openapi_spec())


@blueprint.route("/docs")
@login_required
def docs():
    """A page that shows the OpenAPI document: every endpoint with its fields."""
    spec = openapi_spec()

    def name(schema: dict[str, Any]) -> str:
        return schema.get("$ref", "").rsplit("/", 1)[-1]

    def returned(op: dict[str, Any]) -> str:
        content = next(iter(op["responses"].values())).get("content")
        if content is None:
            return "nothing (204)"
        return name(content["application/json"]["schema"]) if "application/json" in content else \
            " or ".join(content)

    endpoints = [(method.upper(), path, op["summary"],
                  ", ".join(p["name"] for p in op.get("parameters", []) if p["in"] == "query"),
                  name(next(iter(op.get("requestBody", {}).get("content", {}).values()), {}).get("schema", {})),
                  returned(op))
                 for path, item in spec["paths"].items() for method, op in item.items()]
    return render_template("abstracts/api_docs.html", spec=spec, endpoints=endpoints)

