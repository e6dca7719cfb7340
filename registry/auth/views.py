"""Sign in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from registry.auth import begin_session, clear_session
from registry.auth.operations import authenticate, sign_out

blueprint = Blueprint("auth", __name__, template_folder="../templates")


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login page cannot be used to redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("abstracts.home")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("abstracts.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data, address=request.remote_addr or "unknown")
        if user is not None:
            begin_session(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong username or password, or sign-in is held back for a while.", "error")
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" else 401)


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    sign_out(current_user._get_current_object())
    logout_user()
    clear_session()
    return redirect(url_for("auth.login"))
