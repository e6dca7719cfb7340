"""REST API: NAACCR files in and out, and the submissions an export records (issue 24).

The same operations, job kinds and role rules as the web pages: a validation is the import page's dry run
(``naaccr-import`` with ``dry_run``), an import the import page's job, an export the Submissions page's job
(``naaccr-export``, recorded as a submission). Files are uploaded as ``multipart/form-data`` (field ``file``);
long work answers 202 with the job to poll, its result streamed by ``GET /jobs/{id}/result``.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import current_app, g, jsonify, request, send_file
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

import registry.naaccr.importer  # noqa: F401 - registers the naaccr-import job kind
import reports.submissions  # noqa: F401 - registers the naaccr-export job kind
from abstracts.api import ApiError, Paging, _get, _page, _paging, api_route, describe, job_started
from abstracts.schemas import validation_errors
from registry.audit import log_event
from registry.db import db_session
from registry.jobs import enqueue
from registry.models import Role, Submission
from registry.naaccr.dictionary import RECORD_TYPES, DictionaryError, load_dictionary
from reports.submissions import SUBMISSION_VERSIONS
from reports.submissions_views import IMPORT_ROLES

#: Who may send a NAACCR export or see the submissions: the Submissions page's role.
EXPORT_ROLES = (Role.ADMIN,)


def require_role(*roles: Role, doing: str) -> None:
    """Refuse (403) a caller whose role is not one of ``roles``, as the web page of the capability does."""
    if g.api_user.role not in roles:
        raise ApiError(403, "not_allowed", f"a {g.api_user.role.value} may not {doing}; "
                       f"{', '.join(r.value for r in roles)} only")


def _upload_field() -> fields.Raw:
    return fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


def read_form(schema: Schema, files: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, FileStorage]]:
    """The upload form's text fields checked by ``schema`` and its files by name: a missing file, an unknown
    field or a bad value is a 422 naming it; a body that is not an upload form is a 400."""
    if not request.mimetype.startswith("multipart/form-data"):
        raise ApiError(400, "bad_request", "send the file as multipart/form-data (field 'file')",
                       {"file": "required: the file, sent as multipart/form-data"})
    known = set(schema.fields)
    errors = {name: "Unknown field." for name in [*request.form, *request.files] if name not in known}
    values, invalid = validation_errors(schema, {k: v for k, v in request.form.items() if k not in files},
                                        partial=tuple(files))
    errors.update({k: v for k, v in invalid.items() if k not in files})
    uploads: dict[str, FileStorage] = {}
    for name in files:
        upload = request.files.get(name)
        if upload is not None and upload.filename:
            uploads[name] = upload
        elif schema.fields[name].required:
            errors[name] = "required: choose a file to upload"
    if errors:
        raise ApiError(422, "invalid", "some fields of the upload are not valid; nothing was started", errors)
    return values, uploads


def save_upload(upload: FileStorage, folder: str) -> Path:
    """Keep the upload under the job files folder for the job that reads it (retention deletes it later)."""
    target = Path(current_app.config["JOB_FILES_DIR"]) / folder
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{uuid.uuid4().hex}-{secure_filename(upload.filename or '') or 'upload'}"
    upload.save(path)
    return path


def _yes_no(description: str) -> fields.Boolean:
    return fields.Boolean(load_default=False, error_messages={"invalid": "true or false (1 or 0)"},
                          metadata={"description": description})


RELAXED = "read it as 'naaccr validate --relaxed' does (no namespace, own attributes without one)"


class NaaccrValidationSchema(Schema):
    """A NAACCR file checked as an import would read it, nothing saved."""
    file = _upload_field()
    dictionary = fields.Raw(metadata={"type": "string", "format": "binary",
                                      "description": "a user dictionary (NAACCR XML) the file's own items are "
                                                     "defined in, beside the installed ones"})
    relaxed = _yes_no(RELAXED)


class NaaccrImportSchema(Schema):
    """A NAACCR XML file (.xml or .xml.gz) imported as the import page does."""
    file = _upload_field()
    relaxed = _yes_no(RELAXED)


class NaaccrExportSchema(Schema):
    """The Submissions page's export form."""
    version = fields.String(required=True, validate=validate.OneOf(
        SUBMISSION_VERSIONS, error=f"NAACCR version must be one of {', '.join(SUBMISSION_VERSIONS)}"),
        metadata={"description": "the NAACCR version of the file, e.g. 250"})
    record_type = fields.String(required=True, validate=validate.OneOf(
        RECORD_TYPES, error=f"record type must be one of {', '.join(RECORD_TYPES)}"),
        metadata={"description": "A (full case abstract), M (modified: tumors changed since they were sent), "
                                 "C (confidential), I (incidence)"})
    diagnosis_year = fields.Integer(load_default=None, allow_none=True, strict=True,
                                    validate=validate.Range(min=1900, max=2100, error="four digits, e.g. 2025"),
                                    error_messages={"invalid": "four digits, e.g. 2025"},
                                    metadata={"description": "only tumors diagnosed in this year"})
    include_incomplete = fields.Boolean(load_default=False, metadata={
        "description": "true: abstracts not yet complete are sent too (a test file; the submission says so)"})


