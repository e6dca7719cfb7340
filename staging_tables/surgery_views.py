"""``GET /codes/surgery``: the site-specific surgery codes a tumor may have, for the abstract form's picker.

The form marks RX Summ--Surg Prim Site [1290] and [1291] inputs with ``data-surgery-picker="<this URL>"``
(``url_for('surgery.codes')``), optionally ``data-surgery-item="1290"``/``"1291"``, and loads
``static/surgery.js``; the script reads the form's ``primary_site``, ``histology`` and ``date_of_diagnosis`` and
offers the codes of the table of that site and diagnosis year, with the table's labels. No patient data.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import login_required
from werkzeug.wrappers import Response

from staging_tables.surgery import surgery_codes

blueprint = Blueprint("surgery", __name__)
MAX_QUERY = 80


@blueprint.route("/codes/surgery")
@login_required
def codes() -> tuple[Response, int] | Response:
    """``?site=C504&year=2025[&histology=8500][&item=1291][&q=mastect]`` → ``[{"code", "term"}]``."""
    site = request.args.get("site", "").strip()
    year_text = request.args.get("year", "").strip()[:8]
    if not site:
        return jsonify(error="site: required, e.g. ?site=C504&year=2025"), 400
    if not year_text.isdigit():
        return jsonify(error=f"year: {year_text!r} is not a diagnosis year, e.g. 2025"), 400
    query = request.args.get("q", "").strip().lower()[:MAX_QUERY]
    try:
        found = surgery_codes(site[:5], request.args.get("histology", "")[:4] or None, int(year_text),
                              request.args.get("item") or None)
    except ValueError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify([{"code": entry.code, "term": entry.label} for entry in found
                    if not query or entry.code.lower().startswith(query) or query in entry.label.lower()])
