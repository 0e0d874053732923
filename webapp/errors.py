"""One place that turns every failure into one HTTP status and one message.

API requests (``/api/...``) get ``{"error": {"code", "message", ...}}`` with a stable
English code and the message in the reader's language (Accept-Language; Thai by
default). Pages get the site's error templates. Any failure rolls the request's
transaction back first, so nothing is half written.

Failures of the database itself are answered 503 with ``Retry-After``, never 500: a lock
not had in time (``busy``), a lost or terminated connection or a database that cannot be
reached (``database_unavailable``), a full disk (``storage_full``, the database's or any
file's). The page for them is drawn without touching the database again (see
``handle_database_failure``).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from jinja2 import TemplateNotFound
from markupsafe import escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from models.db import is_disconnect, is_lock_timeout, is_storage_full
from webapp.db import rollback
from webapp.messages import describe_fields, error_message, field_errors
from workflow.errors import NotAllowed, ValidationFailed, WorkflowError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "invalid_transition",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    503: "unavailable",
}
# When to try again (the Retry-After header, seconds): after a lock was not had in time;
# after a lost database connection (the pool reconnects at once when the server is up,
# a restarting server takes a few seconds); after a full disk (someone must free space).
BUSY_RETRY_AFTER_S = 5
UNAVAILABLE_RETRY_AFTER_S = 10
STORAGE_FULL_RETRY_AFTER_S = 60

# marshmallow's messages, mapped to our field-problem codes.
MARSHMALLOW_PROBLEMS = {
    "Missing data for required field.": "required",
    "Unknown field.": "unknown_field",
    "Not a valid string.": "not_text",
    "Not a valid integer.": "not_integer",
    "Field may not be null.": "required",
}


def language() -> str:
    """The reader's language: ``en`` only when asked for, Thai otherwise."""
    chosen = request.cookies.get("lang") if request else None
    if chosen in ("th", "en"):
        return chosen
    return request.accept_languages.best_match(["th", "en"], default="th") or "th"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update({key: value for key, value in extra.items() if value is not None})
    response = jsonify({"error": body})
    response.status_code = status
    return response


def workflow_error_parts(error: WorkflowError, lang: str) -> tuple[str, dict[str, Any]]:
    """The message and the extra JSON fields for a workflow error."""
    params = dict(error.params)
    if isinstance(error, ValidationFailed):
        message = error_message(
            "validation_failed", lang, fields=describe_fields(error.errors, lang)
        )
        return message, {"fields": field_errors(error.errors, lang)}
    if isinstance(error, NotAllowed) and params.get("may_act"):
        template = "not_allowed_step" if params.get("role") else "not_allowed_author"
        return error_message(template, lang, **params), {
            "may_act": params.get("may_act"),
            "role": params.get("role"),
        }
    message = error_message(error.code, lang, detail=error.detail, **params)
    extra = {key: params.get(key) for key in ("state", "current_version")}
    return message, extra


def _typed_back() -> str:
    """The opinion or reason a refused or failed form carried: its error page shows it back
    to be copied, so that nothing the user wrote is lost (the form's own page keeps it on
    a validation error; these pages are a conflict, a busy database, a failure)."""
    if request.method != "POST":
        return ""
    try:
        return str(request.form.get("opinion", ""))
    except HTTPException:  # the body itself was the problem (too large): nothing to show
        return ""


def _render_page(status: int, code: str, message: str, **context: Any) -> Any:
    typed = _typed_back()
    try:
        return (
            render_template(
                f"errors/{status}.html", code=code, message=message, typed=typed, **context
            ),
            status,
        )
    except TemplateNotFound:
        try:
            return (
                render_template(
                    "errors/error.html", code=code, message=message, status=status, typed=typed
                ),
                status,
            )
        except TemplateNotFound:
            return message, status, {"Content-Type": "text/plain; charset=utf-8"}


def _identity() -> tuple[int | None, str]:
    """Who made the request, read before any rollback expires the user object (touching an
    expired object would begin a new transaction on the request's session)."""
    from flask import g

    user = g.get("api_user")
    if user is None:
        try:
            from flask_login import current_user

            user = current_user if current_user.is_authenticated else None
        except Exception:
            user = None
    if user is None:
        return None, ""
    return user.id, user.username