def _load_json(schema: Schema) -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "send a JSON object with Content-Type: application/json")
    values, errors = validation_errors(schema, data, partial=False)
    if errors:
        raise ApiError(422, "invalid", "some fields are not valid; nothing was started", errors)
    return values


def _import_job(dry_run: bool) -> Any:
    schema = NaaccrValidationSchema() if dry_run else NaaccrImportSchema()
    values, uploads = read_form(schema, ("file", "dictionary") if dry_run else ("file",))
    dictionaries = []
    if "dictionary" in uploads:
        path = save_upload(uploads["dictionary"], "imports")
        try:
            load_dictionary(path)
        except DictionaryError as exc:
            path.unlink(missing_ok=True)
            raise ApiError(422, "invalid", "the user dictionary cannot be used; nothing was started",
                           {"dictionary": str(exc).replace(str(path), uploads["dictionary"].filename or "")}) from None
        dictionaries.append(str(path))
    path = save_upload(uploads["file"], "imports")
    job = enqueue("naaccr-import", {"path": str(path), "file_name": uploads["file"].filename, "dry_run": dry_run,
                                    "relaxed": values["relaxed"], "dictionaries": dictionaries,
                                    "user_id": g.api_user.id}, user=g.api_user)
    return job_started(job)


@api_route("/naaccr/validate", ("POST",), roles="registrar, admin (the import page's roles)")
def validate_naaccr():
    """Check a NAACCR file as an import would (a dry run): the job's messages say what would be imported and
    rejected, its result is the report (CSV) naming each rejected record."""
    require_role(*IMPORT_ROLES, doing="load NAACCR files")
    return _import_job(dry_run=True)


@api_route("/naaccr/imports", ("POST",), roles="registrar, admin (the import page's roles)")
def import_naaccr():
    """Import a NAACCR file as the import page does; the result is the report of rejected records and of the
    tumors the multiple-primary rules matched or left for review."""
    require_role(*IMPORT_ROLES, doing="load NAACCR files")
    return _import_job(dry_run=False)


def _export() -> Any:
    require_role(*EXPORT_ROLES, doing="export NAACCR files")
    values = _load_json(NaaccrExportSchema())
    job = enqueue("naaccr-export", {**values, "user_id": g.api_user.id}, user=g.api_user)
    return job_started(job)


@api_route("/naaccr/exports", ("POST",), roles="admin (the Submissions page's role)")
def export_naaccr():
    """Write a NAACCR XML file (recorded as a submission, as every export is); download it from the job's
    result URL."""
    return _export()


# --- submissions -----------------------------------------------------------------------------------

class SubmissionSchema(Schema):
    """A NAACCR file sent: what it carried, who wrote it and when."""
    id = fields.Integer()
    file_name = fields.String()
    checksum = fields.String(metadata={"description": "SHA-256 of the file as written"})
    naaccr_version = fields.String()
    record_type = fields.String()
    diagnosis_year = fields.Integer(allow_none=True)
    patient_count = fields.Integer()
    tumor_count = fields.Integer()
    left_out_count = fields.Integer(metadata={"description": "tumors the selection named that were not sent"})
    include_incomplete = fields.Boolean(metadata={"description": "a test file with incomplete abstracts"})
    created_by = fields.String()
    created_at = fields.DateTime()
    file_url = fields.Method("_file_url", metadata={"description": "where to download the file"})

    def _file_url(self, submission: Submission) -> str:
        return f"/api/v1/submissions/{submission.id}/file"


