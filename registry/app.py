"""The application factory: configuration, database, login, CSRF, blueprints and commands."""
from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request, session
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

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
    "abstracts.printout:blueprint",
    "abstracts.api:blueprint",
    "abstracts.epath.views:blueprint",
    "registry.jobs.views:blueprint",
    "registry.reference.views:blueprint",
    "reports.annual_report.views:blueprint",
    "reports.survival.views:blueprint",
    "reports.rates.views:blueprint",
    "staging_tables.staging.views:blueprint",
    "staging_tables.surgery_views:blueprint",
    "reports.submissions_views:blueprint",
    "reports.research.views:blueprint",
    "registry.audit_views:blueprint",
    "registry.admin_views:blueprint",
]


#: Modules that add endpoints to the ``/api/v1`` blueprint (``abstracts.api.api_route``) and describe them in its
#: document; imported before the blueprint is registered. A capability's API module adds its line here.
API_MODULES = [
    "abstracts.printout",
    "abstracts.epath.api",
    "abstracts.api_analysis",
    "abstracts.api_worklists",
    "abstracts.api_naaccr",
    "abstracts.api_staging",
    "abstracts.api_admin",
    "abstracts.api_more",
]


def _load(dotted: str) -> Any:
    module, _, attribute = dotted.partition(":")
    return getattr(importlib.import_module(module), attribute)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``overrides`` replaces configuration (tests pass DATABASE_URL this way)."""
    app = Flask(__name__, instance_path=None)
    app.config.update(load_config(overrides))
    from abstracts.ratelimit import parse_rate_limit
    parse_rate_limit(app.config["REGISTRY_API_RATE_LIMIT"])  # a misspelt limit stops the start, not a request
    app.permanent_session_lifetime = dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    if app.config["TRUSTED_PROXY_HOPS"]:
        # The sign-in throttle counts per client address: behind a proxy that is X-Forwarded-For's entry.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_HOPS"])  # type: ignore[method-assign]

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["registry_engine"] = engine
    bind(engine)

    csrf.init_app(app)
    from registry.auth import init_login
    init_login(app)

    for module in API_MODULES:
        importlib.import_module(module)
    for dotted in BLUEPRINTS:
        app.register_blueprint(_load(dotted))
    from registry import reads
    reads.install(app)

    from registry.cli import register_commands
    from registry.demo import register_jobs
    from registry.jobs import serve
    register_commands(app)
    register_jobs()
    serve(app)

    from registry.dates import display_date, display_time, display_zone
    from staging_tables.codes import term
    zone = display_zone(app.config.get("TIMEZONE"))
    app.add_template_filter(display_date, "pdate")
    app.add_template_filter(lambda value, seconds=False: display_time(value, zone, seconds=seconds), "ptime")
    app.add_template_global(term)
    from registry.navigation import account_menu, navigation_for
    app.add_template_global(navigation_for)
    app.add_template_global(account_menu)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db_session.remove()

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if g.get("api_user") is not None or "_user_id" in session:
            # Whatever a signed-in user receives may name patients: no browser or proxy may keep a copy.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(404)
    def _not_found(_exc: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Not found", message="There is no such page."), 404

    @app.errorhandler(403)
    def _forbidden(_exc: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Not allowed",
                               message="Your role does not give access to this page."), 403

    @app.before_request
    def _refuse_nul_characters() -> tuple[Any, int] | None:
        # No field may hold NUL (PostgreSQL cannot store it); say which field rather than fail deeper down.
        name = _field_with_nul()
        if name is not None:
            return _plain_error(400, "Bad request", f"{name}: contains a NUL character, which no field may hold; "
                                "nothing was saved.")
        return None

    @app.errorhandler(CSRFError)
    def _form_expired(exc: CSRFError) -> tuple[Any, int]:
        app.logger.warning("form refused on %s %s: %s", request.method, request.path, exc.description)
        return _error_page(400, "Form expired", "The form's security token was missing or too old (the page was "
                            "open too long, or you signed in again elsewhere), so nothing was saved. Go back, reload "
                            "the page and send it again.")

    @app.errorhandler(400)
    def _bad_request(exc: Exception) -> tuple[Any, int]:
        description = getattr(exc, "description", "")
        known = description if description and not description.startswith("The browser (or proxy)") else \
            "The request could not be read."
        return _error_page(400, "Bad request", f"{known} Nothing was saved.")

    @app.errorhandler(413)
    def _too_large(_exc: Exception) -> tuple[Any, int]:
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        app.logger.warning("request body over %s bytes refused on %s %s", limit, request.method, request.path)
        return _plain_error(413, "Too large", f"The request is larger than the {limit / 2**20:g} MB this server "
                            "accepts, so nothing of it was read or saved. Compress the file (.xml.gz) or split it; "
                            "larger files are imported with flask --app wsgi naaccr import on the server.")

    @app.errorhandler(DataError)
    def _data_error(exc: Exception) -> tuple[Any, int]:
        app.logger.warning("value refused by the database on %s %s: %s", request.method, request.path, exc)
        return _plain_error(400, "Bad request", "A value could not be stored (too long or not valid for its field); "
                            "nothing was saved.")

    @app.errorhandler(500)
    def _server_error(exc: Exception) -> tuple[Any, int]:
        app.logger.error("unhandled error on %s %s", request.method, request.path,
                         exc_info=getattr(exc, "original_exception", None) or exc)
        return _plain_error(500, "Something went wrong", "The request could not be completed and nothing of it "
                            "was saved. The error was logged; try again or tell the registry administrator.")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(exc: Exception) -> tuple[Any, int]:
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        return _plain_error(503, "Database unavailable", "The registry database cannot be reached just now; "
                            "nothing was saved. Try again in a minute.")

    return app


def _field_with_nul() -> str | None:
    """The name of the first query, form or JSON field whose value holds a NUL character."""
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            if "\x00" in value or "\x00" in name:
                return name
    if request.is_json:
        pending = [("body", request.get_json(silent=True))]
        while pending:
            name, value = pending.pop()
            if isinstance(value, str) and "\x00" in value:
                return name
            if isinstance(value, dict):
                pending += [(f"{key}" if name == "body" else f"{name}.{key}", item) for key, item in value.items()]
            elif isinstance(value, list):
                pending += [(f"{name}[{i}]", item) for i, item in enumerate(value)]
    return None


def _error_page(status: int, title: str, message: str) -> tuple[Any, int]:
    """An error page (or JSON body under /api/) for a request whose database session is sound."""
    if request.path.startswith("/api/"):
        return jsonify(error={"code": title.lower().replace(" ", "_"), "message": message}), status
    return render_template("error.html", title=title, message=message), status


def _plain_error(status: int, title: str, message: str) -> tuple[Any, int]:
    """An error page or JSON body that needs no database and shows no stack trace."""
    try:
        db_session.remove()
    except Exception:  # noqa: BLE001 - the connection may be gone; the page must still render
        pass
    if request.path.startswith("/api/"):
        return jsonify(error={"code": title.lower().replace(" ", "_"), "message": message}), status
    if "_login_user" not in g:  # signed-in state unknown: do not ask the database for it
        g._login_user = AnonymousUserMixin()
    return render_template("error.html", title=title, message=message), status
