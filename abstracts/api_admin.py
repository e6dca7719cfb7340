"""REST API: the administrator's capabilities — reference tables, user accounts and the audit trail (issue 24).

The same operations as the Reference, Users and Audit pages (``registry.reference.install``,
``registry.auth.operations``, ``AuditSearch``), each change audited by its operation; administrators only.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import g, jsonify, url_for
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from abstracts.api import ApiError, Paging, _get, _page, _paging, api_route, describe
from abstracts.api_naaccr import _load_json, _upload_field, read_form, require_role
from registry.audit import Actor, log_event
from registry.audit_views import AuditSearch
from registry.auth.operations import (create_user, disable_user, enable_user, end_sessions, reset_password,
                                      set_role)
from registry.db import db_session
from registry.errors import InvalidInput, NotAllowed
from registry.models import AuditEntry, Role, User
from registry.reference import KINDS, InvalidReference, install, installed
from registry.reference.cli import reference_store
from registry.reference.views import _upload_name

ADMIN_ONLY = "admin"
ROLE_NAMES = [r.value for r in Role]


def _admin(doing: str) -> None:
    require_role(Role.ADMIN, doing=doing)


# --- reference tables -----------------------------------------------------------------------------

class ReferenceInstallSchema(Schema):
    """An installed reference table: what it is, from which file, who installed it and when."""
    id = fields.Integer()
    kind = fields.String(metadata={"description": "e.g. naaccr-dictionary, staging-algorithm"})
    name = fields.String()
    version = fields.String()
    summary = fields.String()
    source_file = fields.String(metadata={"description": "the file name as given"})
    checksum = fields.String(metadata={"description": "SHA-256 of the file"})
    installed_by = fields.String()
    installed_at = fields.DateTime()


class ReferenceUploadSchema(Schema):
    file = _upload_field()
    kind = fields.String(required=True, metadata={"description": "what kind of reference file it is, e.g. "
                                                                 "naaccr-dictionary, staging-algorithm"})


@api_route("/reference", roles=ADMIN_ONLY)
def list_reference():
    """The installed reference tables, newest first (the Reference page)."""
    _admin("see the reference tables")
    records = installed()
    return jsonify(_page(ReferenceInstallSchema(many=True).dump(records), len(records), 1, max(len(records), 1)))


@api_route("/reference/installs", ("POST",), roles=ADMIN_ONLY)
def install_reference():
    """Install an uploaded file with the CLI's own ``install``: same checks, audited, all or nothing."""
    _admin("install reference tables")
    from registry.reference import kinds  # noqa: F401 - registers the built-in kinds (pandas: not at start-up)
    values, uploads = read_form(ReferenceUploadSchema(), ("file",))
    kind = values["kind"].strip()
    if kind not in KINDS:
        raise ApiError(422, "invalid", "unknown kind of reference file; nothing was installed",
                       {"kind": f"one of {', '.join(sorted(KINDS))}"})
    name = _upload_name(uploads["file"].filename)
    if name is None:
        raise ApiError(422, "invalid", "the upload has no usable file name", {"file": "name the file"})
    with tempfile.TemporaryDirectory(prefix="reference-upload-") as folder:
        path = Path(folder) / name
        uploads["file"].save(path)
        try:
            record = install(kind, path, actor=Actor.of(g.api_user), store=reference_store())
        except InvalidReference as exc:
            db_session.rollback()
            raise ApiError(422, "invalid", "nothing was installed",
                           {"file": str(exc).replace(str(path), name)}) from None
    return jsonify(ReferenceInstallSchema().dump(record)), 201


# --- user accounts --------------------------------------------------------------------------------

class UserSchema(Schema):
    """An account as the Users page lists it (never its password)."""
    id = fields.Integer(dump_only=True)
    username = fields.String(required=True, metadata={"description": "1-80 letters, digits, '.', '-' or '_'"})
    full_name = fields.String(load_default="", validate=validate.Length(max=200, error="at most 200 characters"))
    role = fields.String(required=True, metadata={"enum": ROLE_NAMES})  # checked by create_user, with the rest
    password = fields.String(required=True, load_only=True, metadata={"description": "the first password; give it "
                                                                                     "to the user by a safe route"})
    enabled = fields.Boolean(dump_only=True, attribute="is_enabled")
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)
    locked_until = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)

    class Meta:
        ordered = True