def log_security_event(identity: tuple[int | None, str], kind: str, detail: str) -> None:
    """Record a security event in a short writing transaction of its own: the request's
    session may be a reading one (GET), and its transaction was rolled back already. The
    identity is read before that rollback, and nothing touches the request's session until
    this commits, because on SQLite a writing transaction there would hold the lock this
    one needs."""
    from webapp.db import database
    from workflow.security import record

    user_id, username = identity
    try:
        with database().sessions.begin() as session:
            event = record(
                session,
                kind,
                username=username,
                remote_addr=request.remote_addr or "",
                detail=f"{request.method} {request.path}: {detail}",
            )
            event.user_id = user_id
    except Exception:  # the log must never turn a refusal into a 500
        log.exception("could not write the security log")


def handle_workflow_error(error: WorkflowError) -> Any:
    identity = _identity() if isinstance(error, NotAllowed) else (None, "")
    rollback()
    if isinstance(error, NotAllowed):
        log_security_event(identity, "refused", error.detail)
    lang = language()
    message, extra = workflow_error_parts(error, lang)
    if wants_json():
        return error_response(error.status, error.code, message, **extra)
    return _render_page(error.status, error.code, message, error=error, **extra)


def handle_http_exception(error: HTTPException) -> Any:
    rollback()
    if isinstance(error, InternalServerError) and error.original_exception is not None:
        # Raised outside the view and its handlers (Flask wraps it): still a database
        # failure answered as one, not a 500.
        failure = database_failure(error.original_exception)
        if failure is not None:
            return handle_database_failure(failure, error.original_exception)
    status = error.code or 500
    if status == 401 and wants_json():
        log_security_event((None, ""), "token_refused", "missing, unknown or revoked token")
    lang = language()
    code = HTTP_CODES.get(status, "bad_request")
    extra: dict[str, Any] = {}
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if status == 400 and messages:
        code = "malformed_body"
    if status == 422 and messages:
        problems = _marshmallow_problems(messages)
        extra["fields"] = field_errors(problems, lang)
        message = error_message("validation_failed", lang, fields=describe_fields(problems, lang))
    elif status == 413:
        from flask import current_app

        message = error_message(code, lang, limit_mb=current_app.config.get("MAX_UPLOAD_MB", 20))
    elif status == 503:
        message = error_message(code, lang, detail=error.description or "")
    else:
        message = error_message(code, lang)
    if wants_json():
        response = error_response(status, code, message, **extra)
        if status == 405 and error.get_headers():
            response.headers.update({k: v for k, v in error.get_headers() if k.lower() == "allow"})
        return response
    return _render_page(status, code, message)


def _marshmallow_problems(messages: dict[str, Any]) -> dict[str, str]:
    """Flatten webargs/marshmallow messages ({"json": {"field": ["..."]}})."""
    problems: dict[str, str] = {}
    for location_messages in messages.values():
        if not isinstance(location_messages, dict):
            continue
        for field_name, field_messages in location_messages.items():
            first = field_messages[0] if isinstance(field_messages, list) else field_messages
            if isinstance(first, str):
                problems[str(field_name)] = MARSHMALLOW_PROBLEMS.get(first, "invalid")
            else:
                problems[str(field_name)] = "invalid"
    return problems


def handle_busy() -> Response:
    """A lock not had in time (models.db.LOCK_TIMEOUT_MS) or a broken deadlock: the
    transaction was rolled back, nothing was written, and the same request may be made
    again. 503 with Retry-After; the page shows back what the user wrote."""
    log.warning("busy: no lock in time on %s %s", request.method, request.path)
    # Neither the user loader nor the navigation's count may wait for the lock again.
    g.database_busy = True
    lang = language()
    message = error_message("busy", lang)
    if wants_json():
        response = error_response(503, "busy", message)
    else:
        response = make_response(_render_page(503, "busy", message))
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
    return response


