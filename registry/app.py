"""The application factory: configuration, database, login, CSRF, blueprints and commands."""
from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFProtect

from registry.config import load_config
from registry.db import bind, db_session, make_engine

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


#: Every blueprint as "module:attribute"; a capability adds its line here.
BLUEPRINTS = [
    "registry.auth.views:blueprint",
    "abstracts.views:blueprint",
    "abstracts.followup:blueprint",
    "abstracts.api:blueprint",
    "registry.jobs.views:blueprint",
    "registry.reference.views:blueprint",
    "reports.annual_report.views:blueprint",
    "reports.survival_views:blueprint",
    "staging_tables.staging.views:blueprint",
    "reports.submissions_views:blueprint",
    "reports.research.views:blueprint",
]


def _load(dotted: str) -> Any:
    module, _, attribute = dotted.partition(":")
    return getattr(importlib.import_module(module), attribute)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``overrides`` replaces configuration (tests pass DATABASE_URL this way)."""
    app = Flask(__name__, instance_path=None)
    app.config.update(load_config(overrides))
    app.permanent_session_lifetime = dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["registry_engine"] = engine
    bind(engine)

    csrf.init_app(app)
    from registry.auth import init_login
    init_login(app)

    for dotted in BLUEPRINTS:
        app.register_blueprint(_load(dotted))

    from registry.cli import register_commands
    from registry.demo import register_jobs
    register_commands(app)
    register_jobs()

    from registry.dates import display_date
    from staging_tables.codes import term
    app.add_template_filter(display_date, "pdate")
    app.add_template_global(term)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db_session.remove()

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.errorhandler(404)
    def _not_found(_exc: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Not found", message="There is no such page."), 404

    @app.errorhandler(403)
    def _forbidden(_exc: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Not allowed",
                               message="Your role does not give access to this page."), 403

    return app