class UserChangeSchema(Schema):
    """What the Users page changes on an account: its role, and whether it may sign in."""
    role = fields.String(validate=validate.OneOf(ROLE_NAMES, error=f"one of {', '.join(ROLE_NAMES)}"))
    enabled = fields.Boolean(error_messages={"invalid": "true or false"},
                             metadata={"description": "false disables the account (its sessions end, its tokens "
                                                      "are refused); true lets it sign in again"})


class PasswordResetSchema(Schema):
    password = fields.String(required=True, metadata={"description": "the new password (its sessions end)"})


def _refused(exc: Exception) -> ApiError:
    """An operation's refusal (the last administrator, an unknown name) as a 422 naming the field."""
    db_session.rollback()
    errors = getattr(exc, "errors", None) or {"user_id": str(exc)}
    return ApiError(422, "invalid", "nothing changed", errors)


@api_route("/users", query=Paging, roles=ADMIN_ONLY)
def list_users():
    _admin("manage accounts")
    page, per_page = _paging()
    total = int(db_session.scalar(select(func.count(User.id))) or 0)
    rows = db_session.scalars(select(User).order_by(User.username).offset((page - 1) * per_page).limit(per_page))
    return jsonify(_page(UserSchema(many=True).dump(rows), total, page, per_page))


@api_route("/users", ("POST",), roles=ADMIN_ONLY)
def create_account():
    _admin("manage accounts")
    values = _load_json(UserSchema())
    try:
        user = create_user(values["username"], values["password"], values["role"],
                           full_name=values["full_name"].strip(), actor=g.api_user)
    except (InvalidInput, NotAllowed) as exc:
        raise _refused(exc) from None
    return jsonify(UserSchema().dump(user)), 201, {"Location": url_for("api.get_account", user_id=user.id)}


@api_route("/users/<int:user_id>", roles=ADMIN_ONLY)
def get_account(user_id: int):
    _admin("manage accounts")
    return jsonify(UserSchema().dump(_get(User, user_id)))


@api_route("/users/<int:user_id>", ("PATCH",), roles=ADMIN_ONLY)
def change_account(user_id: int):
    """Change the role and/or disable or enable the account (role first); each change is its own audited
    operation, refused (422) where it would leave no enabled administrator."""
    _admin("manage accounts")
    values = _load_json(UserChangeSchema())
    if not values:
        raise ApiError(422, "invalid", "say what to change", {"role": "send role and/or enabled",
                                                              "enabled": "send role and/or enabled"})
    user = _get(User, user_id)
    name = user.username
    try:
        if "role" in values and values["role"] != user.role.value:
            set_role(name, values["role"], actor=g.api_user)
        if "enabled" in values and values["enabled"] != user.is_enabled:
            (enable_user if values["enabled"] else disable_user)(name, actor=g.api_user)
    except (InvalidInput, NotAllowed) as exc:
        raise _refused(exc) from None
    db_session.expire_all()
    return jsonify(UserSchema().dump(_get(User, user_id)))


@api_route("/users/<int:user_id>/password-reset", ("POST",), roles=ADMIN_ONLY)
def reset_account_password(user_id: int):
    """Set a new password (a forgotten or leaked one); the account's sessions end."""
    _admin("manage accounts")
    values = _load_json(PasswordResetSchema())
    user = _get(User, user_id)
    try:
        reset_password(user.username, values["password"], actor=g.api_user)
    except (InvalidInput, NotAllowed) as exc:
        raise _refused(exc) from None
    db_session.expire_all()
    return jsonify(UserSchema().dump(_get(User, user_id)))


@api_route("/users/<int:user_id>/sessions/end", ("POST",), roles=ADMIN_ONLY)
def end_account_sessions(user_id: int):
    """Sign the account out everywhere (API tokens are revoked separately)."""
    _admin("manage accounts")
    user = _get(User, user_id)
    end_sessions(user.username, actor=g.api_user)
    db_session.expire_all()
    return jsonify(UserSchema().dump(_get(User, user_id)))


