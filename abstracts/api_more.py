"""REST API: what the web offers beside abstracting (issue 24) — the jobs list and Retry, the facility settings,
and the research release log with its downloads.

Each endpoint runs the operation its page runs with the page's role rule: ``registry.jobs.rerun`` (audited,
``may_rerun``), ``registry.facility.update_facility`` (validated, audited) and the release download audited as
``research_download`` by ``reports.research.export.record_download``, as the research pages do.
"""
from __future__ import annotations

from typing import Any

from flask import g, jsonify, send_file, url_for
from marshmallow import Schema, fields
from sqlalchemy import func, select

from abstracts.api import (ApiError, JobSchema, Paging, _get, _json_body, _job_of_caller, _job_state, _page,
                           _paging, api_route, describe, job_started)
from abstracts.api_naaccr import require_role
from registry.admin_views import FIELDS as FACILITY_FIELDS, LABELS as FACILITY_LABELS
from registry.db import db_session
from registry.errors import InvalidInput
from registry.facility import current_facility, update_facility
from registry.jobs import fail_stopped_jobs, may_rerun, rerun
from registry.models import Job, JobStatus, ResearchRelease, Role
from reports.research.export import may_download, record_download, release_file, release_log

IMPORTERS = (Role.REGISTRAR, Role.ADMIN)
ANALYSTS = (Role.RESEARCHER, Role.ADMIN)


def _page_of(name: str, item: type[Schema]) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "page": fields.Integer(),
                             "per_page": fields.Integer(), "total": fields.Integer(), "pages": fields.Integer()},
                            name=name)


