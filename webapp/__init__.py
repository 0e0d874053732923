"""The memoflow web application: factory, extensions, blueprints, error handlers, CLI.

This package is the only Flask code. It holds no business rule: views parse input, call
one workflow verb, commit, and render or serialise.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Flask, Response, current_app, g, session
from flask.typing import ResponseReturnValue
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from config import Config
from webapp import db
from webapp.errors import register_error_handlers
from webapp.extensions import SIGN_IN_KEY, csrf, login_manager

# Room for multipart overhead on top of the largest allowed upload.
REQUEST_OVERHEAD_BYTES = 1024 * 1024
# The largest id an INTEGER primary key holds on PostgreSQL (SQLite's is larger).
MAX_DATABASE_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in every route: only ids a primary key can hold match, so an absurd id
    in a URL is a 404 rather than an overflow error from the database driver (a 500)."""

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,  # werkzeug's parameter names
        max: int | None = MAX_DATABASE_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


class MemoflowApp(Flask):
    """Flask, with every view run inside the request's transaction: ``webapp.db.run_view``
    commits or rolls back after the view returns and before the response is sent (an
    ``after_request`` or teardown function could no longer change the answer if the
    commit failed; an exception raised here goes to the error handlers like the view's)."""

    def dispatch_request(self) -> ResponseReturnValue:
        return db.run_view(self, super().dispatch_request)


def create_app(config: Config | None = None, **overrides: Any) -> Flask:
    """Build the application from ``config`` (the environment by default)."""
    config = config or Config()
    app = MemoflowApp(__name__)
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    app.config.update(
        SECRET_KEY=config.SECRET_KEY,
        DATABASE_URL=config.DATABASE_URL,
        MEMOFLOW_HOME=str(config.HOME),
        MAX_UPLOAD_MB=config.MAX_UPLOAD_MB,
        MAX_UPLOAD_BYTES=config.max_upload_bytes,
        MAX_CONTENT_LENGTH=config.max_upload_bytes + REQUEST_OVERHEAD_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.SECURE_COOKIES,
        RATELIMIT_STORAGE_URI=config.RATELIMIT_STORAGE_URI,
        TESTING=config.TESTING,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if config.LOGIN_RATE_LIMIT:
        app.config["LOGIN_RATE_LIMIT"] = config.LOGIN_RATE_LIMIT
    app.config.update(overrides)
    if config.TRUSTED_PROXIES:
        # Behind a proxy every request comes from the proxy's address: the login limit
        # would count all clients as one, and the security log would name the proxy. The
        # client's address is in X-Forwarded-For; only the entries the configured proxies
        # added are believed, so a client cannot forge its way past the limit.
        proxies = config.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    from webapp import i18n

    i18n.init_app(app)


@login_manager.user_loader
def load_user(user_id: str) -> Any:
    from workflow.accounts import signed_in_user

    # The cookie holds "<id>:<nonce>" (models.User.get_id) and this browser's sign-in key
    # (SIGN_IN_KEY). Signing out deletes the sign-in; signing out everywhere and a password
    # reset delete them all and replace the nonce: an older copy of the cookie is worthless.
    if g.get("database_busy"):  # an error page after a lock timeout: do not wait again
        return None
    number, _, nonce = user_id.partition(":")
    key = session.get(SIGN_IN_KEY)
    if not number.isdigit() or len(number) > 12 or not isinstance(key, str):
        return None
    user = signed_in_user(db.db_session(), int(number), key, current_app.permanent_session_lifetime)
    if user is None or not user.active or not hmac.compare_digest(user.session_nonce, nonce):
        return None
    return user


def register_blueprints(app: Flask) -> None:
    from webapp.api import init_api
    from webapp.api.views import blp as api_blueprint

    init_api(app)
    # The API authenticates by bearer token, never by cookie, so CSRF does not apply.
    csrf.exempt(api_blueprint)
    from webapp import admin, auth, health, memos

    health.init_app(app)
    auth.init_app(app)
    memos.init_app(app)
    admin.init_app(app)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        return response


def register_commands(app: Flask) -> None:
    from webapp.cli import register

    register(app)
