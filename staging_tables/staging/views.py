"""Pages: /staging lists the installed algorithms (or says how to install one); /staging/schema answers the
abstract form's Stage section with a schema, its inputs and valid codes, or the discriminator question;
/staging/codes feeds the form's type-ahead pickers with one schema input's valid codes."""
from __future__ import annotations

import re
from functools import lru_cache

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


@lru_cache(maxsize=65536)
def plain_description(text: str) -> str:
    """A bundle description (markdown emphasis, line breaks) as one line for a picker or a term box (remembered:
    the abstract page's Stage section asks for several hundred per page, the same ones every time)."""
    return re.sub(r"\s+", " ", (text or "").replace("**", "")).strip()


#: A validation-table cell that stands for several codes (``01-89``, ``0.0-99.9``, ``1,2``): not a code to copy.
RANGE = re.compile(r"[-,]|\{\{")
#: At most this many suggestions per keystroke (an input's validation table is rarely longer).
PICKER_LIMIT = 60


@blueprint.route("/codes")
@roles_required(*STAGING_ROLES)
def codes() -> tuple[Response, int] | Response:
    """``?algorithm=NAME-VERSION&schema=breast&key=eod_mets[&q=…]``: the input's valid codes as the picker
    expects them (``{results: [{code, term}]}``), codes starting with ``q`` first, then descriptions holding it."""
    try:
        algorithm = installed_algorithm(request.args.get("algorithm", "").strip())
    except RegistryError as exc:
        return jsonify(error=str(exc)), 404
    schema = algorithm.schemas.get(request.args.get("schema", "").strip())
    key = request.args.get("key", "").strip()
    if schema is None or key not in schema.input_map:
        return jsonify(error=f"no input '{key}' in schema '{request.args.get('schema', '')}' of "
                             f"{algorithm.name} {algorithm.version}"), 404
    query = request.args.get("q", "").strip()[:80].lower()
    pairs = [(code, plain_description(text)) for code, text in algorithm.valid_codes(schema.id, key) if code]
    by_code = [p for p in pairs if p[0].lower().startswith(query)]
    by_term = [p for p in pairs if query and p not in by_code and query in p[1].lower()]
    return jsonify(results=[{"code": c, "term": t, "range": bool(RANGE.search(c))}
                            for c, t in (by_code + by_term)[:PICKER_LIMIT]])


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
