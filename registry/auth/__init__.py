"""Logins, roles and sessions.

A session cookie is signed, not stored, so it cannot be deleted on the server. Instead each session
carries the account's session generation and the time it was signed in: it is refused once the
generation moved on (sign-out, password reset, disabling, ``users end-sessions``), after
``SESSION_MAX_HOURS`` whatever the activity, and (through the cookie's signed timestamp, re-issued on
every request) after ``SESSION_IDLE_MINUTES`` without a request.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, current_app, g, session
from flask_login import LoginManager, current_user, login_required, login_user

from registry.db import db_session
from registry.models import Role, User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db_session.get(User, int(user_id))
    if user is None or not user.is_enabled or not _session_is_current(user):
        clear_session()
        return None
    return user


def _session_is_current(user: User) -> bool:
    started = session.get("signed_in_at")
    return (session.get("generation") == user.session_generation and isinstance(started, (int, float))
            and time.time() - started < current_app.config["SESSION_MAX_HOURS"] * 3600)


def clear_session() -> None:
    """Empty the session, and forget the CSRF token this request derived from it (Flask-WTF caches it in g)."""
    session.clear()
    g.pop("csrf_token", None)


def begin_session(user: User) -> None:
    """Sign ``user`` in on a fresh session: nothing of the anonymous one (its CSRF token included) survives."""
    clear_session()
    session.permanent = True
    login_user(user)
    session["generation"] = user.session_generation
    session["signed_in_at"] = int(time.time())


def init_login(app: Flask) -> None:
    login_manager.init_app(app)

    @app.before_request
    def _idle_expiry() -> None:
        # A permanent cookie is re-issued with a fresh signed time on every request; Flask refuses one
        # whose time is older than SESSION_IDLE_MINUTES, so the idle limit holds on the server too.
        session.permanent = True


def roles_required(*roles: Role) -> Callable:
    """Allow a view only to signed-in users holding one of ``roles``."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator
