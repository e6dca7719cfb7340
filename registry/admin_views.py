"""Administrator pages of the core: the facility settings (letters, reports and NAACCR exports read them)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from registry.auth import roles_required
from registry.db import db_session
from registry.errors import InvalidInput
from registry.facility import PLAIN_FIELDS, current_facility, update_facility
from registry.items import naaccr_items
from registry.models import Facility, Role

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
