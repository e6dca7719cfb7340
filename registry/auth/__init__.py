"""Logins, roles and password hashing."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, session
from flask_login import LoginManager, current_user, login_required

from registry.db import db_session
from registry.models import Role, User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db_session.get(User, int(user_id))
    return user if user is not None and user.is_enabled else None


def init_login(app: Flask) -> None:
    login_manager.init_app(app)

    @app.before_request
    def _idle_expiry() -> None:
        # A permanent session cookie is re-issued on every request, so it lapses after idle time only.
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
