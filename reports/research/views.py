"""Pages: researchers build a dataset (filters, variables from the dictionary, level) and get a job
with progress and a download; administrators see the release log and manage data use agreements.

Only de-identified releases leave here; researchers still never reach patient pages or the API's
identified views (the role rules of the foundation).
"""
from __future__ import annotations


from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from registry.auth import roles_required
from registry.db import db_session
from registry.errors import RegistryError
from registry.jobs import enqueue
from registry.models import ResearchRelease, Role, User
from reports.survival.cohorts import STAGE_ORDER, site_choices
from reports.research import cohort
from reports.research.agreements import add_agreement, agreements, revoke_agreement, valid_agreements
from reports.research.export import (FORMATS, check_agreement, may_download, record_download, release_file,
                                     releases)
from reports.research.variables import LEVELS, LIMITED, SAFE_HARBOR, TREATMENTS, choose, dictionary

blueprint = Blueprint("research", __name__, url_prefix="/research", template_folder="templates")
FILTER_FIELDS = ("years", "sites", "site_groups", "histologies", "behaviors", "stages", "sexes", "ages",
                 "vital_statuses", "classes_of_case", "items")


def _form_filters() -> dict[str, object]:
    return {name: request.form.getlist(name) if name.endswith("s") and name not in ("years", "ages")
            else request.form.get(name, "") for name in FILTER_FIELDS}


def variable_groups() -> list[tuple[str, list]]:
    """The variables under the abstract's section headings (derived ones first), so the page opens one group at a
    time instead of listing several hundred items."""
    from registry.catalogue import SECTIONS, catalogue
    cat = catalogue()
    titles = dict(SECTIONS)
    groups: dict[str, list] = {"Derived for research": []}
    for variable in dictionary().values():
        item = cat.get(variable.naaccr_id) if variable.naaccr_id else None
        title = (titles.get(item.section, "Other items") if item is not None
                 else "Other items" if variable.naaccr_id else "Derived for research")
        groups.setdefault(title, []).append(variable)
    order = ["Derived for research", *titles.values(), "Other items"]
    return sorted(((title, found) for title, found in groups.items() if found),
                  key=lambda pair: order.index(pair[0]) if pair[0] in order else len(order))


@blueprint.route("/", methods=["GET", "POST"])
@roles_required(Role.RESEARCHER, Role.ADMIN)
def builder() -> str | Response:
    user = current_user._get_current_object()
    if request.method == "POST":
        level = request.form.get("level", SAFE_HARBOR)
        agreement_text = request.form.get("agreement_id", "").strip()
        params = {"user_id": user.id, "filters": _form_filters(), "variables": request.form.getlist("variables"),
                  "level": level, "file_format": request.form.get("file_format", "csv"),
                  "purpose": request.form.get("purpose", "").strip(),
                  "agreement_id": int(agreement_text) if agreement_text.isdigit() else None}
        try:
            cohort.Filters.parse(**params["filters"])
            if level not in LEVELS or params["file_format"] not in FORMATS:
                raise ValueError("choose a level and a format from the lists")
            choose(params["variables"] or None, level)
            if level == LIMITED:
                check_agreement(params["agreement_id"], user)
        except (RegistryError, ValueError) as exc:
            flash(str(exc), "error")
        else:
            job = enqueue("research-export", params, user=user)
            return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("research/builder.html", variable_groups=variable_groups(), levels=LEVELS,
                           treatments=TREATMENTS, formats=FORMATS, sites=site_choices(), stages=STAGE_ORDER,
                           agreements=valid_agreements(user), releases=releases(50, user), form=request.form)


@blueprint.route("/releases/<int:release_id>/download")
@roles_required(Role.RESEARCHER, Role.ADMIN)
def download(release_id: int) -> Response:
    release = db_session.get(ResearchRelease, release_id)
    if release is None:
        abort(404)
    if not may_download(release, current_user):
        abort(403)
    path = release_file(release)
    if path is None:
        flash(f"{release.file_name} has expired and was deleted; build the dataset again", "error")
        return redirect(url_for("research.builder"))
    record_download(release, current_user)
    return send_file(path, as_attachment=True, download_name=release.file_name)


@blueprint.route("/admin", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin() -> str | Response:
    if request.method == "POST":
        try:
            if request.form.get("revoke"):
                revoke_agreement(int(request.form["revoke"]), actor=current_user._get_current_object())
                flash("agreement revoked", "info")
            else:
                agreement = add_agreement(request.form.get("username", "").strip(), request.form.get("project", ""),
                                          request.form.get("expires", ""), actor=current_user._get_current_object())
                flash(f"agreement {agreement.id} recorded", "info")
        except (RegistryError, ValueError) as exc:
            flash(str(exc), "error")
        return redirect(url_for("research.admin"))
    researchers = db_session.query(User).filter(User.role.in_([Role.RESEARCHER, Role.ADMIN])).order_by(User.username)
    return render_template("research/admin.html", releases=releases(200), agreements=agreements(),
                           researchers=researchers.all(), levels=LEVELS)
