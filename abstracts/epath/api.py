"""API endpoints of casefinding (on the ``/api/v1`` blueprint): reports in, an abstract out as FHIR."""
from __future__ import annotations

from flask import g, jsonify, request
from marshmallow import Schema, fields

from abstracts.api import MAX_PAYLOAD, ApiError, _audit_read, _get, api_route, describe
from abstracts.epath.intake import take_in
from registry.errors import InvalidInput
from registry.models import Patient, Tumor


def take_in_body(expected: str):
    """Take in the request body (an HL7 v2 message or batch, or a FHIR bundle) as the casefinding upload does;
    an empty, oversized or unreadable body is refused naming what was expected, and nothing is stored."""
    data = request.get_data(cache=False)
    if not data.strip():
        raise ApiError(400, "bad_request", f"send {expected} as the request body")
    if len(data) > MAX_PAYLOAD:
        raise ApiError(413, "too_large", f"send at most {MAX_PAYLOAD // (1024 * 1024)} MB per request")
    try:
        return take_in(data, actor=g.api_user, source=f"api {g.api_user.username}")
    except InvalidInput as exc:
        raise ApiError(422, "invalid", "the body is not a message the casefinding intake reads; nothing was stored",
                       exc.errors) from None


@api_route("/casefinding", ("POST",), writes=True)
def post_casefinding():
    """Take in an HL7 v2 message or batch (text body) or a FHIR bundle (JSON or XML body)."""
    result = take_in_body("an HL7 v2 message or batch, or a FHIR bundle,")
    status = 201 if result.taken else 422
    return jsonify(result.as_json()), status


@api_route("/tumors/<int:tumor_id>/fhir", phi_only=True)
def tumor_fhir(tumor_id: int):
    """The abstract as a FHIR CCRR content bundle (patient and primary cancer condition)."""
    from abstracts.epath.export import tumor_bundle  # pydantic models: loaded when needed
    tumor = _get(Tumor, tumor_id)
    patient = _get(Patient, tumor.patient_id)
    _audit_read("fhir_tumor", patient.id, detail=f"tumor {tumor.id}")
    response = jsonify(tumor_bundle(tumor, patient))
    response.mimetype = "application/fhir+json"
    return response




describe(
    ("/casefinding", "post", "Take in an HL7 v2 ORU^R01 message or batch, or a FHIR bundle (request body as is): "
     "each report is screened, matched and put in the suspense queue", None, "CasefindingResult"),
    ("/tumors/{tumor_id}/fhir", "get", "The abstract as a FHIR Central Cancer Registry Reporting content bundle",
     None, "FhirBundle"),
    schemas={
        "CasefindingResult": Schema.from_dict({"taken": fields.List(fields.Dict()), "refused": fields.List(
            fields.Dict()), "summary": fields.String()}, name="CasefindingResult"),
        "FhirBundle": Schema.from_dict({"resourceType": fields.String(), "type": fields.String(),
                                        "entry": fields.List(fields.Dict())}, name="FhirBundle")})
