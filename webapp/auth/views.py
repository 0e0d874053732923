"""The login and logout pages (``/login``, ``/logout``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from models import User
from webapp.db import db_session
from workflow import accounts

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only, never another site."""
    if target:
        parts = urlsplit(target)
        if (
            target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
            and not parts.scheme
            and not parts.netloc
        ):
            return target
    return url_for("memos.inbox")


def _is_deactivated(username: str, password: str) -> bool:
    """True when these are the right credentials of a deactivated account.

    ``workflow.accounts.authenticate`` answers None for both a wrong password and a
    deactivated account; the person deserves to know which, but only once they have
    proved who they are, so nobody can probe which accounts exist or are disabled.
    """
    user: User | None = accounts.find_user(db_session(), username)
    return user is not None and not user.active and accounts.check_password(user, password)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The sign-in form; a successful POST starts a fresh session."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = (
            accounts.authenticate(db_session(), username, password)
            if username and password
            else None
        )
        if user is not None:
            target = safe_next(request.form.get("next"))
            # A new session at login: nothing from before it (CSRF token included) survives.
            session.clear()
            login_user(user)
            flash(_("Welcome, %(name)s.", name=user.full_name), "success")
            return redirect(target)
        if not username or not password:
            error = _("Please enter your username and password.")
        elif _is_deactivated(username, password):
            error = _("This account has been deactivated. Please contact the system administrator.")
        else:
            error = _("Wrong username or password. Please try again.")
    return render_template(
        "auth/login.html", error=error, username=username, next=request.args.get("next", "")
    )


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> str | Response:
    """GET asks to confirm (a GET never changes anything); POST signs out."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return render_template("auth/logout.html")
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
