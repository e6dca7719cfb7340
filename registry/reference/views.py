"""Administrator page listing the installed reference tables."""
from __future__ import annotations

from flask import Blueprint, render_template

from registry.auth import roles_required
from registry.models import Role
from registry.reference import KINDS, installed

blueprint = Blueprint("reference", __name__, url_prefix="/admin/reference", template_folder="../templates")


@blueprint.route("/")
@roles_required(Role.ADMIN)
def list_installed() -> str:
    from registry.reference import kinds  # noqa: F401
    return render_template("reference/list.html", records=installed(), kinds=KINDS)