# --- audit trail ----------------------------------------------------------------------------------

def _filter(description: str) -> fields.String:
    return fields.String(load_default="", validate=validate.Length(max=80, error="at most 80 characters"),
                         metadata={"description": description})


class AuditQuery(Paging):
    """The Audit page's search; the criteria combine."""
    user = _filter("a user name, exactly")
    patient = _filter("a patient record id, e.g. 42")
    action = _filter("actions starting with this, e.g. update_tumor")
    date_from = _filter("from this day, YYYY-MM-DD")
    date_to = _filter("to this day, YYYY-MM-DD, inclusive")


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    username = fields.String()
    user_id = fields.Integer(allow_none=True)
    action = fields.String()
    entity = fields.String(allow_none=True)
    entity_id = fields.String(allow_none=True)
    entity_version = fields.Integer(allow_none=True)
    patient_id = fields.Integer(allow_none=True)
    changes = fields.Raw(allow_none=True, metadata={"type": "object", "description": "{field: [before, after]}"})
    detail = fields.String(allow_none=True)


@api_route("/audit", query=AuditQuery, roles=ADMIN_ONLY)
def search_audit():
    """The audit trail, newest first, searched as on the Audit page (a bad criterion is a 422 naming it); the
    search is itself audited, as reading the trail over the API is taking a copy of part of it."""
    _admin("read the audit trail")
    criteria, errors = AuditSearch.from_args({k: v for k, v in g.query.items() if isinstance(v, str)})
    if errors:
        raise ApiError(422, "invalid", "some query parameters are not valid", errors)
    page, per_page = _paging()
    stmt = criteria.statement()
    total = int(db_session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(db_session.scalars(stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page)
                                   .limit(per_page)))
    body: dict[str, Any] = _page(AuditEntrySchema(many=True).dump(rows), total, page, per_page)
    log_event(g.api_user, "api_audit_search", detail=f"{criteria.describe()}; page {page}, {len(rows)} entries")
    return jsonify(body)


def _page_of(name: str, item: type[Schema]) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "page": fields.Integer(),
                             "per_page": fields.Integer(), "total": fields.Integer(), "pages": fields.Integer()},
                            name=name)


describe(
    ("/reference", "get", "The installed reference tables, newest first", None, "ReferenceInstallPage"),
    ("/reference/installs", "post", "Install a reference table from an uploaded file (checked, audited, all or "
     "nothing; 422 names what the file should have been)", "ReferenceUpload", "ReferenceInstall"),
    ("/users", "get", "The accounts", None, "UserPage"),
    ("/users", "post", "Create an account", "User", "User"),
    ("/users/{user_id}", "get", "One account", None, "User"),
    ("/users/{user_id}", "patch", "Change an account's role and/or whether it may sign in", "UserChange", "User"),
    ("/users/{user_id}/password-reset", "post", "Set a new password (the account's sessions end)", "PasswordReset",
     "User"),
    ("/users/{user_id}/sessions/end", "post", "Sign the account out everywhere", None, "User"),
    ("/audit", "get", "Search the audit trail, newest first", None, "AuditEntryPage"),
    errors={("/reference/installs", "post"): {"413": ("the upload is larger than the server accepts", "Error")}},
    schemas={"ReferenceInstall": ReferenceInstallSchema, "ReferenceUpload": ReferenceUploadSchema,
             "ReferenceInstallPage": _page_of("ReferenceInstallPage", ReferenceInstallSchema),
             "User": UserSchema, "UserChange": UserChangeSchema, "PasswordReset": PasswordResetSchema,
             "UserPage": _page_of("UserPage", UserSchema), "AuditEntry": AuditEntrySchema,
             "AuditEntryPage": _page_of("AuditEntryPage", AuditEntrySchema)},
    statuses={("/users/{user_id}/password-reset", "post"): "200", ("/users/{user_id}/sessions/end", "post"): "200"},
    multipart={("/reference/installs", "post")})
