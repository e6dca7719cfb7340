"""REST API: SEER staging — a CSV file staged (``staging run``), one abstract derived, every abstract re-derived.

The same engine, save rule and roles as the web: staging serves abstracting and review (registrars, reviewers,
admins); re-deriving every abstract after a new version is the administrator's, as on the Staging page.
"""
from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from marshmallow import Schema, fields

from abstracts.api import ApiError, _get, api_route, describe, job_started
from abstracts.api_naaccr import _load_json, _upload_field, read_form, require_role, save_upload
from registry.audit import operation
from registry.errors import RegistryError
from registry.jobs import enqueue
from registry.models import Role, Tumor
import staging_tables.staging.batch  # noqa: F401 - registers the staging-run job kind
from staging_tables.staging import derive
from staging_tables.staging.reference import INSTALL_HINT, installed_algorithm
from staging_tables.staging.views import STAGING_ROLES


def _algorithm_field(description: str) -> fields.String:
    return fields.String(required=True, metadata={"description": description})


class StagingRunSchema(Schema):
    """A CSV whose header names the algorithm's input keys (``site``, ``hist``, …); other columns are carried."""
    file = _upload_field()
    algorithm = _algorithm_field("an installed algorithm, e.g. eod_public or eod_public-3.3 (newest install when "
                                 "no version)")


class RederiveSchema(Schema):
    algorithm = _algorithm_field("the algorithm whose derived items the abstracts keep, e.g. eod_public (its newest "
                                 "install)")


class TumorStagingSchema(Schema):
    """What deriving one abstract's stage gave, and what it changed on the abstract."""
    tumor_id = fields.Integer()
    version = fields.Integer(metadata={"description": "the tumor's version after the derivation"})
    algorithm = fields.String()
    algorithm_version = fields.String()
    status = fields.String(metadata={"description": "STAGED, a FAILED_… status of the engine, or NOT_APPLICABLE "
                                                   "(diagnosis year outside the algorithm)"})
    schema_id = fields.String(allow_none=True)
    derived = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                          metadata={"description": "each derived item the save rule keeps, by field"})
    changed = fields.Dict(keys=fields.String(), values=fields.List(fields.String(allow_none=True)),
                          metadata={"description": "{field: [before, after]} of what this derivation changed"})
    messages = fields.List(fields.String(), metadata={"description": "the engine's errors, or why not staged"})
    staging_algorithm = fields.String(allow_none=True, metadata={"description": "the algorithm the abstract's "
                                                                              "derived items come from"})


def _installed(spec: str, field: str, *, rederive: bool = False) -> Any:
    try:
        if rederive:
            derive.rule_for(spec)
        return installed_algorithm(spec)
    except RegistryError as exc:
        raise ApiError(422, "invalid", "no such staging algorithm; nothing was started", {field: str(exc)}) from None


@api_route("/staging/runs", ("POST",), roles="registrar, reviewer, admin (the Staging pages' roles)")
def start_staging_run():
    """Stage every row of an uploaded CSV (``staging run``); the job's result is the CSV with ``schema_id``,
    ``result``, ``errors`` and each output of the algorithm added."""
    require_role(*STAGING_ROLES, doing="use staging")
    values, uploads = read_form(StagingRunSchema(), ("file",))
    algorithm = _installed(values["algorithm"].strip(), "algorithm")
    path = save_upload(uploads["file"], "staging")
    job = enqueue("staging-run", {"path": str(path), "algorithm": f"{algorithm.name}-{algorithm.version}",
                                  "file_name": uploads["file"].filename, "user_id": g.api_user.id,
                                  "username": g.api_user.username}, user=g.api_user)
    return job_started(job)


@api_route("/tumors/<int:tumor_id>/staging", ("POST",), writes=True,
           roles="registrar, reviewer, admin (who may save an abstract)")
def derive_tumor_stage(tumor_id: int):
    """Derive the abstract's stage now with the algorithm that derives on save, and keep the derived items (one
    audited change, as a save derives them); answers the values and what changed."""
    body = request.get_json(silent=True) if request.data else {}
    if body:
        raise ApiError(422, "invalid", "this request takes no fields", dict.fromkeys(map(str, body), "Unknown field.")
                       if isinstance(body, dict) else {"_schema": "send no body, or {}"})
    _get(Tumor, tumor_id)
    chosen = derive.save_algorithm()
    if chosen is None:
        raise ApiError(409, "no_algorithm", f"no EOD staging algorithm is installed; an administrator installs one "
                                            f"with {INSTALL_HINT} or POST /reference/installs")
    rule, record = chosen
    algorithm = derive.algorithm_for(record)
    with operation(g.api_user, "staging_derive") as session:
        tumor = session.get(Tumor, tumor_id)
        staging = derive.stage_tumor(tumor, algorithm, rule)
        changes = derive.apply(tumor, staging, rule)
        session.flush()
    result = staging.result
    return jsonify(TumorStagingSchema().dump({
        "tumor_id": tumor.id, "version": tumor.version, "algorithm": algorithm.name,
        "algorithm_version": algorithm.version,
        "status": result.status if result is not None else "NOT_APPLICABLE",
        "schema_id": result.schema_id if result is not None else None, "derived": staging.values,
        "changed": {c: [str(v) if v is not None else None for v in pair] for c, pair in changes.items()
                    if c != "staged_at"},
        "messages": staging.messages(), "staging_algorithm": tumor.staging_algorithm}))


@api_route("/staging/rederive", ("POST",), roles="admin (the Staging page's re-derive)")
def start_rederive():
    """Stage again every abstract the algorithm covers (after installing a new version); the job's messages say
    what changed, its result lists each changed tumor."""
    require_role(Role.ADMIN, doing="re-derive every abstract")
    values = _load_json(RederiveSchema())
    spec = values["algorithm"].strip()
    _installed(spec, "algorithm", rederive=True)
    job = enqueue("staging-rederive", {"algorithm": spec, "user_id": g.api_user.id,
                                       "username": g.api_user.username}, user=g.api_user)
    return job_started(job)


describe(
    ("/staging/runs", "post", "Stage an uploaded CSV file (a job; its result is the staged CSV)", "StagingRun",
     "Job"),
    ("/tumors/{tumor_id}/staging", "post", "Derive one abstract's stage now and keep the derived items (409 "
     "no_algorithm while none is installed)", None, "TumorStaging"),
    ("/staging/rederive", "post", "Re-derive every abstract an algorithm covers (a job)", "Rederive", "Job"),
    errors={("/tumors/{tumor_id}/staging", "post"): {"409": ("no_algorithm: no staging algorithm derives on save",
                                                             "Error")},
            ("/staging/runs", "post"): {"413": ("the upload is larger than the server accepts", "Error")}},
    schemas={"StagingRun": StagingRunSchema, "Rederive": RederiveSchema, "TumorStaging": TumorStagingSchema},
    statuses={("/tumors/{tumor_id}/staging", "post"): "200"},
    multipart={("/staging/runs", "post")})