class LeftOutSchema(Schema):
    tumor_id = fields.Integer()
    patient_id_number = fields.String(metadata={"description": "Patient ID Number [20]"})
    primary_site = fields.String(allow_none=True, metadata={"description": "Primary Site [400]"})
    date_of_diagnosis = fields.String(allow_none=True, metadata={"description": "Date of Diagnosis [390]"})
    reason = fields.String()


class SubmissionDetailSchema(SubmissionSchema):
    left_out = fields.List(fields.Nested(LeftOutSchema), metadata={"description": "each tumor left out and why"})


@api_route("/submissions", query=Paging, roles="admin (the Submissions page's role)")
def list_submissions():
    """The NAACCR files sent, newest first."""
    require_role(*EXPORT_ROLES, doing="see submissions")
    page, per_page = _paging()
    total = int(db_session.scalar(select(func.count(Submission.id))) or 0)
    rows = db_session.scalars(select(Submission).order_by(Submission.id.desc())
                              .offset((page - 1) * per_page).limit(per_page)).all()
    return jsonify(_page(SubmissionSchema(many=True).dump(rows), total, page, per_page))


@api_route("/submissions", ("POST",), roles="admin (the Submissions page's role)")
def create_submission():
    """Write a submission as the Submissions page's form does (a job; the submission is recorded when it ends)."""
    return _export()


@api_route("/submissions/<int:submission_id>", roles="admin (the Submissions page's role)")
def get_submission(submission_id: int):
    """One submission with each tumor it left out and why (audited, as the page)."""
    require_role(*EXPORT_ROLES, doing="see submissions")
    submission = _get(Submission, submission_id)
    log_event(g.api_user, "view_submission", entity="submission", entity_id=submission_id, detail="api")
    return jsonify(SubmissionDetailSchema().dump(submission))


@api_route("/submissions/<int:submission_id>/file", roles="admin (the Submissions page's role)")
def download_submission(submission_id: int):
    """The file as sent, streamed; the download is audited before the first byte."""
    require_role(*EXPORT_ROLES, doing="download submissions")
    submission = _get(Submission, submission_id)
    path = Path(submission.stored_path)
    if not path.is_file():
        raise ApiError(404, "no_file", f"{submission.file_name} is no longer on the server",
                       {"submission_id": "its file is gone"})
    log_event(g.api_user, "naaccr_download", entity="submission", entity_id=submission.id,
              detail=f"api: {submission.file_name}")
    return send_file(path, as_attachment=True, download_name=submission.file_name)


_UPLOAD_ERRORS = {"413": ("the upload is larger than the server accepts; nothing was read", "Error")}
describe(
    ("/naaccr/validate", "post", "Check a NAACCR file as an import would, nothing saved (a job; its result is the "
     "report of rejected records)", "NaaccrValidation", "Job"),
    ("/naaccr/imports", "post", "Import a NAACCR XML file (a job; its result is the import report)",
     "NaaccrImport", "Job"),
    ("/naaccr/exports", "post", "Write a NAACCR XML file, recorded as a submission (a job; its result is the "
     "file)", "NaaccrExport", "Job"),
    ("/submissions", "get", "The NAACCR files sent, newest first", None, "SubmissionPage"),
    ("/submissions", "post", "Write a submission as the Submissions page does (a job)", "NaaccrExport", "Job"),
    ("/submissions/{submission_id}", "get", "One submission and each tumor it left out", None, "SubmissionDetail"),
    ("/submissions/{submission_id}/file", "get", "Download the file as sent (audited)", None, "File"),
    errors={("/naaccr/validate", "post"): _UPLOAD_ERRORS, ("/naaccr/imports", "post"): _UPLOAD_ERRORS},
    schemas={"NaaccrValidation": NaaccrValidationSchema, "NaaccrImport": NaaccrImportSchema,
             "NaaccrExport": NaaccrExportSchema, "Submission": SubmissionSchema,
             "SubmissionDetail": SubmissionDetailSchema,
             "SubmissionPage": Schema.from_dict({"items": fields.List(fields.Nested(SubmissionSchema)),
                                                 "page": fields.Integer(), "per_page": fields.Integer(),
                                                 "total": fields.Integer(), "pages": fields.Integer()},
                                                name="SubmissionPage")},
    multipart={("/naaccr/validate", "post"), ("/naaccr/imports", "post")})