def _paged_rows(stmt: Any) -> tuple[list[Any], int, int, int]:
    page, per_page = _paging()
    total = int(db_session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    return list(db_session.scalars(stmt.offset((page - 1) * per_page).limit(per_page))), total, page, per_page


# --- jobs -----------------------------------------------------------------------------------------

@api_route("/jobs", query=Paging, roles="every role (their own jobs); admins see every job")
def list_jobs():
    """The caller's jobs, newest first (admins: everyone's), as the Jobs page lists them."""
    fail_stopped_jobs()
    stmt = select(Job).order_by(Job.id.desc())
    if g.api_user.role is not Role.ADMIN:
        stmt = stmt.where(Job.user_id == g.api_user.id)
    rows, total, page, per_page = _paged_rows(stmt)
    return jsonify(_page([_job_state(job) for job in rows], total, page, per_page))


@api_route("/jobs/<int:job_id>/rerun", ("POST",), roles="registrar (their own ended jobs of a kind their role "
                                                        "starts), admin (any ended job)")
def rerun_job(job_id: int):
    """Run an ended job again with the same parameters (the job page's Retry, audited as ``job_rerun``)."""
    require_role(*IMPORTERS, doing="run jobs again")
    job = _job_of_caller(job_id)
    if job.status not in (JobStatus.FINISHED, JobStatus.FAILED):
        raise ApiError(409, "not_ended", f"job {job.id} is {job.status.value}; only an ended job runs again",
                       {"job_id": f"job {job.id} has not ended"})
    if not may_rerun(job, g.api_user):
        raise ApiError(403, "not_allowed", f"a {g.api_user.role.value} may not run a {job.kind} job again",
                       {"job_id": f"a {job.kind} job"})
    return job_started(rerun(job, g.api_user))


# --- facility settings ----------------------------------------------------------------------------

def _setting(name: str) -> fields.String:
    return fields.String(allow_none=True, metadata={"description": FACILITY_LABELS.get(name, name)})


FacilitySchema = Schema.from_dict({**{name: _setting(name) for name in FACILITY_FIELDS},
                                   "updated_at": fields.DateTime(allow_none=True, dump_only=True)},
                                  name="Facility")


def _facility() -> dict[str, Any]:
    facility = current_facility()
    return FacilitySchema().dump({**{name: getattr(facility, name) for name in FACILITY_FIELDS},
                                  "updated_at": facility.updated_at})


@api_route("/facility", roles="admin")
def get_facility():
    """The facility settings letters, reports and NAACCR exports read (the Facility page)."""
    require_role(Role.ADMIN, doing="see the facility settings")
    return jsonify(_facility())


@api_route("/facility", ("PATCH",), roles="admin")
def change_facility():
    """Change the settings sent (the others stay), validated and audited as the Facility page saves them: a bad
    value or an unknown setting is a 422 naming it, and nothing is saved."""
    require_role(Role.ADMIN, doing="change the facility settings")
    data = _json_body()
    if not data:
        raise ApiError(422, "invalid", "say what to change",
                       {"body": f"send one or more of {', '.join(FACILITY_FIELDS)}"})
    try:
        update_facility(data, actor=g.api_user)
    except InvalidInput as exc:
        db_session.rollback()
        raise ApiError(422, "invalid", "some settings are not valid; nothing was saved", exc.errors) from None
    db_session.expire_all()
    return jsonify(_facility())


# --- research releases ----------------------------------------------------------------------------

class ReleaseSchema(Schema):
    """A research release as the release log records it (never where its file lies on the server)."""
    id = fields.Integer()
    created_at = fields.DateTime()
    created_by = fields.String(metadata={"description": "who asked for it"})
    purpose = fields.String()
    level = fields.String(metadata={"description": "safe_harbor, limited or aggregate"})
    agreement_id = fields.Integer(allow_none=True, metadata={"description": "the data use agreement of a limited "
                                                                             "data set"})
    filters = fields.Raw(metadata={"type": "object"})
    variables = fields.List(fields.String())
    file_format = fields.String(metadata={"description": "csv, parquet or naaccr"})
    row_count = fields.Integer()
    patient_count = fields.Integer()
    checksum = fields.String(metadata={"description": "SHA-256 of the zip as written"})
    file_name = fields.String()
    expires_at = fields.DateTime(metadata={"description": "when its file is deleted (the log row stays)"})
    purged_at = fields.DateTime(allow_none=True)
    file_url = fields.String(allow_none=True, metadata={"description": "where to download it (same token); null "
                                                                       "once its file has expired"})


def _release(release: ResearchRelease) -> dict[str, Any]:
    body = ReleaseSchema().dump(release)
    body["file_url"] = (url_for("api.download_release", release_id=release.id)
                        if release_file(release) is not None else None)
    return body


@api_route("/research/releases", query=Paging, roles="researcher (their own releases), admin (every release)")
def list_releases():
    """The release log, newest first: a researcher's own releases (the dataset builder's list), every release for
    an administrator (the research administration page's)."""
    require_role(*ANALYSTS, doing="see research releases")
    rows, total, page, per_page = _paged_rows(release_log(None if g.api_user.role is Role.ADMIN else g.api_user))
    return jsonify(_page([_release(release) for release in rows], total, page, per_page))


@api_route("/research/releases/<int:release_id>/file", roles="researcher (their own releases), admin (any)")
def download_release(release_id: int):
    """An earlier release's zip, streamed and audited as ``research_download`` as on the web; 404 once expired."""
    require_role(*ANALYSTS, doing="download research releases")
    release = _get(ResearchRelease, release_id)
    if not may_download(release, g.api_user):
        raise ApiError(403, "not_allowed", f"release {release_id} was made for another user; only they and admins "
                                           "may download it", {"release_id": "not one of your releases"})
    path = release_file(release)
    if path is None:
        raise ApiError(404, "expired", f"{release.file_name} has expired and was deleted; build the dataset again",
                       {"release_id": f"its file expired on {release.expires_at:%Y-%m-%d}"})
    record_download(release, g.api_user)
    return send_file(path, as_attachment=True, download_name=release.file_name)


describe(
    ("/jobs", "get", "The caller's jobs, newest first (admins: every job)", None, "JobPage"),
    ("/jobs/{job_id}/rerun", "post", "Run an ended job again with the same parameters (202 with the new job; "
     "audited)", None, "Job"),
    ("/facility", "get", "The facility settings", None, "Facility"),
    ("/facility", "patch", "Change facility settings (only those sent; 422 names each bad one; audited)",
     "Facility", "Facility"),
    ("/research/releases", "get", "The research release log (a researcher sees their own)", None, "ReleasePage"),
    ("/research/releases/{release_id}/file", "get", "Download an earlier research release (audited; 404 once its "
     "file has expired)", None, "File"),
    errors={("/jobs/{job_id}/rerun", "post"): {"409": ("the job has not ended", "Error")},
            ("/research/releases/{release_id}/file", "get"): {"404": ("no such release, or its file has expired "
                                                                      "and was deleted", "Error")}},
    schemas={"JobPage": _page_of("JobPage", JobSchema), "Facility": FacilitySchema, "Release": ReleaseSchema,
             "ReleasePage": _page_of("ReleasePage", ReleaseSchema)})
