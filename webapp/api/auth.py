"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request
from werkzeug.exceptions import Unauthorized

from models import User
from webapp.db import db_session
from workflow.accounts import Reader, load_user, reader_for_token

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_required(view: F) -> F:
    """Run ``view`` only for a valid, unrevoked token of an active user (else 401)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_api_user() is None:
            raise Unauthorized()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def current_api_user() -> Reader | None:
    """Who sends the request, by its bearer token (a valid, unrevoked token of an active
    user), looked up once per request (the idempotency check before the view needs it
    too), or None: a row, which is all that reading views need (``api_reader``)."""
    if "api_reader" not in g:
        token = bearer_token()
        g.api_reader = reader_for_token(db_session(), token) if token else None
    reader: Reader | None = g.api_reader
    return reader


def api_reader() -> Reader:
    """The caller of a ``token_required`` view, as a row."""
    reader: Reader = g.api_reader
    return reader


def api_user() -> User:
    """The caller of a ``token_required`` view, as the user the workflow's verbs take
    (loaded on first use)."""
    user: User | None = g.get("api_user")
    if user is None:
        user = load_user(db_session(), api_reader().id)
        if user is None or not user.active:  # deactivated since the token was checked
            raise Unauthorized()
        g.api_user = user
    return user