def database_failure(error: BaseException) -> str | None:
    """The error code for a failure of the database or the disk under it, or None:
    ``storage_full``, ``database_unavailable`` or ``busy``."""
    if is_storage_full(error):
        return "storage_full"
    if is_disconnect(error):
        return "database_unavailable"
    if isinstance(error, SQLAlchemyError) and is_lock_timeout(error):
        return "busy"
    return None


def _during_commit(error: BaseException) -> bool:
    """Whether ``error`` was raised while the driver was committing (SQLAlchemy's
    ``Dialect.do_commit``): a connection lost then may have lost only the server's
    acknowledgement, so whether the transaction committed is not known."""
    traceback: TracebackType | None = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_name == "do_commit":
            return True
        traceback = traceback.tb_next
    return False


def _forget_user() -> None:
    """Draw the page as for someone not signed in: who the visitor is cannot be checked
    without the database, and the signed-in user's details would be read from it. Neither
    the user loader nor the navigation's count touches the database again."""
    g.database_busy = True
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]


def _bare_page(status: int, message: str) -> Response:
    """The last resort when not even the error template can be drawn: still the message,
    in HTML, never the server's own "Internal Server Error"."""
    body = (
        f'<!doctype html><html lang="{escape(language())}"><head><meta charset="utf-8">'
        f"<title>{status}</title></head><body><main><h1>{status}</h1>"
        f'<p id="error-message">{escape(message)}</p></main></body></html>'
    )
    return Response(body, status=status, mimetype="text/html")


def _failure_page(status: int, code: str, message: str) -> Response:
    """The layout's error page for a database failure. The page itself must not fail on
    the database that just failed: if drawing it does, it is drawn again for someone not
    signed in, and failing that, bare."""
    try:
        return make_response(_render_page(status, code, message))
    except Exception:
        log.warning(
            "the %s page could not be drawn with the user; drawn without", code, exc_info=True
        )
        rollback()
    _forget_user()
    try:
        return make_response(_render_page(status, code, message))
    except Exception:
        log.exception("the %s page could not be drawn", code)
        return _bare_page(status, message)


def handle_database_failure(code: str, error: BaseException | None = None) -> Response:
    """503 for a failure of the database: ``busy`` (a lock not had in time),
    ``database_unavailable`` (the database cannot be reached, or the request's connection
    was lost or terminated) or ``storage_full`` (no room left on the disk). The request's
    transaction is rolled back by the caller; nothing was written, except that a
    connection lost during the COMMIT leaves unknown whether it committed, and the
    message then says so. JSON for the API, the layout's page otherwise, with Retry-After."""
    if code == "busy":
        return handle_busy()
    lang = language()
    # The driver's own words, not SQLAlchemy's message (which carries the statement's
    # parameters: what users typed).
    cause = getattr(error, "orig", None) or error
    if code == "storage_full":
        log.error("storage full on %s %s: %r", request.method, request.path, cause)
        message = error_message("storage_full", lang)
        retry_after = STORAGE_FULL_RETRY_AFTER_S
    else:
        log.error("database unavailable on %s %s: %r", request.method, request.path, cause)
        if error is not None and _during_commit(error):
            page = "" if wants_json() else "_page"
            key = f"database_unavailable_during_commit{page}"
        elif request.method in ("GET", "HEAD", "OPTIONS"):
            key = "database_unavailable"
        else:
            key = "database_unavailable_unsaved"
        message = error_message(key, lang)
        retry_after = UNAVAILABLE_RETRY_AFTER_S
        # The loader would ask the database who the visitor is, and fail again.
        _forget_user()
    if wants_json():
        response = error_response(503, code, message)
    else:
        response = _failure_page(503, code, message)
    response.headers["Retry-After"] = str(retry_after)
    return response


def handle_unexpected(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    rollback()
    failure = database_failure(error)
    if failure is not None:
        return handle_database_failure(failure, error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    lang = language()
    message = error_message("internal_error", lang)
    if wants_json():
        return error_response(500, "internal_error", message)
    return _render_page(500, "internal_error", message)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(WorkflowError, handle_workflow_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
