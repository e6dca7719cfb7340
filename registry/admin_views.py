"""Administrator pages of the core: accounts, and the facility settings letters, reports and exports read."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from registry.auth import roles_required
from registry.auth.operations import (create_user, disable_user, enable_user, end_sessions, reset_password,
                                      set_role)
from registry.db import db_session
from registry.errors import InvalidInput, NotAllowed
from registry.facility import PLAIN_FIELDS, current_facility, update_facility
from registry.items import naaccr_items
from registry.models import Facility, Role, User

blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
FIELDS = ("name", "reporting_facility", "npi_reporting_facility", "archive_fin", "address_street", "address_city",
          "address_state", "address_postal_code", "telephone", "registry_contact")
LABELS = {"name": "Facility name", "address_street": "Street", "address_city": "City",
          "address_state": "State (two letters)", "address_postal_code": "ZIP code", "telephone": "Telephone",
          "registry_contact": "Registry contact (name shown on letters)",
          **{name: spec.label for name, spec in naaccr_items(Facility).items()}}


@blueprint.route("/facility", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def facility() -> str | Response | tuple[str, int]:
    """The facility's name, NAACCR identifiers and address; a save is one audited change."""
    errors: dict[str, str] = {}
    values = {name: getattr(current_facility(), name) or "" for name in FIELDS}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in FIELDS}
        try:
            update_facility(values, actor=current_user)
        except InvalidInput as exc:
            db_session.rollback()
            errors = exc.errors
            flash("Nothing was saved: correct the fields marked below.", "error")
            return render_template("admin/facility.html", fields=FIELDS, labels=LABELS, values=values,
                                   errors=errors, limits=PLAIN_FIELDS), 422
        flash("Facility settings saved.", "ok")
        return redirect(url_for("admin.facility"))
    return render_template("admin/facility.html", fields=FIELDS, labels=LABELS, values=values, errors=errors,
                           limits=PLAIN_FIELDS)


#: The account actions of the Users page: each one operation of registry.auth.operations, audited there.
USER_ACTIONS = {
    "disable": (disable_user, "{user} is disabled; their sessions have ended."),
    "enable": (enable_user, "{user} may sign in again."),
    "end_sessions": (end_sessions, "{user} is signed out everywhere."),
}


def _users_page(status: int = 200, errors: dict[str, str] | None = None,
                values: dict[str, str] | None = None) -> tuple[str, int]:
    users = db_session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=users, roles=[r.value for r in Role], errors=errors or {},
                           values=values or {}), status


@blueprint.route("/users", methods=["GET"])
@roles_required(Role.ADMIN)
def users() -> tuple[str, int]:
    """Accounts: role, state, last sign-in; create one; per account change role, disable or enable, reset the
    password, end sessions (the operations of the CLI's ``users`` commands)."""
    return _users_page()


@blueprint.route("/users", methods=["POST"])
@roles_required(Role.ADMIN)
def create_account() -> Response | tuple[str, int]:
    values = {k: request.form.get(k, "") for k in ("username", "full_name", "role", "password")}
    try:
        create_user(values["username"], values["password"], values["role"], full_name=values["full_name"].strip(),
                    actor=current_user)
    except (InvalidInput, NotAllowed) as exc:
        db_session.rollback()
        flash("No account was created: correct the fields marked below.", "error")
        return _users_page(422, getattr(exc, "errors", {"username": str(exc)}), {**values, "password": ""})
    flash(f"Account {values['username'].strip()} created.", "ok")
    return redirect(url_for("admin.users"))


@blueprint.route("/users/<int:user_id>/<action>", methods=["POST"])
@roles_required(Role.ADMIN)
def account_action(user_id: int, action: str) -> Response | tuple[str, int]:
    user = db_session.get(User, user_id)
    if user is None:
        abort(404)
    name = user.username
    try:
        if action == "role":
            set_role(name, request.form.get("role", ""), actor=current_user)
            message = f"{name} is now {request.form.get('role')}."
        elif action == "password":
            reset_password(name, request.form.get("password", ""), actor=current_user)
            message = f"{name}'s password is reset; give it to them by a safe route."
        elif action in USER_ACTIONS:
            operation_, text = USER_ACTIONS[action]
            operation_(name, actor=current_user)
            message = text.format(user=name)
        else:
            abort(404)
    except (InvalidInput, NotAllowed) as exc:
        db_session.rollback()
        detail = "; ".join(exc.errors.values()) if isinstance(exc, InvalidInput) else str(exc)
        flash(f"{name}: nothing changed: {detail}", "error")
        return _users_page(422)
    flash(message, "ok")
    return redirect(url_for("admin.users"))
