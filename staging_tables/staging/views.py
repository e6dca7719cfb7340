"""Pages: /staging lists the installed algorithms (or says how to install one); /staging/schema answers the
abstract form's Stage section with a schema, its inputs and valid codes, or the discriminator question."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from registry.auth import roles_required
from registry.errors import RegistryError
from registry.models import Role

from . import derive
from .reference import INSTALL_HINT, UnknownAlgorithm, installed_algorithm, installed_algorithms

blueprint = Blueprint("staging", __name__, url_prefix="/staging", template_folder="../templates")

#: Staging serves abstracting and review; it holds no patient data, but researchers have no form to fill.
STAGING_ROLES = (Role.REGISTRAR, Role.REVIEWER, Role.ADMIN)


@blueprint.route("/")
@roles_required(*STAGING_ROLES)
def index() -> str:
    chosen = derive.save_algorithm()
    return render_template("staging/index.html", records=installed_algorithms(), install_hint=INSTALL_HINT,
                           on_save=chosen, rules=derive.SAVE_RULES)


@blueprint.route("/schema")
@roles_required(*STAGING_ROLES)
def schema() -> tuple[Response, int] | Response:
    """``?site=C504&hist=8500[&algorithm=NAME[-VERSION]][&discriminator_1=…&year_dx=…]`` as JSON."""
    spec = request.args.get("algorithm", "").strip()
    try:
        if spec:
            algorithm = installed_algorithm(spec)
        else:
            chosen = derive.save_algorithm()
            if chosen is None:
                raise UnknownAlgorithm(f"no EOD staging algorithm is installed; install one with {INSTALL_HINT}")
            algorithm = derive.algorithm_for(chosen[1])
    except RegistryError as exc:
        return jsonify(error=str(exc)), 404
    site, hist = request.args.get("site", "").strip().upper()[:5], request.args.get("hist", "").strip()[:4]
    if not site or not hist:
        return jsonify(error="site and hist are required, e.g. ?site=C504&hist=8500"), 400
    answers = {k: request.args.get(k, "").strip()[:10] for k in algorithm.selection_keys
               if k not in ("site", "hist") and request.args.get(k, "").strip()}
    return jsonify(derive.schema_form(algorithm, site, hist, answers))


@blueprint.route("/rederive", methods=["POST"])
@roles_required(Role.ADMIN)
def rederive() -> Response:
    from registry.jobs import enqueue
    spec = request.form.get("algorithm", "")
    try:
        derive.rule_for(spec)
        installed_algorithm(spec)
    except RegistryError:
        abort(404)
    job = enqueue("staging-rederive", {"algorithm": spec, "user_id": current_user.id,
                                       "username": current_user.username}, user=current_user)
    return redirect(url_for("jobs.show", job_id=job.id))
