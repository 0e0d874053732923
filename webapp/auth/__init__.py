"""Signing in and out of the web pages: Flask-Login sessions and login rate limiting.

The session is cleared at login (a new session, so a fixed or stolen pre-login session is
worth nothing) and Flask-Login's "strong" session protection drops a session whose
browser fingerprint changes. Failed logins are rate limited per client address by
Flask-Limiter; the storage is in memory unless ``MEMOFLOW_RATELIMIT_STORAGE_URI`` names a
shared one (for example ``redis://...`` when several workers serve). Tests disable the
limit (``TESTING``) except where they prove it works.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_babel import lazy_gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from webapp.auth.views import bp, login
from webapp.extensions import login_manager

LIMITER_KEY = "memoflow.limiter"
DEFAULT_LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
# The endpoints that carry a rate limit. Every other request skips the limiter's work of
# resolving the limits of its endpoint (about 5 % of an API inbox request); a limit put on
# another endpoint must name it here too.
LIMITED_ENDPOINTS = frozenset({"auth.login"})


def _failed_login(response: Response) -> bool:
    """Only failed attempts count: a successful login redirects."""
    return response.status_code != 302


def _not_limited() -> bool:
    """Flask-Limiter's request filter: True exempts the request from every limit."""
    return request.endpoint not in LIMITED_ENDPOINTS


def _login_rate_limit() -> str:
    limit: str = current_app.config["LOGIN_RATE_LIMIT"]
    return limit


def init_app(app: Flask) -> None:
    """Register the login pages, configure Flask-Login, and limit login attempts."""
    app.register_blueprint(bp)

    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    config = app.config
    config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    config.setdefault("RATELIMIT_ENABLED", not config.get("TESTING", False))
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down must not lock everybody out (every sign-in was a 500): the limits go on
    # in the worker's own memory until the shared store answers again.
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("LOGIN_RATE_LIMIT", DEFAULT_LOGIN_RATE_LIMIT)
    # One limiter per app, not a module-level one: Flask-Limiter keeps its storage and
    # its enabled flag on the instance, so a shared instance would follow the last app built.
    limiter = Limiter(key_func=get_remote_address, app=app)
    limiter.request_filter(_not_limited)
    app.extensions[LIMITER_KEY] = limiter
    limit_login = limiter.limit(_login_rate_limit, methods=["POST"], deduct_when=_failed_login)
    # The view itself, not app.view_functions' entry: that is typed as possibly async, and
    # the limiter's decorator would then be typed as returning a coroutine function.
    app.view_functions["auth.login"] = limit_login(login)
