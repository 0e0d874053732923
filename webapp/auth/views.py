"""The login and logout pages (``/login``, ``/logout``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.db import db_session
from webapp.extensions import SIGN_IN_KEY
from workflow import accounts
from workflow.security import record

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


def _log_attempt(username: str, reason: str) -> None:
    """Every sign-in attempt goes to the security log (a failed one is answered with the
    form again, status 200, so the request's commit keeps it)."""
    record(
        db_session(),
        "login" if reason == "ok" else "login_failed",
        username=username[:100],
        remote_addr=request.remote_addr or "",
        detail="" if reason == "ok" else reason,
    )


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
        outcome = accounts.check_login(db_session(), username, password)
        user = outcome.user if username and password else None
        _log_attempt(username, outcome.reason if user is None else "ok")
        if user is not None:
            target = safe_next(request.form.get("next"))
            # A new session at login: nothing from before it (CSRF token included) survives.
            session.clear()
            session[SIGN_IN_KEY] = accounts.start_sign_in(
                db_session(), user, current_app.permanent_session_lifetime
            )
            login_user(user)
            flash(_("Welcome, %(name)s.", name=user.full_name), "success")
            return redirect(target)
        if not username or not password:
            error = _("Please enter your username and password.")
        elif outcome.reason == "inactive":
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
        # ?everywhere=1 (the footer's link) ticks "also my other devices" in advance.
        return render_template("auth/logout.html", everywhere=request.args.get("everywhere") == "1")
    everywhere = request.form.get("everywhere") == "1"
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        if everywhere:
            accounts.end_sessions(db_session(), user)
        else:
            accounts.end_sign_in(db_session(), user, session.get(SIGN_IN_KEY, ""))
    logout_user()
    session.clear()
    if everywhere:
        flash(_("You have signed out on every device."), "info")
    else:
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
